// The reconciler's DemandPort: one demand source per service (built from spec.demand, rebuilt when it changes).
// Sources that can answer for a past span (static, a replayed trace, Prometheus at an evaluation time) are asked
// for exactly the interval that ended; the scrape source measures the pods' counters now, over the time since its
// last scrape. A replayed trace is anchored to the epoch: hour h of the series is UTC hour floor(t / 1 h) mod its
// length, so its position depends only on the clock (never on when the operator started) and a restart resumes
// the same series.
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { Defaulted, InferenceService } from '../api/types.ts';
import { MODEL_SERVER_PORT, Label } from '../constants.ts';
import { DEMAND_HISTORY_MS } from '../decision/demand-forecast.ts';
import {
  hourlyCountsToRps,
  PrometheusDemandSource,
  ScrapeDemandSource,
  StaticDemandSource,
  TraceDemandSource,
  type DemandSource,
} from '../demand/index.ts';
import type { KubeObject } from '../kube/kube-client.ts';
import type { Clock } from '../clock.ts';
import type { DemandPort } from '../reconciler/ports.ts';

const ROOT = resolve(import.meta.dirname, '../..');

export function demandSourceFor(d: InferenceService['spec']['demand']): DemandSource {
  switch (d.source) {
    case 'static':
      if (d.staticRps === undefined) throw new Error('spec.demand.staticRps is required for source static');
      return new StaticDemandSource({ requestsPerSecond: d.staticRps });
    case 'trace': {
      if (!d.trace) throw new Error('spec.demand.trace is required for source trace');
      const file = isAbsolute(d.trace.file) ? d.trace.file : resolve(ROOT, d.trace.file);
      const text = readFileSync(file, 'utf8');
      const header = text
        .slice(0, text.indexOf('\n'))
        .split(',')
        .map((h) => h.trim());
      const series = hourlyCountsToRps(text, header[header.length - 1]!);
      const peak = Math.max(...series);
      const peakRps = d.trace.peakRps;
      return new TraceDemandSource({
        hourlyRequestsPerSecond: series.map((v) => (peak > 0 ? (v * peakRps) / peak : 0)),
        startMs: 0,
        label: d.trace.file,
      });
    }
    case 'prometheus':
      if (!d.prometheusUrl) throw new Error('spec.demand.prometheusUrl is required for source prometheus');
      return new PrometheusDemandSource({ url: d.prometheusUrl });
    // The schema's default (the CRD's enum refuses any other value before it gets here).
    case 'scrape':
    default:
      return new ScrapeDemandSource({ port: MODEL_SERVER_PORT });
  }
}

/** How far back a source can answer: the engine's whole demand history for static and trace sources. */
function backfillOf(source: InferenceService['spec']['demand']['source']): number {
  return source === 'static' || source === 'trace' ? DEMAND_HISTORY_MS : 0;
}

/** A pod's model server as the scrape source reaches it: its pod IP on the model-server port. */
export function podIpAddress(pod: KubeObject): string | undefined {
  const ip = (pod.status as { podIP?: string } | undefined)?.podIP;
  return ip ? `${ip}:${MODEL_SERVER_PORT}` : undefined;
}

export function demandPort(
  clock: Clock & { speedup?: number },
  podsOf: (ns: string, name: string) => KubeObject[],
  podAddress: (pod: KubeObject) => string | undefined = podIpAddress,
): DemandPort {
  const sources = new Map<string, { spec: string; src: DemandSource }>();
  const sourceOf = (isvc: Defaulted<InferenceService>): DemandSource => {
    const key = `${isvc.metadata.namespace}/${isvc.metadata.name}`;
    const spec = JSON.stringify(isvc.spec.demand);
    let e = sources.get(key);
    if (!e || e.spec !== spec) {
      e = { spec, src: demandSourceFor(isvc.spec.demand) };
      sources.set(key, e);
    }
    return e.src;
  };
  return {
    backfillMs: (isvc) => backfillOf(isvc.spec.demand.source),
    async read(isvc, fromMs, toMs) {
      const { namespace, name } = isvc.metadata;
      const pastOk = isvc.spec.demand.source !== 'scrape';
      const podIps = podsOf(namespace, name)
        .filter((p) => p.metadata?.labels?.[Label.service] === name)
        .map(podAddress)
        .filter((x): x is string => !!x);
      // The scrape source measures counters in wall time: its window is the span's wall length on a replay.
      const windowMs = pastOk ? toMs - fromMs : (toMs - fromMs) / (clock.speedup ?? 1);
      const s = await sourceOf(isvc).demand({ namespace, name, podIps }, windowMs, pastOk ? toMs : clock.now());
      return { rps: s.requestsPerSecond, source: s.source };
    },
  };
}
