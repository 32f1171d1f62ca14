// charts/carbonscale/README.md (what `helm show readme` prints) holds the values table scripts/gen-values-docs.ts
// renders from values.yaml, and that table covers every value: a value added without a `# --` comment, or a
// README not regenerated, fails here.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { load } from 'js-yaml';
import { README_FILE, VALUES_FILE, renderReadme, valueDocs } from '../../../scripts/gen-values-docs.ts';

/** Dotted paths of the leaves of values.yaml (an empty map or a list is a leaf). */
function leaves(o: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(o).flatMap(([k, v]) =>
    v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0
      ? leaves(v as Record<string, unknown>, `${prefix}${k}.`)
      : [`${prefix}${k}`],
  );
}

describe('chart README: the values table is generated from values.yaml', () => {
  const yamlText = readFileSync(VALUES_FILE, 'utf8');

  it('README.md holds exactly the table values.yaml gives (run node scripts/gen-values-docs.ts)', () => {
    const readme = readFileSync(README_FILE, 'utf8');
    expect(renderReadme(readme, yamlText), `${README_FILE} is stale`).to.equal(readme);
  });

  it('every value has a row (itself or a parent with a description)', () => {
    const keys = valueDocs(yamlText).map((d) => d.key);
    const missing = leaves(load(yamlText) as Record<string, unknown>).filter(
      (l) => !keys.some((k) => l === k || l.startsWith(`${k}.`)),
    );
    expect(missing, 'values without a `# --` description').to.deep.equal([]);
  });

  it('a description runs to an empty `#` line or a commented-out key; the example after it stays out', () => {
    const docs = valueDocs(
      [
        'a:',
        '  # -- First line',
        '  # second line.',
        '  #',
        '  # Example: { x: 1 }',
        '  b: null',
        '  # -- Only this.',
        '  #   c: 2',
        '  # more example',
        '  d: [1]',
        'e: 3',
      ].join('\n'),
    );
    expect(docs).to.deep.equal([
      { key: 'a.b', description: 'First line second line.', default: null },
      { key: 'a.d', description: 'Only this.', default: [1] },
    ]);
  });
});
