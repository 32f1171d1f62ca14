// The user docs' links lead somewhere: every relative link of README.md, docs/concepts.md and docs/operations.md
// names a file that exists, and every #anchor a heading of that file (GitHub's slug: lower case, punctuation
// dropped, spaces to hyphens).
import { expect } from 'chai';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './readme-commands.ts';

const DOCS = ['README.md', 'docs/concepts.md', 'docs/operations.md'];

export function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchors(file: string): Set<string> {
  const text = readFileSync(file, 'utf8').replace(/^```[\s\S]*?^```/gm, '');
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1]!)));
}

describe('user docs: links and anchors resolve', () => {
  it('slugs as GitHub makes them', () => {
    expect(slug('Tamper evidence and `carbonscale audit verify DIR`')).to.equal(
      'tamper-evidence-and-carbonscale-audit-verify-dir',
    );
    expect(slug('Attestations: `carbonscale audit attest` and `audit verify --attestations`')).to.equal(
      'attestations-carbonscale-audit-attest-and-audit-verify---attestations',
    );
  });

  for (const doc of DOCS)
    it(`${doc}: every relative link and anchor exists`, () => {
      const text = readFileSync(path.join(ROOT, doc), 'utf8');
      const broken: string[] = [];
      const links = [...text.matchAll(/\]\(([^)\s]+)\)/g)];
      expect(links.length, 'links found').to.be.at.least(5);
      for (const [, target] of links) {
        if (/^[a-z]+:/.test(target!)) continue;
        const [file, anchor] = target!.split('#');
        const abs = file ? path.resolve(path.dirname(path.join(ROOT, doc)), file) : path.join(ROOT, doc);
        if (!existsSync(abs)) broken.push(`${target}: no such file`);
        else if (anchor && (statSync(abs).isDirectory() || !anchors(abs).has(anchor)))
          broken.push(`${target}: no heading #${anchor}`);
      }
      expect(broken).to.deep.equal([]);
    });
});
