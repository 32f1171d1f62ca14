// Test helpers over the local control plane: one control plane per test file (started in `before`, stopped in
// `after`, also on failure), namespaces per test, and `waitFor` with a failure message that shows the object.
import * as k8s from '@kubernetes/client-node';
import { LocalControlPlane, type ControlPlaneOptions } from '../../operator/local-cluster/control-plane.ts';

export interface ClusterHandle {
  cp: LocalControlPlane;
  kc: k8s.KubeConfig;
  core: k8s.CoreV1Api;
  apps: k8s.AppsV1Api;
}

/** Registers before/after hooks in the calling `describe` and returns an accessor for the running cluster. */
export function useControlPlane(opts: ControlPlaneOptions = {}): () => ClusterHandle {
  let handle: ClusterHandle | undefined;
  before(async function () {
    this.timeout(180_000);
    const cp = await new LocalControlPlane(opts).start();
    const kc = cp.adminConfig();
    handle = { cp, kc, core: kc.makeApiClient(k8s.CoreV1Api), apps: kc.makeApiClient(k8s.AppsV1Api) };
  });
  after(async function () {
    this.timeout(60_000);
    await handle?.cp.stop();
  });
  return () => {
    if (!handle) throw new Error('control plane not started (did before() fail?)');
    return handle;
  };
}

let nsCounter = 0;
export async function createNamespace(core: k8s.CoreV1Api, prefix = 'test'): Promise<string> {
  const name = `${prefix}-${process.pid}-${++nsCounter}`;
  await core.createNamespace({ body: { metadata: { name } } });
  return name;
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false>,
  opts: { timeoutMs?: number; intervalMs?: number; show?: () => Promise<unknown> } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined && v !== null && v !== false) return v;
    } catch (e) {
      lastErr = e;
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 250));
  }
  let shown = '';
  if (opts.show) {
    try {
      shown = `\nobject: ${JSON.stringify(await opts.show(), null, 2).slice(0, 4000)}`;
    } catch (e) {
      shown = `\n(could not read the object: ${(e as Error).message})`;
    }
  }
  throw new Error(
    `timed out after ${opts.timeoutMs ?? 30_000} ms waiting for ${what}` +
      (lastErr ? ` (last error: ${(lastErr as Error).message})` : '') +
      shown,
  );
}

/** The HTTP status of a failed client-node call (ApiException.code), or undefined. */
export function statusOf(e: unknown): number | undefined {
  const c = (e as { code?: unknown }).code;
  return typeof c === 'number' ? c : undefined;
}
