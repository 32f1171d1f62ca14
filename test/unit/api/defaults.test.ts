// The operator's defaults (api/defaults.ts) and the CRD's (api/inference-service-schema.ts) are one set: an
// independent structural defaulter, applying the schema's `default`s as the API server does (an absent property
// with a default gets it, then defaulting recurses into it), must give exactly what withDefaults gives.
import { expect } from 'chai';
import { withDefaults } from '../../../operator/api/defaults.ts';
import { inferenceServiceSpecSchema } from '../../../operator/api/inference-service-schema.ts';
import type { RawInferenceService } from '../../../operator/api/types.ts';

type Schema = { type?: string; default?: unknown; properties?: Record<string, Schema>; items?: Schema };

function applySchemaDefaults(v: unknown, s: Schema): unknown {
  if (s.type === 'array' && Array.isArray(v) && s.items) return v.map((x) => applySchemaDefaults(x, s.items!));
  if (s.type !== 'object' || !s.properties || typeof v !== 'object' || v === null) return v;
  const o = { ...(v as Record<string, unknown>) };
  for (const [k, sub] of Object.entries(s.properties)) {
    if (o[k] === undefined && sub.default !== undefined) o[k] = structuredClone(sub.default);
    if (o[k] !== undefined) o[k] = applySchemaDefaults(o[k], sub);
  }
  return o;
}

const variant = {
  name: 'full',
  model: { uri: 'file:///m.onnx' },
  quality: 0.9,
  capacityRps: 10,
  latencyP95Ms: 5,
  powerBusyWatts: 100,
  powerIdleWatts: 10,
};
const minimal = {
  tier: 'eco',
  variants: [variant, { ...variant, name: 'small', quality: 0.8 }],
  replicas: { max: 3 },
  slo: { latencyP95Ms: 50, degradationBudget: { fraction: 0.2 } },
  carbon: { region: 'DE' },
};
const inputs: Record<string, unknown>[] = [
  minimal,
  { ...minimal, runtime: { type: 'custom', podTemplate: { spec: {} } }, policy: { mode: 'observe' } },
  {
    ...minimal,
    tier: 'premium',
    slo: { latencyP95Ms: 50 },
    demand: { source: 'static', staticRps: 3 },
    carbon: { region: 'GB', pue: 1.4 },
  },
];

const obj = (spec: Record<string, unknown>): RawInferenceService =>
  ({ metadata: { name: 'a', namespace: 'n' }, spec }) as RawInferenceService;

describe('defaults in one place: the operator and the CRD agree', () => {
  for (const [i, spec] of inputs.entries())
    it(`input ${i}: withDefaults equals the CRD schema's structural defaulting`, () => {
      const want = applySchemaDefaults(structuredClone(spec), inferenceServiceSpecSchema as Schema);
      expect(withDefaults(obj(structuredClone(spec))).spec).to.deep.equal(want);
    });

  it('does not change its input (a cache entry) and fills apiVersion/kind', () => {
    const raw = obj(structuredClone(minimal));
    const before = JSON.stringify(raw);
    const d = withDefaults(raw);
    expect(JSON.stringify(raw)).to.equal(before);
    expect(d.apiVersion).to.equal('carbonscale.dev/v1alpha1');
    expect(d.kind).to.equal('InferenceService');
    expect(d.spec.policy.intervalSeconds).to.equal(300);
  });
});
