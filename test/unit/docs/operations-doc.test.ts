// docs/operations.md stays the operator's reference: every metric the operator registers (every `carbonscale_*`
// name in an operator/ source that uses prom-client) is in its metrics table with a unit, and every flag
// `carbonscale operator --help` prints is in its flags table — and the doc names no metric or flag that is gone.
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { USAGE } from '../../../operator/wiring/flags.ts';
import { ROOT } from './readme-commands.ts';

const DOC = readFileSync(path.join(ROOT, 'docs/operations.md'), 'utf8');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => path.join(e.parentPath, e.name));
}

/** Metric names the operator registers: string literals in the operator's sources that import prom-client. */
function registeredMetrics(): Set<string> {
  const names = new Set<string>();
  for (const file of sources(path.join(ROOT, 'operator'))) {
    const text = readFileSync(file, 'utf8');
    if (!/from 'prom-client'/.test(text)) continue;
    for (const m of text.matchAll(/'(carbonscale_[a-z0-9_]+)'/g)) names.add(m[1]!);
  }
  return names;
}

/** The rows of the doc's table under `## heading`: first cell (back-quoted) → the whole row's cells. */
function tableRows(heading: string): Map<string, string[]> {
  // The section's own text, up to its first sub-heading (the alerts under Metrics are not metric rows).
  const section = (DOC.split(/^## /m).find((s) => s.startsWith(`${heading}\n`)) ?? '').split(/^#/m)[0]!;
  const rows = new Map<string, string[]>();
  for (const line of section.split('\n')) {
    const cells = line.startsWith('| `') ? line.split(/(?<!\\)\|/).map((c) => c.trim()) : [];
    const key = /^`([^` ]+)/.exec(cells[1] ?? '')?.[1];
    if (key) rows.set(key, cells.slice(1, -1));
  }
  return rows;
}

describe('docs/operations.md: the metrics and flags the operator has', () => {
  it('finds the operator’s metrics in its sources', () => {
    // Guards the scan itself: these are registered in three different ways (class, function, helper).
    for (const m of ['carbonscale_reconciles_total', 'carbonscale_apiserver_requests_total', 'carbonscale_audit_healthy'])
      expect([...registeredMetrics()]).to.include(m);
  });

  it('every registered metric has a row with its type, labels, unit and meaning; no row names a gone one', () => {
    const rows = tableRows('Metrics');
    const registered = registeredMetrics();
    expect([...registered].filter((m) => !rows.has(m)), 'missing from docs/operations.md').to.deep.equal([]);
    expect([...rows.keys()].filter((m) => !registered.has(m)), 'documented but not registered').to.deep.equal([]);
    for (const [name, cells] of rows) {
      expect(cells, name).to.have.length(5);
      expect(['counter', 'gauge', 'histogram'], name).to.include(cells[1]);
      expect(cells[3], `${name}: unit`).to.not.equal('');
      // The unit named in the metric's suffix is the unit the row gives.
      if (name.endsWith('_seconds') || name.endsWith('_seconds_total')) expect(cells[3], name).to.match(/^s\b/);
      if (name.includes('_g_per_kwh')) expect(cells[3], name).to.contain('gCO2eq/kWh');
      if (name.includes('_g_per_hour')) expect(cells[3], name).to.match(/gCO2e\/h \(estimated\)/);
    }
  });

  it('every flag of `carbonscale operator --help` has a row, and every row is a flag it prints', () => {
    const flags = new Set([...USAGE.matchAll(/^ {2}(--[a-z][a-z-]*)/gm)].map((m) => m[1]!));
    expect(flags.size).to.be.at.least(20);
    const rows = [...tableRows('Flags').keys()];
    expect([...flags].filter((f) => !rows.includes(f)), 'missing from docs/operations.md').to.deep.equal([]);
    expect(rows.filter((f) => !flags.has(f)), 'documented but not a flag').to.deep.equal([]);
  });
});
