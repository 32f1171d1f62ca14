// kube-config.ts loads client-node's KubeConfig without its generated API client (client-node-gen-lazy.ts). Run in
// a fresh process each, since a module is loaded once per process: the generated client stays unloaded through
// loading a kubeconfig and applying its credentials; makeApiClient still gets the genuine client; and the shim
// offers every name config.js imports from the generated client, so an upgrade that adds one fails here.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { describe, it } from 'mocha';
import * as lazy from '../../../operator/kube/client-node-gen-lazy.ts';

const KUBE_CONFIG_TS = new URL('../../../operator/kube/kube-config.ts', import.meta.url).href;

function kubeconfigFile(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'cs-kc-'));
  const file = path.join(dir, 'kubeconfig');
  writeFileSync(
    file,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443", insecure-skip-tls-verify: true}}]',
      'users: [{name: u, user: {token: planted-token-5b1d}}]',
      'contexts: [{name: x, context: {cluster: c, user: u}}]',
      'current-context: x',
    ].join('\n'),
  );
  return file;
}

/** Runs `body` in a fresh node process after importing kube-config.ts; prints what it returns as JSON. */
function inFreshProcess(body: string): Record<string, unknown> {
  const script = `
    import { registerHooks } from 'node:module';
    const gen = [];
    registerHooks({ load(url, context, next) {
      if (url.includes('/@kubernetes/client-node/dist/gen/') && !url.endsWith('/rxjsStub.js')) gen.push(url);
      return next(url, context);
    } });
    const { loadKubeConfig } = await import(${JSON.stringify(KUBE_CONFIG_TS)});
    const out = await (async () => { ${body} })();
    console.log(JSON.stringify(out));`;
  const stdout = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: process.cwd(),
    env: { ...process.env, KUBECONFIG: kubeconfigFile() },
    encoding: 'utf8',
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

describe('kube config: KubeConfig without the generated API client', () => {
  it('loads a kubeconfig and applies its token with no module of the generated client loaded', () => {
    const out = inFreshProcess(`
      const kc = loadKubeConfig();
      const o = {};
      await kc.applyToHTTPSOptions(o);
      return { server: kc.getCurrentCluster().server, auth: o.headers?.Authorization, gen: gen.length };`);
    expect(out).to.deep.equal({ server: 'https://127.0.0.1:6443', auth: 'Bearer planted-token-5b1d', gen: 0 });
  });

  it('makeApiClient still works: the genuine client sends the request with the kubeconfig’s token', () => {
    const out = inFreshProcess(`
      const http = await import('node:http');
      const seen = [];
      const server = http.createServer((req, res) => {
        seen.push({ method: req.method, url: req.url, auth: req.headers.authorization });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ kind: 'NamespaceList', apiVersion: 'v1', metadata: {}, items: [{ metadata: { name: 'n1' } }] }));
      });
      await new Promise((r) => server.listen(0, '127.0.0.1', r));
      const KubeConfig = loadKubeConfig().constructor;
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: [{ name: 'c', server: 'http://127.0.0.1:' + server.address().port, skipTLSVerify: true }],
        users: [{ name: 'u', token: 'planted-token-5b1d' }],
        contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
        currentContext: 'x',
      });
      const k8s = await import('@kubernetes/client-node');
      const list = await kc.makeApiClient(k8s.CoreV1Api).listNamespace();
      server.close();
      return { names: list.items.map((n) => n.metadata.name), seen, loaded: gen.some((u) => u.endsWith('/dist/gen/index.js')) };`);
    expect(out).to.deep.equal({
      names: ['n1'],
      seen: [{ method: 'GET', url: '/api/v1/namespaces', auth: 'Bearer planted-token-5b1d' }],
      loaded: true,
    });
  });

  it('offers every name that client-node’s config.js imports from the generated client', () => {
    const require = createRequire(import.meta.url);
    const configJs = readFileSync(require.resolve('@kubernetes/client-node/dist/config.js'), 'utf8');
    const imports = [...configJs.matchAll(/import\s*\{([^}]*)\}\s*from\s*'\.\/gen\/index\.js'/g)];
    expect(imports, 'config.js imports from ./gen/index.js').to.have.length(1);
    const names = imports[0]![1]!
      .split(',')
      .map((n) => n.trim())
      .filter(Boolean);
    expect(names.length).to.be.above(0);
    for (const n of names) expect(lazy, n).to.have.property(n);
  });
});
