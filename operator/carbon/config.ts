// The CarbonSource spec (carbonscale.dev/v1alpha1, cluster-scoped; see docs/adr/0400-carbon-source-config.md
// and docs/carbon.md): which provider, where, which Secret holds its key, how often to poll, how long a value stays
// usable, and what to fall back to. `validateCarbonSourceSpec` is pure: it fills defaults and returns every
// problem at once, each naming its field path, so the controller can put them in the status as they are.

export const PROVIDER_KINDS = [
  'electricityMaps',
  'wattTime',
  'ukCarbonIntensity',
  'carbonAwareSdk',
  'trace',
  'static',
] as const;
export type ProviderKind = (typeof PROVIDER_KINDS)[number];

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

export interface TraceSpec {
  /** CSV or JSON trace; relative paths resolve against the project root. */
  file: string;
  offsetSeconds?: number;
  /** Trace seconds per real second (60: one trace hour per real minute). Default 1. */
  speedup?: number;
  /** ISO time that maps to the trace start. Default: 1 January 00:00 UTC of the current year. */
  anchor?: string;
  forecast?: 'auto' | 'column' | 'oracle' | 'none';
}

export interface CarbonSourceSpec {
  provider: ProviderKind;
  /** Base URL; defaults to the provider's public API. Required for carbonAwareSdk (self-hosted). */
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
  /** Electricity Maps `emissionFactorType`; for carbonAwareSdk/static/trace the label of the basis. Default direct. */
  emissionFactorType?: 'direct' | 'lifecycle';
  /** wattTime: `co2_moer` (marginal, default) or `co2_aoer`; carbonAwareSdk/static: `average` (default) or `marginal`. */
  signalType?: 'co2_moer' | 'co2_aoer' | 'average' | 'marginal';
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

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** Accepts either the spec itself or a whole CarbonSource object (`{ spec: … }`). */
export function validateCarbonSourceSpec(obj: unknown): { spec?: CarbonSourceSpec; errors: string[] } {
  const errors: string[] = [];
  const raw = isObj(obj) && isObj(obj.spec) && obj.provider === undefined ? obj.spec : obj;
  if (!isObj(raw)) return { errors: ['spec: must be an object'] };
  const err = (path: string, msg: string) => errors.push(`spec.${path}: ${msg}`);

  const known = new Set([
    'provider',
    'endpoint',
    'credentialsSecretRef',
    'credentialsFromEnv',
    'pollIntervalSeconds',
    'timeoutSeconds',
    'staleAfterSeconds',
    'maxBodyBytes',
    'retries',
    'rateLimit',
    'forecastHorizonHours',
    'emissionFactorType',
    'signalType',
    'trace',
    'static',
    'fallback',
    'failSafe',
    'regionMap',
  ]);
  for (const k of Object.keys(raw)) if (!known.has(k)) err(k, 'unknown field');

  const provider = raw.provider;
  if (typeof provider !== 'string' || !(PROVIDER_KINDS as readonly string[]).includes(provider)) {
    err('provider', `must be one of ${PROVIDER_KINDS.join(', ')}`);
  }
  const p = provider as ProviderKind;

  const num = (key: string, def: number, min: number, max: number, integer = true): number => {
    const v = raw[key];
    if (v === undefined) return def;
    if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min || v > max) {
      err(key, `must be ${integer ? 'an integer' : 'a number'} between ${min} and ${max}`);
      return def;
    }
    return v;
  };
  const spec: CarbonSourceSpec = {
    provider: p,
    pollIntervalSeconds: num('pollIntervalSeconds', DEFAULTS.pollIntervalSeconds, 10, 86_400),
    timeoutSeconds: num('timeoutSeconds', DEFAULTS.timeoutSeconds, 0.05, 300, false),
    staleAfterSeconds: num('staleAfterSeconds', DEFAULTS.staleAfterSeconds, 60, 7 * 86_400),
    maxBodyBytes: num('maxBodyBytes', DEFAULTS.maxBodyBytes, 1024, 64 * 1024 * 1024),
    retries: num('retries', DEFAULTS.retries, 0, 10),
    forecastHorizonHours: num('forecastHorizonHours', DEFAULTS.forecastHorizonHours, 1, 72),
    failSafe: { action: 'full-variant' },
  };

  const network = p === 'electricityMaps' || p === 'wattTime' || p === 'ukCarbonIntensity' || p === 'carbonAwareSdk';
  if (raw.endpoint !== undefined) {
    let ok = false;
    if (typeof raw.endpoint === 'string') {
      try {
        const u = new URL(raw.endpoint);
        ok = (u.protocol === 'http:' || u.protocol === 'https:') && u.username === '' && u.password === '';
      } catch {
        ok = false;
      }
    }
    if (!ok) err('endpoint', 'must be an http(s) URL without credentials in it');
    else if (!network) err('endpoint', `not used by provider '${p}'`);
    else spec.endpoint = raw.endpoint as string;
  } else if (p === 'carbonAwareSdk') err('endpoint', 'required for carbonAwareSdk (the WebAPI is self-hosted)');

  if (raw.credentialsSecretRef !== undefined) {
    const r = raw.credentialsSecretRef;
    if (!isObj(r)) err('credentialsSecretRef', 'must be an object');
    else {
      if (typeof r.name !== 'string' || !NAME.test(r.name))
        err('credentialsSecretRef.name', 'must be a Kubernetes object name');
      const ref: SecretKeyRef = { name: String(r.name) };
      for (const k of ['namespace', 'apiKeyKey', 'usernameKey', 'passwordKey'] as const) {
        if (r[k] === undefined) continue;
        if (typeof r[k] !== 'string' || r[k] === '') err(`credentialsSecretRef.${k}`, 'must be a non-empty string');
        else ref[k] = r[k];
      }
      spec.credentialsSecretRef = ref;
    }
  }
  if (raw.credentialsFromEnv !== undefined) {
    const r = raw.credentialsFromEnv;
    if (!isObj(r)) err('credentialsFromEnv', 'must be an object');
    else {
      const ref: EnvCredentialRef = {};
      for (const k of ['apiKey', 'username', 'password'] as const) {
        if (r[k] === undefined) continue;
        if (typeof r[k] !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(r[k]))
          err(`credentialsFromEnv.${k}`, 'must be an environment variable name');
        else ref[k] = r[k];
      }
      spec.credentialsFromEnv = ref;
    }
  }
  if ((p === 'electricityMaps' || p === 'wattTime') && !spec.credentialsSecretRef && !spec.credentialsFromEnv)
    err('credentialsSecretRef', `required for ${p} (or credentialsFromEnv)`);

  if (raw.rateLimit !== undefined) {
    const r = raw.rateLimit;
    const ok =
      isObj(r) &&
      Number.isInteger(r.requests) &&
      (r.requests as number) >= 1 &&
      Number.isInteger(r.perSeconds) &&
      (r.perSeconds as number) >= 1;
    if (!ok) err('rateLimit', 'must be { requests: integer ≥ 1, perSeconds: integer ≥ 1 }');
    else spec.rateLimit = { requests: r.requests as number, perSeconds: r.perSeconds as number };
  }

  if (raw.emissionFactorType !== undefined) {
    if (raw.emissionFactorType !== 'direct' && raw.emissionFactorType !== 'lifecycle')
      err('emissionFactorType', "must be 'direct' or 'lifecycle'");
    else if (p === 'wattTime' || p === 'ukCarbonIntensity')
      err('emissionFactorType', `not supported by ${p} (its values are direct emissions)`);
    else spec.emissionFactorType = raw.emissionFactorType;
  }
  if (raw.signalType !== undefined) {
    const allowed =
      p === 'wattTime'
        ? ['co2_moer', 'co2_aoer']
        : p === 'carbonAwareSdk' || p === 'static'
          ? ['average', 'marginal']
          : [];
    if (allowed.length === 0) err('signalType', `not supported by ${p}`);
    else if (typeof raw.signalType !== 'string' || !allowed.includes(raw.signalType))
      err('signalType', `must be one of ${allowed.join(', ')} for ${p}`);
    else spec.signalType = raw.signalType as CarbonSourceSpec['signalType'];
  }

  if (raw.trace !== undefined || p === 'trace') {
    const t = raw.trace;
    if (p !== 'trace') err('trace', `only for provider 'trace'`);
    else if (!isObj(t))
      err('trace', 'required for provider trace: { file, offsetSeconds?, speedup?, anchor?, forecast? }');
    else {
      const ts: TraceSpec = { file: '' };
      if (typeof t.file !== 'string' || t.file.trim() === '') err('trace.file', 'must be a file path');
      else ts.file = t.file;
      if (t.offsetSeconds !== undefined) {
        if (typeof t.offsetSeconds !== 'number' || !Number.isFinite(t.offsetSeconds))
          err('trace.offsetSeconds', 'must be a number of seconds');
        else ts.offsetSeconds = t.offsetSeconds;
      }
      if (t.speedup !== undefined) {
        if (typeof t.speedup !== 'number' || !(t.speedup > 0) || t.speedup > 1_000_000)
          err('trace.speedup', 'must be a number > 0 (1 = real time, 60 = one trace hour per minute)');
        else ts.speedup = t.speedup;
      }
      if (t.anchor !== undefined) {
        if (typeof t.anchor !== 'string' || !Number.isFinite(Date.parse(t.anchor)))
          err('trace.anchor', 'must be an ISO 8601 time');
        else ts.anchor = t.anchor;
      }
      if (t.forecast !== undefined) {
        if (!['auto', 'column', 'oracle', 'none'].includes(t.forecast as string))
          err('trace.forecast', "must be 'auto', 'column', 'oracle' or 'none'");
        else ts.forecast = t.forecast as TraceSpec['forecast'];
      }
      for (const k of Object.keys(t))
        if (!['file', 'offsetSeconds', 'speedup', 'anchor', 'forecast'].includes(k)) err(`trace.${k}`, 'unknown field');
      spec.trace = ts;
    }
  }
  if (raw.static !== undefined || p === 'static') {
    const s = raw.static;
    if (p !== 'static') err('static', `only for provider 'static'`);
    else if (!isObj(s) || typeof s.valueGPerKWh !== 'number' || !Number.isFinite(s.valueGPerKWh))
      err('static.valueGPerKWh', 'required: a number of gCO2eq/kWh');
    else if (s.valueGPerKWh < 0 || s.valueGPerKWh > 2000)
      err('static.valueGPerKWh', 'must be between 0 and 2000 gCO2eq/kWh');
    else spec.static = { valueGPerKWh: s.valueGPerKWh };
  }

  if (raw.fallback !== undefined) {
    if (!Array.isArray(raw.fallback)) err('fallback', 'must be a list of CarbonSource names');
    else {
      const names: string[] = [];
      raw.fallback.forEach((n, i) => {
        if (typeof n !== 'string' || !NAME.test(n)) err(`fallback[${i}]`, 'must be a CarbonSource name');
        else if (names.includes(n)) err(`fallback[${i}]`, `'${n}' is listed twice`);
        else names.push(n);
      });
      spec.fallback = names;
    }
  }

  if (raw.regionMap !== undefined) {
    const m = raw.regionMap;
    if (!isObj(m)) err('regionMap', 'must be a map of region → provider region');
    else {
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(m)) {
        if (typeof v !== 'string' || v.trim() === '') err(`regionMap.${k}`, 'must be a non-empty string');
        else out[k] = v;
      }
      spec.regionMap = out;
    }
  }

  if (raw.failSafe !== undefined) {
    const f = raw.failSafe;
    if (!isObj(f) || (f.action !== 'full-variant' && f.action !== 'assume-intensity'))
      err('failSafe.action', "must be 'full-variant' or 'assume-intensity'");
    else if (f.action === 'assume-intensity') {
      const v = f.valueGPerKWh;
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 2000)
        err('failSafe.valueGPerKWh', 'required for assume-intensity: 0 to 2000 gCO2eq/kWh');
      else spec.failSafe = { action: 'assume-intensity', valueGPerKWh: v };
    }
  }

  if (spec.staleAfterSeconds < spec.pollIntervalSeconds)
    err(
      'staleAfterSeconds',
      'must be at least pollIntervalSeconds (or every value would be stale before the next poll)',
    );

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
