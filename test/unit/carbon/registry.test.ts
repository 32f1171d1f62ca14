// Providers register themselves (issue 13 item 3): a throwaway provider, declared in one definition and added to a
// registry through the same API the built-in ones use, is validated (its block, its defaults, its credentials, its
// signal types), constructed, wrapped in the reading checks, and appears in the CRD schema and the chart's values
// enum rendered for that registry — with no other file touched.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  carbonSourceSpecSchemaFor,
  valuesSchemaWithProviders,
  VALUES_SCHEMA_FILE,
} from '../../../operator/api/carbon-source-schema.ts';
import type { CarbonReading } from '../../../operator/carbon/index.ts';
import {
  CarbonProviderError,
  PROVIDER_KINDS,
  createProvider,
  defineProvider,
  providerRegistry,
  validateCarbonSourceSpec,
} from '../../../operator/carbon/index.ts';
import { FakeClock } from './provider-cases.ts';

/** A grid that is as dirty as its `level` says: the whole provider, as a new provider file would hold it. */
const demoGrid = defineProvider<'demoGrid', { level: number; zone?: string }>({
  kind: 'demoGrid',
  title: 'Demo grid (test only)',
  docsUrl: 'https://example.org/demo-grid',
  transport: 'http',
  defaultEndpoint: 'https://demo.example.org',
  credentials: ['apiKey'],
  signalTypes: { allowed: ['mean', 'edge'], default: 'mean', kindOf: (t) => (t === 'edge' ? 'marginal' : 'average') },
  rateLimit: { requests: 5, perSeconds: 60, source: 'test' },
  block: {
    key: 'demoGrid',
    schema: {
      type: 'object',
      description: 'demoGrid: settings of the demo grid.',
      fields: {
        level: { type: 'number', description: 'How dirty, gCO2eq/kWh.', minimum: 0, maximum: 2000, required: true },
        zone: { type: 'string', description: 'Zone name.', minLength: 1 },
      },
    },
  },
  notes: 'test only',
  create: (c) => ({
    name: 'demoGrid',
    async current(region: string): Promise<CarbonReading> {
      // The constructor saw everything the registry promised: its block, its credential, its settings.
      if (!c.credentials.apiKey) throw new Error('no key');
      return {
        region,
        valueGPerKWh: c.block.level,
        timeMs: c.now() + (c.block.zone === 'ahead' ? 86_400_000 : 0),
        provider: 'demoGrid',
        signal: c.signal,
        basis: c.basis,
        estimated: true,
        forecast: false,
      };
    },
    async forecast() {
      return null;
    },
  }),
});

describe('provider registry: a new provider is one definition plus one registry line', () => {
  const registry = providerRegistry.with(demoGrid);
  const clock = new FakeClock();
  const spec = { provider: 'demoGrid', credentialsFromEnv: { apiKey: 'DEMO_KEY' }, demoGrid: { level: 420 } };

  it('the built-in registry does not know it; the extended one validates it, with defaults filled', () => {
    expect(validateCarbonSourceSpec(spec).errors.join('\n')).to.include(
      `spec.provider: must be one of ${PROVIDER_KINDS.join(', ')}`,
    );
    const v = validateCarbonSourceSpec(spec, registry);
    expect(v.errors).to.deep.equal([]);
    expect(v.spec).to.deep.include({ provider: 'demoGrid', pollIntervalSeconds: 300, retries: 2 });
  });

  it('its own rules come from its definition, each naming the field', () => {
    const bad = (o: Record<string, unknown>) => validateCarbonSourceSpec({ ...spec, ...o }, registry).errors;
    expect(bad({ demoGrid: { level: -1 } })).to.deep.equal([
      'spec.demoGrid.level: must be a number between 0 and 2000',
    ]);
    expect(bad({ demoGrid: { level: 1, colour: 'brown' } })).to.deep.equal(['spec.demoGrid.colour: unknown field']);
    expect(bad({ demoGrid: undefined })).to.deep.equal([
      'spec.demoGrid: required for provider demoGrid: { level, zone? }',
    ]);
    expect(bad({ signalType: 'average' })).to.deep.equal(['spec.signalType: must be one of mean, edge for demoGrid']);
    expect(bad({ credentialsFromEnv: undefined })).to.deep.equal([
      'spec.credentialsSecretRef: required for demoGrid (or credentialsFromEnv): it needs apiKey',
    ]);
    expect(bad({ emissionFactorType: 'lifecycle' })).to.deep.equal([
      'spec.emissionFactorType: not supported by demoGrid (its values are direct emissions)',
    ]);
    // Its block is not allowed on another provider, and a built-in block is not allowed on it.
    expect(
      validateCarbonSourceSpec({ provider: 'static', static: { valueGPerKWh: 1 }, demoGrid: { level: 1 } }, registry)
        .errors,
    ).to.deep.equal(["spec.demoGrid: only for provider 'demoGrid'"]);
  });

  it('createProvider builds it from the definition, checks its credentials, and wraps it in the reading checks', async () => {
    const v = validateCarbonSourceSpec({ ...spec, signalType: 'edge' }, registry);
    const p = createProvider(v.spec!, { apiKey: 'k-123456' }, { now: clock.now, registry });
    const r = await p.current('somewhere');
    expect(r).to.deep.include({ valueGPerKWh: 420, signal: 'marginal', basis: 'direct', timeMs: clock.t });
    expect(() => createProvider(v.spec!, {}, { now: clock.now, registry })).to.throw(
      CarbonProviderError,
      'demoGrid: credentials missing: apiKey',
    );
    // The shared reading rules hold for it without it doing anything: a reading dated tomorrow is refused.
    const ahead = validateCarbonSourceSpec({ ...spec, demoGrid: { level: 1, zone: 'ahead' } }, registry);
    const err = await createProvider(ahead.spec!, { apiKey: 'k-123456' }, { now: clock.now, registry })
      .current('x')
      .catch((e: unknown) => e);
    expect((err as CarbonProviderError).reason).to.equal('future-time');
  });

  it('the CRD schema rendered for the registry has its kind, its block and its admission rules', () => {
    const s = carbonSourceSpecSchemaFor(registry) as {
      properties: Record<string, { enum?: string[]; properties?: Record<string, unknown>; required?: string[] }>;
      'x-kubernetes-validations': { rule: string; message: string }[];
    };
    expect(s.properties.provider!.enum).to.deep.equal([...PROVIDER_KINDS, 'demoGrid']);
    expect(Object.keys(s.properties.demoGrid!.properties!)).to.deep.equal(['level', 'zone']);
    expect(s.properties.demoGrid!.required).to.deep.equal(['level']);
    expect(s.properties.signalType!.enum).to.include.members(['mean', 'edge']);
    expect(s['x-kubernetes-validations']).to.deep.include({
      rule: "self.provider != 'demoGrid' || has(self.demoGrid)",
      message: 'spec.demoGrid is required for provider demoGrid',
    });
  });

  it("the chart's values-schema enum rendered for the registry has it", () => {
    const file = fileURLToPath(new URL(`../../../${VALUES_SCHEMA_FILE}`, import.meta.url));
    const values = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    const out = JSON.stringify(valuesSchemaWithProviders(values, registry));
    expect(out).to.include(JSON.stringify([...PROVIDER_KINDS, 'demoGrid']));
  });

  it('a kind registered twice, a block key taken twice, or a badly named kind is refused at start', () => {
    expect(() => registry.with(demoGrid)).to.throw("provider kind 'demoGrid' is registered twice");
    expect(() => registry.with({ ...demoGrid, kind: 'otherGrid' })).to.throw(
      "provider 'otherGrid': spec block 'demoGrid' is already used by another provider",
    );
    expect(() => providerRegistry.with({ ...demoGrid, kind: 'Demo-Grid' })).to.throw('must be lowerCamelCase');
  });
});
