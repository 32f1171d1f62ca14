// `carbonscale audit verify DIR [--json]` and
// `carbonscale audit report DIR [--from ISO] [--to ISO] [--namespace NS] [--csv FILE] [--html FILE] [--allow-unverified]`.
// Exit codes: 0 ok, 1 verification found problems (or the command failed), 2 bad usage (a bad flag, or a path that
// is not there: one line naming it). `report` runs the same verification first and refuses (exit 1) on a trail that
// does not verify, unless --allow-unverified, which reports anyway with a warning in every output (docs/audit.md,
// "Report"). The report's table goes to stdout; files are written only where a flag names them (--csv, --html).
import { parseArgs } from 'node:util';
import { isParseArgsError, usageErrorLine } from '../cli-errors.ts';
import { checkInputDir, checkInputFile, checkOutputFile, PathFlagError, writeFlagFileAsync } from '../cli-paths.ts';
import { recreatedLines } from './service-objects.ts';
import { renderReportHtml } from './report-html.ts';
import { ReportSeriesCollector } from './report-series.ts';
import { buildReport, reportCsv, reportTable, verificationNotes, verificationOf } from './report.ts';
import { verifyAuditDir, type VerifyResult } from './verify.ts';
import {
  ATTEST_USAGE,
  attestCommand,
  isAttestInputError,
  printAttestations,
  VERIFY_ATTESTATION_OPTIONS,
  verifyAttestationsPart,
} from '../attestation/attest-cli.ts';
import { REPORT_PRICING_OPTIONS, reportTenantStatements } from '../billing/statements-cli.ts';

const USAGE = `usage:
  carbonscale audit verify DIR [--json]
  carbonscale audit report DIR [--from 2026-01-01T00:00:00Z] [--to ...] [--namespace NS] [--csv FILE] [--html FILE]
                               [--allow-unverified]
${ATTEST_USAGE}`;

function parseTime(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) throw new UsageError(`${flag}: not a date/time: ${v}`);
  return ms;
}

class UsageError extends Error {}

export async function main(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  // --help anywhere (audit --help, audit verify --help): the usage on stdout.
  if (sub === '--help' || sub === '-h' || rest.includes('--help') || rest.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  try {
    if (sub === 'verify') return await verify(rest);
    if (sub === 'report') return await report(rest);
    if (sub === 'attest') return await attestCommand(rest);
    const why =
      sub === undefined
        ? 'a subcommand is needed'
        : sub.startsWith('-')
          ? `unknown flag ${sub}`
          : `unknown subcommand ${JSON.stringify(sub)}`;
    console.error(`carbonscale audit: ${why}\n\n${USAGE}`);
    return 2;
  } catch (err) {
    // A path that is not there: the one line, without the usage (the command line was well formed).
    if (err instanceof PathFlagError) {
      console.error(`carbonscale audit ${sub}: ${err.message}`);
      return 2;
    }
    if (err instanceof UsageError || isAttestInputError(err) || isParseArgsError(err)) {
      console.error(`${usageErrorLine(`audit ${sub}`, err)}\n\n${USAGE}`);
      return 2;
    }
    throw err;
  }
}

async function verify(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { json: { type: 'boolean' }, ...VERIFY_ATTESTATION_OPTIONS },
    allowPositionals: true,
  });
  const dir = positionals[0];
  if (!dir || positionals.length > 1) throw new UsageError('audit verify needs exactly one DIR');
  checkInputDir('DIR', dir);
  if (values.keyring !== undefined) checkInputPath('--keyring', values.keyring);
  const result = await verifyAuditDir(dir);
  const attested = values.attestations ? await verifyAttestationsPart(dir, values.keyring) : null;
  if (values.json) {
    console.log(JSON.stringify(attested ? { ...result, attestations: attested } : result, null, 1));
  } else {
    for (const p of result.problems)
      console.log(`${p.kind.toUpperCase()}\t${p.stream ?? '-'}\t${p.file ?? '-'}\t${p.message}`);
    for (const line of recreatedLines(result.recreated, VERIFY_OBJECTS)) console.log(`note: ${line}`);
    console.log(verifySummary(result));
  }
  if (attested && !values.json) printAttestations(attested);
  return result.ok && (attested?.ok ?? true) ? 0 : 1;
}

/** What verify does with a name's several objects, said after each of them. */
const VERIFY_OBJECTS = 'each object is checked for time continuity on its own';

/** --keyring: a file or a directory of keys. */
function checkInputPath(flag: string, path: string): void {
  try {
    checkInputFile(flag, path);
  } catch (e) {
    if (!(e instanceof PathFlagError && /a directory, not a file$/.test(e.message))) throw e;
    checkInputDir(flag, path);
  }
}

/** The last line of `audit verify`: the verdict, what was checked, and the rows still in the journal. */
export function verifySummary(r: VerifyResult): string {
  const pending = r.journalRows.usage + r.journalRows.decision;
  // A name deleted and created again is several objects, each checked on its own: counted as such, not as names.
  const services =
    r.services === r.serviceNames
      ? `${r.services} services`
      : `${r.services} service objects (${r.serviceNames} name${r.serviceNames === 1 ? '' : 's'}; ${r.recreated.length} recreated, noted above)`;
  return (
    `${r.ok ? 'OK' : 'FAILED'}: ${r.files} files, ${r.rows.usage} usage rows, ${r.rows.decision} decision rows, ` +
    `${services} checked for time continuity, ${pending} rows pending in journal/ ` +
    `(${r.journalRows.usage} usage, ${r.journalRows.decision} decision), ${r.problems.length} problems`
  );
}

/** Verifies before reporting: refuses a trail with problems (exit 1) unless allowed, then says so loudly. */
async function verifyForReport(dir: string, allowUnverified: boolean): Promise<VerifyResult | number> {
  const v = await verifyAuditDir(dir);
  if (!v.ok && !allowUnverified) {
    for (const p of v.problems.slice(0, 20))
      console.error(`${p.kind.toUpperCase()}\t${p.stream ?? '-'}\t${p.file ?? '-'}\t${p.message}`);
    if (v.problems.length > 20) console.error(`... and ${v.problems.length - 20} more (audit verify ${dir})`);
    console.error(
      `audit report: refusing to report on a trail that does not verify (${v.problems.length} problems). ` +
        'Fix or explain them, or pass --allow-unverified to report anyway with a warning.',
    );
    return 1;
  }
  return v;
}

/** The report's paths, checked before the trail is read: a typo costs nothing. */
function checkReportPaths(dir: string, v: { [k in 'csv' | 'html' | 'pricing' | 'statements-csv']?: string }): void {
  checkInputDir('DIR', dir);
  if (v.pricing !== undefined) checkInputFile('--pricing', v.pricing);
  for (const flag of ['csv', 'html', 'statements-csv'] as const) {
    const file = v[flag];
    if (file !== undefined) checkOutputFile(`--${flag}`, file);
  }
}

async function report(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      namespace: { type: 'string' },
      csv: { type: 'string' },
      html: { type: 'string' },
      ...REPORT_PRICING_OPTIONS,
      'allow-unverified': { type: 'boolean' },
    },
    allowPositionals: true,
  });
  const dir = positionals[0];
  if (!dir || positionals.length > 1) throw new UsageError('audit report needs exactly one DIR');
  const allow = values['allow-unverified'] === true;
  // Flag values are checked before the trail is read: a typo costs nothing.
  const opts: Parameters<typeof buildReport>[1] = {};
  const from = parseTime(values.from, '--from');
  const to = parseTime(values.to, '--to');
  checkReportPaths(dir, values);
  const verified = await verifyForReport(dir, allow);
  if (typeof verified === 'number') return verified;
  if (from !== undefined) opts.fromMs = from;
  if (to !== undefined) opts.toMs = to;
  if (values.namespace !== undefined) opts.namespace = values.namespace;
  // --html: the charts' series are gathered from the same rows in the same pass.
  const series = values.html ? new ReportSeriesCollector() : undefined;
  const r = await buildReport(dir, series ? { ...opts, onRow: series.add } : opts);
  r.verification = verificationOf(verified, allow && !verified.ok);
  for (const note of verificationNotes(r.verification)) if (note.startsWith('WARNING')) console.error(note);
  process.stdout.write(reportTable(r));
  // No file unless asked for: the table is on stdout, and a default file would land in whatever directory this runs.
  if (values.csv !== undefined) {
    await writeFlagFileAsync('--csv', values.csv, reportCsv(r));
    console.log(`CSV written to ${values.csv}`);
  }
  if (values.html) {
    const page = renderReportHtml({
      report: r,
      series: (series as ReportSeriesCollector).finish(),
      verify: verified,
      allowedUnverified: allow && !verified.ok,
      source: dir,
      selection: opts,
      generatedAtMs: Date.now(),
    });
    await writeFlagFileAsync('--html', values.html, page);
    console.log(`HTML written to ${values.html}`);
  }
  if (values.pricing) await reportTenantStatements(dir, values.pricing, values['statements-csv'], values.html, opts);
  return 0;
}
