// Writes the CRDs from the schema source of truth into crds/ and the chart's crds/.
// `node scripts/gen-crds.ts --check` exits 1 if any file differs (the test suite checks the same).
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { CRD_DIRS, renderCrds } from '../operator/api/crds.ts';
import { VALUES_SCHEMA_FILE, valuesSchemaWithProviders } from '../operator/api/carbon-source-schema.ts';

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
// The chart's values schema lists the CarbonSource providers too: rendered from the same registry.
{
  const p = join(root, VALUES_SCHEMA_FILE);
  const current = readFileSync(p, 'utf8');
  const text = `${JSON.stringify(valuesSchemaWithProviders(JSON.parse(current) as Record<string, unknown>), null, 2)}\n`;
  if (current !== text) {
    if (check) {
      console.error(`${VALUES_SCHEMA_FILE} is out of date: run node scripts/gen-crds.ts`);
      stale++;
    } else {
      writeFileSync(p, text);
      console.log(`wrote ${VALUES_SCHEMA_FILE}`);
    }
  }
}
if (!check) {
  // deploy/install.yaml embeds the CRDs: re-render it so the plain manifests never go stale.
  const r = spawnSync('bash', [join(root, 'scripts', 'render-manifests.sh')], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) console.error('could not re-render deploy/install.yaml: run scripts/render-manifests.sh');
}
process.exitCode = stale ? 1 : 0;
