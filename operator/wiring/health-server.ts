// /healthz (a cache that has heard nothing, on the wall clock, for far longer than a watch may stay silent), /readyz (every cache has
// listed once) and /metrics, on every replica. A port in use is one line naming the flag that changes it.
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

export interface HealthSource {
  resource: { plural: string };
  synced: boolean;
  lastActivityMs: number;
}

const STALE_MS = 10 * 60_000;

export async function startHealthServer(o: {
  addr: string;
  registry: Registry;
  caches: HealthSource[];
  beforeMetrics?: () => void;
}): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const url = req.url ?? '/';
    const text = (code: number, body: string) => {
      res.writeHead(code, { 'content-type': 'text/plain' });
      res.end(body);
    };
    if (url === '/healthz') {
      const stale = o.caches
        .filter((r) => r.synced && Date.now() - r.lastActivityMs > STALE_MS)
        .map((r) => r.resource.plural);
      text(stale.length ? 500 : 200, stale.length ? `stale caches: ${stale.join(', ')}\n` : 'ok\n');
    } else if (url === '/readyz') {
      const unsynced = o.caches.filter((r) => !r.synced).map((r) => r.resource.plural);
      text(unsynced.length ? 503 : 200, unsynced.length ? `caches not synced: ${unsynced.join(', ')}\n` : 'ok\n');
    } else if (url === '/metrics') {
      o.beforeMetrics?.();
      o.registry.metrics().then(
        (body) => {
          res.writeHead(200, { 'content-type': o.registry.contentType });
          res.end(body);
        },
        () => text(500, 'metrics failed\n'),
      );
    } else text(404, 'not found\n');
  });
  const i = o.addr.lastIndexOf(':');
  const host = o.addr.slice(0, i) || '0.0.0.0';
  const port = Number(o.addr.slice(i + 1));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        new Error(
          e.code === 'EADDRINUSE'
            ? `--health-addr ${o.addr}: the port is in use (pick another with --health-addr HOST:PORT, 0 for any free port)`
            : `--health-addr ${o.addr}: ${e.message}`,
        ),
      ),
    );
    server.listen(port, host, resolve);
  });
  return {
    port: (server.address() as { port: number }).port,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
