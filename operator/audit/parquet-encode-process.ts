// The body of the Parquet encoder process (parquet-encoder.ts forks one per big file): it receives the job, then
// the rows' JSON text in batches over the IPC channel, acknowledges each batch once appended (so at most one
// batch waits in its queue), and answers `done` when the file is closed, or `error` with the errno code. It only
// writes the temp file; the sink fsyncs, renames and records it through its AuditFs. When the operator dies
// (kill -9), the channel closes and this exits at once: a restarted operator removes the stale temp file.
import { writeParquetRows } from './parquet-file.ts';
import type { Row } from './schema.ts';
import type { EncodeJob, FromEncoder, ToEncoder } from './parquet-encoder.ts';

if (!process.send)
  throw new Error('parquet-encode-process.ts runs only as a child of the operator (parquet-encoder.ts)');
const orphaned = (): never => process.exit(1);
process.on('disconnect', orphaned);

const queue: ToEncoder[] = [];
let wake: (() => void) | undefined;
process.on('message', (m: ToEncoder) => {
  queue.push(m);
  wake?.();
});

async function next(): Promise<ToEncoder> {
  while (queue.length === 0) await new Promise<void>((r) => (wake = r));
  return queue.shift()!;
}

function reply(m: FromEncoder): Promise<void> {
  return new Promise((resolve) => process.send!(m, undefined, {}, () => resolve()));
}

async function* rowsFromParent(): AsyncGenerator<Row> {
  for (;;) {
    const msg = await next();
    if (!('texts' in msg)) return;
    for (const text of msg.texts) yield JSON.parse(text) as Row;
    void reply({ ack: true });
  }
}

try {
  const first = await next();
  if (!('job' in first)) throw new Error('the encoder expects its job first');
  const job: EncodeJob = first.job;
  await writeParquetRows(job.kind, job.version, rowsFromParent(), job.tmpPath, job.rowGroupRows);
  // maxRSS is in KiB: the peak this process reached, reported so the pod's memory can be sized with it.
  await reply({ done: true, peakRssBytes: process.resourceUsage().maxRSS * 1024 });
} catch (err) {
  // Anything can be thrown, null included: only an errno error has a code.
  const e = err as NodeJS.ErrnoException | null | undefined;
  await reply({ error: { message: e?.message ?? String(err), ...(e?.code ? { code: e.code } : {}) } });
}
// The answer is sent: close the channel, which lets this process exit.
process.off('disconnect', orphaned);
process.disconnect();
