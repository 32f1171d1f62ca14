// A namespace/name deleted and created again is two objects (two uids) under one name. `audit verify` counts them as
// service objects and names, with a note per recreated name; `audit report` (table and HTML) says its rows add both
// objects up under the name. A trail where every name has one object says plain "N services" and no note.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import winston from 'winston';
import { ParquetAuditSink } from '../../../operator/audit/parquet-sink.ts';
import { computeUsageRecord } from '../../../operator/audit/usage.ts';
import { usageInput, YEAR_START_MS } from '../../fixtures/audit/usage-fixtures.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const MIN = 60_000;
const FIRST_UID = '00000000-0000-4000-8000-000000000000';

/** A usage row of service `svc` for [start, end) minutes after 2023-01-01T00:00Z. */
function row(svc: number, startMin: number, endMin: number, uid?: string) {
  return computeUsageRecord(
    usageInput(svc, 0, MIN, {
      intervalStartMs: YEAR_START_MS + startMin * MIN,
      intervalEndMs: YEAR_START_MS + endMin * MIN,
      ...(uid ? { uid } : {}),
    }),
  );
}

function audit(...args: string[]) {
  return spawnSync(process.execPath, [path.join(ROOT, 'operator/cli.ts'), 'audit', ...args], { encoding: 'utf8' });
}

describe('audit verify and report: a name deleted and created again is several objects, said so', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'audit-objects-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Minutes [from, to) of service `svc` (one row a minute), under `uid` when given. */
  async function trail(spans: Array<[svc: number, from: number, to: number, uid?: string]>): Promise<void> {
    const sink = await ParquetAuditSink.open(dir, {
      now: () => 0,
      tickMs: 0,
      logger: winston.createLogger({ silent: true }),
    });
    for (const [svc, from, to, uid] of spans)
      for (let m = from; m < to; m++) await sink.writeUsage(row(svc, m, m + 1, uid));
    await sink.close();
  }

  it('one name, two uids: verify counts 2 objects of 1 name; report table and HTML carry the note', async () => {
    await trail([
      [0, 0, 3],
      [0, 30, 33, 'uid-recreated'],
      [1, 0, 3],
    ]);
    const v = audit('verify', dir);
    expect(v.status, v.stdout + v.stderr).to.equal(0);
    const note =
      `ns-0/svc-0: 2 objects (deleted and created again; recreated at 2023-01-01T00:30Z): ` +
      `uid ${FIRST_UID} 2023-01-01T00:00Z..2023-01-01T00:03Z (3 usage rows); ` +
      'uid uid-recreated 2023-01-01T00:30Z..2023-01-01T00:33Z (3 usage rows)';
    expect(v.stdout).to.contain(`note: ${note}; each object is checked for time continuity on its own\n`);
    expect(v.stdout).to.match(
      /^OK: 1 files, 9 usage rows, 0 decision rows, 3 service objects \(2 names; 1 recreated, noted above\) checked for time continuity, /m,
    );
    const html = path.join(dir, '..', `${path.basename(dir)}.html`);
    try {
      const r = audit('report', dir, '--html', html);
      expect(r.status, r.stderr).to.equal(0);
      expect(r.stdout).to.contain(`${note}; the report adds their rows up under this name\n`);
      expect(r.stdout).to.not.contain('their intervals overlap');
      const page = await readFile(html, 'utf8');
      expect(page).to.match(/<section [^>]*id="recreated-alert"><h2>1 service name with several objects<\/h2>/);
      expect(page).to.contain('uid uid-recreated 2023-01-01T00:30Z..2023-01-01T00:33Z');
    } finally {
      await rm(html, { force: true });
    }
  });

  it('two objects whose intervals overlap (a replay restarted on the same trail): the note says so', async () => {
    await trail([
      [0, 0, 3],
      [0, 1, 4, 'uid-replayed'],
    ]);
    const v = audit('verify', dir);
    expect(v.status, v.stdout + v.stderr).to.equal(0); // each uid tiles its own time: no problem, only the note
    expect(v.stdout).to.match(/^note: ns-0\/svc-0: 2 objects .*; their intervals overlap in time /m);
    expect(v.stdout).to.contain('2 service objects (1 name; 1 recreated, noted above)');
  });

  it('every name one object: plain "N services", no note, no alert', async () => {
    await trail([
      [0, 0, 3],
      [1, 0, 3],
    ]);
    const v = audit('verify', dir);
    expect(v.status, v.stdout + v.stderr).to.equal(0);
    expect(v.stdout).to.match(/^OK: 1 files, 6 usage rows, 0 decision rows, 2 services checked for time continuity, /m);
    expect(v.stdout).to.not.contain('note:').and.not.contain('service objects');
    const html = path.join(dir, '..', `${path.basename(dir)}.html`);
    try {
      const r = audit('report', dir, '--html', html);
      expect(r.status, r.stderr).to.equal(0);
      expect(r.stdout).to.not.contain('objects (deleted and created again');
      expect(await readFile(html, 'utf8')).to.not.contain('recreated-alert');
    } finally {
      await rm(html, { force: true });
    }
  });
});
