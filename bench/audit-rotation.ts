// What one audit rotation costs in memory and in the main thread, side by side: each case writes the same usage
// rows (the 30,000 of a rotation at 2,000 services, the 64 MiB pending bound) from the sink's pending store
// (PendingRows: compressed JSON) in a fresh child process, which reports its peak RSS (VmHWM) above what it held
// before the write, the RSS it keeps after, its JS heap growth, the file size, the wall time and the longest stall
// of its event loop (what every reconcile pass waits through). Cases: in-thread at each row-group size, and in a
// child process (parquet-encoder.ts, what the sink does for files above one row group). Run by hand:
//   node bench/audit-rotation.ts [--rows 30000] [--sizes 20000,5000,2000] [--no-child]
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { nodeAuditFs } from '../operator/audit/audit-fs.ts';
import { encodeInChild, type EncodeJob } from '../operator/audit/parquet-encoder.ts';
import { publishAtomically, ROW_GROUP_ROWS, writeParquetAtomically } from '../operator/audit/parquet-file.ts';
import { PendingRows } from '../operator/audit/pending-rows.ts';
import { chainRow } from '../operator/audit/sink.ts';
import { computeUsageRecord, SCHEMA_VERSION } from '../operator/audit/usage.ts';
import { usageInput } from '../test/fixtures/audit/usage-fixtures.ts';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '30000' },
    sizes: { type: 'string', default: '20000,5000,2000' },
    child: { type: 'string' },
    'no-child': { type: 'boolean', default: false },
  },
});
const rows = Number(values.rows);
const mib = (b: number) => (b / 1048576).toFixed(1);
const hwmBytes = async () => {
  const status = await import('node:fs').then((f) => f.readFileSync('/proc/self/status', 'utf8'));
  return Number(/VmHWM:\s+(\d+)/.exec(status)![1]) * 1024;
};

if (values.child !== undefined) {
  const inChild = values.child === 'process';
  const groupRows = inChild ? ROW_GROUP_ROWS : Number(values.child);
  const services = 2000;
  const pending = new PendingRows('usage');
  let hash = '0'.repeat(64);
  for (let i = 0; i < rows; i++) {
    const row = chainRow('usage', computeUsageRecord(usageInput(i % services, Math.floor(i / services))), i + 1, hash);
    hash = row.row_hash;
    pending.push(row);
  }
  globalThis.gc?.();
  // VmHWM only grows: reset it so the peak is the write's (Linux: writing 5 to clear_refs resets the high-water mark).
  await import('node:fs').then((f) => f.writeFileSync('/proc/self/clear_refs', '5'));
  const before = process.memoryUsage.rss();
  let peakExternal = 0;
  let peakHeapTotal = 0;
  const startHeapTotal = process.memoryUsage().heapTotal;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    peakExternal = Math.max(peakExternal, m.external);
    peakHeapTotal = Math.max(peakHeapTotal, m.heapTotal);
  }, 20);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'audit-rotation-'));
  const file = path.join(dir, 'part.parquet');
  let childPeak = 0;
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const t0 = performance.now();
  if (inChild) {
    const job: EncodeJob = { kind: 'usage', version: SCHEMA_VERSION, tmpPath: `${file}.tmp`, rowGroupRows: groupRows };
    childPeak = (await encodeInChild(job, pending.texts(0, rows))).peakRssBytes;
    await publishAtomically(nodeAuditFs, `${file}.tmp`, file);
  } else
    await writeParquetAtomically(
      nodeAuditFs,
      'usage',
      SCHEMA_VERSION,
      pending.head(rows),
      `${file}.tmp`,
      file,
      groupRows,
    );
  const ms = performance.now() - t0;
  loop.disable();
  clearInterval(sampler);
  globalThis.gc?.();
  await new Promise((r) => setTimeout(r, 200));
  const after = process.memoryUsage.rss();
  const out = {
    groupRows: inChild ? `${groupRows}, child process` : String(groupRows),
    maxStallMs: (loop.max / 1e6).toFixed(0),
    childPeakMiB: inChild ? mib(childPeak) : '-',
    peakAboveMiB: mib((await hwmBytes()) - before),
    peakExternalMiB: mib(peakExternal),
    heapGrowthMiB: mib(peakHeapTotal - startHeapTotal),
    keptMiB: mib(after - before),
    fileMiB: mib((await stat(file)).size),
    seconds: (ms / 1000).toFixed(1),
  };
  await rm(dir, { recursive: true, force: true });
  console.log(JSON.stringify(out));
} else {
  console.log(`audit-rotation: ${rows} usage rows per rotation, one fresh process per row-group size`);
  console.log(
    'rows per group        peak RSS above start  RSS kept after GC  JS heap growth  peak external  file     wall    longest stall  encoder process peak',
  );
  const cases = values.sizes.split(',');
  if (!values['no-child']) cases.push('process');
  for (const size of cases) {
    const stdout = execFileSync(
      process.execPath,
      ['--expose-gc', import.meta.filename, '--rows', String(rows), '--child', size],
      {
        encoding: 'utf8',
      },
    );
    const r = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, string>;
    console.log(
      `${String(r.groupRows).padEnd(22)}${`${r.peakAboveMiB} MiB`.padEnd(22)}${`${r.keptMiB} MiB`.padEnd(19)}${`${r.heapGrowthMiB} MiB`.padEnd(16)}${`${r.peakExternalMiB} MiB`.padEnd(15)}${`${r.fileMiB} MiB`.padEnd(9)}${`${r.seconds} s`.padEnd(8)}${`${r.maxStallMs} ms`.padEnd(15)}${r.childPeakMiB === '-' ? '-' : `${r.childPeakMiB} MiB`}`,
    );
  }
}
