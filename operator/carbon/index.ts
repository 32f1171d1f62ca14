// The carbon signal's public face: what the controller and the policy import.
export type { CarbonProvider, CarbonReading, SignalKind, EmissionBasis } from './types.ts';
export { LBS_PER_MWH_TO_G_PER_KWH } from './types.ts';
export type { CarbonErrorReason } from './provider-error.ts';
export { CarbonProviderError, REJECTION_REASONS } from './provider-error.ts';
export type { Credentials } from './secret.ts';
export { Secret, credentialsFromEnv } from './secret.ts';
export { redact, secretForms } from './redact.ts';
export type { CarbonSourceSpec, ProviderKind, SecretKeyRef, EnvCredentialRef, FailSafe, TraceSpec } from './config.ts';
export { validateCarbonSourceSpec, embeddedDefaultSpec, DEFAULTS, COMMON_FIELDS, specFields } from './config.ts';
export type { Field, Fields } from './config-fields.ts';
export { describe as describeField } from './config-fields.ts';
export type { ProviderDefinition, ProviderContext, CredentialKey } from './provider-definition.ts';
export { defineProvider } from './provider-definition.ts';
export { ProviderRegistry, providerRegistry, PROVIDER_KINDS, BUILT_IN_PROVIDERS } from './registry.ts';
export type { ProviderDeps } from './create-provider.ts';
export { createProvider, DEFAULT_RATE_LIMITS } from './create-provider.ts';
export { CheckedProvider } from './checked-provider.ts';
export { CLOCK_SKEW_ALLOWANCE_MS } from './reading-checks.ts';
export type { CarbonHistoryStore, IntensityPoint } from './carbon-history.ts';
export { HISTORY_DEPTH_MS } from './carbon-history.ts';
export type {
  CarbonSignal,
  FallbackLevel,
  SignalChange,
  SignalConditionReason,
  SourceFailure,
  CarbonSignalServiceDeps,
} from './signal-service.ts';
export { CarbonSignalService } from './signal-service.ts';
export type { PollingSchedule } from './polling-schedule.ts';
export { startPolling } from './polling-schedule.ts';
export { EMBEDDED_TRACE_FILE, loadTrace } from './trace-provider.ts';
export type { FetchLike } from './http-client.ts';
export { MAX_INTENSITY_G_PER_KWH, parseCarbonTrace } from './trace-file.ts';
export type { CarbonTrace, TracePoint } from './trace-file.ts';
