// The carbon signal service's history port (carbon/carbon-history.ts CarbonHistoryStore) on Kubernetes
// (docs/adr/0006-controller-state-in-configmaps.md): one ConfigMap per (CarbonSource, region) in the operator's
// namespace, `carbonscale-history-<source>-<hash of region>`, labelled so a label-selected cache on every replica
// holds it. The leader writes it by server-side apply after a poll that changed the history; a standby never
// writes (it polls nothing) but reads the leader's copy from its cache when it takes over. Bounded: the signal
// service keeps HISTORY_DEPTH_MS, 8 days (the fallback forecast's 7-day profile and a day more); at 5-minute data
// that is 2,304 points, some 50-85 KB of [timeMs, value] pairs, far under a ConfigMap's 1 MiB.
import { createHash } from 'node:crypto';
import type { CarbonHistoryStore } from '../carbon/carbon-history.ts';
import { Component, Label, OPERATOR_NAME } from '../constants.ts';
import type { IntensityPoint } from '../decision/types.ts';
import { objectPath, Resources, type KubeClient, type KubeObject } from './kube-client.ts';

export const HISTORY_COMPONENT = Component.carbonHistory;
const KEY = 'history.json';
const SOURCE_ANNOTATION = 'carbonscale.dev/carbon-source';
const REGION_ANNOTATION = 'carbonscale.dev/region';

export function historyConfigMapName(source: string, region: string): string {
  const h = createHash('sha256').update(region).digest('hex').slice(0, 10);
  return `carbonscale-history-${source}`.slice(0, 253 - 11) + `-${h}`;
}

export interface HistoryStoreDeps {
  client: KubeClient;
  namespace: string;
  /** The ConfigMap from the operator namespace's label-selected cache. */
  configMap: (name: string) => KubeObject | undefined;
  /** Only the leader writes. */
  isLeader: () => boolean;
}

export function carbonHistoryStore(d: HistoryStoreDeps): CarbonHistoryStore {
  return {
    async load(source, region) {
      const cm = d.configMap(historyConfigMapName(source, region));
      const text = (cm?.data as Record<string, string> | undefined)?.[KEY];
      if (text === undefined) return [];
      const parsed = JSON.parse(text) as { points?: unknown };
      // The signal service checks every point (pointProblem) as it would a provider's.
      if (!Array.isArray(parsed.points))
        throw new Error(`ConfigMap ${d.namespace}/${cm?.metadata?.name}: ${KEY} has no points list`);
      return parsed.points.map((p) => {
        const [timeMs, valueGPerKWh] = Array.isArray(p) ? p : [undefined, undefined];
        return { timeMs, valueGPerKWh } as IntensityPoint;
      });
    },
    async save(source, region, points) {
      if (!d.isLeader()) return;
      const name = historyConfigMapName(source, region);
      await d.client.apply(objectPath(Resources.configMap, name, d.namespace), {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: {
          name,
          namespace: d.namespace,
          labels: { [Label.managedBy]: OPERATOR_NAME, [Label.component]: HISTORY_COMPONENT },
          annotations: { [SOURCE_ANNOTATION]: source, [REGION_ANNOTATION]: region },
        },
        // [timeMs, gCO2eq/kWh] pairs: compact, and exact (numbers as JavaScript prints them).
        data: { [KEY]: JSON.stringify({ unit: 'gCO2eq/kWh', points: points.map((p) => [p.timeMs, p.valueGPerKWh]) }) },
      });
    },
  };
}
