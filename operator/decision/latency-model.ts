// Replica sizing against a p95 latency SLO (docs/policy.md, "Latency").
// Requests are spread at random over n replicas, each an M/M/1 queue with service rate μ = capacityRps. Random
// splitting of a Poisson stream gives each replica Poisson arrivals at λ/n, and the M/M/1 sojourn time is
// exponential with rate μ − λ/n, so every quantile scales as 1/(1−ρ): p95(ρ) = p95(0) / (1 − ρ). The variant's
// measured low-load latency stands for p95(0). Holding p95(ρ) ≤ SLO gives the utilisation cap
//   ρ_max = 1 − p95(0) / SLO
// and n = ceil(λ (1 + headroom) / (μ ρ_max)). This is pessimistic against a shared queue (M/M/c), which is the
// safe side for an SLO.
import type { VariantProfile } from './types.ts';

/** Capacity planned above the demand when the policy names none: 10%. */
export const DEFAULT_HEADROOM = 0.1;

/** Largest utilisation at which the variant's p95 stays within `sloMs`; 0 when even an idle replica misses it. */
export function utilisationCap(v: VariantProfile, sloMs: number): number {
  if (!(sloMs > 0) || v.latencyP95Ms >= sloMs) return 0;
  return 1 - v.latencyP95Ms / sloMs;
}

/** Modelled p95 latency at utilisation ρ, ms (Infinity at or beyond saturation). */
export function p95LatencyMs(v: VariantProfile, rho: number): number {
  if (rho >= 1) return Infinity;
  return v.latencyP95Ms / (1 - Math.max(0, rho));
}

/** Requests/s `replicas` replicas can take while holding `sloMs` (no headroom). */
export function sloCapacityRps(v: VariantProfile, replicas: number, sloMs: number): number {
  return replicas * v.capacityRps * utilisationCap(v, sloMs);
}

/** Fewest replicas that hold `sloMs` at `demandRps` × (1 + headroom); Infinity when the variant can never meet it. */
export function replicasNeeded(v: VariantProfile, demandRps: number, sloMs: number, headroom: number): number {
  const cap = utilisationCap(v, sloMs);
  if (cap <= 0) return Infinity;
  if (demandRps <= 0) return 0;
  // Nudge down by a relative epsilon so that an exact fit (e.g. 2.0000000001 from float division) is not rounded up.
  const exact = (demandRps * (1 + headroom)) / (v.capacityRps * cap);
  return Math.ceil(exact * (1 - 1e-12));
}
