// "Budget used" has one definition (decision/budget-books.ts budgetUsed, via the engine's EngineStep.budgetUsed) and
// four readers: the reason text (whole percent), status.budget.usedFraction (three decimals), the decision row
// (inputs_json.budgetUsed) and the usage row (degradation_budget_used). The real Reconciler and Accountant over the
// fake ports run an eco service through a dirty spell that spends budget; every reader must show the same number,
// each with its own documented rounding only. A reader that computed the figure anew (another allowance, the live
// books instead of the plan's, another rounding) would disagree somewhere on this run.
import { expect } from 'chai';
import { describe, it } from 'mocha';
import type { DecisionRecord } from '../../../operator/audit/decision.ts';
import type { UsageRecord } from '../../../operator/audit/usage.ts';
import { intervalStartFor } from '../../../operator/decision/engine.ts';
import { Accountant } from '../../../operator/reconciler/accounting.ts';
import { FakeCluster, HOUR, service, spellForecast } from './fake-cluster.ts';

const KEY = 'ns/svc';
const MIN = 60_000;
const IV = 5 * MIN; // the service's decision interval (fake-cluster.ts service())

/** The percentage the reason prints (decision/reason.ts explain: whole percent, capped at 999). */
function percentInReason(reason: string): number {
  const m = /(\d+)% of today's degradation budget used/.exec(reason);
  if (!m) throw new Error(`no budget percentage in the reason: ${reason}`);
  return Number(m[1]);
}
const asReason = (used: number) => Math.round(Math.min(9.99, used) * 100);
const asStatus = (used: number) => Math.round(used * 1000) / 1000;

interface Plan {
  budgetUsed: number;
  reason: string;
}

describe('budget used: status, the reason text and the audit columns show the one number', () => {
  it('an eco service spending budget through a dirty spell: every reader agrees at every interval', async () => {
    const fc = new FakeCluster();
    fc.add(service('svc'));
    for (let h = -48; h < 0; h++) fc.signal.set(100 + ((h + 48) % 24) * 10, fc.now + h * HOUR);
    fc.signal.set(900, fc.now);
    fc.signal.forecast = spellForecast(fc.now, 3, 900, 100);
    const r = fc.reconciler();
    const acct = new Accountant(r.ctx);
    const plans = new Map<number, Plan>();
    const statusChecks: Array<{ at: number; status: number; plan: number }> = [];
    for (let t = 0; t <= 4 * HOUR; t += MIN) {
      fc.now += t === 0 ? 0 : MIN;
      // Demand moves while degraded: the small variant scales up and down, decision rows taken with budget spent.
      if (t === HOUR) fc.rps = 380;
      if (t === 2.5 * HOUR) fc.rps = 150;
      const statusWrites = fc.writes.filter((w) => w.kind === 'status').length;
      await r.reconcile(KEY);
      await acct.accountDue(fc.now);
      const plan = r.memoryOf(KEY)!.state.books.plan!;
      const start = intervalStartFor(fc.now, IV);
      expect(plan.intervalStartMs, 'one plan per interval').to.equal(start);
      plans.set(start, { budgetUsed: plan.budgetUsed!, reason: plan.reason });
      if (fc.writes.filter((w) => w.kind === 'status').length > statusWrites)
        statusChecks.push({
          at: fc.now,
          status: fc.isvcs.get(KEY)!.status!.budget!.usedFraction,
          plan: plan.budgetUsed!,
        });
    }

    // The run spends budget, and the figure moves (a constant would agree by accident).
    const used = [...plans.values()].map((p) => p.budgetUsed);
    expect(Math.max(...used), 'budget spent by the end').to.be.greaterThan(0.05);
    expect(new Set(used.map(asReason)).size, 'distinct percentages printed').to.be.at.least(5);

    // The reason text of every plan prints that plan's figure.
    for (const [start, p] of plans)
      expect(percentInReason(p.reason), `reason at ${new Date(start).toISOString()}`).to.equal(asReason(p.budgetUsed));

    // Status, whenever written, carries the figure of the plan in force.
    expect(statusChecks.filter((s) => s.plan > 0).length, 'status writes with budget spent').to.be.at.least(3);
    for (const s of statusChecks)
      expect(s.status, `status.budget.usedFraction at ${new Date(s.at).toISOString()}`).to.equal(asStatus(s.plan));

    // Decision rows: the reason, inputs_json.budgetUsed and the status written on that pass agree.
    const decisions = fc
      .decisions()
      .filter((d) => d.kind === 'swap' || d.kind === 'scale') as unknown as DecisionRecord[];
    const spent = decisions.filter((d) => JSON.parse(d.inputs_json).budgetUsed > 0);
    expect(spent.length, 'decisions taken with budget spent').to.be.at.least(2);
    for (const d of decisions) {
      const x = JSON.parse(d.inputs_json).budgetUsed as number;
      const at = d.time;
      const start = intervalStartFor(at, IV);
      expect(x, `decision row at ${new Date(at).toISOString()}: inputs budgetUsed`).to.equal(
        plans.get(start)!.budgetUsed,
      );
      expect(percentInReason(d.reason), `decision row at ${new Date(at).toISOString()}: reason`).to.equal(asReason(x));
      const st = statusChecks.find((s) => s.at === at);
      expect(st, `status written with the decision at ${new Date(at).toISOString()}`).to.not.equal(undefined);
      expect(st!.status).to.equal(asStatus(x));
    }

    // Usage rows: each minute carries the figure of the plan in force over it, the one its reason prints.
    const usage = fc.audit.rows.usage as unknown as UsageRecord[];
    expect(usage.length, 'usage rows').to.be.at.least(200);
    for (const u of usage) {
      const [a, b] = [u.interval_start, u.interval_end];
      const p = plans.get(intervalStartFor((a + b) / 2, IV))!;
      const label = `usage row from ${new Date(a).toISOString()}`;
      expect(u.degradation_budget_used, label).to.equal(p.budgetUsed);
      expect(asReason(u.degradation_budget_used), `${label} against its plan's reason`).to.equal(
        percentInReason(p.reason),
      );
    }
  });
});
