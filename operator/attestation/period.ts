// Attestation and billing periods: the UTC day and the UTC calendar month. A period is [startMs, endMs).
export type PeriodKind = 'day' | 'month';
export const PERIOD_KINDS: readonly PeriodKind[] = ['day', 'month'];

export interface Period {
  kind: PeriodKind;
  /** 2023-01-01 (day) or 2023-01 (month). */
  id: string;
  startMs: number;
  endMs: number;
}

export function isPeriodKind(v: unknown): v is PeriodKind {
  return (PERIOD_KINDS as readonly unknown[]).includes(v);
}

/** The period of `kind` holding the instant `ms`. */
export function periodOf(kind: PeriodKind, ms: number): Period {
  const d = new Date(ms);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  if (kind === 'day') {
    const startMs = Date.UTC(y, m, d.getUTCDate());
    return { kind, id: new Date(startMs).toISOString().slice(0, 10), startMs, endMs: startMs + 86_400_000 };
  }
  const startMs = Date.UTC(y, m, 1);
  return { kind, id: new Date(startMs).toISOString().slice(0, 7), startMs, endMs: Date.UTC(y, m + 1, 1) };
}

const ID_RE: Record<PeriodKind, RegExp> = { day: /^\d{4}-\d{2}-\d{2}$/, month: /^\d{4}-\d{2}$/ };

/** Parses a period id (`2023-01-01` or `2023-01`); null when it is not a valid one of that kind. */
export function parsePeriodId(kind: PeriodKind, id: string): Period | null {
  if (!ID_RE[kind].test(id)) return null;
  const ms = Date.parse(kind === 'day' ? `${id}T00:00:00Z` : `${id}-01T00:00:00Z`);
  if (Number.isNaN(ms)) return null;
  const p = periodOf(kind, ms);
  return p.id === id ? p : null;
}

/** The UTC days (YYYY-MM-DD) a period spans. */
export function daysOf(p: Period): string[] {
  const out: string[] = [];
  for (let t = p.startMs; t < p.endMs; t += 86_400_000) out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}

/** Every period of `kind` that overlaps the given UTC days, oldest first. */
export function periodsCovering(kind: PeriodKind, days: readonly string[]): Period[] {
  const byId = new Map<string, Period>();
  for (const day of days) {
    const p = periodOf(kind, Date.parse(`${day}T00:00:00Z`));
    byId.set(p.id, p);
  }
  return [...byId.values()].sort((a, b) => a.startMs - b.startMs);
}
