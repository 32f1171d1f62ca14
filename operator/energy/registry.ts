// The one list of energy sources (`energy.source` of an InferenceService, or the operator's --energy-source
// default). The CRD enum, the flag's check and the docs table derive from it; the contract suite
// (test/unit/energy/energy-contract.ts) runs against every entry.
import { DCGM } from './dcgm.ts';
import type { EnergySource, EnergySourceName } from './energy-source.ts';
import { KEPLER } from './kepler.ts';
import { MODEL_SERVER } from './model-server-meter.ts';
import { PrometheusMeter, type MeterSpec } from './prometheus-meter.ts';
import { ProfileEnergySource } from './profile-source.ts';

export interface EnergyContext {
  /** Prometheus that scrapes the meter (required for every source but profile). */
  prometheusUrl?: string;
  /** Longest allowed time between two samples of a series (a longer one is a missing scrape). */
  maxGapMs: number;
  fetch?: typeof fetch;
  timeoutMs?: number;
  bearerToken?: string;
}

export interface EnergySourceDefinition {
  name: EnergySourceName;
  title: string;
  /** The documentation the implementation follows. */
  docsUrl: string;
  /** What the figure covers, for the docs table. */
  covers: string;
  /** The meter's declaration (absent for profile). */
  meter?: MeterSpec;
}

export const ENERGY_SOURCES: readonly EnergySourceDefinition[] = [
  {
    name: 'kepler',
    title: 'Kepler',
    docsUrl: 'https://github.com/sustainable-computing-io/kepler/blob/main/docs/user/metrics.md',
    covers: "the pods' CPU (disjoint RAPL zones) and GPU energy as Kepler attributes it",
    meter: KEPLER,
  },
  {
    name: 'dcgm',
    title: 'NVIDIA dcgm-exporter',
    docsUrl: 'https://github.com/NVIDIA/dcgm-exporter/blob/main/etc/default-counters.csv',
    covers: 'the energy of the GPUs held by the pods (whole devices, idle power included)',
    meter: DCGM,
  },
  {
    name: 'model-server',
    title: 'carbonscale model server (NVML)',
    docsUrl: 'https://docs.nvidia.com/deploy/nvml-api/group__nvmlDeviceQueries.html',
    covers: 'the energy of the GPUs the model server process sees, from NVML total energy',
    meter: MODEL_SERVER,
  },
  {
    name: 'profile',
    title: 'power profile (estimate)',
    docsUrl: 'docs/audit.md#methodology-carbonscale-sci-5',
    covers: 'estimated: idle + (busy − idle) × utilisation of the variant profile, per ready replica',
  },
];

export const ENERGY_SOURCE_NAMES = ENERGY_SOURCES.map((d) => d.name);

export function isEnergySourceName(s: unknown): s is EnergySourceName {
  return typeof s === 'string' && (ENERGY_SOURCE_NAMES as readonly string[]).includes(s);
}

/** Builds a source; throws an Error naming the field when the configuration cannot work. */
export function createEnergySource(name: EnergySourceName, ctx: EnergyContext): EnergySource {
  const def = ENERGY_SOURCES.find((d) => d.name === name);
  if (!def) throw new Error(`energy.source: expected one of ${ENERGY_SOURCE_NAMES.join(', ')}, got ${String(name)}`);
  if (!def.meter) return new ProfileEnergySource();
  if (!ctx.prometheusUrl)
    throw new Error(
      `energy.source ${name}: a Prometheus URL is required (energy.prometheusUrl, or --energy-prometheus-url)`,
    );
  if (!/^https?:\/\//.test(ctx.prometheusUrl))
    throw new Error(`energy.prometheusUrl: expected http(s)://..., got ${ctx.prometheusUrl}`);
  if (!(ctx.maxGapMs > 0)) throw new Error(`energy max sample gap: expected > 0 ms, got ${ctx.maxGapMs}`);
  return new PrometheusMeter(def.meter, {
    url: ctx.prometheusUrl,
    maxGapMs: ctx.maxGapMs,
    ...(ctx.fetch ? { fetch: ctx.fetch } : {}),
    ...(ctx.timeoutMs ? { timeoutMs: ctx.timeoutMs } : {}),
    ...(ctx.bearerToken ? { bearerToken: ctx.bearerToken } : {}),
  });
}
