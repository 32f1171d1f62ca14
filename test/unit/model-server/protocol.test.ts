// The Open Inference Protocol v2 REST endpoints, field by field, through a real HTTP client.
import { expect } from 'chai';
import { after, before, describe, it } from 'mocha';
import * as ort from 'onnxruntime-node';
import { join } from 'node:path';
import type { ModelServer } from '../../../model-server/model-server.ts';
import { MODELS, inferBody, loadEvalSet, post, startTestServer, json } from './support.ts';

describe('model server: Open Inference Protocol v2', () => {
  let server: ModelServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server?.shutdown();
  });

  it('health: live and ready answer 200 with an empty body', async () => {
    for (const path of ['/v2/health/live', '/v2/health/ready', '/v2/models/digits/ready']) {
      const res = await fetch(server.url + path);
      expect(res.status, path).to.equal(200);
      expect(await res.text(), path).to.equal('');
    }
  });

  it('server metadata: name, version, extensions', async () => {
    const res = await fetch(`${server.url}/v2`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.equal('application/json');
    const body = await json(res);
    expect(Object.keys(body).sort()).to.deep.equal(['extensions', 'name', 'version']);
    expect(body.name).to.equal('carbonscale');
    expect(body.version).to.be.a('string');
    expect(body.extensions).to.be.an('array');
  });

  it('model metadata: name, versions (the variants), platform, inputs and outputs with datatype and shape', async () => {
    const body = await json(fetch(`${server.url}/v2/models/digits`));
    expect(body).to.deep.equal({
      name: 'digits',
      versions: ['digits-full', 'digits-small', 'digits-int8'],
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 64] }],
      outputs: [
        { name: 'label', datatype: 'INT64', shape: [-1] },
        { name: 'probabilities', datatype: 'FP32', shape: [-1, 10] },
      ],
    });
    const v = await fetch(`${server.url}/v2/models/digits/versions/digits-small`);
    expect(v.status).to.equal(200);
    expect(await fetch(`${server.url}/v2/models/digits/versions/digits-small/ready`).then((r) => r.status)).to.equal(
      200,
    );
  });

  it('infer: response fields and tensors equal onnxruntime run on the same model', async () => {
    const evalSet = loadEvalSet();
    const rows = evalSet.features.slice(0, 3);
    const res = await post(`${server.url}/v2/models/digits/infer`, inferBody(rows, 'req-42'));
    expect(res.status).to.equal(200);
    const body = await json(res);
    expect(Object.keys(body).sort()).to.deep.equal(['id', 'model_name', 'model_version', 'outputs']);
    expect(body.model_name).to.equal('digits');
    expect(body.model_version).to.equal('digits-full');
    expect(body.id).to.equal('req-42');
    const [label, probs] = body.outputs;
    expect(Object.keys(label).sort()).to.deep.equal(['data', 'datatype', 'name', 'shape']);
    expect(label).to.include({ name: 'label', datatype: 'INT64' });
    expect(label.shape).to.deep.equal([3]);
    expect(probs).to.include({ name: 'probabilities', datatype: 'FP32' });
    expect(probs.shape).to.deep.equal([3, 10]);
    expect(probs.data).to.have.length(30);

    // The same model run directly, independently of the server's code path.
    const session = await ort.InferenceSession.create(join(MODELS, 'digits-full.onnx'));
    const direct = await session.run({ input: new ort.Tensor('float32', Float32Array.from(rows.flat()), [3, 64]) });
    expect(label.data).to.deep.equal(Array.from(direct['label']!.data as BigInt64Array, Number));
    const want = Array.from(direct['probabilities']!.data as Float32Array);
    (probs.data as number[]).forEach((p, i) => expect(p).to.be.closeTo(want[i]!, 1e-6));
    await session.release();
  });

  it('infer: nested data, requested outputs subset, and no id when none was sent', async () => {
    const rows = loadEvalSet().features.slice(0, 2);
    const res = await post(
      `${server.url}/v2/models/digits/infer`,
      JSON.stringify({
        inputs: [{ name: 'input', shape: [2, 64], datatype: 'FP32', data: rows }],
        outputs: [{ name: 'label' }],
      }),
    );
    expect(res.status).to.equal(200);
    const body = await json(res);
    expect(body).to.not.have.property('id');
    expect(body.outputs.map((o: { name: string }) => o.name)).to.deep.equal(['label']);
    expect(body.outputs[0].data).to.have.length(2);
  });

  it('infer: the full model gets most of the evaluation set right (it is a real classifier)', async () => {
    const evalSet = loadEvalSet();
    const rows = evalSet.features.slice(0, 100);
    const body = await json(post(`${server.url}/v2/models/digits/infer`, inferBody(rows)));
    const correct = (body.outputs[0].data as number[]).filter((l, i) => l === evalSet.labels[i]).length;
    expect(correct).to.be.greaterThan(90);
  });

  it('metrics: Prometheus text with the model server metrics by variant', async () => {
    const res = await fetch(`${server.url}/metrics`);
    expect(res.headers.get('content-type')).to.match(/^text\/plain/);
    const text = await res.text();
    for (const name of [
      'carbonscale_model_requests_total{',
      'carbonscale_model_inferences_total{',
      'carbonscale_model_request_duration_seconds_bucket{',
      'carbonscale_model_batch_size_bucket{',
      'carbonscale_model_compute_seconds_total{',
      'carbonscale_model_active_variant{variant="digits-full",model="digits"} 1',
      'carbonscale_model_active_variant{variant="digits-small",model="digits"} 0',
      'process_cpu_seconds_total',
    ]) {
      expect(text, name).to.include(name);
    }
  });
});
