// Public face of operator/demand: one DemandSource interface and its implementations.
export { DemandError, MODEL_METRICS } from './demand-source.ts';
export type { DemandSample, DemandSource, DemandTarget } from './demand-source.ts';
export { PrometheusDemandSource, defaultMatchers } from './prometheus-demand-source.ts';
export type { PrometheusDemandSourceOptions } from './prometheus-demand-source.ts';
export { ScrapeDemandSource } from './scrape-demand-source.ts';
export type { ScrapeDemandSourceOptions } from './scrape-demand-source.ts';
export { StaticDemandSource } from './static-demand-source.ts';
export { TraceDemandSource, hourlyCountsToRps } from './trace-demand-source.ts';
export { parsePrometheusText } from './prometheus-text.ts';
