// Polls the carbon signal on the operator's clock (leader only: a standby polls nothing) and wakes exactly the
// services whose (source, region) signal changed — its value, its data time or its fallback level — so a carbon
// step in one region reaches that region's services within one tick, and no other service gets a pass.
import type { CarbonSignalService } from '../carbon/signal-service.ts';
import type { Clock } from '../clock.ts';
import type { Runnable } from '../kube/manager.ts';
import type { TrackedSignalPort } from './signal-port.ts';

export interface SignalPollerOptions {
  signals: CarbonSignalService;
  port: TrackedSignalPort;
  clock: Clock;
  /** Heartbeat on the clock; each pair is still polled only when its pollIntervalSeconds has passed. */
  tickMs: number;
  /** The services that read a pair (their keys). */
  keysFor: (source: string, region: string) => string[];
  wake: (keys: string[]) => void;
  onError: (e: unknown) => void;
  /** A pair's signal changed (the CarbonSource status shows its current readings). */
  onChanged?: (source: string, region: string, view: ReturnType<TrackedSignalPort['get']>) => void;
}

export function signalPoller(o: SignalPollerOptions): Runnable {
  const last = new Map<string, string>();
  let cancel: (() => void) | undefined;
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  const tick = async () => {
    try {
      await o.signals.refresh(o.clock.now());
      const changed: string[] = [];
      for (const { source, region } of o.port.pairs()) {
        const s = o.port.get(source, region);
        const fp = `${s.pending}|${s.valueGPerKWh}|${s.dataTimeMs}|${s.fallbackLevel}`;
        const k = `${source}\u0000${region}`;
        if (last.get(k) !== fp) {
          last.set(k, fp);
          changed.push(...o.keysFor(source, region));
          o.onChanged?.(source, region, s);
        }
      }
      if (changed.length) o.wake(changed);
    } catch (e) {
      o.onError(e);
    }
  };
  const arm = () => {
    if (stopped) return;
    cancel = o.clock.setTimer(() => {
      running = tick().finally(arm);
    }, o.tickMs);
  };
  return {
    name: 'carbon signal poller',
    needsLeaderElection: true,
    start() {
      stopped = false;
      running = tick().finally(arm);
    },
    async stop() {
      stopped = true;
      cancel?.();
      await running;
    },
  };
}
