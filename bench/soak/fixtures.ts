// The soak's world: namespaces, one trace CarbonSource per carbon region (each with its own trace file), and
// InferenceServices spread over them round-robin, half eco (custom runtime, so a variant swap changes the
// Deployment's pod template and is visible from outside) and half premium. Written through server-side apply with
// the harness's own field manager, so the operator's writes stay apart in the apiserver's audit log.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { collectionPath, objectPath, Resources, type KubeClient } from '../../operator/kube/kube-client.ts';

export const HARNESS_MANAGER = 'carbonscale-soak';
export const VARIANT_ENV = 'MODEL_VARIANT';
/** Every soak service's replica range: the cluster gets GPUs for max of them each, so no pod waits for room. */
export const SOAK_REPLICAS = { min: 1, max: 2 };
const HOUR = 3_600_000;

export interface WorldSpec {
  services: number;
  namespaces: number;
  regions: number;
  /** Policy interval of every service (s). */
  intervalSeconds: number;
  /** Minimum time between two variant changes (s). */
  minDwellSeconds: number;
}

export interface ServiceRef {
  namespace: string;
  name: string;
  region: string;
  tier: 'eco' | 'premium';
}

export interface World {
  spec: WorldSpec;
  namespaces: string[];
  regions: string[];
  services: ServiceRef[];
  traceFiles: Record<string, string>;
}

export const regionName = (i: number) => `region-${String.fromCharCode(97 + i)}`;
export const sourceName = (region: string) => `soak-${region}`;

/**
 * A JSON trace (hourly points with a day-ahead forecast column) for `hours` hours from `startMs`: clean hours at
 * 100–123 gCO2eq/kWh, a dirty spell at 900 in hours [dirtyFrom, dirtyFrom + 3), and from `flapFrom` on an
 * alternation 150 / 850 every hour (the flapping-signal scenario plays it fast). `level`: every hour outside the
 * flap and the dirty spell at that value instead of the clean day (the grid's usual level the band straddles).
 */
export function writeTrace(
  file: string,
  o: { startMs: number; hours?: number; dirtyFrom?: number; flapFrom?: number; level?: number },
) {
  const hours = o.hours ?? 24 * 14;
  const dirtyFrom = o.dirtyFrom ?? 30;
  const flapFrom = o.flapFrom ?? 24 * 7;
  const pts = Array.from({ length: hours }, (_, h) => {
    let v = o.level ?? 100 + (h % 24);
    if (h >= dirtyFrom && h < dirtyFrom + 3) v = 900;
    if (h >= flapFrom) v = h % 2 === 0 ? 150 : 850;
    return { datetime: new Date(o.startMs + h * HOUR).toISOString(), carbonIntensity: v, forecast: v };
  });
  writeFileSync(file, JSON.stringify(pts));
}

export const TRACE_START_MS = Date.UTC(2023, 0, 1);

/** A trace CarbonSource whose replay puts wall time `nowMs` at trace hour `hour` + 30 min (× speedup after). */
export function traceSource(name: string, file: string, nowMs: number, hour: number, speedup = 1) {
  const anchor = new Date(nowMs - (hour * HOUR + 30 * 60_000) / speedup).toISOString();
  return {
    apiVersion: 'carbonscale.dev/v1alpha1',
    kind: 'CarbonSource',
    metadata: { name },
    spec: {
      provider: 'trace',
      trace: { file, anchor, forecast: 'column', ...(speedup !== 1 ? { speedup } : {}) },
      pollIntervalSeconds: 10,
      staleAfterSeconds: 86400,
    },
  };
}

function variant(name: string, quality: number, capacityRps: number) {
  return {
    name,
    model: { uri: `file:///models/${name}.onnx` },
    quality,
    capacityRps,
    latencyP95Ms: 20,
    gpusPerReplica: 1,
    powerBusyWatts: quality > 0.95 ? 300 : 150,
    powerIdleWatts: quality > 0.95 ? 80 : 60,
  };
}

const customRuntime = {
  type: 'custom',
  variantEnv: VARIANT_ENV,
  podTemplate: {
    metadata: { labels: { app: 'soak' } },
    spec: { containers: [{ name: 'server', image: 'example.invalid/server:1', ports: [{ containerPort: 8000 }] }] },
  },
};

export function inferenceService(s: ServiceRef, w: WorldSpec) {
  const eco = s.tier === 'eco';
  return {
    apiVersion: 'carbonscale.dev/v1alpha1',
    kind: 'InferenceService',
    metadata: { name: s.name, namespace: s.namespace },
    spec: {
      tier: s.tier,
      variants: eco ? [variant('full', 0.97, 100), variant('small', 0.93, 200)] : [variant('full', 0.97, 100)],
      runtime: customRuntime,
      replicas: SOAK_REPLICAS,
      slo: eco
        ? {
            latencyP95Ms: 100,
            qualityFloor: 0.9,
            relaxedLatencyP95Ms: 200,
            // A week's window: how much of a day is left would otherwise decide whether a dirty hour is worth it.
            degradationBudget: { fraction: 0.5, window: 'week' },
          }
        : { latencyP95Ms: 100 },
      carbon: { region: s.region, sourceRef: sourceName(s.region), pue: 1.2 },
      demand: { source: 'static', staticRps: 80 },
      policy: { intervalSeconds: w.intervalSeconds, minDwellSeconds: w.minDwellSeconds },
    },
  };
}

export function planWorld(spec: WorldSpec, dir: string): World {
  const namespaces = Array.from({ length: spec.namespaces }, (_, i) => `soak-${String(i).padStart(2, '0')}`);
  const regions = Array.from({ length: spec.regions }, (_, i) => regionName(i));
  const services: ServiceRef[] = Array.from({ length: spec.services }, (_, i) => ({
    namespace: namespaces[i % namespaces.length]!,
    name: `svc-${String(i).padStart(4, '0')}`,
    region: regions[i % regions.length]!,
    // Alternate tiers within each region: regions and tiers are both round-robin over i, so mix by i / regions.
    tier: Math.floor(i / regions.length) % 2 === 0 ? 'eco' : 'premium',
  }));
  const traceFiles = Object.fromEntries(regions.map((r) => [r, path.join(dir, `trace-${r}.json`)]));
  for (const r of regions) writeTrace(traceFiles[r]!, { startMs: TRACE_START_MS });
  return { spec, namespaces, regions, services, traceFiles };
}

/** Creates the namespaces and the CarbonSources (clean hour 10 now), then the services, `parallel` at a time. */
export async function applyWorld(client: KubeClient, w: World, nowMs: number, parallel = 16): Promise<void> {
  for (const ns of [...w.namespaces, 'carbonscale-system'])
    await client.apply(
      objectPath({ ...Resources.node, plural: 'namespaces' }, ns),
      {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: ns },
      },
      true,
      HARNESS_MANAGER,
    );
  for (const r of w.regions) await applySource(client, traceSource(sourceName(r), w.traceFiles[r]!, nowMs, 10));
  await inParallel(w.services, parallel, (s) =>
    client.apply(
      objectPath(Resources.inferenceService, s.name, s.namespace),
      inferenceService(s, w.spec),
      true,
      HARNESS_MANAGER,
    ),
  );
}

export function applySource(client: KubeClient, src: ReturnType<typeof traceSource> | Record<string, unknown>) {
  const name = (src.metadata as { name: string }).name;
  return client.apply(objectPath(Resources.carbonSource, name), src, true, HARNESS_MANAGER);
}

export async function inParallel<T>(items: readonly T[], n: number, f: (t: T) => Promise<unknown>): Promise<void> {
  let i = 0;
  const worker = async () => {
    while (i < items.length) await f(items[i++]!);
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
}

export const deploymentsPath = collectionPath(Resources.deployment);
export const isvcsPath = collectionPath(Resources.inferenceService);
