// Every route the model server answers is in routes.ts, and no admin route is reachable without a token (issue 15
// §4): each listed route answers as documented, paths outside the table are 404, the variant switch is disabled
// without a token and refuses a missing or wrong one, a short token is refused at start, and the pods the operator
// renders carry no token at all — the operator switches through the mounted active-variant file instead.
import { expect } from 'chai';
import { after, before, describe, it } from 'mocha';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MIN_ADMIN_TOKEN_LENGTH } from '../../../model-server/admin-token.ts';
import { parseServerConfig } from '../../../model-server/config.ts';
import type { ModelServer } from '../../../model-server/model-server.ts';
import { ROUTES } from '../../../model-server/routes.ts';
import { withDefaults } from '../../../operator/api/defaults.ts';
import { ACTIVE_VARIANT_DIR } from '../../../operator/constants.ts';
import { render } from '../../../operator/reconciler/render.ts';
import { service } from '../reconciler/fake-cluster.ts';
import { ROOT, inferBody, json, post, startTestServer } from './support.ts';

const TOKEN = 'a-long-admin-token-0123';

/** A concrete request for each route's documented path. */
function example(path: string): string {
  return path.replace('{model}', 'digits').replace('[/versions/{version}]', '');
}

describe('model server: the route table', () => {
  let open: ModelServer;
  let guarded: ModelServer;
  before(async () => {
    open = await startTestServer();
    guarded = await startTestServer({}, { adminToken: TOKEN });
  });
  after(async () => {
    await open?.shutdown();
    await guarded?.shutdown();
  });

  it('lists every route once, and only the variant switch is an admin route (token)', () => {
    expect(ROUTES.map((r) => `${r.methods.join('|')} ${r.path} ${r.access}`)).to.deep.equal([
      'GET|HEAD /v2/health/live public',
      'GET|HEAD /v2/health/ready public',
      'GET|HEAD /v2 public',
      'GET /metrics public',
      'GET|POST /admin/variant admin-token',
      'GET|HEAD /v2/models/{model}[/versions/{version}] public',
      'GET|HEAD /v2/models/{model}[/versions/{version}]/ready public',
      'POST /v2/models/{model}[/versions/{version}]/infer public',
    ]);
  });

  it('each public route answers its documented methods, and 405 names the allowed ones otherwise', async () => {
    for (const r of ROUTES.filter((x) => x.access === 'public')) {
      const url = `${open.url}${example(r.path)}`;
      const method = r.methods[0]!;
      const res =
        method === 'POST' ? await post(url, inferBody([new Array(64).fill(0)])) : await fetch(url, { method });
      expect(res.status, `${method} ${r.path}`).to.equal(200);
      await res.arrayBuffer();
      const wrong = await fetch(url, { method: method === 'POST' ? 'GET' : 'DELETE' });
      expect(wrong.status, `wrong method on ${r.path}`).to.equal(405);
      expect(wrong.headers.get('allow')).to.equal(r.methods.filter((m) => m !== 'HEAD').join(', '));
      await wrong.arrayBuffer();
    }
  });

  it('paths outside the table are 404, admin-looking ones included', async () => {
    for (const p of [
      '/admin',
      '/admin/reload',
      '/admin/variant/x',
      '/debug/pprof',
      '/v2/repository/index',
      '/v2/models/digits/load',
      '/v2/models/digits/versions/digits-full/unload',
    ]) {
      const res = await fetch(`${open.url}${p}`, { method: 'POST', body: '{}' });
      expect(res.status, p).to.equal(404);
      expect((await json(res)).error).to.equal(`no route for POST ${p}`);
    }
  });

  it('without a token the variant switch is disabled; with one it refuses a missing or wrong token', async () => {
    const body = JSON.stringify({ variant: 'digits-small' });
    for (const req of [fetch(`${open.url}/admin/variant`), post(`${open.url}/admin/variant`, body)]) {
      const res = await req;
      expect(res.status).to.equal(404);
      expect((await json(res)).error).to.match(/admin endpoint disabled: no admin token configured/);
    }
    for (const auth of [undefined, 'Bearer wrong-token-of-some-length', `Basic ${TOKEN}`, TOKEN]) {
      const res = await post(`${guarded.url}/admin/variant`, body, auth ? { authorization: auth } : {});
      expect(res.status, String(auth)).to.equal(401);
      expect(res.headers.get('www-authenticate')).to.equal('Bearer');
      await res.arrayBuffer();
    }
    expect(guarded.pool.active.name).to.equal('digits-full');
    const ok = await post(`${guarded.url}/admin/variant`, body, { authorization: `Bearer ${TOKEN}` });
    expect(ok.status).to.equal(200);
    expect(guarded.pool.active.name).to.equal('digits-small');
  });

  it(`refuses to start with an admin token shorter than ${MIN_ADMIN_TOKEN_LENGTH} characters, naming its source`, async () => {
    let err: Error | undefined;
    await startTestServer({}, { adminToken: 'short' }).catch((e: Error) => (err = e));
    expect(err?.message).to.equal('adminToken: the admin token has 5 characters; at least 16 are required');
    const prev = process.env['CARBONSCALE_ADMIN_TOKEN'];
    process.env['CARBONSCALE_ADMIN_TOKEN'] = 'abc';
    try {
      await startTestServer().catch((e: Error) => (err = e));
      expect(err?.message).to.match(/^CARBONSCALE_ADMIN_TOKEN: the admin token has 3 characters/);
    } finally {
      if (prev === undefined) delete process.env['CARBONSCALE_ADMIN_TOKEN'];
      else process.env['CARBONSCALE_ADMIN_TOKEN'] = prev;
    }
  });

  it('docs/model-server.md lists every route of the table', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'model-server.md'), 'utf8');
    for (const r of ROUTES) expect(doc, r.path).to.include(`\`${r.path}\``);
  });
});

describe('the pods the operator renders: no admin token; the switch goes through the mounted file', () => {
  it('server.json has no adminTokenFile, the container no CARBONSCALE_ADMIN_TOKEN, and the file lies in the mounted ConfigMap', () => {
    const r = render(withDefaults(service('svc')), 'small', 2);
    const cm = r.configMap as { data: Record<string, string> };
    const raw = JSON.parse(cm.data['server.json']!);
    const config = parseServerConfig(raw, '/');
    expect(config.adminTokenFile).to.equal(undefined);
    const pod = (r.deployment as any).spec.template.spec; // eslint-disable-line @typescript-eslint/no-explicit-any
    const c = pod.containers[0];
    expect((c.env ?? []).map((e: { name: string }) => e.name)).to.not.include('CARBONSCALE_ADMIN_TOKEN');
    expect(c.envFrom).to.equal(undefined);
    const mount = c.volumeMounts.find((m: { mountPath: string }) => m.mountPath === ACTIVE_VARIANT_DIR);
    expect(pod.volumes.find((v: { name: string }) => v.name === mount.name).configMap.name).to.equal('svc-carbonscale');
    // The server reads the variant from the key the operator writes, in the ConfigMap the pod mounts.
    expect(config.activeVariantFile).to.equal(`${ACTIVE_VARIANT_DIR}/active-variant`);
    expect(cm.data['active-variant']).to.equal('small');
  });
});
