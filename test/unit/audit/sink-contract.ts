// One contract, every AuditSink implementation (memory and Parquet): same ids, dedup, chain and errors.
import { expect } from 'chai';
import { GENESIS_HASH, rowHash, type Row, type StreamKind } from '../../../operator/audit/schema.ts';
import type { AuditSink } from '../../../operator/audit/sink.ts';
import type { UsageRecord } from '../../../operator/audit/usage.ts';
import { AuditInputError } from '../../../operator/audit/validate.ts';
import { decisionRecord, usageRecord } from '../../fixtures/audit/usage-fixtures.ts';

export interface SinkUnderTest {
  sink: AuditSink;
  /** Closes the sink if needed and returns every stored row, per stream, in stream order. */
  readBack(): Promise<Record<StreamKind, Row[]>>;
  cleanup(): Promise<void>;
}

export function sinkContract(name: string, make: () => Promise<SinkUnderTest>): void {
  describe(`AuditSink contract: ${name}`, () => {
    let t: SinkUnderTest;
    beforeEach(async () => {
      t = await make();
    });
    afterEach(async () => {
      await t.cleanup();
    });

    it('stores every usage and decision record once, in order, with its values', async () => {
      const usage = Array.from({ length: 25 }, (_, i) => usageRecord(i % 5, Math.floor(i / 5)));
      for (const r of usage) await t.sink.writeUsage(r);
      await t.sink.writeDecision(decisionRecord(1, 3));
      const rows = await t.readBack();
      expect(rows.usage.map((r) => r.record_id)).to.deep.equal(usage.map((r) => r.record_id));
      expect(rows.usage[7]?.operational_co2e_g).to.equal(usage[7]?.operational_co2e_g);
      expect(rows.usage[7]?.interval_start).to.equal(usage[7]?.interval_start);
      expect(rows.decision.map((r) => r.reason)).to.deep.equal([decisionRecord(1, 3).reason]);
    });

    it('ignores a record whose id was already written (idempotent replay)', async () => {
      await t.sink.writeUsage(usageRecord(1, 1));
      await t.sink.writeUsage(usageRecord(1, 2));
      await t.sink.writeUsage(usageRecord(1, 1));
      await Promise.all([t.sink.writeUsage(usageRecord(1, 3)), t.sink.writeUsage(usageRecord(1, 3))]);
      const rows = await t.readBack();
      expect(rows.usage.map((r) => r.record_id)).to.deep.equal(
        [usageRecord(1, 1), usageRecord(1, 2), usageRecord(1, 3)].map((r) => r.record_id),
      );
    });

    it('chains each stream: seq 1..n without gaps, prev_hash = previous row_hash, row_hash recomputable', async () => {
      await Promise.all(Array.from({ length: 12 }, (_, i) => t.sink.writeUsage(usageRecord(i % 4, i))));
      for (let i = 0; i < 3; i++) await t.sink.writeDecision(decisionRecord(2, i));
      const rows = await t.readBack();
      for (const kind of ['usage', 'decision'] as const) {
        let prev = GENESIS_HASH;
        rows[kind].forEach((r, i) => {
          expect(r.stream_seq).to.equal(i + 1);
          expect(r.prev_hash).to.equal(prev);
          expect(rowHash(kind, r)).to.equal(r.row_hash);
          prev = String(r.row_hash);
        });
      }
      expect(rows.usage).to.have.length(12);
    });

    it('rejects an invalid record with an error naming the column, and stores nothing for it', async () => {
      const bad = { ...usageRecord(0, 0), energy_it_kwh: Number.NaN };
      let err: unknown;
      try {
        await t.sink.writeUsage(bad);
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(AuditInputError).with.property('field', 'energy_it_kwh');
      const missing = { ...usageRecord(0, 1), namespace: undefined } as unknown as UsageRecord;
      err = undefined;
      try {
        await t.sink.writeUsage(missing);
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(AuditInputError).with.property('field', 'namespace');
      await t.sink.writeUsage(usageRecord(0, 2));
      const rows = await t.readBack();
      expect(rows.usage.map((r) => r.record_id)).to.deep.equal([usageRecord(0, 2).record_id]);
    });

    it('reports healthy and rejects writes after close', async () => {
      await t.sink.writeUsage(usageRecord(0, 0));
      expect(t.sink.health()).to.deep.include({ ok: true, buffered: 0, dropped: 0 });
      await t.sink.close();
      let err: unknown;
      try {
        await t.sink.writeUsage(usageRecord(0, 1));
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(Error);
    });
  });
}
