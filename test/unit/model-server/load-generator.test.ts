// The bench's and profiler's load generator against a real node:http server: every answer is counted by status,
// a server that closes the connection after an answer is reconnected to, and one that answers without
// Content-Length counts as a failure instead of hanging the run.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { percentile, runLoad } from '../../../model-server/load-generator.ts';

async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v2/models/m/infer` };
}

describe('model server: load generator', () => {
  it('counts every answer by status, over keep-alive and after the server closes connections', async () => {
    let seen = 0;
    const byStatus: Record<string, number> = {};
    const bodiesSeen = new Set<string>();
    const { server, url } = await listen((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString();
        bodiesSeen.add(body);
        const n = ++seen;
        // Every 7th answer is a 400 that closes the connection, like the server's oversized-body answer.
        const status = n % 7 === 0 ? 400 : 200;
        byStatus[status] = (byStatus[status] ?? 0) + 1;
        const text = JSON.stringify({ n });
        res.writeHead(status, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(text),
          ...(status === 400 ? { connection: 'close' } : {}),
        });
        res.end(text);
      });
    });
    try {
      const bodies = [Buffer.from('{"a":1}'), Buffer.from('{"b":2}')];
      const r = await runLoad({ url, bodies, concurrency: 4, durationMs: 300 });
      expect(r.requests).to.be.greaterThan(20);
      expect(r.requests).to.equal(seen);
      expect(r.statuses).to.deep.equal(byStatus);
      expect(r.failures).to.equal(byStatus['400']);
      expect([...bodiesSeen].sort()).to.deep.equal(['{"a":1}', '{"b":2}']);
      expect(r.latenciesMs).to.have.length(r.requests);
      expect(percentile(r.latenciesMs, 50)).to.be.at.most(percentile(r.latenciesMs, 95));
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('a response without Content-Length is a failure, not a hang', async () => {
    const { server, url } = await listen((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }); // chunked: no Content-Length
      res.end('{}');
    });
    try {
      const r = await runLoad({ url, bodies: [Buffer.from('{}')], concurrency: 2, durationMs: 200 });
      expect(r.requests).to.be.greaterThan(0);
      expect(r.failures).to.equal(r.requests);
      expect(r.statuses).to.have.keys(['error']);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('a refused connection is a failure for every attempt', async () => {
    const { server, url } = await listen(() => undefined);
    await new Promise((r) => server.close(r));
    const r = await runLoad({ url, bodies: [Buffer.from('{}')], concurrency: 1, durationMs: 100 });
    expect(r.requests).to.be.greaterThan(0);
    expect(r.failures).to.equal(r.requests);
  });
});
