// Drives CarbonSignalService.refresh from node-cron. The cron tick is only a heartbeat: each (source, region)
// is polled when its own pollIntervalSeconds has passed, so sources with different intervals share one schedule.
// `noOverlap` keeps a slow upstream from stacking refreshes.
import cron from 'node-cron';
import type { CarbonSignalService } from './signal-service.ts';

export interface PollingSchedule {
  stop(): Promise<void>;
}

export function startPolling(
  service: CarbonSignalService,
  opts: { now: () => number; cronExpression?: string; onError?: (e: unknown) => void } = { now: Date.now },
): PollingSchedule {
  const task = cron.schedule(
    opts.cronExpression ?? '*/10 * * * * *',
    async () => {
      try {
        await service.refresh(opts.now());
      } catch (e) {
        opts.onError?.(e);
      }
    },
    { noOverlap: true, name: 'carbon-signal-refresh' },
  );
  // First poll at once rather than waiting for the first tick.
  void service.refresh(opts.now()).catch((e: unknown) => opts.onError?.(e));
  return {
    async stop() {
      await task.stop();
      await task.destroy();
    },
  };
}
