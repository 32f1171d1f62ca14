/* eslint-disable @typescript-eslint/no-explicit-any */
// The TypeScript types and the CRD schema must describe the same fields. `complete` is typed with every
// optional field made required, so adding a field to the types fails compilation here until the example has
// it; the test then fails until the schema has it too (and the other way round).
import { expect } from 'chai';
import type { InferenceServiceSpec, InferenceServiceStatus } from '../../../operator/api/types.ts';
import {
  inferenceServiceSpecSchema,
  inferenceServiceStatusSchema,
} from '../../../operator/api/inference-service-schema.ts';

type DeepRequired<T> =
  T extends Array<infer U>
    ? Array<DeepRequired<U>>
    : T extends Record<string, string>
      ? T
      : T extends object
        ? { [K in keyof T]-?: DeepRequired<T[K]> }
        : T;

const v = {
  name: 'full',
  model: { uri: 'file:///m.onnx', sha256: 'a'.repeat(64) },
  quality: 0.9,
  capacityRps: 1,
  latencyP95Ms: 1,
  gpusPerReplica: 1,
  gpuResource: 'nvidia.com/gpu',
  powerBusyWatts: 2,
  powerIdleWatts: 1,
};
const spec: DeepRequired<InferenceServiceSpec> = {
  tier: 'eco',
  variants: [v],
  runtime: {
    type: 'custom',
    image: 'i',
    args: ['a'],
    variantEnv: 'V',
    containerName: 'c',
    podTemplate: {},
    resources: { requests: {}, limits: {} },
  },
  replicas: { min: 1, max: 2 },
  slo: {
    latencyP95Ms: 1,
    qualityFloor: 0,
    relaxedLatencyP95Ms: 2,
    degradationBudget: { fraction: 0.1, window: 'day' },
  },
  carbon: { region: 'DE', sourceRef: 'default', pue: 1, embodiedGPerGpuHour: 0 },
  demand: { source: 'trace', staticRps: 1, trace: { file: 'f', peakRps: 1 }, prometheusUrl: 'http://p' },
  energy: { source: 'kepler', prometheusUrl: 'http://p' },
  policy: {
    mode: 'active',
    paused: false,
    hysteresis: 0.1,
    minDwellSeconds: 1,
    intervalSeconds: 10,
    switchCostJoules: 0,
    fallbackVariant: 'full',
  },
};
const cond = {
  type: 'Ready',
  status: 'True' as const,
  reason: 'R',
  message: 'm',
  lastTransitionTime: 't',
  observedGeneration: 1,
};
const status: DeepRequired<InferenceServiceStatus> = {
  observedGeneration: 1,
  activeVariant: 'full',
  desiredReplicas: 1,
  readyReplicas: 1,
  carbon: {
    valueGPerKWh: 1,
    unit: 'u',
    region: 'r',
    provider: 'p',
    signal: 's',
    dataTime: 't',
    fallbackLevel: 'primary',
  },
  demand: { requestsPerSecond: 1, source: 's', sampledAt: 't' },
  lastDecision: { time: 't', variant: 'v', replicas: 1, reason: 'r', applied: true },
  emissions: { rateGPerHour: 1, todayG: 1, day: 'd', until: 't', estimated: true },
  budget: { windowStart: 't', usedFraction: 0 },
  clock: { mode: 'replay', speedup: 60 },
  conditions: [cond],
};

/** Paths of every leaf field the schema declares (skipping free-form objects). */
function schemaPaths(s: Record<string, any>, prefix = ''): string[] {
  if (s.type === 'array') return schemaPaths(s.items, `${prefix}[]`);
  if (s.type === 'object' && s.properties) {
    return Object.entries(s.properties).flatMap(([k, sub]) =>
      schemaPaths(sub as Record<string, unknown>, prefix ? `${prefix}.${k}` : k),
    );
  }
  return [prefix];
}

function valuePaths(v: unknown, prefix = '', freeForm: Set<string> = new Set()): string[] {
  if (Array.isArray(v)) return valuePaths(v[0], `${prefix}[]`, freeForm);
  if (v && typeof v === 'object' && !freeForm.has(prefix)) {
    return Object.entries(v).flatMap(([k, sub]) => valuePaths(sub, prefix ? `${prefix}.${k}` : k, freeForm));
  }
  return [prefix];
}

const FREE = new Set(['runtime.podTemplate', 'runtime.resources.requests', 'runtime.resources.limits']);

describe('API types and CRD schema do not drift', () => {
  it('spec: the same field paths in the TypeScript types and the schema', () => {
    expect(valuePaths(spec, '', FREE).sort()).to.deep.equal(schemaPaths(inferenceServiceSpecSchema).sort());
  });
  it('status: the same field paths in the TypeScript types and the schema', () => {
    expect(valuePaths(status).sort()).to.deep.equal(schemaPaths(inferenceServiceStatusSchema).sort());
  });
  it('every schema field has a description (kubectl explain reads like documentation)', () => {
    const missing: string[] = [];
    const walk = (s: Record<string, any>, p: string) => {
      if (!s.description) missing.push(p);
      if (s.items) walk(s.items, `${p}[]`);
      for (const [k, sub] of Object.entries(s.properties ?? {})) walk(sub as Record<string, unknown>, `${p}.${k}`);
    };
    walk(inferenceServiceSpecSchema, 'spec');
    walk(inferenceServiceStatusSchema, 'status');
    expect(missing).to.deep.equal([]);
  });
});
