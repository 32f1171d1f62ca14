// What one audit rotation costs in memory, by Parquet row-group size, side by side: each size writes the same
// usage rows (the 30,000 of a rotation at 2,000 services, the 64 MiB pending bound) from the sink's pending store
// (PendingRows: compressed JSON, parsed one row at a time) in a fresh child process, which reports its peak RSS
// (VmHWM) above what it held before the write, its external memory, the file size and the wall time. Run by hand:
//   node bench/audit-rotation.ts [--rows 30000] [--sizes 20000,5000,2000]
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { nodeAuditFs } from '../operator/audit/audit-fs.ts';
import { writeParquetAtomically } from '../operator/audit/parquet-file.ts';
import { PendingRows } from '../operator/audit/pending-rows.ts';
import { chainRow } from '../operator/audit/sink.ts';
import { computeUsageRecord, SCHEMA_VERSION } from '../operator/audit/usage.ts';
import { usageInput } from '../test/fixtures/audit/usage-fixtures.ts';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '30000' },
    sizes: { type: 'string', default: '20000,5000,2000' },
    child: { type: 'string' },
  },
});
const rows = Number(values.rows);
const mib = (b: number) => (b / 1048576).toFixed(1);
const hwmBytes = async () => {
  const status = await import('node:fs').then((f) => f.readFileSync('/proc/self/status', 'utf8'));
  return Number(/VmHWM:\s+(\d+)/.exec(status)![1]) * 1024;
};

if (values.child !== undefined) {
  const groupRows = Number(values.child);
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
  const t0 = performance.now();
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
  clearInterval(sampler);
  globalThis.gc?.();
  await new Promise((r) => setTimeout(r, 200));
  const after = process.memoryUsage.rss();
  const out = {
    groupRows,
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
  console.log('rows per group  peak RSS above start  RSS kept after GC  JS heap growth  peak external  file     wall');
  for (const size of values.sizes.split(',').map(Number)) {
    const stdout = execFileSync(
      process.execPath,
      ['--expose-gc', import.meta.filename, '--rows', String(rows), '--child', String(size)],
      {
        encoding: 'utf8',
      },
    );
    const r = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, string>;
    console.log(
      `${String(r.groupRows).padEnd(16)}${`${r.peakAboveMiB} MiB`.padEnd(22)}${`${r.keptMiB} MiB`.padEnd(19)}${`${r.heapGrowthMiB} MiB`.padEnd(16)}${`${r.peakExternalMiB} MiB`.padEnd(15)}${`${r.fileMiB} MiB`.padEnd(9)}${r.seconds} s`,
    );
  }
}
