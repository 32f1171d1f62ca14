// A port the main job must bind, checked before anything slow starts (the embedded control plane takes seconds):
// a port in use is one line that names the flag changing it, never a stack trace after the start-up.
import { createServer } from 'node:net';

export class BusyPortError extends Error {
  override name = 'BusyPortError';
}

/** Splits HOST:PORT (IPv6 in brackets); throws naming the flag. */
export function hostPort(flag: string, addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(':');
  const port = Number(addr.slice(i + 1));
  if (i < 0 || !Number.isInteger(port) || port < 0 || port > 65535)
    throw new BusyPortError(`${flag} ${addr}: expected HOST:PORT with a port in 0..65535`);
  return { host: addr.slice(0, i).replace(/^\[|\]$/g, '') || '0.0.0.0', port };
}

/** Resolves when HOST:PORT can be bound now (port 0 always can); otherwise a BusyPortError naming the flag. */
export async function assertPortFree(flag: string, addr: string, what: string): Promise<void> {
  const { host, port } = hostPort(flag, addr);
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const srv = createServer();
    srv.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        new BusyPortError(
          e.code === 'EADDRINUSE'
            ? `port ${port} (${what}) is already in use on ${host}: stop what holds it, or pick another port with ${flag} ${host}:PORT (${host}:0 picks a free one)`
            : `${flag} ${addr}: cannot listen there (${e.code ?? e.message})`,
        ),
      ),
    );
    srv.listen(port, host, () => srv.close(() => resolve()));
  });
}
