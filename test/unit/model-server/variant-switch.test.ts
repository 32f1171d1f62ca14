// In-place variant switch under concurrent load: the operator writes the variant name through a ConfigMap
// (kubelet's atomic writer: a timestamped folder, a `..data` symlink swapped by rename), the server notices,
// loads and warms the new session and swaps it in; >= 100 requests stay in flight and none fails.
import { expect } from 'chai';
import { after, before, describe, it } from 'mocha';
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ModelServer } from '../../../model-server/model-server.ts';
import { inferBody, loadEvalSet, metricValue, post, startTestServer, json } from './support.ts';

/** Writes `value` the way kubelet updates a ConfigMap volume. */
async function configMapWrite(dir: string, key: string, value: string, generation: number): Promise<void> {
  const ts = join(dir, `..2026_11_23_00_00_${String(generation).padStart(2, '0')}.${generation}`);
  await mkdir(ts);
  await writeFile(join(ts, key), value);
  await symlink(ts.split('/').pop()!, join(dir, '..data_tmp'));
  await rename(join(dir, '..data_tmp'), join(dir, '..data'));
  if (generation === 0) await symlink(join('..data', key), join(dir, key));
}

describe('model server: in-place variant switch', () => {
  let dir: string;
  let server: ModelServer;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cs-active-variant-'));
    await configMapWrite(dir, 'active-variant', 'digits-full\n', 0);
    server = await startTestServer({
      activeVariantFile: join(dir, 'active-variant'),
      activeVariantPollMs: 50,
      maxConcurrency: 512,
      // Batching keeps requests queued for a few ms, so that many are really in flight at the switch.
      batching: { enabled: true, maxBatchSize: 256, maxQueueDelayMs: 100 },
    });
  });
  after(async () => {
    await server?.shutdown();
    await rm(dir, { recursive: true, force: true });
  });

  it('starts on the variant named in the file', () => {
    expect(server.pool.active.name).to.equal('digits-full');
  });

  it('switches under >= 100 requests in flight with zero failed requests, and reports the switch time', async () => {
    const evalSet = loadEvalSet();
    const url = `${server.url}/v2/models/digits/infer`;
    const workers = 250;
    const served: string[] = [];
    const failures: string[] = [];
    let inFlightAtSwitch = 0;
    let stop = false;
    let switchedAt = -1;

    async function worker(w: number): Promise<void> {
      for (let i = 0; !stop; i++) {
        const row = evalSet.features[(w * 7 + i) % evalSet.features.length]!;
        try {
          const res = await post(url, inferBody([row]));
          const body = await json(res);
          if (res.status !== 200) failures.push(`${res.status} ${JSON.stringify(body)}`);
          else served.push(body.model_version);
        } catch (err) {
          failures.push(String(err));
        }
        if (switchedAt >= 0 && served.length > switchedAt + workers) stop = true;
      }
    }
    const load = Array.from({ length: workers }, (_, w) => worker(w));
    const t0 = Date.now();
    const deadline = t0 + 15_000;
    while ((server.inFlight < 100 || served.length < workers) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 1));
    inFlightAtSwitch = server.inFlight;
    const tSwitch = Date.now();
    await configMapWrite(dir, 'active-variant', 'digits-int8\n', 1);
    while (server.pool.active.name !== 'digits-int8' && Date.now() < deadline + 5000) {
      await new Promise((r) => setTimeout(r, 5));
    }
    switchedAt = served.length;
    console.log(`      load ramp ${tSwitch - t0} ms, switch seen after ${Date.now() - tSwitch} ms`);
    setTimeout(() => (stop = true), 10_000).unref();
    await Promise.all(load);

    const last = server.pool.lastSwitch!;
    console.log(
      `      switch digits-full -> digits-int8 under load: ${last.durationMs.toFixed(1)} ms ` +
        `(load + warm-up + swap), ${inFlightAtSwitch} requests in flight at the instruction, ` +
        `${served.length} served, ${failures.length} failed`,
    );
    expect(failures).to.deep.equal([]);
    expect(inFlightAtSwitch).to.be.at.least(100);
    expect(served).to.include('digits-full');
    expect(served).to.include('digits-int8');
    // Once a request was served by the new variant, none after it came from the old one... except those that
    // had already acquired the old session: they finish on it. So the served sequence has at most a short tail.
    expect(served.slice(-workers)).to.not.include('digits-full');
    expect(last).to.include({ from: 'digits-full', to: 'digits-int8', changed: true });
    expect(last.durationMs).to.be.greaterThan(0);
    expect(await metricValue(server.url, 'carbonscale_model_variant_switch_duration_seconds_count')).to.equal(1);
    expect(await metricValue(server.url, 'carbonscale_model_active_variant', { variant: 'digits-int8' })).to.equal(1);
    expect(await metricValue(server.url, 'carbonscale_model_active_variant', { variant: 'digits-full' })).to.equal(0);
    const old = await metricValue(server.url, 'carbonscale_model_requests_total', {
      variant: 'digits-full',
      code: '200',
    });
    const neu = await metricValue(server.url, 'carbonscale_model_requests_total', {
      variant: 'digits-int8',
      code: '200',
    });
    expect(old + neu).to.equal(served.length);
  });

  it('the admin endpoint switches too, only with the bearer token', async () => {
    const s = await startTestServer({}, { adminToken: 's3cret-token-0123456789' });
    try {
      const body = JSON.stringify({ variant: 'digits-small' });
      expect((await post(`${s.url}/admin/variant`, body)).status).to.equal(401);
      expect((await post(`${s.url}/admin/variant`, body, { authorization: 'Bearer wrong' })).status).to.equal(401);
      const ok = await post(`${s.url}/admin/variant`, body, { authorization: 'Bearer s3cret-token-0123456789' });
      expect(ok.status).to.equal(200);
      const result = await json(ok);
      expect(result).to.include({ from: 'digits-full', to: 'digits-small', changed: true });
      const bad = await post(`${s.url}/admin/variant`, JSON.stringify({ variant: 'nope' }), {
        authorization: 'Bearer s3cret-token-0123456789',
      });
      expect(bad.status).to.equal(400);
      const inferred = await json(post(`${s.url}/v2/models/digits/infer`, inferBody([new Array(64).fill(0)])));
      expect(inferred.model_version).to.equal('digits-small');
    } finally {
      await s.shutdown();
    }
  });

  it('a variant name the server does not know leaves the current variant serving', async () => {
    const before = server.pool.active.name;
    await configMapWrite(dir, 'active-variant', 'digits-huge\n', 2);
    await new Promise((r) => setTimeout(r, 200));
    expect(server.pool.active.name).to.equal(before);
    expect((await post(`${server.url}/v2/models/digits/infer`, inferBody([new Array(64).fill(0)]))).status).to.equal(
      200,
    );
  });

  it('a request holding the old session finishes on it; the old session is released after (unloadInactive)', async () => {
    const s = await startTestServer({ unloadInactive: true });
    try {
      const held = s.pool.acquire();
      expect(held.name).to.equal('digits-full');
      const result = await s.switchVariant('digits-small');
      expect(result.changed).to.equal(true);
      expect(s.pool.active.name).to.equal('digits-small');
      // Still usable: the switch did not release a session that a request holds.
      const ort = await import('onnxruntime-node');
      const out = await held.session.run({ input: new ort.Tensor('float32', new Float32Array(64), [1, 64]) });
      expect(out['label']!.dims).to.deep.equal([1]);
      expect(held.retired).to.equal(true);
      s.pool.release(held);
      await new Promise((r) => setTimeout(r, 20));
      let released = false;
      try {
        await held.session.run({ input: new ort.Tensor('float32', new Float32Array(64), [1, 64]) });
      } catch {
        released = true;
      }
      expect(released, 'old session released after its last holder').to.equal(true);
    } finally {
      await s.shutdown();
    }
  });
});
