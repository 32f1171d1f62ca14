// The example CarbonSources in examples/carbon-sources are what users copy: each must pass validation and
// build a provider, and together they cover every provider kind.
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadAllYaml } from '@kubernetes/client-node';
import { PROVIDER_KINDS, createProvider, validateCarbonSourceSpec } from '../../../operator/carbon/index.ts';

const DIR = fileURLToPath(new URL('../../../examples/carbon-sources/', import.meta.url));

describe('examples/carbon-sources', () => {
  const seen = new Set<string>();
  for (const file of readdirSync(DIR).filter((f) => f.endsWith('.yaml'))) {
    it(`${file} is a valid CarbonSource`, () => {
      const docs = loadAllYaml(readFileSync(DIR + file, 'utf8')) as { kind: string; spec: unknown }[];
      const sources = docs.filter((d) => d.kind === 'CarbonSource');
      expect(sources).to.have.length(1);
      const { spec, errors } = validateCarbonSourceSpec(sources[0]);
      expect(errors).to.deep.equal([]);
      seen.add(spec!.provider);
      const p = createProvider(spec!, { apiKey: 'k', username: 'u', password: 'p' }, { now: Date.now });
      expect(p.name).to.equal(spec!.provider);
    });
  }
  it('cover every provider kind', () => expect([...seen].sort()).to.deep.equal([...PROVIDER_KINDS].sort()));
});
