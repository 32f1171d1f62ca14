// Encodes one big audit Parquet file in a child process that ends with the file. A rotation at 2,000 services
// writes some 30,000 rows: in the operator's own thread that was ~5 s of parquetjs work that stalled every
// reconcile pass, and it grew the V8 heap by ~190 MiB that the process kept afterwards (issue 15, finding 6 in
// docs/reliability.md). A worker thread frees the event loop but not the memory: V8 kept a terminated worker's
// heap pages in the process (measured before this replaced it, ADR 0202). A process returns all of it at exit.
// Starting it and loading parquetjs costs ~0.3 s, so small files (at most one row group) stay in the sink.
import { fork } from 'node:child_process';
import type { SchemaVersion, StreamKind } from './schema.ts';

export interface EncodeJob {
  kind: StreamKind;
  version: SchemaVersion;
  tmpPath: string;
  rowGroupRows: number;
}

export type ToEncoder = { job: EncodeJob } | { texts: string[] } | { end: true };
export type FromEncoder =
  { ack: true } | { done: true; peakRssBytes: number } | { error: { message: string; code?: string } };

/** Rows per message: ~2 MB of JSON, so the child's queue and the copy in flight stay small. */
export const BATCH_ROWS = 1_000;

const CHILD = new URL('./parquet-encode-process.ts', import.meta.url);

function encoderError(e: { message: string; code?: string }): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(e.message);
  if (e.code) err.code = e.code;
  return err;
}

/**
 * Writes the rows (their JSON text, in order) to `job.tmpPath` and closes the file, in a new child process; the
 * promise settles once the child has exited, with the child's peak RSS (what a rotation adds to the pod's
 * memory while it runs). It rejects with the child's error (errno code kept), or when the child exits before
 * the file is closed. The child gets no environment (no credential reaches it) and none of the operator's Node
 * flags (an --inspect port, a heap limit sized for the operator).
 */
export async function encodeInChild(job: EncodeJob, texts: Iterable<string>): Promise<{ peakRssBytes: number }> {
  const child = fork(CHILD, [], {
    env: {},
    // A small young generation and a heap cap make V8 collect as it goes: the child's peak RSS for 30,000 rows
    // went from 337-385 MiB to 165-244 MiB (bench/audit-rotation.ts, runs vary); a row group of 5,000 rows
    // needs a small part of the cap.
    execArgv: ['--max-semi-space-size=1', '--max-old-space-size=256'],
    serialization: 'advanced',
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2_000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const rows = texts[Symbol.iterator]();
  try {
    return await new Promise<{ peakRssBytes: number }>((resolve, reject) => {
      const send = (m: ToEncoder): void => {
        child.send(m, (err) => err && reject(err));
      };
      const sendNext = (): void => {
        try {
          const batch: string[] = [];
          while (batch.length < BATCH_ROWS) {
            const r = rows.next();
            if (r.done) break;
            batch.push(r.value);
          }
          send(batch.length > 0 ? { texts: batch } : { end: true });
        } catch (err) {
          reject(err as Error);
        }
      };
      child.on('message', (m: FromEncoder) => {
        if ('ack' in m) sendNext();
        else if ('done' in m) resolve({ peakRssBytes: m.peakRssBytes });
        else reject(encoderError(m.error));
      });
      child.once('error', reject);
      child.once('exit', (code, signal) =>
        reject(
          new Error(
            `the Parquet encoder for ${job.tmpPath} exited (${signal ?? `code ${code}`}) before closing it${stderr ? `: ${stderr.trim()}` : ''}`,
          ),
        ),
      );
      send({ job });
      sendNext();
    });
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  }
}
