// Writes the CRDs from the schema source of truth into crds/ and the chart's crds/.
// `node scripts/gen-crds.ts --check` exits 1 if any file differs (the test suite checks the same).
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { CRD_DIRS, renderCrds } from '../operator/api/crds.ts';
import { VALUES_SCHEMA_FILE, valuesSchemaWithProviders } from '../operator/api/carbon-source-schema.ts';
import { withProviderTable } from '../operator/carbon/provider-docs.ts';
import { providerRegistry } from '../operator/carbon/registry.ts';

const root = join(import.meta.dirname, '..');
const check = process.argv.includes('--check');
let stale = 0;
for (const dir of CRD_DIRS) {
  mkdirSync(join(root, dir), { recursive: true });
  for (const [file, text] of Object.entries(renderCrds())) {
    const p = join(root, dir, file);
    const current = existsSync(p) ? readFileSync(p, 'utf8') : '';
    if (current === text) continue;
    if (check) {
      console.error(`${dir}/${file} is out of date: run node scripts/gen-crds.ts`);
      stale++;
    } else {
      writeFileSync(p, text);
      console.log(`wrote ${dir}/${file}`);
    }
  }
}
// The chart's values schema and docs/carbon.md list the CarbonSource providers too: rendered from the registry.
const derived: [string, (current: string) => string][] = [
  [
    VALUES_SCHEMA_FILE,
    (t) => `${JSON.stringify(valuesSchemaWithProviders(JSON.parse(t) as Record<string, unknown>), null, 2)}\n`,
  ],
  ['docs/carbon.md', (t) => withProviderTable(t, providerRegistry)],
];
for (const [file, render] of derived) {
  const p = join(root, file);
  const current = readFileSync(p, 'utf8');
  const text = render(current);
  if (current === text) continue;
  if (check) {
    console.error(`${file} is out of date: run node scripts/gen-crds.ts`);
    stale++;
  } else {
    writeFileSync(p, text);
    console.log(`wrote ${file}`);
  }
}
if (!check) {
  // deploy/install.yaml embeds the CRDs: re-render it so the plain manifests never go stale.
  const r = spawnSync('bash', [join(root, 'scripts', 'render-manifests.sh')], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) console.error('could not re-render deploy/install.yaml: run scripts/render-manifests.sh');
}
process.exitCode = stale ? 1 : 0;
