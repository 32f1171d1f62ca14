// What the policy must show on a trace (issue 12 §3), checked the same way by bench/simulate.ts and the unit test:
// eco at ≥ 95% of the oracle's saving versus demand-only autoscaling, more saving than the threshold policy, no
// budget overrun and no more variant switches than the oracle; premium with no SLO-violation minute.
import type { Comparison, Summary } from './simulate.ts';

export const TARGET_ORACLE_SHARE = 0.95;

export interface TargetCheck {
  name: string;
  ok: boolean;
  /** The measured value in words, e.g. "96.1% (≥ 95%)". */
  measured: string;
}

const pct = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '–' : `${(x * 100).toFixed(1)}%`);

/** The checks for one trace, from its eco comparison (with the oracle) and its premium one. */
export function checkTargets(eco: Comparison, ecoSummary: Summary, premium: Comparison): TargetCheck[] {
  const ours = eco.runs.carbonscale!.metrics;
  const oracle = eco.runs.oracle?.metrics;
  const share = ecoSummary.oracleShare;
  const ratio = ecoSummary.thresholdRatio;
  const premiumSlo = premium.runs.carbonscale!.metrics.sloViolationMinutes;
  return [
    {
      name: "eco share of the oracle's saving vs demand-only",
      ok: share !== undefined && share >= TARGET_ORACLE_SHARE,
      measured: `${pct(share)} (≥ ${pct(TARGET_ORACLE_SHARE)})`,
    },
    {
      name: "eco saving vs demand-only over the threshold policy's",
      ok: ratio !== undefined && ratio > 1,
      measured: ratio === undefined ? '–' : `×${ratio.toFixed(2)} (> ×1)`,
    },
    { name: 'eco budget overruns', ok: ours.budgetOverruns === 0, measured: `${ours.budgetOverruns} (= 0)` },
    {
      name: "eco variant switches vs the oracle's",
      ok: oracle !== undefined && ours.switches <= oracle.switches,
      measured: `${ours.switches} vs ${oracle?.switches ?? '–'} (≤)`,
    },
    { name: 'premium SLO-violation minutes', ok: premiumSlo === 0, measured: `${premiumSlo} (= 0)` },
  ];
}
