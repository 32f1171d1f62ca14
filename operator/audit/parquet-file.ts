// Writing and reading one audit Parquet file with @dsnp/parquetjs, in the settings independent readers handle:
// data page v1, SNAPPY, TIMESTAMP_MILLIS (UTC). A file only appears under its final name once complete.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import parquet from '@dsnp/parquetjs';
import type { AuditFs } from './audit-fs.ts';
import { columnsOf, fileMetadata, type ColumnSpec, type Row, type SchemaVersion, type StreamKind } from './schema.ts';

const PARQUET_TYPE: Record<ColumnSpec['type'], string> = {
  string: 'UTF8',
  double: 'DOUBLE',
  int32: 'INT32',
  int64: 'INT64',
  bool: 'BOOLEAN',
  timestamp: 'TIMESTAMP_MILLIS',
};

/**
 * Rows per row group at most: parquetjs shreds and encodes a whole row group in memory, so this bounds what a
 * rotation holds at once. At 2,000 services a rotation writes some 30,000 usage rows (the 64 MiB pending bound),
 * and the RSS of a rotation of 30,000 rows peaked 328 MiB above its start with groups of 20,000, 230 MiB with
 * 5,000, for a file 2% larger (`bench/audit-rotation.ts`, side by side). Readers handle any number of groups.
 */
export const ROW_GROUP_ROWS = 5_000;

const schemaCache = new Map<string, parquet.ParquetSchema>();

/** The Parquet schema of a stream in a schema version (a file holds the rows of one version only). */
export function parquetSchemaOf(kind: StreamKind, version: SchemaVersion): parquet.ParquetSchema {
  const key = `${kind}@${version}`;
  let s = schemaCache.get(key);
  if (!s) {
    const def: Record<string, { type: string; optional: boolean; compression: 'SNAPPY' }> = {};
    for (const col of columnsOf(kind, version))
      def[col.name] = { type: PARQUET_TYPE[col.type], optional: col.nullable, compression: 'SNAPPY' };
    s = new parquet.ParquetSchema(def as ConstructorParameters<typeof parquet.ParquetSchema>[0]);
    schemaCache.set(key, s);
  }
  return s;
}

/**
 * Writes rows to `tmpPath` and closes it (footer); nothing more: the caller fsyncs and renames. `rows` may arrive
 * asynchronously (the encoder process receives them in batches, parquet-encoder.ts).
 */
export async function writeParquetRows(
  kind: StreamKind,
  version: SchemaVersion,
  rows: Iterable<Row> | AsyncIterable<Row>,
  tmpPath: string,
  rowGroupRows: number = ROW_GROUP_ROWS,
): Promise<void> {
  const writer = await parquet.ParquetWriter.openFile(parquetSchemaOf(kind, version), tmpPath, {
    useDataPageV2: false,
    rowGroupSize: rowGroupRows,
  });
  for (const [k, v] of Object.entries(fileMetadata(kind, version))) writer.setMetadata(k, v);
  try {
    for await (const r of rows) await writer.appendRow(r as Record<string, unknown>);
  } finally {
    await writer.close();
  }
}

/** After a complete temp file: fsyncs it, renames it to `finalPath` and fsyncs the directory. */
export async function publishAtomically(fs: AuditFs, tmpPath: string, finalPath: string): Promise<void> {
  await fs.fsyncFile(tmpPath);
  await fs.rename(tmpPath, finalPath);
  await fs.fsyncDir(path.dirname(finalPath));
}

/**
 * Writes rows to `tmpPath`, closes it (footer), fsyncs it, renames it to `finalPath` and fsyncs the directory.
 * A crash at any point leaves either no final file or a complete one; a stale temp file is removed on start.
 */
export async function writeParquetAtomically(
  fs: AuditFs,
  kind: StreamKind,
  version: SchemaVersion,
  rows: Iterable<Row>,
  tmpPath: string,
  finalPath: string,
  rowGroupRows: number = ROW_GROUP_ROWS,
): Promise<void> {
  await fs.probeWritable(path.dirname(tmpPath));
  await writeParquetRows(kind, version, rows, tmpPath, rowGroupRows);
  await publishAtomically(fs, tmpPath, finalPath);
}

/**
 * Reads every row of an audit file, timestamps as ms and int64 as numbers (as written). With `columns`, only
 * those column chunks are read and decoded: recovery needs the record ids and chain columns of files of 30,000
 * rows, and every column of them as objects took hundreds of MiB at a restart (issue 15).
 */
export async function readAuditFile(
  file: string,
  columns?: readonly string[],
): Promise<{ rows: Row[]; metadata: Record<string, string> }> {
  const reader = await parquet.ParquetReader.openFile(file);
  try {
    const metadata: Record<string, string> = {};
    for (const [k, v] of Object.entries(reader.getMetadata())) metadata[k] = String(v);
    const cursor = columns ? reader.getCursor(columns.map((c) => [c])) : reader.getCursor();
    const rows: Row[] = [];
    for (;;) {
      const raw = (await cursor.next()) as Record<string, unknown> | null;
      if (!raw) break;
      const row: Row = {};
      for (const [k, v] of Object.entries(raw)) {
        if (v instanceof Date) row[k] = v.getTime();
        else if (typeof v === 'bigint') row[k] = Number(v);
        else if (v === undefined) row[k] = null;
        else row[k] = v as string | number | boolean | null;
      }
      rows.push(row);
    }
    return { rows, metadata };
  } finally {
    await reader.close();
  }
}

export function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file)
      .on('data', (d) => h.update(d))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}
