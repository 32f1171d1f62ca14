import { expect } from 'chai';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CRD_DIRS, renderCrds } from '../../../operator/api/crds.ts';

const root = join(import.meta.dirname, '..', '..', '..');

describe('CRDs: one source of truth', () => {
  for (const dir of CRD_DIRS) {
    it(`${dir}/ holds exactly what scripts/gen-crds.ts renders from the schema`, () => {
      const want = renderCrds();
      const have = readdirSync(join(root, dir)).filter((f) => f.endsWith('.yaml'));
      expect(have.sort()).to.deep.equal(Object.keys(want).sort());
      for (const [f, text] of Object.entries(want)) {
        expect(readFileSync(join(root, dir, f), 'utf8'), `${dir}/${f} is stale: run node scripts/gen-crds.ts`).to.equal(
          text,
        );
      }
    });
  }
});
