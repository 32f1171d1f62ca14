// The source of truth for the InferenceService API: the OpenAPI v3 schema (with defaults and CEL rules) and
// the CRD around it. `scripts/gen-crds.ts` writes crds/ and the chart's crds/ from here; tests fail on drift.
import { ENERGY_SOURCE_NAMES } from '../energy/registry.ts';
import { KIND, PLURAL } from './types.ts';
import { bool, conditionsSchema, crdDocument, int, num, obj, str, type Schema } from './schema-builders.ts';
import {
  isvcNameRules,
  latencySloRule,
  modelUriDescription,
  modelUriRule,
  NO_VARIANTS_OR,
} from './inference-service-rules.ts';

const variant = obj(
  'One model variant. Profiles should come from measurement (`carbonscale profile` prints this block).',
  {
    name: str('Variant name, unique within the service (a DNS label).', {
      pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
      maxLength: 63,
    }),
    model: obj(
      'Where the model lives.',
      {
        uri: str(modelUriDescription, { minLength: 1, maxLength: 2048 }),
        sha256: str('Optional sha256 hex digest of the model file, recorded in the audit trail.', {
          pattern: '^[a-f0-9]{64}$',
        }),
      },
      ['uri'],
    ),
    quality: num("Quality in [0,1] measured on the owner's evaluation set (e.g. accuracy).", {
      minimum: 0,
      maximum: 1,
    }),
    capacityRps: num('Requests per second one replica sustains at its measured p95 latency.', {
      exclusiveMinimum: true,
      minimum: 0,
    }),
    latencyP95Ms: num('Measured p95 latency of one request at low load, in milliseconds.', {
      exclusiveMinimum: true,
      minimum: 0,
    }),
    gpusPerReplica: int('GPUs each replica requests (count of gpuResource). 0 runs on CPU.', {
      minimum: 0,
      maximum: 64,
      default: 1,
    }),
    gpuResource: str('Extended resource to request: nvidia.com/gpu, or a MIG profile such as nvidia.com/mig-1g.10gb.', {
      default: 'nvidia.com/gpu',
      pattern: '^[a-z0-9.-]+/[a-zA-Z0-9._-]+$',
      maxLength: 253,
    }),
    powerBusyWatts: num('Average power of one replica at full load, in watts (W).', { minimum: 0, maximum: 100000 }),
    powerIdleWatts: num('Average power of one idle replica, in watts (W). Idle GPUs draw real power.', {
      minimum: 0,
      maximum: 100000,
    }),
  },
  ['name', 'model', 'quality', 'capacityRps', 'latencyP95Ms', 'powerBusyWatts', 'powerIdleWatts'],
  {
    'x-kubernetes-validations': [
      { rule: 'self.powerIdleWatts <= self.powerBusyWatts', message: 'powerIdleWatts must not exceed powerBusyWatts' },
    ],
  },
);

export const inferenceServiceSpecSchema: Schema = obj(
  'What to serve, within which SLOs, and how far it may follow the grid.',
  {
    tier: str(
      'premium: always the full variant; replicas follow demand only. eco: may use smaller variants and fewer replicas in the hours of its budget window where that saves the most carbon (the dirtiest ahead), within its floors and budget, for a discount.',
      { enum: ['premium', 'eco'] },
    ),
    variants: {
      type: 'array',
      description: 'Model variants, the full (highest quality) one first.',
      minItems: 1,
      maxItems: 16,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
      items: variant,
      'x-kubernetes-validations': [
        {
          rule: 'size(self) == 0 || self.all(v, v.quality <= self[0].quality)',
          message: 'the first variant must be the full one: no variant may have a higher quality than variants[0]',
        },
      ],
    },
    runtime: obj(
      'The serving runtime.',
      {
        type: str(
          'carbonscale: the project model server, which switches variant in place. custom: your own pod template (Triton, vLLM, TorchServe…), rolled on a variant change.',
          { enum: ['carbonscale', 'custom'], default: 'carbonscale' },
        ),
        image: str('Container image of the carbonscale model server (default: the operator’s configured image).', {
          maxLength: 512,
        }),
        args: {
          type: 'array',
          description: 'Extra arguments for the model server.',
          items: { type: 'string', description: 'One argument.' },
          maxItems: 64,
        },
        variantEnv: str(
          'custom runtime: env var that receives the active variant name; the model URI goes to <variantEnv>_URI.',
          { default: 'CARBONSCALE_VARIANT', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
        ),
        containerName: str('custom runtime: the serving container (default: the first container).'),
        podTemplate: {
          type: 'object',
          description: 'custom runtime: a PodTemplateSpec (metadata and spec) for the serving pods.',
          'x-kubernetes-preserve-unknown-fields': true,
        },
        resources: obj('CPU and memory requests and limits for the serving container.', {
          requests: {
            type: 'object',
            description: 'Resource requests, e.g. cpu: 500m.',
            additionalProperties: { type: 'string' },
          },
          limits: {
            type: 'object',
            description: 'Resource limits, e.g. memory: 2Gi.',
            additionalProperties: { type: 'string' },
          },
        }),
      },
      [],
      {
        default: { type: 'carbonscale' },
        'x-kubernetes-validations': [
          {
            rule: "self.type != 'custom' || has(self.podTemplate)",
            message: 'runtime.podTemplate is required when runtime.type is custom',
          },
          {
            rule: "self.type != 'carbonscale' || !has(self.podTemplate)",
            message: 'runtime.podTemplate is only for runtime.type custom',
          },
        ],
      },
    ),
    replicas: obj(
      'Replica bounds.',
      {
        min: int('Fewest replicas, also when demand is zero.', { minimum: 0, maximum: 1000, default: 1 }),
        max: int('Most replicas.', { minimum: 1, maximum: 1000 }),
      },
      ['max'],
      {
        'x-kubernetes-validations': [{ rule: 'self.min <= self.max', message: 'replicas.min must be <= replicas.max' }],
      },
    ),
    slo: obj(
      'Service level objectives the policy never trades away.',
      {
        latencyP95Ms: num('p95 latency ceiling in milliseconds.', { exclusiveMinimum: true, minimum: 0 }),
        qualityFloor: num('Lowest variant quality that may serve, in [0,1].', { minimum: 0, maximum: 1, default: 0 }),
        relaxedLatencyP95Ms: num('eco only: the p95 ceiling allowed in high-carbon periods, in milliseconds.', {
          exclusiveMinimum: true,
          minimum: 0,
        }),
        degradationBudget: obj(
          'eco only: the share of requests per window that may be served by a variant below the full one.',
          {
            fraction: num('Share in [0,1], e.g. 0.2 for 20% of requests.', { minimum: 0, maximum: 1 }),
            window: str('Budget window, in UTC.', { enum: ['day', 'week'], default: 'day' }),
          },
          ['fraction'],
        ),
      },
      ['latencyP95Ms'],
      {
        'x-kubernetes-validations': [
          {
            rule: '!has(self.relaxedLatencyP95Ms) || self.relaxedLatencyP95Ms >= self.latencyP95Ms',
            message: 'slo.relaxedLatencyP95Ms must be >= slo.latencyP95Ms',
          },
        ],
      },
    ),
    carbon: obj(
      'Where the replicas draw power, and how to account for it.',
      {
        region: str('Grid region (zone) as the carbon source names it, e.g. DE, GB, CAISO_NORTH.', {
          minLength: 1,
          maxLength: 128,
        }),
        sourceRef: str('Name of the cluster-scoped CarbonSource to read intensity from.', {
          minLength: 1,
          maxLength: 253,
          default: 'default',
        }),
        pue: num('Power usage effectiveness of the facility (>= 1). 1.0 accounts IT energy only.', {
          minimum: 1,
          maximum: 3,
          default: 1,
        }),
        embodiedGPerGpuHour: num('Embodied emissions per GPU-hour in gCO2e (the SCI M term). 0 leaves it out.', {
          minimum: 0,
          maximum: 100000,
          default: 0,
        }),
      },
      ['region'],
    ),
    demand: obj(
      'Where the request rate comes from.',
      {
        source: str(
          'static: a fixed rate; trace: replay an hourly series; prometheus: query a Prometheus server; scrape: read the model servers’ /metrics directly.',
          {
            enum: ['static', 'trace', 'prometheus', 'scrape'],
            default: 'scrape',
          },
        ),
        staticRps: num('static: requests per second.', { minimum: 0 }),
        trace: obj(
          'trace: a demand series file and the peak it is scaled to.',
          {
            file: str('Path of the demand series file inside the operator image (data/demand/...).', { minLength: 1 }),
            peakRps: num('Requests per second at the series peak.', { exclusiveMinimum: true, minimum: 0 }),
          },
          ['file', 'peakRps'],
        ),
        prometheusUrl: str('prometheus: base URL of the Prometheus server.', { pattern: '^https?://' }),
      },
      [],
      {
        default: { source: 'scrape' },
        'x-kubernetes-validations': [
          {
            rule: "self.source != 'static' || has(self.staticRps)",
            message: 'demand.staticRps is required for source static',
          },
          { rule: "self.source != 'trace' || has(self.trace)", message: 'demand.trace is required for source trace' },
          {
            rule: "self.source != 'prometheus' || has(self.prometheusUrl)",
            message: 'demand.prometheusUrl is required for source prometheus',
          },
        ],
      },
    ),
    energy: obj(
      "Where the replicas' energy comes from. Absent: the operator's --energy-source (default profile).",
      {
        source: str(
          "kepler: Kepler's pod counters; dcgm: NVIDIA dcgm-exporter's GPU energy counters; model-server: the carbonscale model server's NVML counter (all through Prometheus); profile: estimated from the variant power profile. A metered interval the meter does not cover is estimated and says why (docs/audit.md, \"Measured energy\").",
          { enum: [...ENERGY_SOURCE_NAMES] },
        ),
        prometheusUrl: str("Prometheus that scrapes the meter (default: the operator's --energy-prometheus-url).", {
          pattern: '^https?://',
          maxLength: 2048,
        }),
      },
      ['source'],
    ),
    policy: obj(
      'How the operator acts.',
      {
        mode: str(
          'active: apply decisions. observe: compute and report them (status, Events, audit) without touching the workload.',
          {
            enum: ['active', 'observe'],
            default: 'active',
          },
        ),
        paused: bool('Hold the current variant and replicas; decisions are still reported.', { default: false }),
        hysteresis: num(
          'Relative margin a change must win by before it is made (0.1 = 10%), against flapping on noise.',
          {
            minimum: 0,
            maximum: 1,
            default: 0.1,
          },
        ),
        minDwellSeconds: int('Minimum time between two variant changes, in seconds.', {
          minimum: 0,
          maximum: 86400,
          default: 900,
        }),
        intervalSeconds: int('How often the decision is re-evaluated, in seconds (aligned to the carbon signal).', {
          minimum: 10,
          maximum: 86400,
          default: 300,
        }),
        switchCostJoules: num('Energy one variant swap costs per replica (model load, rolling restart), in joules.', {
          minimum: 0,
          default: 0,
        }),
        fallbackVariant: str('eco: the variant to run without a carbon signal (default: the full variant).'),
      },
      [],
      { default: {} },
    ),
  },
  ['tier', 'variants', 'replicas', 'slo', 'carbon'],
  {
    'x-kubernetes-validations': [
      {
        rule: "self.tier != 'premium' || !has(self.slo.degradationBudget)",
        message: 'premium services may not set slo.degradationBudget: premium always gets the full variant',
      },
      {
        rule: "self.tier != 'premium' || !has(self.slo.relaxedLatencyP95Ms)",
        message: 'premium services may not set slo.relaxedLatencyP95Ms',
      },
      {
        rule: `${NO_VARIANTS_OR}!has(self.slo.qualityFloor) || self.slo.qualityFloor <= self.variants[0].quality`,
        message: 'slo.qualityFloor must be <= the full variant’s quality (variants[0].quality)',
      },
      {
        rule: '!has(self.policy) || !has(self.policy.fallbackVariant) || self.variants.exists(v, v.name == self.policy.fallbackVariant)',
        message: 'policy.fallbackVariant must name one of spec.variants',
      },
      latencySloRule,
      modelUriRule,
    ],
  },
);

export const inferenceServiceStatusSchema: Schema = obj('Observed state, written by the operator.', {
  observedGeneration: { type: 'integer', format: 'int64', description: 'The spec generation last acted on.' },
  activeVariant: str('Variant the ready replicas serve.'),
  desiredReplicas: int('Replicas the last decision asked for.'),
  readyReplicas: int('Replicas ready now.'),
  carbon: obj('The carbon intensity the last decision used.', {
    valueGPerKWh: num('Intensity value.'),
    unit: str('Always gCO2eq/kWh.'),
    region: str('Grid region.'),
    provider: str('Provider that produced the value.'),
    signal: str('average or marginal, direct or lifecycle.'),
    dataTime: str(
      'Start of the interval the value describes (on a replay clock: trace time); refreshed when the value changes.',
      { format: 'date-time' },
    ),
    fallbackLevel: str('primary, fallback:<source>, last-known, fail-safe or none.'),
  }),
  demand: obj('The demand the last decision used.', {
    requestsPerSecond: num('Mean requests per second over the last decision interval (measured or replayed).'),
    source: str('Demand source.'),
    sampledAt: str('End of the interval the rate was measured over; refreshed when the rate changes.', {
      format: 'date-time',
    }),
  }),
  lastDecision: obj('The last decision and why.', {
    time: str('When it was made.', { format: 'date-time' }),
    variant: str('Variant decided.'),
    replicas: int('Replicas decided.'),
    reason: str('The reason in plain words.'),
    applied: bool('False in observe mode, when paused, or while the change is rolling out.'),
  }),
  emissions: obj('Estimated operational + embodied emissions.', {
    rateGPerHour: num('Expected emissions rate of the standing plan, gCO2e per hour (absent without a carbon signal).'),
    todayG: num('Running total for the current UTC day, gCO2e.'),
    day: str('The UTC day of todayG (YYYY-MM-DD).'),
    until: str('End of the last accounting interval counted in todayG.', { format: 'date-time' }),
    estimated: bool('True: from the power profile × time, not measured power.'),
  }),
  budget: obj('eco degradation budget.', {
    windowStart: str('Start of the current budget window (UTC).', { format: 'date-time' }),
    usedFraction: num(
      'Degraded requests so far as a share of the window’s allowance (the one "budget used": the reason text and the audit column show the same number).',
    ),
  }),
  clock: obj(
    'Present when the operator runs on an accelerated replay clock: all times in this status are trace times.',
    {
      mode: str('replay: a trace replayed faster than real time.', { enum: ['replay'] }),
      speedup: num('Clock seconds per wall-clock second.'),
    },
  ),
  conditions: conditionsSchema('Ready, Stalled, CarbonSignalAvailable, SLOAtRisk, BudgetExhausted, Degraded'),
});

export function inferenceServiceCrd(): Schema {
  const crd = crdDocument({
    kind: KIND,
    plural: PLURAL,
    singular: 'inferenceservice',
    shortNames: ['cisvc'],
    scope: 'Namespaced',
    description: 'A model served on GPUs whose variant and replicas follow the grid’s carbon intensity within SLOs.',
    printerColumns: [
      { name: 'Tier', type: 'string', jsonPath: '.spec.tier' },
      { name: 'Variant', type: 'string', jsonPath: '.status.activeVariant' },
      { name: 'Ready', type: 'integer', jsonPath: '.status.readyReplicas' },
      { name: 'Desired', type: 'integer', jsonPath: '.status.desiredReplicas' },
      { name: 'gCO2/kWh', type: 'number', jsonPath: '.status.carbon.valueGPerKWh' },
      { name: 'Data Time', type: 'string', jsonPath: '.status.carbon.dataTime' },
      { name: 'Mode', type: 'string', jsonPath: '.spec.policy.mode' },
      // -o wide: what the decision spends and emits, and why.
      {
        name: 'Demand',
        type: 'number',
        jsonPath: '.status.demand.requestsPerSecond',
        priority: 1,
        description: 'Requests per second',
      },
      {
        name: 'Budget Used',
        type: 'number',
        jsonPath: '.status.budget.usedFraction',
        priority: 1,
        description: 'Share of the eco degradation budget used in its window (0..1)',
      },
      {
        name: 'gCO2e/h',
        type: 'number',
        jsonPath: '.status.emissions.rateGPerHour',
        priority: 1,
        description: 'Expected emissions rate of the standing plan (estimated)',
      },
      { name: 'Reason', type: 'string', jsonPath: '.status.lastDecision.reason', priority: 1 },
      { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    ],
    spec: inferenceServiceSpecSchema,
    status: inferenceServiceStatusSchema,
  });
  // Rules on metadata.name live on the root schema: the only level where CEL may read it.
  const versions = (crd.spec as { versions: Array<{ schema: { openAPIV3Schema: Schema } }> }).versions;
  for (const v of versions) v.schema.openAPIV3Schema['x-kubernetes-validations'] = isvcNameRules;
  return crd;
}
