// Variant profiles for the simulator and bench, derived from real measurements shipped in data/variants/
// (derivation in docs/results.md). Pure: CSV text in, profiles out.
import { parseCsvLine } from '../carbon/trace-file.ts';
import type { VariantProfile } from '../decision/types.ts';

function table(text: string, file: string): { header: string[]; rows: string[][] } {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length < 2) throw new Error(`${file}: no rows`);
  return { header: parseCsvLine(lines[0]!).map((h) => h.trim()), rows: lines.slice(1).map(parseCsvLine) };
}

function row(t: { header: string[]; rows: string[][] }, model: string, file: string): Record<string, number> {
  const r = t.rows.find((x) => x[0] === model);
  if (!r) throw new Error(`${file}: no row for model '${model}'`);
  const out: Record<string, number> = {};
  t.header.forEach((h, i) => {
    if (i > 0) out[h] = Number(r[i]);
  });
  return out;
}

/**
 * Idle power of one A100, W: an upper bound from the Power Hungry Processing runs, where CodeCarbon summed the power
 * of 8 A100-SXM4-80GB GPUs while one served queries at batch 1: the lowest such sum / 8.
 */
export function a100IdleWattsUpperBound(phpCsv: string, file: string): number {
  const t = table(phpCsv, file);
  const col = t.header.indexOf('gpu_power');
  const cnt = t.header.indexOf('gpu_count');
  if (col < 0 || cnt < 0) throw new Error(`${file}: missing column 'gpu_power' or 'gpu_count'`);
  let best = Infinity;
  for (const r of t.rows) {
    const w = Number(r[col]) / Number(r[cnt]);
    if (Number.isFinite(w) && w < best) best = w;
  }
  if (!Number.isFinite(best)) throw new Error(`${file}: no usable gpu_power rows`);
  return best;
}

export interface LegacyPair {
  full: string;
  smaller: string;
}

export const VICUNA_PAIR: LegacyPair = { full: 'lmsys/vicuna-13B', smaller: 'lmsys/vicuna-7B' };

/**
 * Profiles from the ML.ENERGY legacy leaderboard (batch-1 generation on one A100):
 * - capacityRps = 1 / latency (one response at a time), latencyP95Ms = measured mean response latency;
 * - powerBusyWatts = energy / latency (GPU energy per response over its duration);
 * - quality = mean(ARC, HellaSwag, TruthfulQA) relative to the full variant's.
 */
export function legacyProfiles(
  benchmarkCsv: string,
  scoreCsv: string,
  idleWatts: number,
  pair: LegacyPair = VICUNA_PAIR,
): VariantProfile[] {
  const bench = table(benchmarkCsv, 'benchmark');
  const score = table(scoreCsv, 'score');
  const q = (m: string) => {
    const s = row(score, m, 'score.csv');
    return (s.arc! + s.hellaswag! + s.truthfulqa!) / 3;
  };
  const qFull = q(pair.full);
  return [pair.full, pair.smaller].map((m) => {
    const b = row(bench, m, 'benchmark.csv');
    const latencyS = b.latency!;
    return {
      name: m.split('/')[1]!.toLowerCase(),
      quality: Math.min(1, q(m) / qFull),
      capacityRps: 1 / latencyS,
      latencyP95Ms: latencyS * 1000,
      gpusPerReplica: 1,
      powerBusyWatts: b.energy! / latencyS,
      powerIdleWatts: idleWatts,
    };
  });
}
