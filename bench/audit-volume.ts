// Volume bench for the audit trail: simulates `--services` InferenceServices accounted every `--interval-s`
// for `--days` days (default: 100 services, 60 s, 365 days = 52,560,000 usage rows) through the real
// ParquetAuditSink (journal fsync per interval, hourly rotation on the simulated clock, manifests, hash chain).
// Prints rows/s, Parquet bytes per row against the same rows as JSON lines, and RSS over time (peak must stay
// flat: nothing is buffered beyond one rotation). Run by hand:
//   node bench/audit-volume.ts [--services 100] [--days 365] [--interval-s 60] [--dir DIR] [--keep] [--reopen]
// --reopen then opens the directory again in a fresh process, as a restart does (recovery: journal replay, the
// newest files' record ids for dedup), and prints that process's peak RSS and the time the open took. --crash
// ends without closing the sink, as a kill -9 does, so the journal still holds the rows not rotated yet (--reopen
// implies it); `--open-only DIR` is that second process alone, to compare builds on copies of one directory.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import winston from 'winston';
import { streamDirName } from '../operator/audit/layout.ts';
import { ParquetAuditSink } from '../operator/audit/parquet-sink.ts';
import { computeUsageRecord } from '../operator/audit/usage.ts';
import { usageInput, YEAR_START_MS } from '../test/fixtures/audit/usage-fixtures.ts';

const { values } = parseArgs({
  options: {
    services: { type: 'string', default: '100' },
    days: { type: 'string', default: '365' },
    'interval-s': { type: 'string', default: '60' },
    dir: { type: 'string' },
    keep: { type: 'boolean', default: false },
    reopen: { type: 'boolean', default: false },
    crash: { type: 'boolean', default: false },
    'open-only': { type: 'string' },
  },
});

if (values['open-only'] !== undefined) {
  // The child of --reopen: open, report, close.
  const rss0 = process.memoryUsage.rss();
  const t = performance.now();
  // Retention off: the fixture's rows are from 2023 and this process runs on the wall clock, so its close would
  // otherwise delete them as past retention (leaving an anchor) and nothing would be left to check.
  const s = await ParquetAuditSink.open(values['open-only'], {
    tickMs: 0,
    retentionDays: Number.POSITIVE_INFINITY,
    logger: winston.createLogger({ silent: true }),
  });
  const ms = performance.now() - t;
  const hwm = Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) * 1024;
  await s.close();
  console.log(JSON.stringify({ ms, rssAtStartMiB: rss0 / 1048576, peakRssMiB: hwm / 1048576 }));
  process.exit(0);
}
const services = Number(values.services);
const days = Number(values.days);
const intervalMs = Number(values['interval-s']) * 1000;
const intervals = Math.round((days * 86_400_000) / intervalMs);
const dir = values.dir ?? (await mkdtemp(path.join(os.tmpdir(), 'audit-volume-')));

async function parquetBytes(d: string): Promise<{ bytes: number; files: number }> {
  let bytes = 0;
  let files = 0;
  const base = path.join(d, streamDirName('usage'));
  for (const day of await readdir(base)) {
    for (const f of await readdir(path.join(base, day))) {
      if (!f.endsWith('.parquet')) continue;
      bytes += (await stat(path.join(base, day, f))).size;
      files++;
    }
  }
  return { bytes, files };
}

const mib = (b: number): string => (b / 1024 / 1024).toFixed(1);
let now = YEAR_START_MS;
const sink = await ParquetAuditSink.open(dir, {
  now: () => now,
  tickMs: 0,
  logger: winston.createLogger({ silent: true }),
});
console.log(
  `audit-volume: ${services} services × ${intervals} intervals of ${intervalMs / 1000} s = ${services * intervals} rows into ${dir}`,
);
const t0 = performance.now();
let rows = 0;
let jsonBytes = 0;
let peakRss = 0;
const rssSamples: string[] = [];
const reportEvery = Math.max(1, Math.floor(intervals / 10));
for (let i = 0; i < intervals; i++) {
  const recs = [];
  for (let s = 0; s < services; s++) recs.push(computeUsageRecord(usageInput(s, i, intervalMs)));
  now = recs[0]!.interval_end + 1000;
  await Promise.all(recs.map((r) => sink.writeUsage(r)));
  for (const r of recs) {
    rows++;
    // The same row as one JSON line: the record's columns plus the three chain columns the sink adds.
    jsonBytes +=
      JSON.stringify(r).length -
      1 +
      `,"stream_seq":${rows},"prev_hash":"${'0'.repeat(64)}","row_hash":"${'0'.repeat(64)}"}\n`.length;
  }
  const rss = process.memoryUsage.rss();
  if (rss > peakRss) peakRss = rss;
  if ((i + 1) % reportEvery === 0) {
    const s = (performance.now() - t0) / 1000;
    rssSamples.push(`${Math.round(((i + 1) / intervals) * 100)}%:${mib(rss)}`);
    const heap = process.memoryUsage().heapUsed;
    console.log(
      `  ${rows} rows, ${s.toFixed(0)} s, ${(rows / s).toFixed(0)} rows/s, rss ${mib(rss)} MiB, heap used ${mib(heap)} MiB`,
    );
  }
}
// With --reopen the sink is not closed, as after a kill -9: the journal keeps the rows not rotated yet.
if (!values.reopen && !values.crash) await sink.close();
const seconds = (performance.now() - t0) / 1000;
const { bytes, files } = await parquetBytes(dir);
const maxRss = process.resourceUsage().maxRSS * 1024;
console.log(`rows                 ${rows}`);
console.log(`wall                 ${seconds.toFixed(1)} s`);
console.log(`rows/s               ${(rows / seconds).toFixed(0)}`);
console.log(`parquet files        ${files} (usage)`);
console.log(`parquet bytes/row    ${(bytes / rows).toFixed(1)}  (${mib(bytes)} MiB)`);
console.log(`json lines bytes/row ${(jsonBytes / rows).toFixed(1)}  (${mib(jsonBytes)} MiB)`);
console.log(`json / parquet       ${(jsonBytes / bytes).toFixed(1)}x`);
console.log(`peak rss             ${mib(Math.max(peakRss, maxRss))} MiB (samples ${rssSamples.join(' ')})`);
if (values.reopen) {
  const out = execFileSync(process.execPath, [import.meta.filename, '--open-only', dir], { encoding: 'utf8' });
  const r = JSON.parse(out.trim().split('\n').at(-1)!) as { ms: number; rssAtStartMiB: number; peakRssMiB: number };
  console.log(
    `reopen (a restart)   ${(r.ms / 1000).toFixed(1)} s, peak rss ${r.peakRssMiB.toFixed(1)} MiB (${r.rssAtStartMiB.toFixed(1)} MiB before the open)`,
  );
}
if (!values.keep && !values.dir) await rm(dir, { recursive: true, force: true });
