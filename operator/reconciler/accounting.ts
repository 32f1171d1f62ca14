// The accountant: one usage row per service per accounting interval, intervals aligned to multiples of the
// accounting interval on the operator's clock (so a row's id is the same whoever writes it, and a re-accounted
// interval is deduplicated by the sink). It runs on the leader, on a clock timer at each boundary, and reads back
// what the passes recorded (the variant the workload was set to run, the signal in force, the demand ledger) and
// measures what it can (interval-measures.ts): ready replica-time from the pods' Ready transitions, energy from the
// service's meter, served counts from the runtime's counters, each labelled as measured or modelled in the row.
// An interval with a meter waits until the meter's samples after its end are in. After a restart it accounts from
// the end of the last interval status counted (status.emissions.until), so the interval running at a stop and the
// ones during an outage get their rows too (same record ids: the sink keeps one). Every interval gets a row, also
// one without an intensity (ci_missing).
import { withDefaults } from '../api/defaults.ts';
import type { Defaulted, InferenceService, VariantSpec } from '../api/types.ts';
import { usageRow, type RowSignal } from '../audit/rows-from-pass.ts';
import { EventAction, Reason } from '../constants.ts';
import { requestsServed } from '../decision/budget-books.ts';
import { valueAt } from '../decision/fallback-forecast.ts';
import {
  countersAtBoundary,
  countsOver,
  energyOver,
  latencyOver,
  replicasFromPods,
  settleOf,
} from './interval-measures.ts';
import type { ReconcilerContext, SignalSample, UsageMemory, WorkloadSample } from './pass-context.ts';
import { notePods, prunePodLog } from './pod-log.ts';
import { driftNote, noteMeasured, type DriftChange } from './profile-drift.ts';
import { fallbackIndex } from './signal-view.ts';

/** Most intervals accounted per service in one run (after a long outage, the oldest are left out). */
export const MAX_ACCOUNT_INTERVALS = 1_440;
/** A history point counts for an interval within this of its start (hourly provider data). */
const HISTORY_TOLERANCE_MS = 2 * 3_600_000;

const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export class Accountant {
  private ctx: ReconcilerContext;

  constructor(ctx: ReconcilerContext) {
    this.ctx = ctx;
  }

  /**
   * Accounts every interval that ended by `now` (less its meter's settling time) for every service the reconciler
   * knows. `boundary`: called at an accounting boundary (count sources that read the pods read them now).
   * Returns rows written.
   */
  async accountDue(now: number, boundary = true): Promise<number> {
    const A = this.ctx.options.accountingIntervalMs;
    let n = 0;
    for (const [key, mem] of this.ctx.usage) {
      const raw = this.ctx.ports.cache.inferenceService(key);
      if (!raw) continue;
      const isvc = withDefaults(raw);
      const pods = this.ctx.ports.cache.podsOf(isvc.metadata.namespace, isvc.metadata.name);
      this.observePods(mem, pods, now);
      const m = this.ctx.ports.meters;
      if (boundary) await countersAtBoundary(m, isvc, mem, pods, Math.floor(now / A) * A).catch(() => undefined);
      const end = Math.floor((now - settleOf(m, isvc)) / A) * A;
      let from = Math.max(mem.emissions.untilMs, mem.accountingSinceMs);
      from = Math.max(from, end - MAX_ACCOUNT_INTERVALS * A);
      for (let a = from; a + A <= end; a += A) if (await this.accountOne(isvc, mem, key, a, a + A)) n++;
      prune(mem);
    }
    return n;
  }

  /** The pods in the cache now, folded into the service's pod log. */
  private observePods(mem: UsageMemory, pods: Parameters<typeof notePods>[1], now: number): void {
    const m = this.ctx.ports.meters;
    notePods(mem.pods, pods, now, m ? (w) => m.toClock(w) : (w) => w, m ? m.wallNow() : now);
  }

  private async accountOne(
    isvc: Defaulted<InferenceService>,
    mem: UsageMemory,
    key: string,
    a: number,
    b: number,
  ): Promise<boolean> {
    const w = workloadOver(mem.workloadLog, a, b);
    const variant = variantOf(isvc, w.variant);
    const signal = signalFor(this.ctx, isvc, mem.signalLog, a, b);
    const m = this.ctx.ports.meters;
    const pods = this.ctx.ports.cache.podsOf(isvc.metadata.namespace, isvc.metadata.name);
    const fromPods = replicasFromPods(mem, a, b);
    let written = false;
    try {
      const [energy, counts, latency] = await Promise.all([
        energyOver(m, isvc, mem, variant, a, b),
        countsOver(m, isvc, mem, pods, a, b),
        latencyOver(m, isvc, mem, pods, a, b),
      ]);
      const row = usageRow({
        clusterId: this.ctx.options.clusterId,
        operatorVersion: this.ctx.options.operatorVersion,
        isvc,
        fromMs: a,
        toMs: b,
        variant,
        replicas: {
          desired: w.desired,
          ready: w.readyEnd,
          average: fromPods?.average ?? w.readyAverage,
          method: fromPods?.method ?? w.method,
        },
        rps: await this.rateOver(isvc, key, a, b),
        ...(signal ? { signal } : {}),
        fallbackIndex: fallbackIndex(signal?.fallbackLevel ?? 'none'),
        budgetUsed: w.budgetUsed,
        energy,
        ...(counts?.counted ? { counts: counts.counts } : {}),
        ...(latency?.measured ? { latency: latency.latency } : {}),
        ...(w.relaxedLatency !== undefined ? { relaxedLatency: w.relaxedLatency } : {}),
      });
      if (this.ctx.ports.audit) {
        await this.ctx.ports.audit.writeUsage(row);
        written = true;
      }
      const day = utcDay(a);
      if (day !== mem.emissions.day) mem.emissions = { day, todayG: 0, untilMs: mem.emissions.untilMs };
      mem.emissions.todayG += row.total_co2e_g ?? 0;
      if (energy.measured && row.energy_profile_it_kwh !== null)
        await this.drift(
          isvc,
          noteMeasured(mem.drift, variant.name, {
            measuredKWh: row.energy_it_kwh,
            profileKWh: row.energy_profile_it_kwh,
          }),
        );
    } catch (e) {
      this.ctx.log.error('usage row not written', {
        namespace: isvc.metadata.namespace,
        name: isvc.metadata.name,
        from: new Date(a).toISOString(),
        error: (e as Error).message,
      });
      this.ctx.metrics?.errors.inc({ reason: 'AuditWriteFailed' });
    }
    mem.emissions.untilMs = b;
    return written;
  }

  /** A variant started or stopped drifting from its meter: say so in an Event (the condition follows in status). */
  private async drift(isvc: Defaulted<InferenceService>, c: DriftChange | undefined): Promise<void> {
    if (!c) return;
    const note = driftNote(c);
    this.ctx.log[c.drifting ? 'warn' : 'info']('power profile against the meter', {
      namespace: isvc.metadata.namespace,
      name: isvc.metadata.name,
      note,
    });
    await this.ctx.ports.events
      .record(
        {
          apiVersion: isvc.apiVersion,
          kind: isvc.kind,
          name: isvc.metadata.name,
          namespace: isvc.metadata.namespace,
          ...(isvc.metadata.uid ? { uid: isvc.metadata.uid } : {}),
        },
        {
          type: c.drifting ? 'Warning' : 'Normal',
          reason: c.drifting ? Reason.ProfileOffMeter : Reason.ProfileMatchesMeter,
          action: EventAction.Account,
          note,
        },
      )
      .catch(() => undefined);
  }

  /** The demand ledger's mean over [a, b) once it covers b, else the demand port for exactly that span. */
  private async rateOver(isvc: Defaulted<InferenceService>, key: string, a: number, b: number): Promise<number> {
    const l = this.ctx.memory.get(key)?.state.demand;
    if (l && l.closedUntilMs !== undefined && l.closedUntilMs >= b && l.points.length > 0)
      return requestsServed(l.points, a, b) / ((b - a) / 1000);
    try {
      return (await this.ctx.ports.demand.read(isvc, a, b)).rps;
    } catch {
      const last = l?.points[l.points.length - 1];
      return last ? last.rps : 0;
    }
  }
}

function variantOf(isvc: Defaulted<InferenceService>, name: string | undefined): VariantSpec {
  return isvc.spec.variants.find((v) => v.name === name) ?? isvc.spec.variants[0]!;
}

/** The workload over [a, b): the sample in force at the midpoint, ready replicas averaged over time. */
function workloadOver(log: readonly WorkloadSample[], a: number, b: number) {
  const mid = (a + b) / 2;
  const at = (t: number) => [...log].reverse().find((s) => s.atMs <= t) ?? log[0];
  const m = at(mid);
  const known = log.length > 0 && log[0]!.atMs <= a;
  let weighted = 0;
  for (let i = 0; i < log.length; i++) {
    const s = log[i]!;
    const from = Math.max(a, s.atMs);
    const to = Math.min(b, log[i + 1]?.atMs ?? b);
    if (to > from) weighted += s.ready * (to - from);
  }
  const first = log[0];
  if (first && first.atMs > a) weighted += first.ready * (Math.min(first.atMs, b) - a);
  const end = at(b - 1);
  // The latency ceiling in force over the whole interval; undefined when it changed inside it or the log does not
  // reach back to its start (the row's slo_met is then known only where both ceilings agree).
  const inForce = log.filter((s, i) => s.atMs < b && (log[i + 1]?.atMs ?? Infinity) > a);
  const relaxed = new Set(inForce.map((s) => s.relaxedLatency));
  const relaxedLatency = known && relaxed.size === 1 ? [...relaxed][0] : undefined;
  return {
    ...(relaxedLatency !== undefined ? { relaxedLatency } : {}),
    ...(m?.variant !== undefined ? { variant: m.variant } : {}),
    desired: m?.desired ?? 0,
    readyEnd: end?.ready ?? 0,
    readyAverage: log.length ? weighted / (b - a) : 0,
    method: known ? ('time_weighted' as const) : ('snapshot' as const),
    budgetUsed: m?.budgetUsed ?? 0,
  };
}

/** The signal in force at the interval's midpoint; before the first pass (an outage), the measured history. */
function signalFor(
  ctx: ReconcilerContext,
  isvc: Defaulted<InferenceService>,
  log: readonly SignalSample[],
  a: number,
  b: number,
): RowSignal | undefined {
  const mid = (a + b) / 2;
  const s = [...log].reverse().find((x) => x.atMs <= mid)?.signal;
  if (s) return s.valueGPerKWh !== undefined ? s : undefined;
  const { sourceRef, region } = isvc.spec.carbon;
  const v = valueAt(ctx.ports.signals.history(sourceRef, region), mid, HISTORY_TOLERANCE_MS);
  const meta = log[0]?.signal;
  if (v === undefined) return undefined;
  return {
    valueGPerKWh: v,
    available: true,
    ...(meta?.provider ? { provider: meta.provider } : {}),
    ...(meta?.signal ? { signal: meta.signal } : {}),
    ...(meta?.basis ? { basis: meta.basis } : {}),
    estimated: meta?.estimated ?? false,
    isForecast: false,
    fallbackLevel: 'primary',
    forecast: null,
  };
}

/** Samples before the last one that was in force at the accounted-until time are no longer needed. */
function prune(mem: UsageMemory): void {
  const t = mem.emissions.untilMs;
  prunePodLog(mem.pods, t);
  for (const log of [mem.workloadLog, mem.signalLog] as Array<Array<{ atMs: number }>>) {
    let i = 0;
    while (i + 1 < log.length && log[i + 1]!.atMs <= t) i++;
    if (i > 0) log.splice(0, i);
  }
}
