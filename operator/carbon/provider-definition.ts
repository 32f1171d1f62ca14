// What a carbon provider declares about itself, in its own file (the way a KEDA scaler declares its typed config
// next to its code): its kind, the fields of its own spec block, which settings apply to it and with which
// defaults, the credentials it needs, its published rate limit, and its constructor. registry.ts lists the
// definitions; the validator (config.ts), createProvider, the CRD schema, the chart's values schema and the
// provider table in docs/carbon.md are all derived from that list (docs/adr/0403-providers-register-themselves.md).
import type { CarbonSourceSpec } from './config.ts';
import type { ObjectField } from './config-fields.ts';
import type { HttpOptions } from './http-client.ts';
import type { SecretCredentials } from './secret.ts';
import type { CarbonProvider, EmissionBasis, SignalKind } from './types.ts';

export type CredentialKey = 'apiKey' | 'username' | 'password';

/** Everything a constructor gets: the validated spec, its own block, resolved settings and the shared HTTP path. */
export interface ProviderContext<Block = undefined> {
  spec: CarbonSourceSpec;
  /** The provider's own block (`spec.trace`, `spec.static`, …), validated and with its defaults filled in. */
  block: Block;
  /** `spec.endpoint`, or the provider's default; '' for local providers. */
  endpoint: string;
  /** The credentials this provider declared, each present (createProvider checked), as redacting Secrets. */
  credentials: SecretCredentials;
  /** Deadline, byte cap, retries, backoff, the rate limiter and the injected clock, from the spec. */
  http: HttpOptions;
  now: () => number;
  /** `spec.signalType` or the provider's default (undefined when the provider has no signal choice). */
  signalType: string | undefined;
  /** What the signal type means: a location-based average or a marginal rate. */
  signal: SignalKind;
  /** `spec.emissionFactorType` or `direct`. */
  basis: EmissionBasis;
}

export interface SignalTypes {
  allowed: readonly string[];
  default: string;
  /** Which kind of signal each allowed value is. */
  kindOf: (signalType: string) => SignalKind;
}

export interface ProviderDefinition<K extends string = string, Block = unknown> {
  kind: K;
  /** Human name and the documentation the implementation follows (cited in docs and errors). */
  title: string;
  docsUrl: string;
  /** `http`: the endpoint, timeout, body cap, retries and rate limit apply; `local`: none of them do. */
  transport: 'http' | 'local';
  /** The public API; absent for an http provider means spec.endpoint is required (self-hosted). */
  defaultEndpoint?: string;
  /** Credentials the provider needs; each must come from credentialsSecretRef or credentialsFromEnv. */
  credentials: readonly CredentialKey[];
  /** Allowed spec.signalType values; absent: the field is refused for this provider. */
  signalTypes?: SignalTypes;
  /** Allowed spec.emissionFactorType values; absent: the field is refused (the values are direct emissions). */
  emissionFactorTypes?: readonly EmissionBasis[];
  /** The provider's published request limit, the client-side default when the spec sets no rateLimit. */
  rateLimit?: { requests: number; perSeconds: number; source: string };
  /** The provider's own spec block, under `spec.<key>`; `required`: the provider cannot run without it. */
  block?: { key: string; schema: ObjectField };
  /** One line for the docs table: region names, endpoints, peculiarities. */
  notes: string;
  create(ctx: ProviderContext<Block>): CarbonProvider;
}

/** Keeps the kind a literal type, so the registry's list gives the ProviderKind union. */
export function defineProvider<const K extends string, Block = undefined>(
  d: ProviderDefinition<K, Block>,
): ProviderDefinition<K, Block> {
  return d;
}
