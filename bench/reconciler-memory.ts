// The reconciler's own memory per service (no watch caches): N services on the unit tier's fake cluster, each
// reconciled 12 times a minute apart, heap used read after gc() before, after, and after the fake cluster's own
// objects (its stores, statuses, audit rows) are dropped. docs/reliability.md, finding 2, reads these figures.
//   node --expose-gc bench/reconciler-memory.ts [--services N]
import { MemoryAuditSink } from '../operator/audit/sink.ts';
import { FakeCluster, HOUR, service } from '../test/unit/reconciler/fake-cluster.ts';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const N = Number(process.argv[process.argv.indexOf('--services') + 1]) || 1000;
const MiB = 2 ** 20;
const fc = new FakeCluster();
fc.signal.set(300, fc.now);
fc.signal.forecast = Array.from({ length: 48 }, (_, h) => ({
  timeMs: fc.now + (h + 1) * HOUR,
  valueGPerKWh: 200 + 100 * Math.sin((h / 24) * 2 * Math.PI),
}));
for (let i = 0; i < N; i++) fc.add(service(`s${i}`, { tier: i % 2 ? 'premium' : 'eco' }));
const r = fc.reconciler();
gc();
const before = process.memoryUsage().heapUsed;
for (let pass = 0; pass < 12; pass++) {
  for (let i = 0; i < N; i++) await r.reconcile(`ns/s${i}`);
  fc.now += 60_000;
}
gc();
const after = process.memoryUsage().heapUsed;
fc.isvcs.clear();
fc.objects.clear();
fc.states.clear();
fc.audit = new MemoryAuditSink();
fc.events.length = 0;
fc.writes = [];
gc();
const own = process.memoryUsage().heapUsed;
const perService = (b: number) => `${((b - before) / N / 1024).toFixed(1)} KiB/service`;
console.log(`${N} services, 12 passes each; heap used ${(before / MiB).toFixed(1)} MiB before`);
console.log(`after, with the fake cluster's objects: ${(after / MiB).toFixed(1)} MiB (${perService(after)})`);
console.log(`the reconciler alone: ${(own / MiB).toFixed(1)} MiB (${perService(own)})`);
// Read after the last measurement on purpose: it keeps the reconciler alive through it (else V8 may collect it).
console.log(`an eco service's demand ledger: ${r.memoryOf('ns/s0')?.state.demand.points.length} points`);
