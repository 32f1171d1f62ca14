// The Event series logic against a local HTTP server that records what the recorder sends (the real apiserver's
// answers, immutable note included, are checked in test/integration/kube/kube-layer.test.ts).
import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import { KubeConfig } from '@kubernetes/client-node';
import { ManualClock } from '../../../operator/kube/clock.ts';
import { EventRecorder, seriesKey } from '../../../operator/kube/events.ts';
import { KubeClient } from '../../../operator/kube/kube-client.ts';

const target = {
  apiVersion: 'carbonscale.dev/v1alpha1',
  kind: 'InferenceService',
  name: 'svc',
  namespace: 'ns',
  uid: 'u1',
};
const pending = (n: number) => ({
  type: 'Warning' as const,
  reason: 'PodsPending',
  action: 'Scale',
  note: `${n} pods pending`,
});

async function recorderAgainst(answer: (method: string, url: string) => number) {
  const seen: Array<{ method: string; url: string; body: Record<string, unknown> }> = [];
  const server: Server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!.split('?')[0]!, body: text ? JSON.parse(text) : {} });
      const status = answer(req.method!, req.url!);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(status < 300 ? '{}' : JSON.stringify({ kind: 'Status', code: status, reason: String(status) }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      { name: 'c', server: `http://127.0.0.1:${(server.address() as { port: number }).port}`, skipTLSVerify: true },
    ],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  const client = new KubeClient(kc);
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const rec = new EventRecorder(client, { clock, instance: 'test' });
  return { rec, seen, clock, close: () => (client.close(), server.close()) };
}

describe('events: one series per object, reason and action', () => {
  it('the series key ignores the note and separates reasons, actions and objects', () => {
    expect(seriesKey(target, pending(1))).to.equal(seriesKey(target, pending(7)));
    expect(seriesKey(target, pending(1))).to.not.equal(seriesKey(target, { ...pending(1), reason: 'Scaled' }));
    expect(seriesKey(target, pending(1))).to.not.equal(seriesKey(target, { ...pending(1), action: 'Swap' }));
    expect(seriesKey(target, pending(1))).to.not.equal(seriesKey({ ...target, kind: 'Deployment' }, pending(1)));
  });

  it('creates once, then patches: a new note through core/v1 (message), the same note through events.k8s.io', async () => {
    const { rec, seen, clock, close } = await recorderAgainst(() => 200);
    try {
      await rec.record(target, pending(1));
      await clock.advance(1000);
      await rec.record(target, pending(2));
      // The same note again: counted, written with the next heartbeat (5 min after the last write).
      await rec.record(target, pending(2));
      await clock.advance(5 * 60_000);
      await rec.record(target, pending(2));
      const [create, changed, same] = seen;
      expect(seen).to.have.length(3);
      expect(create!.method).to.equal('POST');
      expect(create!.url).to.equal('/apis/events.k8s.io/v1/namespaces/ns/events');
      const name = (create!.body.metadata as { name: string }).name;
      expect(changed!.url).to.equal(`/api/v1/namespaces/ns/events/${name}`);
      expect(changed!.body).to.deep.equal({
        message: '2 pods pending',
        series: { count: 2, lastObservedTime: '2026-01-01T00:00:01.000000Z' },
      });
      expect(same!.url).to.equal(`/apis/events.k8s.io/v1/namespaces/ns/events/${name}`);
      expect(same!.body).to.deep.equal({ series: { count: 4, lastObservedTime: '2026-01-01T00:05:01.000000Z' } });
    } finally {
      close();
    }
  });

  it('a standing situation re-reported every pass writes once per heartbeat, with the exact count', async () => {
    const { rec, seen, clock, close } = await recorderAgainst(() => 200);
    try {
      // PodsPending with the same note every 5 s for 20 minutes (a rollout poll while no GPU is free): 241 passes.
      for (let t = 0; t <= 20 * 60; t += 5) {
        if (t > 0) await clock.advance(5000);
        await rec.record(target, pending(2));
      }
      expect(seen.map((s) => s.method)).to.deep.equal(['POST', 'PATCH', 'PATCH', 'PATCH', 'PATCH']);
      expect(seen.slice(1).map((s) => s.body.series)).to.deep.equal(
        [5, 10, 15, 20].map((min) => ({
          count: (min * 60) / 5 + 1,
          lastObservedTime: `2026-01-01T00:${String(min).padStart(2, '0')}:00.000000Z`,
        })),
      );
    } finally {
      close();
    }
  });

  it('a series past its window, or whose Event is gone (404), starts a new Event', async () => {
    let gone = false;
    const { rec, seen, clock, close } = await recorderAgainst((m) => (gone && m === 'PATCH' ? 404 : 200));
    try {
      await rec.record(target, pending(1));
      await clock.advance(11 * 60_000);
      await rec.record(target, pending(1));
      gone = true;
      await rec.record(target, pending(2)); // a new note: written at once, and the 404 found
      expect(seen.map((s) => s.method)).to.deep.equal(['POST', 'POST', 'PATCH', 'POST']);
    } finally {
      close();
    }
  });

  it('without permission to patch core Events (403) it keeps counting through events.k8s.io and stops trying core', async () => {
    const { rec, seen, close } = await recorderAgainst((m, url) =>
      m === 'PATCH' && url.startsWith('/api/v1/') ? 403 : 200,
    );
    try {
      for (const n of [1, 2, 3, 4]) await rec.record(target, pending(n));
      expect(seen.map((s) => `${s.method} ${s.url.split('/').slice(0, 3).join('/')}`)).to.deep.equal([
        'POST /apis/events.k8s.io',
        'PATCH /api/v1',
        'PATCH /apis/events.k8s.io',
        'PATCH /apis/events.k8s.io',
        'PATCH /apis/events.k8s.io',
      ]);
      expect((seen.at(-1)!.body.series as { count: number }).count).to.equal(4);
    } finally {
      close();
    }
  });

  it('concurrent repeats of one series make one Event, not one per caller', async () => {
    const { rec, seen, close } = await recorderAgainst(() => 200);
    try {
      await Promise.all([1, 2, 3].map((n) => rec.record(target, pending(n))));
      expect(seen.filter((s) => s.method === 'POST')).to.have.length(1);
      expect(seen).to.have.length(3);
    } finally {
      close();
    }
  });
});
