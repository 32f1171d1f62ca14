// Fixture builders for InferenceServices and CarbonSources, and an in-process operator against a test cluster.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { installCrds, startOperator, type RunningOperator } from '../../operator/main.ts';
import { KubeClient, objectPath, Resources, collectionPath } from '../../operator/kube/kube-client.ts';

export const admin = (kc: k8s.KubeConfig) => new KubeClient(kc);

export function variant(name: string, quality: number, capacityRps: number, extra: Record<string, unknown> = {}) {
  return {
    name,
    model: { uri: `file:///models/${name}.onnx` },
    quality,
    capacityRps,
    latencyP95Ms: 20,
    gpusPerReplica: 1,
    powerBusyWatts: quality > 0.95 ? 300 : 150,
    powerIdleWatts: quality > 0.95 ? 80 : 60,
    ...extra,
  };
}

export function isvc(name: string, namespace: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  const tier = (over.tier as string) ?? 'eco';
  const spec: Record<string, unknown> = {
    tier,
    variants:
      tier === 'premium' ? [variant('full', 0.97, 100)] : [variant('full', 0.97, 100), variant('small', 0.93, 200)],
    replicas: { min: 1, max: 8 },
    slo:
      tier === 'premium'
        ? { latencyP95Ms: 100 }
        : {
            latencyP95Ms: 100,
            qualityFloor: 0.9,
            relaxedLatencyP95Ms: 200,
            degradationBudget: { fraction: 0.3, window: 'day' },
          },
    carbon: { region: 'TEST', sourceRef: 'test-source', pue: 1.2 },
    demand: { source: 'static', staticRps: 150 },
    policy: { intervalSeconds: 10, minDwellSeconds: 0 },
    ...over,
  };
  return { apiVersion: 'carbonscale.dev/v1alpha1', kind: 'InferenceService', metadata: { name, namespace }, spec };
}

/**
 * A JSON trace (hourly, with a day-ahead forecast column) of `hours` clean hours at 100 gCO2eq/kWh with a
 * dirty spell at 900 in hours [dirtyFrom, dirtyFrom+3), written to `dir`. Returns its path and start time.
 */
export function writeTrace(dir: string, dirtyFrom = 30, hours = 96): { file: string; startMs: number } {
  const startMs = Date.UTC(2023, 0, 1);
  const pts = Array.from({ length: hours }, (_, h) => {
    const v = h >= dirtyFrom && h < dirtyFrom + 3 ? 900 : 100 + (h % 24);
    return { datetime: new Date(startMs + h * 3_600_000).toISOString(), carbonIntensity: v, forecast: v };
  });
  const file = join(dir, 'trace.json');
  writeFileSync(file, JSON.stringify(pts));
  return { file, startMs };
}

/**
 * The wall clock moved back to 04:00 UTC of the latest day that has passed 04:00 (minutes to hours back), as the
 * operator's injected clock. A day-window degradation budget depends on how much of the day is left (the policy
 * keeps the budget for the dirtiest hours still to come), so a test that expects a swap must not depend on the
 * hour at which CI happens to run: late in the UTC day the rest of today's budget is rightly too small.
 */
export function morningClock(): () => number {
  const n = Date.now();
  const d = new Date(n);
  let four = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), 4);
  if (four > n) four -= 86_400_000;
  const offset = n - four;
  return () => Date.now() - offset;
}

/** A trace CarbonSource whose replay puts `nowMs` at trace hour `hour` (+30 min). */
export function traceSource(name: string, file: string, nowMs: number, hour: number) {
  const anchor = new Date(nowMs - hour * 3_600_000 - 30 * 60_000).toISOString();
  return {
    apiVersion: 'carbonscale.dev/v1alpha1',
    kind: 'CarbonSource',
    metadata: { name },
    spec: {
      provider: 'trace',
      trace: { file, anchor, forecast: 'column' },
      pollIntervalSeconds: 10,
      staleAfterSeconds: 86400,
    },
  };
}

export async function applyObj(kc: k8s.KubeConfig, obj: Record<string, unknown>) {
  const api = k8s.KubernetesObjectApi.makeApiClient(kc);
  return api.patch(obj as k8s.KubernetesObject, undefined, undefined, 'test', true, k8s.PatchStrategy.ServerSideApply);
}

export async function getIsvc(kc: k8s.KubeConfig, ns: string, name: string) {
  return admin(kc).get<Record<string, any>>(objectPath(Resources.inferenceService, name, ns)); // eslint-disable-line @typescript-eslint/no-explicit-any
}

export async function listEvents(kc: k8s.KubeConfig, ns: string) {
  const r = await admin(kc).list<Record<string, any>>(collectionPath(Resources.event, ns)); // eslint-disable-line @typescript-eslint/no-explicit-any
  return r.items;
}

export async function setupCrds(kc: k8s.KubeConfig) {
  await installCrds(kc);
}

export async function runOperator(
  kc: k8s.KubeConfig,
  extra: Partial<Parameters<typeof startOperator>[0]> = {},
): Promise<RunningOperator> {
  return startOperator({
    kc,
    namespace: 'default',
    leaderElect: false,
    identity: `test-${process.pid}`,
    healthAddr: '127.0.0.1:0',
    clusterId: 'test',
    logLevel: process.env.OPERATOR_LOG_LEVEL ?? 'error',
    accountingIntervalMs: 60_000,
    ...extra,
  });
}
