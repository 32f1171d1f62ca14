// `carbonscale audit report DIR --pricing PLAN [--statements-csv FILE]`: the tenant statements after the report
// (operator/audit/audit-cli.ts calls reportTenantStatements): a table on stdout, a CSV when --statements-csv names
// one, and a section in the HTML page when --html was given.
import { readFile, writeFile } from 'node:fs/promises';
import { readFlagFileAsync, writeFlagFileAsync } from '../cli-paths.ts';
import { parsePricingPlan } from './pricing-plan.ts';
import {
  buildTenantStatements,
  renderTenantStatementsHtml,
  statementsCsv,
  statementsTable,
  type StatementsOptions,
} from './statements-report.ts';

export const REPORT_PRICING_OPTIONS = {
  pricing: { type: 'string' },
  'statements-csv': { type: 'string' },
} as const;

/** Inserts an HTML section at the end of the page's <main> (else before </body>; appended when neither exists). */
export async function insertHtmlSection(file: string, section: string): Promise<void> {
  const page = await readFile(file, 'utf8');
  const main = page.lastIndexOf('</main>');
  const at = main >= 0 ? main : page.lastIndexOf('</body>');
  await writeFile(file, at < 0 ? page + section : page.slice(0, at) + section + page.slice(at));
}

export async function reportTenantStatements(
  dir: string,
  planFile: string,
  csvPath: string | undefined,
  htmlPath: string | undefined,
  opts: StatementsOptions,
): Promise<void> {
  const plan = parsePricingPlan(await readFlagFileAsync('--pricing', planFile), planFile);
  const st = await buildTenantStatements(dir, plan, opts);
  process.stdout.write(statementsTable(st));
  // No file unless asked for (as the report's --csv): the table is on stdout.
  if (csvPath !== undefined) {
    await writeFlagFileAsync('--statements-csv', csvPath, statementsCsv(st));
    console.log(`Tenant statements CSV written to ${csvPath}`);
  }
  if (htmlPath) {
    await insertHtmlSection(htmlPath, renderTenantStatementsHtml(st));
    console.log(`Tenant statements added to ${htmlPath}`);
  }
}
