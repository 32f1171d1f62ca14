// Variants from a URL: fetched once over HTTP with a size limit, cached, then served like a mounted file.
import { expect } from 'chai';
import { after, before, describe, it } from 'mocha';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveModel } from '../../../model-server/model-source.ts';
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
