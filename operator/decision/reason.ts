// The decision's reason in plain English, made once per interval (the engine keeps it with the plan). Every number
// it prints is rounded (whole gCO2/kWh, whole percent, whole ranks), so unchanged inputs give the same text and
// the controller's write-on-change stays quiet; the exact values are the Decision's fields. What it ranks is said:
// the saving per degraded request over the hours left in the budget window, never a bare intensity percentile.
import type { SlotGrid } from './plan-slots.ts';
import type { DecisionFlags, DecisionInput, VariantProfile } from './types.ts';

export interface ReasonParts {
  input: DecisionInput;
  intensity: number | undefined;
  fallbackForecast: boolean;
  flags: DecisionFlags;
  from: VariantProfile;
  fromReplicas: number;
  to: VariantProfile;
  replicas: number;
  changed: boolean;
  /** The one "budget used" (budget-books.ts); undefined without a budget. */
  budgetUsed: number | undefined;
  plan: { grid: SlotGrid; degraded?: boolean[] } | undefined;
  notes: string[];
}

function ordinal(n: number): string {
  const t = n % 100;
  if (t >= 11 && t <= 13) return `${n}th`;
  return `${n}${['th', 'st', 'nd', 'rd'][n % 10] ?? 'th'}`;
}

/** "saving per degraded request ranks 2nd of the 18 slots left in today's window; the plan degrades 5". */
function rankWords(e: ReasonParts, windowWord: string): string | undefined {
  if (!e.plan) return undefined;
  const inWindow = e.plan.grid.slots.map((s, k) => ({ s, k })).filter(({ s }) => !s.nextWindow && s.requests > 0);
  if (inWindow.length === 0 || inWindow[0]!.k !== 0) return undefined;
  const per = (x: { s: { savingG: number; requests: number } }) => x.s.savingG / x.s.requests;
  const mine = per(inWindow[0]!);
  // Rank 1 = the largest saving per request; ties share the better rank.
  const rank = 1 + inWindow.filter((x) => per(x) > mine * (1 + 1e-9)).length;
  const unit = e.plan.grid.slotMs === 3_600_000 ? 'hours' : 'slots';
  const words = `saving per degraded request ranks ${ordinal(rank)} of the ${inWindow.length} ${unit} left in ${windowWord} window`;
  const schedule = e.plan.degraded;
  if (!schedule) return words;
  return `${words}; the budget plan degrades ${inWindow.filter(({ k }) => schedule[k]).length} of them`;
}

export function explain(e: ReasonParts): string {
  const parts: string[] = [];
  const eco = e.input.tier === 'eco';
  const tierWord = eco ? 'eco' : 'premium: full variant always';
  const windowWord = e.input.slo.degradationBudget?.window === 'week' ? "this week's" : "today's";
  if (e.intensity === undefined) parts.push(`no carbon signal (${tierWord})`);
  else
    parts.push(
      `grid at ${Math.round(e.intensity)} gCO2/kWh (${tierWord}${eco && e.fallbackForecast ? ', forecast built from history' : ''})`,
    );
  parts.push(
    e.changed
      ? `switched ${e.from.name} → ${e.to.name}, ${e.fromReplicas}→${e.replicas} replicas`
      : e.fromReplicas !== e.replicas
        ? `${e.to.name}, ${e.fromReplicas}→${e.replicas} replicas`
        : `${e.to.name}, ${e.replicas} replicas unchanged`,
  );
  const rank = eco ? rankWords(e, windowWord) : undefined;
  if (rank) parts.push(rank);
  if (e.flags.relaxedLatency) parts.push('relaxed latency ceiling (high-carbon hour)');
  for (const n of e.notes) parts.push(n);
  if (e.budgetUsed !== undefined) {
    parts.push(`${Math.round(Math.min(9.99, e.budgetUsed) * 100)}% of ${windowWord} degradation budget used`);
  }
  if (e.flags.budgetExhausted) {
    // Budget not all used, but what is left of the window is too short for it: "exhausted" alone reads like a bug.
    const unused = e.budgetUsed !== undefined && e.budgetUsed < 0.995;
    parts.push(
      unused ? 'budget exhausted (what is left of this window cannot cover this interval)' : 'budget exhausted',
    );
  }
  if (e.flags.gpuLimited) parts.push('GPU-limited: fewer replicas than demand needs');
  else if (e.flags.sloAtRisk) parts.push('SLO at risk: max replicas reached');
  return parts.join('; ');
}
