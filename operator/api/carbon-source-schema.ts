// The cluster-scoped CarbonSource CRD: where a grid-intensity signal comes from (docs/carbon.md, ADR 0400).
// The operator validates the spec again with validateCarbonSourceSpec (operator/carbon/config.ts), which fills
// defaults and names every bad field; this schema rejects malformed objects at the API server first.
import { conditionsSchema, crdDocument, int, num, obj, str, type Schema } from './schema-builders.ts';

export const carbonSourceSpecSchema: Schema = obj(
  'A grid carbon-intensity signal: the provider, how to reach it, how often to poll, and what to fall back to.',
  {
    provider: str('electricityMaps, wattTime, ukCarbonIntensity, carbonAwareSdk, trace (replay a file) or static.', {
      enum: ['electricityMaps', 'wattTime', 'ukCarbonIntensity', 'carbonAwareSdk', 'trace', 'static'],
    }),
    endpoint: str("Base URL; defaults to the provider's public API. Required for carbonAwareSdk (self-hosted).", {
      pattern: '^https?://',
    }),
    credentialsSecretRef: obj(
      'The Secret holding the API key or login. Its values never appear in logs, Events, status or errors.',
      {
        name: str('Secret name.', { minLength: 1 }),
        namespace: str(
          "Secret namespace (default: the operator's namespace; the operator may read Secrets only there).",
        ),
        apiKeyKey: str('Key of the API key (Electricity Maps). Default apiKey.'),
        usernameKey: str('Key of the user name (WattTime). Default username.'),
        passwordKey: str('Key of the password (WattTime). Default password.'),
      },
      ['name'],
    ),
    credentialsFromEnv: obj('Names of environment variables of the operator process holding the credentials.', {
      apiKey: str('Variable holding the API key.'),
      username: str('Variable holding the user name.'),
      password: str('Variable holding the password.'),
    }),
    pollIntervalSeconds: int('How often each (source, region) pair is polled, in seconds. Default 300.', {
      minimum: 10,
      maximum: 86400,
    }),
    timeoutSeconds: num('Deadline for one HTTP attempt, body included, in seconds. Default 10.', {
      exclusiveMinimum: true,
      minimum: 0,
      maximum: 300,
    }),
    staleAfterSeconds: int('A value older than this (by its data timestamp) is not used, in seconds. Default 7200.', {
      minimum: 60,
    }),
    maxBodyBytes: int('Responses larger than this are cut off and rejected, in bytes. Default 2 MiB.', {
      minimum: 1024,
    }),
    retries: int('Retries after the first attempt (exponential backoff with jitter). Default 2.', {
      minimum: 0,
      maximum: 10,
    }),
    rateLimit: obj(
      "Client-side request budget; defaults follow the provider's published limits.",
      {
        requests: int('Requests allowed per window.', { minimum: 1 }),
        perSeconds: int('Window length in seconds.', { minimum: 1 }),
      },
      ['requests', 'perSeconds'],
    ),
    forecastHorizonHours: int('How far ahead to ask for a forecast, in hours. Default 24.', {
      minimum: 1,
      maximum: 72,
    }),
    emissionFactorType: str('direct (Scope 2 counterpart, default) or lifecycle.', { enum: ['direct', 'lifecycle'] }),
    signalType: str('wattTime: co2_moer (marginal) or co2_aoer; carbonAwareSdk/static: average or marginal.', {
      enum: ['co2_moer', 'co2_aoer', 'average', 'marginal'],
    }),
    trace: obj(
      'trace: replay a real CSV/JSON intensity trace.',
      {
        file: str('Trace file; relative paths resolve against the operator image root (data/carbon/...).', {
          minLength: 1,
        }),
        offsetSeconds: num('Shift of trace time against real time, in seconds.'),
        speedup: num('Trace seconds per real second (60: one trace hour per real minute). Default 1.', {
          exclusiveMinimum: true,
          minimum: 0,
        }),
        anchor: str('ISO time that maps to the trace start. Default: 1 January 00:00 UTC of the current year.'),
        forecast: str("auto, column (the trace's forecast column), oracle (future actuals) or none.", {
          enum: ['auto', 'column', 'oracle', 'none'],
        }),
      },
      ['file'],
    ),
    static: obj(
      'static: a fixed intensity.',
      { valueGPerKWh: num('Intensity in gCO2eq/kWh.', { minimum: 0, maximum: 2000 }) },
      ['valueGPerKWh'],
    ),
    regionMap: {
      type: 'object',
      description: "Maps an InferenceService's region to the provider's region name (e.g. DE → germanywestcentral).",
      additionalProperties: { type: 'string' },
    },
    fallback: {
      type: 'array',
      description: 'Names of other CarbonSources tried in order when this one has no fresh value.',
      items: { type: 'string' },
      maxItems: 8,
    },
    failSafe: obj(
      'What eco services do when no source in the chain has a usable value. Premium is never degraded for lack of data.',
      {
        action: str('full-variant (default): run the full variant; assume-intensity: plan with valueGPerKWh.', {
          enum: ['full-variant', 'assume-intensity'],
        }),
        valueGPerKWh: num('assume-intensity: the intensity to plan with, gCO2eq/kWh.', { minimum: 0, maximum: 2000 }),
      },
      ['action'],
    ),
  },
  ['provider'],
  {
    'x-kubernetes-validations': [
      { rule: "self.provider != 'trace' || has(self.trace)", message: 'spec.trace is required for provider trace' },
      { rule: "self.provider != 'static' || has(self.static)", message: 'spec.static is required for provider static' },
      {
        rule: "self.provider != 'carbonAwareSdk' || has(self.endpoint)",
        message: 'spec.endpoint is required for provider carbonAwareSdk',
      },
    ],
  },
);

export function carbonSourceCrd(): Schema {
  return crdDocument({
    kind: 'CarbonSource',
    plural: 'carbonsources',
    singular: 'carbonsource',
    shortNames: ['csrc'],
    scope: 'Cluster',
    description:
      'A cluster-wide carbon-intensity source that InferenceServices reference by name (spec.carbon.sourceRef).',
    printerColumns: [
      { name: 'Provider', type: 'string', jsonPath: '.spec.provider' },
      { name: 'Valid', type: 'string', jsonPath: ".status.conditions[?(@.type=='Valid')].status" },
      { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    ],
    spec: carbonSourceSpecSchema,
    status: obj('Observed state, written by the operator.', {
      observedGeneration: { type: 'integer', format: 'int64', description: 'Generation last validated.' },
      conditions: conditionsSchema('Valid (the spec passed validation; the message lists every bad field)'),
    }),
  });
}
