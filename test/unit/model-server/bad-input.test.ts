// Every kind of bad input gets a 4xx whose message names what is wrong, and the server keeps serving.
import { expect } from 'chai';
import { after, before, describe, it } from 'mocha';
import { request } from 'node:http';
import type { ModelServer } from '../../../model-server/model-server.ts';
import { inferBody, metricValue, post, startTestServer, json } from './support.ts';

function tensor(over: Record<string, unknown>): string {
  return JSON.stringify({
    inputs: [{ name: 'input', shape: [1, 64], datatype: 'FP32', data: new Array(64).fill(1), ...over }],
  });
}

describe('model server: bad input', () => {
  let server: ModelServer;
  let infer: string;
  before(async () => {
    server = await startTestServer({
      bodyLimitBytes: 4096,
      maxConcurrency: 4,
      batching: { enabled: true, maxQueueDelayMs: 200 },
    });
    infer = `${server.url}/v2/models/digits/infer`;
  });
  after(async () => {
    await server?.shutdown();
  });

  async function expectError(res: Response, status: number, pattern: RegExp): Promise<void> {
    expect(res.status).to.equal(status);
    expect(res.headers.get('content-type')).to.equal('application/json');
    const body = await json(res);
    expect(Object.keys(body)).to.deep.equal(['error']);
    expect(body.error).to.match(pattern);
  }

  const cases: [string, string, RegExp][] = [
    ['wrong rank', tensor({ shape: [64] }), /input 'input': shape \[64\] has rank 1; the model expects \[-1, 64\]/],
    ['wrong feature dimension', tensor({ shape: [1, 63], data: new Array(63).fill(0) }), /dimension 1 is 63/],
    [
      'data length does not match shape',
      tensor({ shape: [2, 64] }),
      /data has 64 elements but shape \[2, 64\] needs 128/,
    ],
    ['wrong datatype', tensor({ datatype: 'FP64' }), /datatype FP64 does not match the model's FP32/],
    ['missing datatype', tensor({ datatype: undefined }), /datatype: expected a string/],
    [
      'non-numeric data',
      tensor({ data: ['a', ...new Array(63).fill(0)] }),
      /data\[0\] = "a" is not a valid FP32 value/,
    ],
    ['unknown input name', tensor({ name: 'pixels' }), /unknown input 'pixels' \(expected: input\)/],
    ['no inputs', JSON.stringify({ inputs: [] }), /inputs: expected a non-empty list/],
    [
      'unknown output',
      JSON.stringify({ ...JSON.parse(tensor({})), outputs: [{ name: 'logits' }] }),
      /unknown output 'logits'/,
    ],
    ['malformed JSON', '{"inputs": [', /request body is not valid JSON/],
    [
      'data nested deeper than the rank',
      tensor({ data: [[new Array(64).fill([0])]] }),
      /data is nested deeper than the tensor's rank/,
    ],
    ['data that is not an array', tensor({ data: 'pixels' }), /data: expected an array/],
    ['JSON that is not an object', '[1,2,3]', /expected a JSON object with "inputs"/],
  ];
  for (const [what, body, pattern] of cases) {
    it(`400 for ${what}`, async () => {
      await expectError(await post(infer, body), 400, pattern);
    });
  }

  it('400 for an unknown model and an unknown version, naming them', async () => {
    await expectError(await post(`${server.url}/v2/models/mnist/infer`, tensor({})), 400, /unknown model 'mnist'/);
    await expectError(await fetch(`${server.url}/v2/models/mnist`), 400, /unknown model 'mnist'/);
    await expectError(
      await post(`${server.url}/v2/models/digits/versions/v9/infer`, tensor({})),
      400,
      /no version 'v9' \(versions: digits-full, digits-small, digits-int8\)/,
    );
    const notReady = await fetch(`${server.url}/v2/models/mnist/ready`);
    expect(notReady.status).to.equal(400);
  });

  it('400 for a body over the configured limit (declared or streamed without a length)', async () => {
    const big = inferBody(new Array(40).fill(new Array(64).fill(16)));
    expect(big.length).to.be.greaterThan(4096);
    await expectError(await post(infer, big), 400, /exceeds the limit of 4096 bytes \(bodyLimitBytes\)/);
    // Chunked upload, no content-length: the limit is enforced while streaming.
    const status = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(infer, { method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      for (let i = 0; i < 10; i++) req.write('x'.repeat(1000));
      req.end();
    });
    expect(status.status).to.equal(400);
    expect(JSON.parse(status.body).error).to.match(/bodyLimitBytes/);
  });

  it('429 with Retry-After when more requests are in flight than maxConcurrency', async () => {
    // Batching holds requests for up to 200 ms, so 12 at once overflow maxConcurrency 4.
    const results = await Promise.all(Array.from({ length: 12 }, () => post(infer, tensor({}))));
    const codes = results.map((r) => r.status);
    expect(codes.filter((c) => c === 200)).to.have.length.of.at.least(1);
    const rejected = results.filter((r) => r.status === 429);
    expect(rejected.length).to.be.at.least(1);
    expect(rejected[0]!.headers.get('retry-after')).to.equal('1');
    expect((await json(rejected[0]!)).error).to.match(/too many concurrent requests \(maxConcurrency 4\)/);
    expect(codes.every((c) => c === 200 || c === 429)).to.equal(true);
  });

  it('400 for a malformed percent-encoding in the model name', async () => {
    await expectError(
      await post(`${server.url}/v2/models/%E0%A4%A/infer`, tensor({})),
      400,
      /malformed percent-encoding/,
    );
  });

  it('405 for a wrong method, 404 for an unknown path', async () => {
    await expectError(await fetch(infer), 405, /allowed: POST/);
    await expectError(await fetch(`${server.url}/v3/whatever`), 404, /no route for GET \/v3\/whatever/);
  });

  it('after all of that the server still serves, and the errors were counted by reason', async () => {
    const res = await post(infer, tensor({}));
    expect(res.status).to.equal(200);
    expect(await metricValue(server.url, 'carbonscale_model_errors_total', { reason: 'bad_shape' })).to.be.at.least(3);
    expect(await metricValue(server.url, 'carbonscale_model_errors_total', { reason: 'malformed_json' })).to.equal(1);
    expect(
      await metricValue(server.url, 'carbonscale_model_errors_total', { reason: 'too_many_requests' }),
    ).to.be.at.least(1);
  });
});
