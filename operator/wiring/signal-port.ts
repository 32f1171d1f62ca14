// The reconciler's SignalPort over the carbon signal service and the CarbonSource controller's view of each source
// (loaded, invalid, credentials unavailable). It also tracks which (source, region) pairs services read, so the
// poller can wake exactly the services of a pair whose signal changed.
import type { CarbonSignal, CarbonSignalService } from '../carbon/signal-service.ts';
import { Reason } from '../constants.ts';
import type { SignalPort } from '../reconciler/ports.ts';
import type { SignalView } from '../reconciler/signal-view.ts';

export type SourceState = { kind: 'loaded' } | { kind: 'unusable'; message: string };

export interface SourceStates {
  /** undefined: the controller has not processed the source yet. */
  state(name: string): SourceState | undefined;
  exists(name: string): boolean;
}

export interface TrackedSignalPort extends SignalPort {
  /** Pairs at least one service reads. */
  pairs(): Array<{ source: string; region: string }>;
}

const pairKey = (s: string, r: string) => `${s}\u0000${r}`;

function unavailable(summary: string, conditionReason: string, pending = false): SignalView {
  return {
    available: false,
    pending,
    forecast: null,
    fallbackLevel: 'none',
    reason: summary,
    summary,
    conditionReason,
  };
}

/** Words without times or ages: what the CarbonSignalAvailable condition says. */
function summaryOf(source: string, sig: CarbonSignal): string {
  const r = sig.reading;
  const failed = sig.failures.map((f) => `${f.source}: ${f.reason}`).join('; ');
  const what = r ? `${r.provider}, ${r.signal}/${r.basis}, ${r.estimated ? 'estimated' : 'measured'}` : '';
  const fc = sig.forecast ? '' : '; no provider forecast (the policy builds one from history)';
  switch (sig.fallbackLevel) {
    case 'primary':
      return `carbon signal from CarbonSource '${source}' (${what})${fc}`;
    case 'last-known':
      return `no source answered (${failed}); using the last known value (${what})${fc}`;
    case 'fail-safe':
    case 'none':
      return `no usable carbon signal (${failed || 'no answer'}); fail-safe: ${sig.failSafe.action}`;
    default:
      return `CarbonSource '${source}' failed (${failed}); using ${sig.fallbackLevel} (${what})${fc}`;
  }
}

export function viewOf(source: string, sig: CarbonSignal): SignalView {
  const v: SignalView = {
    available: sig.available,
    pending: false,
    forecast: sig.forecast ? sig.forecast.map((p) => ({ timeMs: p.timeMs, valueGPerKWh: p.valueGPerKWh })) : null,
    fallbackLevel: sig.fallbackLevel,
    reason: sig.reason,
    summary: summaryOf(source, sig),
    conditionReason: sig.conditionReason,
  };
  const r = sig.reading;
  if (r) {
    v.valueGPerKWh = r.valueGPerKWh;
    v.provider = r.provider;
    v.signal = r.signal;
    v.basis = r.basis;
    v.dataTimeMs = r.timeMs;
    v.estimated = r.estimated;
    v.isForecast = r.forecast;
  }
  return v;
}

export function signalPort(signals: CarbonSignalService, sources: SourceStates): TrackedSignalPort {
  const refs = new Map<string, { source: string; region: string; n: number }>();
  const get = (source: string, region: string): SignalView => {
    if (!sources.exists(source))
      return unavailable(
        `CarbonSource '${source}' does not exist: create it, or set spec.carbon.sourceRef`,
        Reason.SourceNotFound,
      );
    const st = sources.state(source);
    if (!st) return unavailable(`CarbonSource '${source}' is being loaded`, Reason.SignalPending, true);
    if (st.kind === 'unusable')
      return unavailable(`CarbonSource '${source}' cannot be used: ${st.message}`, Reason.SourceUnusable);
    const sig = signals.get(source, region);
    // Not polled yet: wait for the first answer instead of acting on "no signal".
    if (sig.fallbackLevel === 'none' && sig.failures.length === 0)
      return unavailable(`CarbonSource '${source}' has not answered for ${region} yet`, Reason.SignalPending, true);
    return viewOf(source, sig);
  };
  return {
    register(source, region) {
      const k = pairKey(source, region);
      const e = refs.get(k) ?? { source, region, n: 0 };
      e.n++;
      refs.set(k, e);
      signals.register(source, region);
    },
    unregister(source, region) {
      const k = pairKey(source, region);
      const e = refs.get(k);
      if (e && --e.n <= 0) refs.delete(k);
      signals.unregister(source, region);
    },
    get,
    async refresh(source, region) {
      if (sources.state(source)?.kind === 'loaded') await signals.ensure(source, region);
      return get(source, region);
    },
    history: (source, region) => signals.history(source, region),
    pairs: () => [...refs.values()].map(({ source, region }) => ({ source, region })),
  };
}
