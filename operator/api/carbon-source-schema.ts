// The cluster-scoped CarbonSource CRD: where a grid-intensity signal comes from (docs/carbon.md, ADRs 0400, 0403).
// Rendered from the same declarations the operator validates with (operator/carbon/config.ts COMMON_FIELDS and
// each registered provider's definition), so the provider enum, the provider blocks and the per-provider rules of
// the API server cannot drift from the operator's. The operator still validates every spec itself
// (validateCarbonSourceSpec), because some rules are beyond a schema (a URL without credentials, staleness ≥ poll).
import type { Field, Fields, ProviderRegistry } from '../carbon/index.ts';
import { describeField as describe, providerRegistry, specFields } from '../carbon/index.ts';
import { bool, conditionsSchema, crdDocument, int, num, obj, str, type Schema } from './schema-builders.ts';

/** One field declaration → its OpenAPI v3 schema. */
export function fieldSchema(f: Field): Schema {
  switch (f.type) {
    case 'string':
      return str(describe(f), {
        ...(f.enum ? { enum: [...f.enum] } : {}),
        ...(f.pattern ? { pattern: f.pattern.source } : {}),
        ...(f.minLength !== undefined ? { minLength: f.minLength } : {}),
        ...(f.maxLength !== undefined ? { maxLength: f.maxLength } : {}),
      });
    case 'number':
    case 'integer': {
      const bounds: Schema = {
        ...(f.minimum !== undefined ? { minimum: f.minimum } : {}),
        ...(f.exclusiveMinimum ? { exclusiveMinimum: true } : {}),
        ...(f.maximum !== undefined ? { maximum: f.maximum } : {}),
      };
      return f.type === 'integer' ? int(describe(f), bounds) : num(describe(f), bounds);
    }
    case 'object':
      return objectSchema(describe(f), f.fields);
    case 'map':
      return { type: 'object', description: describe(f), additionalProperties: { type: 'string' } };
    case 'list':
      return {
        type: 'array',
        description: describe(f),
        items: fieldSchema(f.item),
        ...(f.maxItems !== undefined ? { maxItems: f.maxItems } : {}),
        ...(f.unique ? { 'x-kubernetes-list-type': 'set' } : {}),
      };
  }
}

function objectSchema(description: string, fields: Fields, extra: Schema = {}): Schema {
  const props = Object.fromEntries(Object.entries(fields).map(([k, f]) => [k, fieldSchema(f)]));
  const required = Object.entries(fields)
    .filter(([, f]) => f.required)
    .map(([k]) => k);
  return obj(description, props, required, extra);
}

/** Admission rules per provider, from its definition: its required block and endpoint, and blocks of others. */
function providerRules(registry: ProviderRegistry): Schema[] {
  const rules: Schema[] = [];
  for (const d of registry.list()) {
    if (d.block)
      rules.push(
        {
          rule: `self.provider != '${d.kind}' || has(self.${d.block.key})`,
          message: `spec.${d.block.key} is required for provider ${d.kind}`,
        },
        {
          rule: `!has(self.${d.block.key}) || self.provider == '${d.kind}'`,
          message: `spec.${d.block.key} is only for provider ${d.kind}`,
        },
      );
    if (d.transport === 'http' && d.defaultEndpoint === undefined)
      rules.push({
        rule: `self.provider != '${d.kind}' || has(self.endpoint)`,
        message: `spec.endpoint is required for provider ${d.kind}`,
      });
  }
  return rules;
}

/** The spec schema for a registry (the built-in providers unless told otherwise). */
export function carbonSourceSpecSchemaFor(registry: ProviderRegistry): Schema {
  return objectSchema(
    'A grid carbon-intensity signal: the provider, how to reach it, how often to poll, and what to fall back to.',
    specFields(registry),
    { 'x-kubernetes-validations': providerRules(registry) },
  );
}

export const carbonSourceSpecSchema: Schema = carbonSourceSpecSchemaFor(providerRegistry);

export function carbonSourceCrd(): Schema {
  return crdDocument({
    kind: 'CarbonSource',
    plural: 'carbonsources',
    singular: 'carbonsource',
    shortNames: ['csrc'],
    scope: 'Cluster',
    description:
      'A cluster-wide carbon-intensity source that InferenceServices reference by name (spec.carbon.sourceRef).',
    // The current value and its age (status.readings: the first region; `kubectl describe` lists every region).
    printerColumns: [
      { name: 'Provider', type: 'string', jsonPath: '.spec.provider' },
      { name: 'Valid', type: 'string', jsonPath: ".status.conditions[?(@.type=='Valid')].status" },
      { name: 'Region', type: 'string', jsonPath: '.status.readings[0].region' },
      { name: 'gCO2/kWh', type: 'number', jsonPath: '.status.readings[0].valueGPerKWh' },
      { name: 'Updated', type: 'date', jsonPath: '.status.readings[0].updatedAt' },
      { name: 'Data Time', type: 'string', jsonPath: '.status.readings[0].dataTime', priority: 1 },
      { name: 'Fallback', type: 'string', jsonPath: '.status.readings[0].fallbackLevel', priority: 1 },
      { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    ],
    spec: carbonSourceSpecSchema,
    status: obj('Observed state, written by the operator.', {
      observedGeneration: { type: 'integer', format: 'int64', description: 'Generation last validated.' },
      conditions: conditionsSchema('Valid (the spec passed validation; the message lists every bad field)'),
      readings: {
        type: 'array',
        description:
          'What the source delivers now, one entry per region the operator polls it for; rewritten when a value changes.',
        items: obj('The current reading of one region.', {
          region: str('Grid region or zone.'),
          valueGPerKWh: num('Carbon intensity, gCO2eq/kWh (rounded to 0.1).'),
          unit: str('Always gCO2eq/kWh.'),
          dataTime: str('Start of the interval the value describes (trace time on a replay clock).', {
            format: 'date-time',
          }),
          fallbackLevel: str('primary, fallback:<source>, last-known (the provider did not answer).'),
          estimated: bool('The provider flags the value as estimated (not measured).'),
          updatedAt: str('When the operator first saw this value (wall clock, so kubectl shows its age).', {
            format: 'date-time',
          }),
        }),
      },
    }),
  });
}

/**
 * The chart's values schema with its CarbonSource provider enum set from the registry (the rest of the file is the
 * chart's). `node scripts/gen-crds.ts` writes it; test/unit/carbon/registry-drift.test.ts checks it.
 */
export function valuesSchemaWithProviders(valuesSchema: Record<string, unknown>, registry = providerRegistry) {
  const copy = structuredClone(valuesSchema) as Record<string, Record<string, unknown>>;
  const at = (o: unknown, ...path: string[]) =>
    path.reduce<unknown>((x, k) => (x as Record<string, unknown> | undefined)?.[k], o) as
      Record<string, unknown> | undefined;
  const provider = at(
    copy,
    'properties',
    'carbon',
    'properties',
    'sources',
    'items',
    'properties',
    'spec',
    'properties',
    'provider',
  );
  if (!provider) throw new Error('values.schema.json: carbon.sources[].spec.provider not found');
  provider.enum = registry.kinds();
  return copy;
}

export const VALUES_SCHEMA_FILE = 'charts/carbonscale/values.schema.json';
