// The client's rate limiter, bounded bodies, request accounting and error messages, against a local HTTP server
// (plain http on loopback; the TLS pool is checked against a real apiserver in test/integration/kube).
import { expect } from 'chai';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { KubeConfig } from '@kubernetes/client-node';
import { ManualClock } from '../../../operator/kube/clock.ts';
import { KubeApiError, KubeClient, KubeConnectionError } from '../../../operator/kube/kube-client.ts';
import { countRequests, parseApiPath, verbOf, type RequestRecord } from '../../../operator/kube/request-accounting.ts';

const TOKEN = 'planted-token-value-7f3a';

async function serve(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ server: Server; kc: KubeConfig }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      { name: 'c', server: `http://127.0.0.1:${(server.address() as { port: number }).port}`, skipTLSVerify: true },
    ],
    users: [{ name: 'u', token: TOKEN }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return { server, kc };
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

describe('kube client: request accounting', () => {
  it('names verbs and resources as the apiserver audit log does', () => {
    expect(verbOf('GET', '/api/v1/namespaces/ns/pods', false)).to.equal('list');
    expect(verbOf('GET', '/api/v1/namespaces/ns/pods/p', false)).to.equal('get');
    expect(verbOf('GET', '/api/v1/pods', true)).to.equal('watch');
    expect(verbOf('GET', '/api/v1/namespaces/ns', false)).to.equal('get');
    expect(verbOf('GET', '/apis/apps/v1', false)).to.equal('discovery');
    expect(verbOf('PATCH', '/apis/carbonscale.dev/v1alpha1/namespaces/a/inferenceservices/x/status', false)).to.equal(
      'patch',
    );
    expect(parseApiPath('/apis/carbonscale.dev/v1alpha1/namespaces/a/inferenceservices/x/status')).to.deep.equal({
      group: 'carbonscale.dev',
      resource: 'inferenceservices/status',
      namespace: 'a',
      name: 'x',
    });
    expect(parseApiPath('/apis/carbonscale.dev/v1alpha1/carbonsources/grid')).to.deep.equal({
      group: 'carbonscale.dev',
      resource: 'carbonsources',
      name: 'grid',
    });
    expect(parseApiPath('/api/v1/namespaces')).to.deep.equal({ group: '', resource: 'namespaces' });
  });

  it('counts every request by verb and resource, per client and per scope, with its status', async () => {
    const { server, kc } = await serve((req, res) => {
      if (req.url?.includes('missing'))
        return json(res, 404, { kind: 'Status', reason: 'NotFound', message: 'not found' });
      json(res, 200, { items: [], metadata: {} });
    });
    const records: RequestRecord[] = [];
    const client = new KubeClient(kc, { onRequest: (r) => records.push(r) });
    try {
      const { requests } = await countRequests(async () => {
        await client.list('/api/v1/namespaces/a/pods');
        await client.getOrNull('/api/v1/namespaces/a/pods/missing');
        await client.apply('/apis/apps/v1/namespaces/a/deployments/d', { kind: 'Deployment' });
      });
      await client.get('/api/v1/nodes/n1'); // outside the scope
      expect(requests.toJSON()).to.deep.equal({ 'get pods': 1, 'list pods': 1, 'patch deployments': 1 });
      expect(client.requests.toJSON()).to.deep.equal({
        'get nodes': 1,
        'get pods': 1,
        'list pods': 1,
        'patch deployments': 1,
      });
      expect(records.map((r) => `${r.verb} ${r.resource} ${r.status}`)).to.deep.equal([
        'list pods 200',
        'get pods 404',
        'patch deployments 200',
        'get nodes 200',
      ]);
      expect(client.writes).to.equal(1);
    } finally {
      client.close();
      server.close();
    }
  });
});

describe('kube client: client-side rate limit (QPS/burst) on the injected clock', () => {
  it('sends the burst at once, then one request per 1/QPS seconds; watches are not limited', async () => {
    let served = 0;
    const { server, kc } = await serve((req, res) => {
      served++;
      if (req.url?.includes('watch=true')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('');
        return;
      }
      json(res, 200, {});
    });
    const clock = new ManualClock(0);
    const client = new KubeClient(kc, { qps: 2, burst: 3, clock });
    try {
      const done: number[] = [];
      const all = Array.from({ length: 7 }, (_, i) => client.get(`/api/v1/namespaces/n${i}`).then(() => done.push(i)));
      await waitUntil(() => done.length === 3);
      await clock.advance(400);
      await settleIo();
      expect(done.length, 'before 1/QPS has passed').to.equal(3);
      await clock.advance(100);
      await waitUntil(() => done.length === 4);
      await clock.advance(1500);
      await Promise.all(all);
      expect(done).to.deep.equal([0, 1, 2, 3, 4, 5, 6]);
      const abort = new AbortController();
      await client.watch('/api/v1/pods', {}, () => undefined, abort.signal);
      expect(served).to.equal(8);
    } finally {
      client.close();
      server.close();
    }
  });

  it('rejects a rate that is not positive, naming it', () => {
    expect(() => new KubeClient(new KubeConfig(), { qps: 0 })).to.throw(/rate must be > 0 per second, got 0/);
  });
});

describe('kube client: bounded bodies and clear errors', () => {
  it('refuses a response body over maxResponseBytes and a watch line over maxWatchLineBytes', async () => {
    const { server, kc } = await serve((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      if (req.url?.includes('watch=true')) res.end(`{"type":"ADDED","object":{"data":"${'x'.repeat(5000)}"}}\n`);
      else res.end(JSON.stringify({ data: 'y'.repeat(5000) }));
    });
    const client = new KubeClient(kc, { maxResponseBytes: 1000, maxWatchLineBytes: 1000 });
    try {
      const failure = (p: Promise<unknown>) =>
        p.then(
          () => 'resolved',
          (e: Error) => e.message,
        );
      expect(await failure(client.get('/api/v1/namespaces/a/configmaps/big'))).to.equal(
        'GET /api/v1/namespaces/a/configmaps/big: response body over 1000 bytes',
      );
      expect(
        await failure(client.watch('/api/v1/configmaps', {}, () => undefined, new AbortController().signal)),
      ).to.equal('watch event line over 1000 bytes');
    } finally {
      client.close();
      server.close();
    }
  });

  it('an apiserver error keeps status and reason; a refused connection names the request; no token in either', async () => {
    const { server, kc } = await serve((_req, res) =>
      json(res, 409, { kind: 'Status', reason: 'Conflict', message: 'the object has been modified' }),
    );
    const client = new KubeClient(kc);
    let err: unknown;
    await client.update('/api/v1/namespaces/a/configmaps/c', {}).catch((e) => (err = e));
    expect(err).to.be.instanceOf(KubeApiError);
    expect((err as KubeApiError).status).to.equal(409);
    expect((err as KubeApiError).reason).to.equal('Conflict');
    expect((err as Error).message).to.equal('PUT /api/v1/namespaces/a/configmaps/c: 409 the object has been modified');
    client.close();
    await new Promise<void>((r) => server.close(() => r()));
    const dead = new KubeClient(kc);
    err = undefined;
    await dead.get('/api/v1/namespaces/a').catch((e) => (err = e));
    expect(err).to.be.instanceOf(KubeConnectionError);
    expect((err as KubeConnectionError).code).to.equal('ECONNREFUSED');
    expect((err as Error).message).to.match(/^GET \/api\/v1\/namespaces\/a: connect ECONNREFUSED/);
    expect(JSON.stringify([(err as Error).message, (err as Error).stack])).to.not.include(TOKEN);
    dead.close();
  });
});

describe('kube client: a kept-alive socket the server dropped', () => {
  it('is retried once on a fresh socket (req.reusedSocket), so the caller sees no error', async () => {
    const perSocket = new Map<unknown, number>();
    let received = 0;
    const { server, kc } = await serve((req, res) => {
      received++;
      const n = (perSocket.get(req.socket) ?? 0) + 1;
      perSocket.set(req.socket, n);
      // The second request on a socket meets a server that already gave up on it.
      if (n === 2) return req.socket.destroy();
      json(res, 200, { n });
    });
    const client = new KubeClient(kc);
    try {
      expect(await client.get('/api/v1/namespaces/a')).to.deep.equal({ n: 1 });
      expect(await client.get('/api/v1/namespaces/b')).to.deep.equal({ n: 1 });
      expect(received).to.equal(3);
      expect(client.connectionStats().requests.socketsCreated).to.equal(2);
      expect(client.requests.count('get', 'namespaces'), 'one request as the caller sees it').to.equal(2);
    } finally {
      client.close();
      server.close();
    }
  });
});

async function settleIo() {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 5));
}

async function waitUntil(cond: () => boolean) {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!cond()) throw new Error('condition never held');
}
