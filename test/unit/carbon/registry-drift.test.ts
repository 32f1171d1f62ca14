/* eslint-disable @typescript-eslint/no-explicit-any */
// Everything derived from the provider registry stays in step with it (as test/unit/api/schema-drift.test.ts does
// for the InferenceService): the CarbonSource TypeScript type and its CRD schema describe the same fields; the CRD
// files, the chart's values schema and docs/carbon.md list exactly the registered providers; a complete spec passes
// the validator. `complete` is typed with every optional field made required, so a field added to the type fails
// compilation here until the example has it, and the test then fails until the declarations have it too.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { load } from 'js-yaml';
import {
  carbonSourceSpecSchema,
  valuesSchemaWithProviders,
  VALUES_SCHEMA_FILE,
} from '../../../operator/api/carbon-source-schema.ts';
import type { CarbonSourceSpec } from '../../../operator/carbon/index.ts';
import { PROVIDER_KINDS, providerRegistry, validateCarbonSourceSpec } from '../../../operator/carbon/index.ts';
import { PROVIDER_TABLE_BEGIN, PROVIDER_TABLE_END, withProviderTable } from '../../../operator/carbon/provider-docs.ts';

const root = (p: string) => fileURLToPath(new URL(`../../../${p}`, import.meta.url));

type DeepRequired<T> =
  T extends Array<infer U>
    ? Array<DeepRequired<U>>
    : T extends Record<string, string>
      ? T
      : T extends object
        ? { [K in keyof T]-?: DeepRequired<T[K]> }
        : T;

const complete: DeepRequired<Omit<CarbonSourceSpec, 'failSafe'>> & {
  failSafe: { action: 'assume-intensity'; valueGPerKWh: number };
} = {
  provider: 'trace',
  endpoint: 'https://x.org',
  credentialsSecretRef: { name: 's', namespace: 'n', apiKeyKey: 'k', usernameKey: 'u', passwordKey: 'p' },
  credentialsFromEnv: { apiKey: 'A', username: 'U', password: 'P' },
  pollIntervalSeconds: 60,
  timeoutSeconds: 1,
  staleAfterSeconds: 600,
  maxBodyBytes: 4096,
  retries: 1,
  rateLimit: { requests: 1, perSeconds: 1 },
  forecastHorizonHours: 1,
  emissionFactorType: 'direct',
  signalType: 'average',
  trace: {
    file: 'f.csv',
    offsetSeconds: 0,
    speedup: 1,
    anchor: '2023-01-01T00:00:00Z',
    forecast: 'auto',
    gapFill: 'hold',
    maxGapHours: 6,
    duplicates: 'reject',
    zone: 'GB',
  },
  static: { valueGPerKWh: 1 },
  regionMap: { DE: 'de' },
  fallback: ['other'],
  failSafe: { action: 'assume-intensity', valueGPerKWh: 1 },
};

function schemaPaths(s: Record<string, any>, prefix = ''): string[] {
  if (s.type === 'array') return schemaPaths(s.items, `${prefix}[]`);
  if (s.type === 'object' && s.properties)
    return Object.entries(s.properties).flatMap(([k, sub]) => schemaPaths(sub as any, prefix ? `${prefix}.${k}` : k));
  return [prefix];
}

function valuePaths(v: unknown, prefix = ''): string[] {
  if (Array.isArray(v)) return valuePaths(v[0], `${prefix}[]`);
  if (v && typeof v === 'object' && prefix !== 'regionMap')
    return Object.entries(v).flatMap(([k, sub]) => valuePaths(sub, prefix ? `${prefix}.${k}` : k));
  return [prefix];
}

describe('CarbonSource: registry, type, schema, chart and docs do not drift', () => {
  it('the TypeScript spec type and the CRD schema have the same field paths', () => {
    expect(valuePaths(complete).sort()).to.deep.equal(schemaPaths(carbonSourceSpecSchema).sort());
  });

  it("a spec using every field passes the validator (its declarations are the schema's)", () => {
    // One provider at a time may use its block: check each block on its own provider.
    const { trace, static: stat, endpoint, credentialsSecretRef, credentialsFromEnv, signalType, ...common } = complete;
    void [stat, endpoint, credentialsSecretRef, credentialsFromEnv, signalType];
    expect(validateCarbonSourceSpec({ ...common, trace }).errors).to.deep.equal([]);
    expect(
      validateCarbonSourceSpec({ ...common, provider: 'static', static: complete.static, signalType: 'marginal' })
        .errors,
    ).to.deep.equal([]);
    expect(
      validateCarbonSourceSpec({
        ...common,
        provider: 'wattTime',
        endpoint,
        credentialsSecretRef,
        signalType: 'co2_aoer',
        emissionFactorType: undefined,
      }).errors,
    ).to.deep.equal([]);
  });

  it('every schema field has a description', () => {
    const missing: string[] = [];
    const walk = (s: Record<string, any>, p: string) => {
      if (!s.description) missing.push(p);
      if (s.items) walk(s.items, `${p}[]`);
      for (const [k, sub] of Object.entries(s.properties ?? {})) walk(sub as any, `${p}.${k}`);
    };
    walk(carbonSourceSpecSchema, 'spec');
    expect(missing).to.deep.equal([]);
  });

  for (const dir of ['crds', 'charts/carbonscale/crds'])
    it(`${dir}/carbonsources…yaml lists exactly the registered providers and their blocks`, () => {
      const crd = load(readFileSync(root(`${dir}/carbonsources.carbonscale.dev.yaml`), 'utf8')) as any;
      const spec = crd.spec.versions[0].schema.openAPIV3Schema.properties.spec;
      expect(spec.properties.provider.enum).to.deep.equal([...PROVIDER_KINDS]);
      for (const d of providerRegistry.list()) if (d.block) expect(spec.properties).to.have.property(d.block.key);
    });

  it(`${VALUES_SCHEMA_FILE}: its provider enum is the registry's (run node scripts/gen-crds.ts if not)`, () => {
    const text = readFileSync(root(VALUES_SCHEMA_FILE), 'utf8');
    const values = JSON.parse(text) as Record<string, unknown>;
    expect(text).to.equal(`${JSON.stringify(valuesSchemaWithProviders(values), null, 2)}\n`);
    const enumOf = (values as any).properties.carbon.properties.sources.items.properties.spec.properties.provider.enum;
    expect(enumOf).to.deep.equal([...PROVIDER_KINDS]);
  });

  it("docs/carbon.md: its providers table is the registry's, a row per provider (run node scripts/gen-crds.ts if not)", () => {
    const md = readFileSync(root('docs/carbon.md'), 'utf8');
    expect(md).to.equal(withProviderTable(md, providerRegistry));
    const table = md.slice(md.indexOf(PROVIDER_TABLE_BEGIN), md.indexOf(PROVIDER_TABLE_END));
    const rows = [...table.matchAll(/^\| `([a-zA-Z]+)` \| [^|]+ \|/gm)].map((m) => m[1]);
    expect(rows).to.deep.equal([...PROVIDER_KINDS]);
  });
});
