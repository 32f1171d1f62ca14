// The time-series rules every trace reader applies (carbon intensity and demand alike), after the cells are read:
// - rows are in strictly increasing time; an earlier row is an error naming both rows and both timestamps;
// - the same timestamp twice is an error naming both rows (or, when asked, collapsed if the two rows are identical);
// - the step is the trace's own: declared, or the most common difference between rows (the smallest on a tie), so
//   one missing row does not change it; every row must then fall on the trace's grid;
// - a gap (missing steps) is an error naming the row after it and the missing span, unless the caller asked for it
//   to be filled ('hold' the last value or 'linear' between neighbours, up to a longest span), and then every
//   filled step is marked and counted.
// Pure; see docs/adr/0402-trace-replay-forecasts.md.
import { isoTime, stepText } from './cell-values.ts';
import type { TracePlace } from './trace-format-error.ts';
import { TraceFormatError } from './trace-format-error.ts';

export type GapFill = 'none' | 'hold' | 'linear';
export const GAP_FILLS: readonly GapFill[] = ['none', 'hold', 'linear'];

/** Longest gap filled when the caller asks for filling but names no bound: 6 hours. */
export const DEFAULT_MAX_GAP_MS = 6 * 3_600_000;

export interface SeriesRules {
  /** The trace's step, ms, when the caller knows it; otherwise it is inferred from the rows. */
  stepMs?: number;
  /** How gaps are treated (default 'none': a gap is an error). */
  gapFill?: GapFill;
  /** Longest gap that is filled, ms (default DEFAULT_MAX_GAP_MS); a longer gap stays an error. */
  maxGapMs?: number;
  /** 'collapse-identical' drops a row that repeats the previous row's timestamp with identical values. */
  duplicates?: 'reject' | 'collapse-identical';
  /** Step used for a one-row trace when none is declared (default 1 hour). */
  defaultStepMs?: number;
}

export interface TimedRow<T> {
  timeMs: number;
  /** Where the row is (file and line, or a JSON index as `column: '[i]'`). */
  at: TracePlace;
  item: T;
}

export interface SeriesHooks<T> {
  /** Whether two rows at the same time carry the same data (for 'collapse-identical'). */
  same: (a: T, b: T) => boolean;
  /** The item for the k-th of n missing steps between `before` and `after` (k = 1..n). */
  fill: (before: T, after: T, k: number, n: number, mode: Exclude<GapFill, 'none'>) => T;
  /** How a time is shown in messages (default ISO UTC; relative demand layouts say `day 3 14:00`). */
  show?: (ms: number) => string;
}

export interface Gap {
  /** First and last missing step, ms. */
  fromMs: number;
  toMs: number;
  steps: number;
  /** The rows either side. */
  after: TracePlace;
  before: TracePlace;
}

export interface RegularSeries<T> {
  stepMs: number;
  /** On the grid, one per step from the first row to the last. */
  rows: { timeMs: number; item: T; filled: boolean }[];
  /** Filled gaps (an unfilled gap is an error). */
  gaps: Gap[];
  filledSteps: number;
  collapsedDuplicates: number;
}

/** `line 12` / `[3]`: how one row names another in a message. */
export function rowRef(p: TracePlace): string {
  return p.line !== undefined ? `line ${p.line}` : (p.column ?? p.file);
}

export function regularise<T>(input: TimedRow<T>[], rules: SeriesRules, hooks: SeriesHooks<T>): RegularSeries<T> {
  const { rows, collapsed } = ordered(input, rules, hooks);
  const stepMs = rules.stepMs ?? inferStep(rows) ?? rules.defaultStepMs ?? 3_600_000;
  if (!(Number.isInteger(stepMs) && stepMs > 0))
    throw new TraceFormatError({ file: input[0]?.at.file ?? '' }, `step ${stepMs} ms: must be a positive integer`);
  const show = hooks.show ?? isoTime;
  checkGrid(rows, stepMs, show);
  const mode = rules.gapFill ?? 'none';
  const maxGapMs = rules.maxGapMs ?? DEFAULT_MAX_GAP_MS;
  const out: RegularSeries<T>['rows'] = [];
  const gaps: Gap[] = [];
  let filledSteps = 0;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    const prev = rows[i - 1];
    if (prev) {
      const n = Math.round((r.timeMs - prev.timeMs) / stepMs) - 1;
      if (n > 0) {
        const gap: Gap = {
          fromMs: prev.timeMs + stepMs,
          toMs: r.timeMs - stepMs,
          steps: n,
          after: prev.at,
          before: r.at,
        };
        checkFillable(gap, stepMs, mode, maxGapMs, prev.timeMs, show);
        const m = mode as Exclude<GapFill, 'none'>;
        for (let k = 1; k <= n; k++)
          out.push({ timeMs: prev.timeMs + k * stepMs, item: hooks.fill(prev.item, r.item, k, n, m), filled: true });
        gaps.push(gap);
        filledSteps += n;
      }
    }
    out.push({ timeMs: r.timeMs, item: r.item, filled: false });
  }
  return { stepMs, rows: out, gaps, filledSteps, collapsedDuplicates: collapsed };
}

function ordered<T>(input: TimedRow<T>[], rules: SeriesRules, hooks: SeriesHooks<T>) {
  const show = hooks.show ?? isoTime;
  const rows: TimedRow<T>[] = [];
  let collapsed = 0;
  for (const r of input) {
    const prev = rows.at(-1);
    if (prev && r.timeMs < prev.timeMs)
      throw new TraceFormatError(
        r.at,
        `timestamp ${show(r.timeMs)} is earlier than ${show(prev.timeMs)} on ${rowRef(prev.at)}: ` +
          'rows must be in increasing time order',
      );
    if (prev && r.timeMs === prev.timeMs) {
      const same = hooks.same(prev.item, r.item);
      if (same && rules.duplicates === 'collapse-identical') {
        collapsed++;
        continue;
      }
      throw new TraceFormatError(
        r.at,
        `timestamp ${show(r.timeMs)} also appears on ${rowRef(prev.at)}` +
          (same
            ? ' (identical rows; collapse them with duplicates: collapse-identical, CLI --collapse-duplicates)'
            : ' with different values: which one is true cannot be told'),
      );
    }
    rows.push(r);
  }
  return { rows, collapsed };
}

/** The most common positive difference between consecutive rows; on a tie, the smallest. */
function inferStep(rows: TimedRow<unknown>[]): number | undefined {
  const counts = new Map<number, number>();
  for (let i = 1; i < rows.length; i++) {
    const d = rows[i]!.timeMs - rows[i - 1]!.timeMs;
    counts.set(d, (counts.get(d) ?? 0) + 1);
  }
  let best: number | undefined;
  let bestN = 0;
  for (const [d, n] of counts) if (n > bestN || (n === bestN && d < best!)) [best, bestN] = [d, n];
  return best;
}

/** Every row on one grid of `stepMs`: the phase most rows share (so a single stray row is the one named). */
function checkGrid(rows: TimedRow<unknown>[], stepMs: number, show: (ms: number) => string): void {
  if (rows.length === 0) return;
  const phase = (t: number) => (((t - rows[0]!.timeMs) % stepMs) + stepMs) % stepMs;
  const counts = new Map<number, number>();
  for (const r of rows) counts.set(phase(r.timeMs), (counts.get(phase(r.timeMs)) ?? 0) + 1);
  let main = 0;
  let mainN = -1;
  for (const [p, n] of counts) if (n > mainN) [main, mainN] = [p, n];
  const onGrid = rows.find((r) => phase(r.timeMs) === main)!;
  for (const r of rows) {
    if (phase(r.timeMs) === main) continue;
    throw new TraceFormatError(
      r.at,
      `timestamp ${show(r.timeMs)} is off the trace's ${stepText(stepMs)} grid ` +
        `(its rows are at ${show(onGrid.timeMs)} + k × ${stepText(stepMs)} steps)`,
    );
  }
}

function checkFillable(
  gap: Gap,
  stepMs: number,
  mode: GapFill,
  maxGapMs: number,
  prevMs: number,
  show: (ms: number) => string,
): void {
  const span =
    `${gap.steps} missing ${stepText(stepMs)} step${gap.steps === 1 ? '' : 's'} ` +
    (gap.steps === 1 ? `at ${show(gap.fromMs)}` : `from ${show(gap.fromMs)} to ${show(gap.toMs)}`) +
    ` (the row before is ${rowRef(gap.after)} at ${show(prevMs)})`;
  if (mode === 'none')
    throw new TraceFormatError(
      gap.before,
      `gap: ${span}; gaps are filled only when asked (gapFill: hold or linear; CLI --gap-fill)`,
    );
  if (gap.steps * stepMs > maxGapMs)
    throw new TraceFormatError(
      gap.before,
      `gap: ${span} is longer than the longest gap filled (${maxGapMs / 3_600_000} h); raise the limit only if ` +
        `a ${mode} fill over it is believable`,
    );
}
