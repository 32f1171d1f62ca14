// The providers table of docs/carbon.md, rendered from the registry: `node scripts/gen-crds.ts` writes it between
// the markers, and test/unit/carbon/registry-drift.test.ts fails when the page and the registry disagree.
import type { ProviderRegistry } from './registry.ts';

export const PROVIDER_TABLE_BEGIN =
  '<!-- providers table: generated from operator/carbon/registry.ts by scripts/gen-crds.ts -->';
export const PROVIDER_TABLE_END = '<!-- end of providers table -->';

export function providerTableMarkdown(registry: ProviderRegistry): string {
  const rows = registry.list().map((d) => {
    const endpoint =
      d.transport === 'local' ? '— (local)' : d.defaultEndpoint ? `\`${d.defaultEndpoint}\`` : 'required (self-hosted)';
    const creds = d.credentials.length ? d.credentials.map((c) => `\`${c}\``).join(', ') : 'none';
    const signals = d.signalTypes
      ? d.signalTypes.allowed.map((s) => (s === d.signalTypes!.default ? `**${s}**` : s)).join(', ')
      : '—';
    const bases = d.emissionFactorTypes ? d.emissionFactorTypes.join(', ') : 'direct only';
    const limit = d.rateLimit
      ? `${d.rateLimit.requests} / ${d.rateLimit.perSeconds} s (${d.rateLimit.source})`
      : 'none';
    const block = d.block ? `\`spec.${d.block.key}\`` : '—';
    const notes = d.notes.replace(/\|/g, '\\|'); // a pipe would end the table cell
    return `| \`${d.kind}\` | [${d.title}](${d.docsUrl}) | ${endpoint} | ${creds} | ${signals} | ${bases} | ${block} | ${limit} | ${notes} |`;
  });
  return [
    PROVIDER_TABLE_BEGIN,
    '| provider | implements | endpoint | credentials | `signalType` (**default**) | `emissionFactorType` | own block | default rate limit | notes |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows,
    PROVIDER_TABLE_END,
  ].join('\n');
}

/** `markdown` with its providers table replaced by the registry's (the markers must be there). */
export function withProviderTable(markdown: string, registry: ProviderRegistry): string {
  const a = markdown.indexOf(PROVIDER_TABLE_BEGIN);
  const b = markdown.indexOf(PROVIDER_TABLE_END);
  if (a < 0 || b < a) throw new Error('docs/carbon.md: the providers table markers are missing');
  return markdown.slice(0, a) + providerTableMarkdown(registry) + markdown.slice(b + PROVIDER_TABLE_END.length);
}
