// A fixed demand, for the embedded default and for tests of the operator that do not exercise measurement.
import { DemandError } from './demand-source.ts';
import type { DemandSample, DemandSource, DemandTarget } from './demand-source.ts';

export interface StaticDemandOptions {
  requestsPerSecond: number;
  /** Rows per request; 1 when every request carries one inference. */
  inferencesPerRequest?: number;
}

export class StaticDemandSource implements DemandSource {
  private readonly rps: number;
  private readonly perRequest: number;

  constructor(opts: StaticDemandOptions) {
    if (!(Number.isFinite(opts.requestsPerSecond) && opts.requestsPerSecond >= 0)) {
      throw new DemandError(
        'config',
        `requestsPerSecond: expected a finite number >= 0, got ${opts.requestsPerSecond}`,
      );
    }
    const per = opts.inferencesPerRequest ?? 1;
    if (!(Number.isFinite(per) && per > 0)) {
      throw new DemandError('config', `inferencesPerRequest: expected a finite number > 0, got ${per}`);
    }
    this.rps = opts.requestsPerSecond;
    this.perRequest = per;
  }

  async demand(_target: DemandTarget, windowMs: number, nowMs: number): Promise<DemandSample> {
    return {
      requestsPerSecond: this.rps,
      inferencesPerSecond: this.rps * this.perRequest,
      servedByVariant: {},
      windowMs,
      source: 'static',
      sampledAtMs: nowMs,
      basis: 'assumed',
      warnings: [],
    };
  }
}
