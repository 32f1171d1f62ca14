// The CarbonSource spec (carbonscale.dev/v1alpha1, cluster-scoped; see docs/adr/0400-carbon-source-config.md,
// 0403-providers-register-themselves.md and docs/carbon.md): which provider, where, which Secret holds its key,
// how often to poll, how long a value stays usable, and what to fall back to. The fields common to every provider
// are declared here (COMMON_FIELDS); each provider declares its own block and which common settings apply to it
// (provider-definition.ts). `validateCarbonSourceSpec` is pure: it fills defaults and returns every problem at
// once, each naming its field path, so the controller can put them in the status as they are.
import type { Fields } from './config-fields.ts';
import { readFields } from './config-fields.ts';
import type { ProviderDefinition } from './provider-definition.ts';
import type { ProviderRegistry } from './registry.ts';
import { providerRegistry } from './registry.ts';
import type { TraceSpec } from './trace-definition.ts';
import type { EmissionBasis } from './types.ts';

export type { ProviderKind } from './registry.ts';
export type { TraceSpec } from './trace-definition.ts';

export interface SecretKeyRef {
  /** Secret name. */
  name: string;
  /** Defaults to the operator's namespace. */
  namespace?: string;
  /** Key holding the API key (Electricity Maps). Default `apiKey`. */
  apiKeyKey?: string;
  /** Keys holding the login (WattTime). Defaults `username`, `password`. */
  usernameKey?: string;
  passwordKey?: string;
}

export interface EnvCredentialRef {
  /** Names of environment variables of the operator process. */
  apiKey?: string;
  username?: string;
  password?: string;
}

export type FailSafe = { action: 'full-variant' } | { action: 'assume-intensity'; valueGPerKWh: number };

export interface CarbonSourceSpec {
  /** A registered provider kind (ProviderKind for the built-in ones). */
  provider: string;
  /** Base URL; defaults to the provider's public API. Required where the provider has none (self-hosted). */
  endpoint?: string;
  credentialsSecretRef?: SecretKeyRef;
  credentialsFromEnv?: EnvCredentialRef;
  /** How often each (source, region) is polled. Default 300. */
  pollIntervalSeconds: number;
  /** Deadline for one HTTP attempt, body included. Default 10. */
  timeoutSeconds: number;
  /** A value older than this (by its data timestamp) is not used. Default 7200. */
  staleAfterSeconds: number;
  /** Responses larger than this are cut off and rejected. Default 2 MiB. */
  maxBodyBytes: number;
  /** Retries after the first attempt, with exponential backoff and jitter. Default 2. */
  retries: number;
  /** Client-side request budget; defaults follow the provider's published limits (docs/carbon.md). */
  rateLimit?: { requests: number; perSeconds: number };
  /** How far ahead to ask for a forecast. Default 24. */
  forecastHorizonHours: number;
  /** Electricity Maps `emissionFactorType`; for providers relaying another source, the label of the basis. */
  emissionFactorType?: EmissionBasis;
  /** One of the provider's signal types (wattTime: `co2_moer`/`co2_aoer`; carbonAwareSdk/static: `average`/`marginal`). */
  signalType?: string;
  trace?: TraceSpec;
  static?: { valueGPerKWh: number };
  /**
   * The provider's name for a region, keyed by the region InferenceServices use (e.g. `{ DE: germanywestcentral }`
   * for a Carbon Aware SDK fallback of an Electricity Maps source). Unlisted regions are passed through.
   */
  regionMap?: Record<string, string>;
  /** Names of other CarbonSources tried in order when this one has no fresh value. */
  fallback?: string[];
  /** What eco services do when no source in the chain has a usable value. Default `full-variant`. */
  failSafe: FailSafe;
}

export const DEFAULTS = {
  pollIntervalSeconds: 300,
  timeoutSeconds: 10,
  staleAfterSeconds: 7200,
  maxBodyBytes: 2 * 1024 * 1024,
  retries: 2,
  forecastHorizonHours: 24,
} as const;

const NAME = { source: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$', says: 'a Kubernetes object name' };
const ENV = { source: '^[A-Za-z_][A-Za-z0-9_]*$', says: 'an environment variable name' };
const INTENSITY = { type: 'number', minimum: 0, maximum: 2000, unit: 'gCO2eq/kWh' } as const;

function isPlainHttpUrl(v: string): boolean {
  try {
    const u = new URL(v);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.username === '' && u.password === '';
  } catch {
    return false;
  }
}

/** The fields every CarbonSource has, whatever its provider (the `provider` enum is added from the registry). */
export const COMMON_FIELDS: Fields = {
  endpoint: {
    type: 'string',
    description:
      "Base URL; defaults to the provider's public API. Required for self-hosted providers (carbonAwareSdk).",
    pattern: { source: '^https?://', says: 'an http(s) URL without credentials in it' },
    check: { says: 'an http(s) URL without credentials in it', test: isPlainHttpUrl },
  },
  credentialsSecretRef: {
    type: 'object',
    description: 'The Secret holding the API key or login. Its values never appear in logs, Events, status or errors.',
    fields: {
      name: { type: 'string', description: 'Secret name.', required: true, pattern: NAME },
      namespace: {
        type: 'string',
        description: "Secret namespace (default: the operator's namespace; the operator may read Secrets only there).",
        minLength: 1,
      },
      apiKeyKey: {
        type: 'string',
        description: 'Key of the API key (Electricity Maps). Default apiKey.',
        minLength: 1,
      },
      usernameKey: { type: 'string', description: 'Key of the user name (WattTime). Default username.', minLength: 1 },
      passwordKey: { type: 'string', description: 'Key of the password (WattTime). Default password.', minLength: 1 },
    },
  },
  credentialsFromEnv: {
    type: 'object',
    description: 'Names of environment variables of the operator process holding the credentials.',
    fields: {
      apiKey: { type: 'string', description: 'Variable holding the API key.', pattern: ENV },
      username: { type: 'string', description: 'Variable holding the user name.', pattern: ENV },
      password: { type: 'string', description: 'Variable holding the password.', pattern: ENV },
    },
  },
  pollIntervalSeconds: {
    type: 'integer',
    description: 'How often each (source, region) pair is polled, in seconds.',
    minimum: 10,
    maximum: 86_400,
    default: DEFAULTS.pollIntervalSeconds,
  },
  timeoutSeconds: {
    type: 'number',
    description: 'Deadline for one HTTP attempt, body included, in seconds.',
    minimum: 0.05,
    maximum: 300,
    default: DEFAULTS.timeoutSeconds,
  },
  staleAfterSeconds: {
    type: 'integer',
    description:
      'A value older than this (by its data timestamp) is not used, in seconds; at least pollIntervalSeconds.',
    minimum: 60,
    maximum: 7 * 86_400,
    default: DEFAULTS.staleAfterSeconds,
  },
  maxBodyBytes: {
    type: 'integer',
    description: 'Responses larger than this are cut off and rejected, in bytes.',
    minimum: 1024,
    maximum: 64 * 1024 * 1024,
    default: DEFAULTS.maxBodyBytes,
  },
  retries: {
    type: 'integer',
    description: 'Retries after the first attempt (exponential backoff with jitter).',
    minimum: 0,
    maximum: 10,
    default: DEFAULTS.retries,
  },
  rateLimit: {
    type: 'object',
    description: "Client-side request budget; defaults follow the provider's published limits.",
    fields: {
      requests: { type: 'integer', description: 'Requests allowed per window.', minimum: 1, required: true },
      perSeconds: { type: 'integer', description: 'Window length in seconds.', minimum: 1, required: true },
    },
  },
  forecastHorizonHours: {
    type: 'integer',
    description: 'How far ahead to ask for a forecast, in hours.',
    minimum: 1,
    maximum: 72,
    default: DEFAULTS.forecastHorizonHours,
  },
  regionMap: {
    type: 'map',
    description: "Maps an InferenceService's region to the provider's region name (e.g. DE → germanywestcentral).",
    says: 'region → provider region',
  },
  fallback: {
    type: 'list',
    description: 'Names of other CarbonSources tried in order when this one has no fresh value.',
    item: { type: 'string', description: 'CarbonSource names.', pattern: { ...NAME, says: 'a CarbonSource name' } },
    maxItems: 8,
    unique: true,
  },
  failSafe: {
    type: 'object',
    description:
      'What eco services do when no source in the chain has a usable value. Premium is never degraded for lack of data.',
    fields: {
      action: {
        type: 'string',
        description: 'full-variant (default): run the full variant; assume-intensity: plan with valueGPerKWh.',
        enum: ['full-variant', 'assume-intensity'],
        required: true,
      },
      valueGPerKWh: { ...INTENSITY, description: 'assume-intensity: the intensity to plan with, gCO2eq/kWh.' },
    },
  },
};

/** Every field a spec may hold under this registry: provider, the common fields, the fields that depend on the
 * providers (signalType, emissionFactorType) and each provider's block. */
export function specFields(registry: ProviderRegistry): Fields {
  const defs = registry.list();
  const signalTypes = [...new Set(defs.flatMap((d) => d.signalTypes?.allowed ?? []))];
  const bases = [...new Set(defs.flatMap((d) => d.emissionFactorTypes ?? []))];
  const per = (pick: (d: ProviderDefinition) => readonly string[] | undefined) =>
    defs
      .filter((d) => pick(d))
      .map((d) => `${d.kind}: ${pick(d)!.join(', ')}`)
      .join('; ');
  const fields: Fields = {
    provider: {
      type: 'string',
      description: `The provider: ${defs.map((d) => d.kind).join(', ')}.`,
      enum: defs.map((d) => d.kind),
      required: true,
    },
    ...COMMON_FIELDS,
    emissionFactorType: {
      type: 'string',
      description: `Emission factor basis: direct (operational, the Scope 2 counterpart; default) or lifecycle (upstream included). Per provider: ${per((d) => d.emissionFactorTypes)}.`,
      enum: bases,
    },
    signalType: {
      type: 'string',
      description: `Which signal, per provider (first is the default): ${per((d) => d.signalTypes && [d.signalTypes.default, ...d.signalTypes.allowed.filter((s) => s !== d.signalTypes!.default)])}.`,
      enum: signalTypes,
    },
  };
  for (const d of defs) if (d.block) fields[d.block.key] = d.block.schema;
  return fields;
}

/** The rules that depend on the provider: which settings apply to it, which it needs, and its block. */
function providerRules(d: ProviderDefinition, raw: Record<string, unknown>, registry: ProviderRegistry): string[] {
  const errors: string[] = [];
  const err = (path: string, msg: string) => errors.push(`spec.${path}: ${msg}`);
  if (raw.endpoint !== undefined && d.transport === 'local') err('endpoint', `not used by provider '${d.kind}'`);
  if (raw.endpoint === undefined && d.transport === 'http' && d.defaultEndpoint === undefined)
    err('endpoint', `required for ${d.kind} (it has no public endpoint: point it at your deployment)`);
  const hasCreds = raw.credentialsSecretRef !== undefined || raw.credentialsFromEnv !== undefined;
  if (d.credentials.length > 0 && !hasCreds)
    err('credentialsSecretRef', `required for ${d.kind} (or credentialsFromEnv): it needs ${d.credentials.join(', ')}`);
  if (d.credentials.length === 0 && hasCreds)
    err(
      raw.credentialsSecretRef !== undefined ? 'credentialsSecretRef' : 'credentialsFromEnv',
      `not used by provider '${d.kind}' (it needs no credentials)`,
    );
  if (raw.emissionFactorType !== undefined && !d.emissionFactorTypes?.includes(raw.emissionFactorType as EmissionBasis))
    err(
      'emissionFactorType',
      d.emissionFactorTypes
        ? `must be one of ${d.emissionFactorTypes.join(', ')} for ${d.kind}`
        : `not supported by ${d.kind} (its values are direct emissions)`,
    );
  if (raw.signalType !== undefined && !d.signalTypes?.allowed.includes(raw.signalType as string))
    err(
      'signalType',
      d.signalTypes ? `must be one of ${d.signalTypes.allowed.join(', ')} for ${d.kind}` : `not supported by ${d.kind}`,
    );
  for (const other of registry.list())
    if (other.block && other.kind !== d.kind && raw[other.block.key] !== undefined)
      err(other.block.key, `only for provider '${other.kind}'`);
  if (d.block && raw[d.block.key] === undefined) {
    const keys = Object.entries(d.block.schema.fields).map(([k, f]) => (f.required ? k : `${k}?`));
    err(d.block.key, `required for provider ${d.kind}: { ${keys.join(', ')} }`);
  }
  return errors;
}

/** Rules across fields that no single declaration can say. */
function crossRules(spec: CarbonSourceSpec, raw: Record<string, unknown>): string[] {
  const errors: string[] = [];
  const f = raw.failSafe as Record<string, unknown> | undefined;
  if (f?.action === 'assume-intensity' && typeof f.valueGPerKWh !== 'number')
    errors.push('spec.failSafe.valueGPerKWh: required for assume-intensity: 0 to 2000 gCO2eq/kWh');
  if (f?.action === 'full-variant' && f.valueGPerKWh !== undefined)
    errors.push('spec.failSafe.valueGPerKWh: only for action assume-intensity');
  if (spec.staleAfterSeconds < spec.pollIntervalSeconds)
    errors.push(
      'spec.staleAfterSeconds: must be at least pollIntervalSeconds (or every value would be stale before the next poll)',
    );
  return errors;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Accepts either the spec itself or a whole CarbonSource object (`{ spec: … }`). */
export function validateCarbonSourceSpec(
  obj: unknown,
  registry: ProviderRegistry = providerRegistry,
): { spec?: CarbonSourceSpec; errors: string[] } {
  const raw = isObj(obj) && isObj(obj.spec) && obj.provider === undefined ? obj.spec : obj;
  if (!isObj(raw)) return { errors: ['spec: must be an object'] };
  const errors: string[] = [];
  const read = readFields(raw, specFields(registry), 'spec', errors);
  const def = typeof raw.provider === 'string' ? registry.get(raw.provider) : undefined;
  if (def) errors.push(...providerRules(def, raw, registry));
  const spec = { failSafe: { action: 'full-variant' }, ...read } as unknown as CarbonSourceSpec;
  errors.push(...crossRules(spec, raw));
  return errors.length > 0 ? { errors } : { spec, errors };
}

/** The embedded default: replay Electricity Maps DE-LU 2023 (real data, ODbL), fail-safe full variant. */
export function embeddedDefaultSpec(): CarbonSourceSpec {
  return {
    provider: 'trace',
    trace: { file: 'data/carbon/DE-LU_2023_hourly.csv' },
    pollIntervalSeconds: 60,
    timeoutSeconds: DEFAULTS.timeoutSeconds,
    staleAfterSeconds: DEFAULTS.staleAfterSeconds,
    maxBodyBytes: DEFAULTS.maxBodyBytes,
    retries: 0,
    forecastHorizonHours: DEFAULTS.forecastHorizonHours,
    failSafe: { action: 'full-variant' },
  };
}
