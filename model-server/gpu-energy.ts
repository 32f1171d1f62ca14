// The model server's own GPU energy counter, where the host can measure it: NVML's total energy consumption
// (nvmlDeviceGetTotalEnergyConsumption: millijoules since the driver loaded, Volta and later), read through
// nvidia-smi (`--query-gpu=index,uuid,total_energy_consumption`). Behind a capability check: without nvidia-smi,
// or when its driver rejects the field (some do: "not a valid field to query", or [N/A]), nothing is exported and
// the operator's `energy.source: model-server` falls back to the estimate, saying so. Exported as
//   carbonscale_model_gpu_energy_joules_total{gpu, uuid}  counter, joules since this server started (measured)
// read at scrape time, so the value is the meter's at the scrape. A drop in the driver's counter (a reload) is
// a reset: the increase across it is the new value. operator/energy/model-server-meter.ts reads it back.
import { execFile } from 'node:child_process';
import { Counter, type Registry } from 'prom-client';
import { findNvidiaSmi } from './power-meter.ts';

export const GPU_ENERGY_METRIC = 'carbonscale_model_gpu_energy_joules_total';

export interface GpuEnergyReading {
  index: number;
  uuid: string;
  /** NVML total energy since the driver loaded, millijoules. */
  totalMj: number;
}

/** A source of NVML energy readings: nvidia-smi on a GPU host, or a fake in tests (named so in `source`). */
export interface GpuEnergyReader {
  readonly source: string;
  read(): Promise<GpuEnergyReading[]>;
}

/** Parses `index, uuid, total_energy_consumption` CSV lines (noheader, nounits); throws naming the line. */
export function parseNvidiaSmiEnergy(csv: string): GpuEnergyReading[] {
  const out: GpuEnergyReading[] = [];
  csv.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line) return;
    const cells = line.split(',').map((c) => c.trim());
    if (cells.length !== 3)
      throw new Error(`nvidia-smi energy line ${i + 1}: expected 3 fields, got ${JSON.stringify(line)}`);
    const [index, uuid, mj] = cells as [string, string, string];
    const value = Number(mj);
    if (!/^\d+$/.test(index)) throw new Error(`nvidia-smi energy line ${i + 1}: gpu index ${JSON.stringify(index)}`);
    if (!/^(GPU|MIG)-[0-9a-fA-F-]+$/.test(uuid))
      throw new Error(`nvidia-smi energy line ${i + 1}: uuid ${JSON.stringify(uuid)}`);
    if (!/^\d+(\.\d+)?$/.test(mj) || !Number.isFinite(value))
      throw new Error(
        `nvidia-smi energy line ${i + 1}: total_energy_consumption ${JSON.stringify(mj)} is not a reading (mJ)`,
      );
    out.push({ index: Number(index), uuid, totalMj: value });
  });
  return out;
}

export function nvidiaSmiEnergyReader(binary: string): GpuEnergyReader {
  return {
    source: 'nvml (nvidia-smi)',
    read: () =>
      new Promise((resolve, reject) => {
        execFile(
          binary,
          ['--query-gpu=index,uuid,total_energy_consumption', '--format=csv,noheader,nounits'],
          { timeout: 5000, maxBuffer: 64 * 1024 },
          (err, stdout, stderr) => {
            if (err) return reject(new Error(`nvidia-smi energy query failed: ${(stderr || err.message).trim()}`));
            try {
              resolve(parseNvidiaSmiEnergy(stdout));
            } catch (e) {
              reject(e as Error);
            }
          },
        );
      }),
  };
}

/** The reader when this host can measure, else why not (the capability check: one real reading). */
export async function probeGpuEnergy(
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ reader?: GpuEnergyReader; reason: string }> {
  const smi = findNvidiaSmi(env);
  if (!smi) return { reason: 'no nvidia-smi on PATH: GPU energy is not measured here' };
  const reader = nvidiaSmiEnergyReader(smi);
  try {
    const r = await reader.read();
    if (r.length === 0) return { reason: 'nvidia-smi lists no GPU' };
    return { reader, reason: `measuring ${r.length} GPU(s) through ${reader.source}` };
  } catch (e) {
    return { reason: (e as Error).message };
  }
}

/** Joules since the first reading, per GPU, a drop in the driver's counter taken as a restart from 0. */
export class GpuEnergyTotals {
  readonly #last = new Map<string, number>();
  readonly #joules = new Map<string, number>();

  add(readings: readonly GpuEnergyReading[]): Map<string, { index: number; joules: number }> {
    const out = new Map<string, { index: number; joules: number }>();
    for (const r of readings) {
      const prev = this.#last.get(r.uuid);
      const inc = prev === undefined ? 0 : r.totalMj >= prev ? r.totalMj - prev : r.totalMj;
      this.#last.set(r.uuid, r.totalMj);
      const j = (this.#joules.get(r.uuid) ?? 0) + inc / 1000;
      this.#joules.set(r.uuid, j);
      out.set(r.uuid, { index: r.index, joules: j });
    }
    return out;
  }
}

/**
 * Registers the counter; each scrape reads the meter once. `reader` undefined: probe nvidia-smi at the first
 * scrape (null: never measure). A failed reading exports the last values (the counter never goes back).
 */
export function registerGpuEnergy(
  registry: Registry,
  reader: GpuEnergyReader | null | undefined,
  onProbe?: (reason: string) => void,
): void {
  const totals = new GpuEnergyTotals();
  let chosen: Promise<GpuEnergyReader | null> | null = reader === undefined ? null : Promise.resolve(reader);
  const exported = new Map<string, number>();
  new Counter({
    name: GPU_ENERGY_METRIC,
    help: 'GPU energy since the server started, joules (measured: NVML total energy)',
    labelNames: ['gpu', 'uuid'],
    registers: [registry],
    async collect() {
      chosen ??= probeGpuEnergy().then((p) => {
        onProbe?.(p.reason);
        return p.reader ?? null;
      });
      const r = await chosen;
      if (!r) return;
      let readings: GpuEnergyReading[];
      try {
        readings = await r.read();
      } catch {
        return;
      }
      for (const [uuid, { index, joules }] of totals.add(readings)) {
        const inc = joules - (exported.get(uuid) ?? 0);
        exported.set(uuid, joules);
        this.inc({ gpu: String(index), uuid }, inc);
      }
    },
  });
}
