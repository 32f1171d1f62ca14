// Variants from a URL: fetched once over HTTP with a size limit, cached, then served like a mounted file.
import { expect } from 'chai';
import { after, before, describe, it } from 'mocha';
import { readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveModel } from '../../../model-server/model-source.ts';
import { modelUriProblem, pvcPath } from '../../../model-server/model-uri.ts';
import { MODELS, inferBody, post, startTestServer, json } from './support.ts';

describe('model source: file:// and http(s):// variants', () => {
  let http: Server;
  let base: string;
  let hits = 0;
  let cache: string;
  const small = readFileSync(join(MODELS, 'digits-small.onnx'));
  before(async () => {
    cache = await mkdtemp(join(tmpdir(), 'cs-model-cache-'));
    http = createServer((req, res) => {
      hits++;
      if (req.url === '/digits-small.onnx') res.end(small);
      else if (req.url === '/chunked.onnx') {
        res.write(small.subarray(0, 1000));
        res.end(small.subarray(1000));
      } else {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise((r) => http.close(r));
    await rm(cache, { recursive: true, force: true });
  });

  it('downloads once into the cache and reuses it', async () => {
    const a = await resolveModel(`${base}/digits-small.onnx`, { cacheDir: cache, maxBytes: 1e6 });
    expect(a.downloaded).to.equal(true);
    expect(a.bytes).to.equal(small.length);
    expect(readFileSync(a.path).equals(small)).to.equal(true);
    const before = hits;
    const b = await resolveModel(`${base}/digits-small.onnx`, { cacheDir: cache, maxBytes: 1e6 });
    expect(b).to.deep.include({ path: a.path, downloaded: false });
    expect(hits).to.equal(before);
  });

  it('refuses a model over the size limit and leaves no partial file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cs-model-cache-'));
    try {
      let err: Error | undefined;
      try {
        await resolveModel(`${base}/chunked.onnx`, { cacheDir: dir, maxBytes: 2000 });
      } catch (e) {
        err = e as Error;
      }
      expect(err?.message).to.match(/exceeds maxModelBytes 2000/);
      expect(await readdir(dir)).to.deep.equal([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('names the URI on HTTP errors and missing files', async () => {
    let msg = '';
    await resolveModel(`${base}/nope.onnx`, { cacheDir: cache, maxBytes: 1e6 }).catch((e: Error) => (msg = e.message));
    expect(msg).to.match(/nope\.onnx: HTTP 404/);
    await resolveModel('file:///does/not/exist.onnx', { cacheDir: cache, maxBytes: 1e6 }).catch(
      (e: Error) => (msg = e.message),
    );
    expect(msg).to.match(/exist\.onnx: cannot read/);
  });

  it('a server serves a variant fetched over HTTP', async () => {
    const s = await startTestServer({
      variants: [{ name: 'digits-small', uri: `${base}/digits-small.onnx` }],
      modelCacheDir: cache,
    });
    try {
      const body = await json(post(`${s.url}/v2/models/digits/infer`, inferBody([new Array(64).fill(0)])));
      expect(body.model_version).to.equal('digits-small');
      expect(body.outputs[0].shape).to.deep.equal([1]);
    } finally {
      await s.shutdown();
    }
  });
});

describe('model source: pvc:// variants and the schemes list', () => {
  it('maps pvc://<claim>/<path> under the claim’s mount, and refuses any way out of it', () => {
    expect(pvcPath('pvc://models/v1/full.onnx', '/mnt/pvc')).to.equal('/mnt/pvc/models/v1/full.onnx');
    expect(pvcPath('pvc://models/a%20b.onnx', '/mnt/pvc')).to.equal('/mnt/pvc/models/a b.onnx');
    for (const uri of [
      'pvc://models/../x.onnx',
      'pvc://models/%2e%2e/x.onnx',
      'pvc://models/a%2F..%2F..%2Fetc%2Fpasswd',
      'pvc://models/a//b.onnx',
      'pvc://models/a/',
      'pvc://models/%E0%A4%A',
      'pvc://Models/x.onnx',
      'pvc://models',
    ])
      expect(() => pvcPath(uri, '/mnt/pvc'), uri).to.throw(/^model pvc:\/\//);
  });

  it('names the scheme and the schemes it reads for anything else', () => {
    expect(modelUriProblem('ftp://h/x.onnx')).to.equal(
      'unsupported model URI scheme ftp:// (the model server reads file://, http://, https://, pvc://)',
    );
    expect(modelUriProblem('s3://bucket/x')).to.match(/^unsupported model URI scheme s3:\/\//);
    expect(modelUriProblem('file://relative.onnx')).to.equal(
      'not of the form file:///<absolute path on a mounted volume>',
    );
    expect(modelUriProblem('models/x.onnx')).to.match(/^no URI scheme/);
    for (const ok of ['file:///m/x.onnx', 'http://h/x.onnx', 'https://h:8443/x.onnx?v=2', 'pvc://models/x.onnx'])
      expect(modelUriProblem(ok), ok).to.equal(undefined);
  });

  it('a server serves a variant from a pvc:// claim mounted under pvcMountRoot', async () => {
    const root = await mkdtemp(join(tmpdir(), 'cs-pvc-'));
    try {
      await mkdir(join(root, 'models', 'v3'), { recursive: true });
      await copyFile(join(MODELS, 'digits-small.onnx'), join(root, 'models', 'v3', 'small.onnx'));
      const s = await startTestServer({
        variants: [{ name: 'digits-small', uri: 'pvc://models/v3/small.onnx' }],
        pvcMountRoot: root,
      });
      try {
        const body = await json(post(`${s.url}/v2/models/digits/infer`, inferBody([new Array(64).fill(0)])));
        expect(body.model_version).to.equal('digits-small');
      } finally {
        await s.shutdown();
      }
      let err: Error | undefined;
      await startTestServer({
        variants: [{ name: 'digits-small', uri: 'pvc://other/small.onnx' }],
        pvcMountRoot: root,
      }).catch((e: Error) => (err = e));
      expect(err?.message).to.match(/model pvc:\/\/other\/small\.onnx: cannot read/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
