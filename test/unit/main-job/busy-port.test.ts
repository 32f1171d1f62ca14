// A busy port (operator/main-job/busy-port.ts) against a real listening socket: the error names the port, what it
// is for and the flag that changes it, a free port passes; and the real main job, started as a user starts it with
// that port held, exits 1 with that one line on stderr and no stack trace, before anything slow starts.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertPortFree, BusyPortError } from '../../../operator/main-job/busy-port.ts';
import { ROOT, type Run } from '../cli/run-cli.ts';

const HOST = '127.0.0.1';

function listen(port = 0): Promise<Server> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(port, HOST, () => resolve(srv));
  });
}
const portOf = (srv: Server) => (srv.address() as AddressInfo).port;
const close = (srv: Server) => new Promise<void>((resolve) => srv.close(() => resolve()));

/** The CLI as a subprocess; killed if it outlives the guard, which fails the test (a null exit code), not a timing. */
function operator(args: string[], guardMs = 25_000): Promise<Run> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [join(ROOT, 'operator/cli.ts'), 'operator', ...args], {
      cwd: ROOT,
      env: { ...process.env, KUBECONFIG: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const guard = setTimeout(() => p.kill('SIGKILL'), guardMs);
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('close', (code) => {
      clearTimeout(guard);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('busy port', () => {
  let held: Server;
  let port: number;
  beforeEach(async () => {
    held = await listen();
    port = portOf(held);
  });
  afterEach(() => close(held));

  it('a port held by another listener: BusyPortError naming the port, its purpose and the flag', async () => {
    const err = await assertPortFree('--health-addr', `${HOST}:${port}`, 'health, readiness and /metrics').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(BusyPortError);
    const msg = (err as Error).message;
    expect(msg).to.contain(`port ${port} (health, readiness and /metrics) is already in use on ${HOST}`);
    expect(msg).to.contain(`pick another port with --health-addr ${HOST}:PORT`);
    expect(msg).not.to.match(/EADDRINUSE|\n/);
  });

  it('a free port passes, and stays free afterwards (the check does not keep it)', async () => {
    await close(held);
    await assertPortFree('--health-addr', `${HOST}:${port}`, 'health');
    held = await listen(port);
    expect(portOf(held)).to.equal(port);
  });

  it('port 0 passes without binding; a malformed address names the flag', async () => {
    await assertPortFree('--health-addr', `${HOST}:0`, 'health');
    for (const bad of ['8081', `${HOST}:70000`, `${HOST}:x`])
      await assertPortFree('--health-addr', bad, 'health').then(
        () => expect.fail(`${bad} accepted`),
        (e: Error) => {
          expect(e).to.be.instanceOf(BusyPortError);
          expect(e.message).to.equal(`--health-addr ${bad}: expected HOST:PORT with a port in 0..65535`);
        },
      );
  });

  it('the main job with --health-addr on a held port: exit 1, one line on stderr naming the flag, no stack', async () => {
    // A kubeconfig that parses, so the embedded control plane is not started; its server is never reached
    // because the port check comes before the operator does anything with the cluster.
    const dir = mkdtempSync(join(tmpdir(), 'busy-port-'));
    try {
      const kubeconfig = join(dir, 'kubeconfig');
      writeFileSync(
        kubeconfig,
        [
          'apiVersion: v1',
          'kind: Config',
          'clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]',
          'users: [{name: u, user: {token: t}}]',
          'contexts: [{name: x, context: {cluster: c, user: u}}]',
          'current-context: x',
          '',
        ].join('\n'),
      );
      const r = await operator(['--kubeconfig', kubeconfig, '--health-addr', `${HOST}:${port}`]);
      expect(r.code, r.stderr).to.equal(1);
      const lines = r.stderr.split('\n').filter(Boolean);
      expect(lines, r.stderr).to.have.length(1);
      expect(lines[0]).to.equal(
        `carbonscale operator: port ${port} (health, readiness and /metrics) is already in use on ${HOST}: stop ` +
          `what holds it, or pick another port with --health-addr ${HOST}:PORT (${HOST}:0 picks a free one)`,
      );
      expect(r.stderr).not.to.match(/^\s+at /m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
