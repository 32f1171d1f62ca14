// One row per figure: scenario, what was measured, the figure (with its unit), the goal, pass/fail. Rendered as a
// text table for the terminal, and as JSON and Markdown files. `kind` says what a row is: an `invariant` (a count
// or property that must hold however loaded the machine: the fault tests assert these), or a `timing`/`footprint`
// figure whose goal is judged by the soak only (they depend on the machine, so no test asserts them).
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';

export type RowKind = 'invariant' | 'timing' | 'footprint' | 'info';

export interface Row {
  scenario: string;
  measured: string;
  figure: string;
  goal: string;
  pass: boolean | null;
  kind: RowKind;
  /** 1-minute load average when the figure was taken. */
  load: number;
  /** Evidence for a failing row (a log line, the objects); kept short. */
  detail?: string;
}

export class Results {
  readonly rows: Row[] = [];

  add(
    scenario: string,
    measured: string,
    figure: string,
    goal: string,
    pass: boolean | null,
    kind: RowKind,
    detail?: string,
  ): Row {
    const row: Row = {
      scenario,
      measured,
      figure,
      goal,
      pass,
      kind,
      load: Number(loadavg()[0]!.toFixed(2)),
      ...(detail ? { detail: detail.slice(0, 2000) } : {}),
    };
    this.rows.push(row);
    return row;
  }

  /** A figure compared with an upper bound: `figure ≤ max` passes. */
  atMost(scenario: string, measured: string, value: number, unit: string, max: number, kind: RowKind, detail?: string) {
    return this.add(
      scenario,
      measured,
      `${fmt(value)}${unit ? ` ${unit}` : ''}`,
      `≤ ${fmt(max)}${unit ? ` ${unit}` : ''}`,
      value <= max,
      kind,
      value <= max ? undefined : detail,
    );
  }

  /** Something that must hold. */
  check(scenario: string, measured: string, ok: boolean, figure: string, goal: string, detail?: string) {
    return this.add(scenario, measured, figure, goal, ok, 'invariant', ok ? undefined : detail);
  }

  info(scenario: string, measured: string, figure: string) {
    return this.add(scenario, measured, figure, '—', null, 'info');
  }

  get failed(): Row[] {
    return this.rows.filter((r) => r.pass === false);
  }
}

export function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Number.isInteger(n)) return String(n);
  return Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(2);
}

const mark = (p: boolean | null) => (p === null ? '—' : p ? 'pass' : 'FAIL');

export function textTable(rows: readonly Row[]): string {
  const head = ['scenario', 'measured', 'figure', 'goal', 'result', 'load'];
  const body = rows.map((r) => [r.scenario, r.measured, r.figure, r.goal, mark(r.pass), fmt(r.load)]);
  const width = head.map((h, i) => Math.min(70, Math.max(h.length, ...body.map((b) => b[i]!.length))));
  const line = (cells: string[]) => cells.map((c, i) => c.slice(0, width[i]).padEnd(width[i]!)).join('  ');
  return [line(head), width.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

export function markdownTable(rows: readonly Row[]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  return [
    '| scenario | measured | figure | goal | result | load |',
    '|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${esc(r.scenario)} | ${esc(r.measured)} | ${esc(r.figure)} | ${esc(r.goal)} | ${mark(r.pass)} | ${fmt(r.load)} |`,
    ),
  ].join('\n');
}

export function writeResults(base: string, rows: readonly Row[], meta: Record<string, unknown>): void {
  writeFileSync(`${base}.json`, JSON.stringify({ ...meta, rows }, null, 2) + '\n');
  const details = rows
    .filter((r) => r.detail)
    .map((r) => `- **${r.scenario} — ${r.measured}**: ${r.detail!.replace(/\n/g, ' ')}`);
  writeFileSync(
    `${base}.md`,
    [
      `# Soak results`,
      '',
      ...Object.entries(meta).map(([k, v]) => `- ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`),
      '',
      markdownTable(rows),
      '',
      ...(details.length ? ['## Evidence of failing rows', '', ...details, ''] : []),
    ].join('\n'),
  );
}

export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}
