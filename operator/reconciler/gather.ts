// Phase 2, gather: the carbon signal (registered once per service), its measured history, and the demand of every
// decision interval that has ended since the last pass. A plan is made from a signal polled within its interval
// when the source's poll interval allows it; no plan at all is made before the source's first answer.
import { intervalStartFor } from '../decision/engine.ts';
import { compacted, intervalsToClose, withGap, withPoint, type DemandLedger } from './demand-ledger.ts';
import type { GatheredPass, ObservedPass, ReconcilerContext } from './pass-context.ts';
import type { SignalView } from './signal-view.ts';

export async function gather(ctx: ReconcilerContext, pass: ObservedPass): Promise<GatheredPass> {
  const signal = await carbonSignal(ctx, pass);
  const { sourceRef, region } = pass.isvc.spec.carbon;
  if (signal.pending) return { signal, carbonHistory: [], demand: pass.memory.state.demand, waiting: signal.summary };
  const demand = await demandHistory(ctx, pass);
  return { signal, carbonHistory: ctx.ports.signals.history(sourceRef, region), demand };
}

async function carbonSignal(ctx: ReconcilerContext, pass: ObservedPass): Promise<SignalView> {
  const { sourceRef: source, region } = pass.isvc.spec.carbon;
  const mem = pass.memory;
  const reg = mem.registered;
  if (!reg || reg.source !== source || reg.region !== region) {
    if (reg) ctx.ports.signals.unregister(reg.source, reg.region);
    ctx.ports.signals.register(source, region);
    mem.registered = { source, region };
  }
  const signal = ctx.ports.signals.get(source, region);
  // A source not polled yet is asked now. The first pass of an interval plans it: a value from before the
  // interval's start is refreshed first (the poll happens only when the source is due, so this never polls faster
  // than pollIntervalSeconds).
  const start = intervalStartFor(pass.now, pass.isvc.spec.policy.intervalSeconds * 1000);
  const planning = mem.state.books.plan?.intervalStartMs !== start;
  if (signal.pending || (planning && signal.dataTimeMs !== undefined && signal.dataTimeMs < start))
    return ctx.ports.signals.refresh(source, region);
  return signal;
}

async function demandHistory(ctx: ReconcilerContext, pass: ObservedPass): Promise<DemandLedger> {
  const mem = pass.memory;
  let ledger = mem.state.demand;
  const spans = intervalsToClose(ledger, pass.now, ctx.ports.demand.backfillMs(pass.isvc));
  for (const span of spans) {
    try {
      const r = await ctx.ports.demand.read(pass.isvc, span.fromMs, span.toMs);
      if (!Number.isFinite(r.rps) || r.rps < 0) throw new Error(`demand source returned ${r.rps} requests/s`);
      ledger = withPoint(ledger, span, r.rps);
      mem.demandSource = r.source;
      delete mem.demandError;
    } catch (e) {
      // A gap: the engine holds the last measured rate over it. Said in the log and a metric, never hidden.
      ledger = withGap(ledger, span);
      mem.demandError = (e as Error).message;
      ctx.metrics?.errors.inc({ reason: 'DemandUnavailable' });
      ctx.log.warn('demand not measured for an interval', {
        namespace: pass.isvc.metadata.namespace,
        name: pass.isvc.metadata.name,
        from: new Date(span.fromMs).toISOString(),
        error: mem.demandError,
      });
      break;
    }
  }
  return compacted(ledger, pass.now);
}
