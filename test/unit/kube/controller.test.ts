import { expect } from 'chai';
import { ManualClock } from '../../../operator/kube/clock.ts';
import {
  ControllerBuilder,
  predicates,
  type EmitKeys,
  type ReconcileReport,
  type TriggerLane,
} from '../../../operator/kube/controller.ts';
import { StoreWriter } from '../../../operator/kube/store.ts';
import { TerminalError } from '../../../operator/kube/work-queue.ts';
import { runnable, Manager } from '../../../operator/kube/manager.ts';
import { KubeClient } from '../../../operator/kube/kube-client.ts';
import type { KubeConfig } from '@kubernetes/client-node';

interface O {
  metadata: {
    name: string;
    namespace?: string;
    resourceVersion: string;
    generation?: number;
    labels?: Record<string, string>;
    ownerReferences?: Array<Record<string, unknown>>;
  };
  status?: unknown;
}

const o = (ns: string, name: string, rv: string, extra: Partial<O['metadata']> = {}, status?: unknown): O => ({
  metadata: { name, namespace: ns, resourceVersion: rv, ...extra },
  ...(status !== undefined ? { status } : {}),
});
const list = (w: StoreWriter<O>, objects: O[], rv = '1') =>
  w.apply({ type: 'Restarted', objects, resourceVersion: rv }, 0);
const put = (w: StoreWriter<O>, x: O) => w.apply({ type: 'Modified', object: x }, 0);

function fixture(opts: { onReconciled?: (r: ReconcileReport) => void; concurrency?: number } = {}) {
  const clock = new ManualClock(0);
  const primary = new StoreWriter<O>('inferenceservices');
  const deployments = new StoreWriter<O>('deployments');
  const pods = new StoreWriter<O>('pods');
  const sources = new StoreWriter<O>('carbonsources');
  const runs: string[] = [];
  let emit: EmitKeys = () => undefined;
  let behaviour: (key: string) => Promise<{ requeueAfterMs?: number } | void> = async () => undefined;
  const c = new ControllerBuilder<O>('inferenceservice', { clock, random: () => 0.5, backoffBaseMs: 1000, ...opts })
    .for(primary.reader, { predicate: predicates.generationChanged })
    .owns(deployments.reader, { by: { ownerKind: 'InferenceService' } })
    .owns(pods.reader, { by: { label: 'carbonscale.dev/inference-service' } })
    .watches(
      sources.reader,
      (ch) =>
        primary.reader
          .list()
          .filter((p) => p.metadata.labels?.source === ch.key)
          .map((p) => `${p.metadata.namespace}/${p.metadata.name}`),
      {
        how: 'services whose source label names it',
      },
    )
    .triggeredBy('carbon signal', (e) => {
      emit = e;
      return () => (emit = () => undefined);
    })
    .build(async ({ key }) => {
      runs.push(key);
      return behaviour(key);
    });
  return {
    clock,
    primary,
    deployments,
    pods,
    sources,
    runs,
    c,
    emit: (keys: string[], lane?: TriggerLane) => emit(keys, lane),
    setBehaviour: (f: typeof behaviour) => (behaviour = f),
  };
}

describe('controller builder: declared triggers', () => {
  it('lists every trigger it was built with, in one place', () => {
    const { c } = fixture();
    expect(c.triggers.map((t) => `${t.via} ${t.source}: ${t.how}`)).to.deep.equal([
      'for inferenceservices: its own key',
      'owns deployments: controller ownerReference of kind InferenceService',
      'owns pods: label carbonscale.dev/inference-service',
      'watches carbonsources: services whose source label names it',
      'external carbon signal: emitted keys',
    ]);
  });

  it('waits for every source to list, enqueues every primary object, then maps each trigger to its owner key', async () => {
    const f = fixture();
    void f.c.start();
    list(f.primary, [
      o('a', 'svc', '1', { generation: 1, labels: { source: 'grid' } }),
      o('b', 'other', '1', { generation: 1 }),
    ]);
    await f.clock.advance(10);
    expect(f.runs, 'nothing runs before all caches have listed').to.deep.equal([]);
    list(f.deployments, []);
    list(f.pods, []);
    list(f.sources, [o('', 'grid', '1')]);
    await f.clock.advance(10);
    expect(f.runs.sort()).to.deep.equal(['a/svc', 'b/other']);
    f.runs.length = 0;

    const ownerRef = { kind: 'InferenceService', name: 'svc', controller: true };
    put(
      f.deployments,
      o('a', 'svc-full', '2', { ownerReferences: [ownerRef, { kind: 'Other', name: 'x', controller: false }] }),
    );
    await f.clock.advance(10);
    put(f.pods, o('a', 'svc-full-abc', '3', { labels: { 'carbonscale.dev/inference-service': 'svc' } }));
    await f.clock.advance(10);
    f.sources.apply({ type: 'Modified', object: o('', 'grid', '4') }, 0);
    await f.clock.advance(10);
    f.emit(['b/other']);
    await f.clock.advance(10);
    put(f.deployments, o('a', 'orphan', '5'));
    await f.clock.advance(10);
    await f.c.stop();
    expect(f.runs).to.deep.equal(['a/svc', 'a/svc', 'a/svc', 'b/other']);
  });

  it('keys emitted after-triggered wait behind every triggered key, whichever namespace they are in', async () => {
    const f = fixture({ concurrency: 1 });
    void f.c.start();
    for (const w of [f.primary, f.deployments, f.pods, f.sources]) list(w, []);
    await f.clock.advance(10);
    f.emit(['a/p1', 'b/p2'], 'after-triggered');
    f.emit(['c/e1', 'd/e2', 'c/e3']);
    await f.clock.advance(100);
    await f.c.stop();
    expect(f.runs).to.deep.equal(['c/e1', 'd/e2', 'c/e3', 'a/p1', 'b/p2']);
  });

  it('generationChanged: a status-only write does not wake the primary; a spec or label change does', async () => {
    const f = fixture();
    void f.c.start();
    for (const w of [f.deployments, f.pods, f.sources]) list(w, []);
    list(f.primary, [o('a', 'svc', '1', { generation: 1 })]);
    await f.clock.advance(10);
    f.runs.length = 0;
    put(f.primary, o('a', 'svc', '2', { generation: 1 }, { phase: 'Ready' }));
    await f.clock.advance(10);
    expect(f.runs, 'status write').to.deep.equal([]);
    put(f.primary, o('a', 'svc', '3', { generation: 2 }));
    await f.clock.advance(10);
    put(f.primary, o('a', 'svc', '4', { generation: 2, labels: { team: 'x' } }));
    await f.clock.advance(10);
    f.primary.apply({ type: 'Deleted', object: o('a', 'svc', '5', { generation: 2 }) }, 0);
    await f.clock.advance(10);
    await f.c.stop();
    expect(f.runs).to.deep.equal(['a/svc', 'a/svc', 'a/svc']);
  });

  it('retries errors with jittered backoff, never a TerminalError, and requeues after requeueAfterMs', async () => {
    const reports: ReconcileReport[] = [];
    const f = fixture({ onReconciled: (r) => reports.push(r) });
    let failing = 2;
    f.setBehaviour(async (key) => {
      if (key === 'a/flaky' && failing-- > 0) throw new Error('conflict');
      if (key === 'a/bad') throw new TerminalError('spec.variants is empty');
      if (key === 'a/timed') return { requeueAfterMs: 60_000 };
    });
    void f.c.start();
    for (const w of [f.deployments, f.pods, f.sources]) list(w, []);
    list(
      f.primary,
      ['flaky', 'bad', 'timed'].map((n) => o('a', n, '1', { generation: 1 })),
    );
    await f.clock.advance(130_000);
    await f.c.stop();
    const count = (k: string) => f.runs.filter((r) => r === k).length;
    expect(count('a/flaky')).to.equal(3);
    expect(count('a/bad')).to.equal(1);
    expect(count('a/timed')).to.equal(3); // at 0, 60 s and 120 s
    expect(reports.filter((r) => r.key === 'a/flaky').map((r) => r.result)).to.deep.equal([
      'error',
      'error',
      'success',
    ]);
    expect(reports.find((r) => r.key === 'a/bad')!.result).to.equal('terminal');
    expect(reports.find((r) => r.key === 'a/timed')!.result).to.equal('requeue');
  });
});

describe('controller: requests per reconcile are attributed to the pass that made them', () => {
  it('counts each pass’s apiserver requests by verb and resource, even with passes running concurrently', async () => {
    const { createServer } = await import('node:http');
    const server = createServer((req, res) => {
      // Answer slowly enough that concurrent passes overlap.
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          req.method === 'GET' && !/\/[^/]+\/[^/]+\/[^/]+$/.test(req.url ?? '') ? '{"items":[],"metadata":{}}' : '{}',
        );
      }, 5);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const { KubeConfig } = await import('@kubernetes/client-node');
    const kc: KubeConfig = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
      users: [{ name: 'u', token: 'not-a-secret-just-a-test' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const client = new KubeClient(kc);
    const reports: ReconcileReport[] = [];
    const primary = new StoreWriter<O>('inferenceservices');
    const c = new ControllerBuilder<O>('isvc', { concurrency: 4, onReconciled: (r) => reports.push(r) })
      .for(primary.reader)
      .build(async ({ namespace, name }) => {
        // Each pass makes as many GETs as its name says, and one status patch.
        for (let i = 0; i < Number(name.slice(1)); i++)
          await client.get(`/apis/apps/v1/namespaces/${namespace}/deployments/${name}`);
        await client.mergePatch(
          `/apis/carbonscale.dev/v1alpha1/namespaces/${namespace}/inferenceservices/${name}/status`,
          {},
        );
      });
    try {
      const done = new Promise<void>((resolve) => {
        const t = setInterval(() => reports.length === 3 && (clearInterval(t), resolve()), 5);
      });
      void c.start();
      list(primary, [o('ns', 'n1', '1'), o('ns', 'n3', '1'), o('ns', 'n5', '1')]);
      await done;
    } finally {
      await c.stop();
      client.close();
      server.close();
    }
    const by = Object.fromEntries(reports.map((r) => [r.key, r.requests.toJSON()]));
    expect(by).to.deep.equal({
      'ns/n1': { 'get deployments': 1, 'patch inferenceservices/status': 1 },
      'ns/n3': { 'get deployments': 3, 'patch inferenceservices/status': 1 },
      'ns/n5': { 'get deployments': 5, 'patch inferenceservices/status': 1 },
    });
    expect(client.requests.total).to.equal(12);
    const stats = client.connectionStats().requests;
    expect(stats.socketsCreated, 'keep-alive: at most one socket per concurrent pass').to.be.within(1, 4);
  });
});

describe('manager: runnables, leader-only ones gated', () => {
  it('without leader election: caches first, then leader-only runnables; stop in reverse, leader-only first', async () => {
    const events: string[] = [];
    const r = (name: string, leader: boolean) =>
      runnable(
        name,
        leader,
        () => void events.push(`start ${name}`),
        () => void events.push(`stop ${name}`),
      );
    const m = new Manager({
      client: {} as KubeClient,
      beforeLeading: async () => void events.push('caches synced'),
    });
    m.add(r('controller', true), r('cache a', false), r('poller', true), r('cache b', false));
    await m.start();
    expect(m.isLeader).to.equal(true);
    await m.stop();
    expect(await m.done).to.equal(0);
    expect(events).to.deep.equal([
      'start cache a',
      'start cache b',
      'caches synced',
      'start controller',
      'start poller',
      'stop poller',
      'stop controller',
      'stop cache b',
      'stop cache a',
    ]);
  });

  it('a leader-only runnable that fails to start stops everything and ends with exit code 1', async () => {
    const events: string[] = [];
    const m = new Manager({ client: {} as KubeClient });
    m.add(
      runnable(
        'cache',
        false,
        () => void events.push('start cache'),
        () => void events.push('stop cache'),
      ),
      runnable('controller', true, () => {
        throw new Error('audit directory unusable');
      }),
    );
    let err: Error | undefined;
    await m.start().catch((e: Error) => (err = e));
    expect(err?.message).to.equal('audit directory unusable');
    expect(await m.done).to.equal(1);
    expect(events).to.deep.equal(['start cache', 'stop cache']);
  });
});
