// Body limits hold against a real `carbonscale serve` process (issue 15 §4): an oversized body (declared and
// streamed), a slow-loris body and slow-loris headers (a byte at a time, forever), and a huge JSON nesting (the
// deepest a 1 MiB body can hold) are each refused with a status and a message naming the setting, the connection
// is closed, the server keeps serving others meanwhile, and every refusal is counted by reason.
import { expect } from 'chai';
import { after, before, describe, it } from 'mocha';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jsonDepthExceeds } from '../../../model-server/http-body.ts';
import { MODELS, VARIANTS, inferBody, json, metricValue, post } from './support.ts';
import { spawnServe, type ServeProcess } from './support-process.ts';

const LIMIT = 1_100_000;
const TIMEOUT_MS = 400;

/** A raw connection that writes `head`, then one byte of `drip` every `everyMs` until the server closes it. */
function trickle(port: number, head: string, drip: string, everyMs: number) {
  const socket: Socket = connect(port, '127.0.0.1');
  let received = '';
  let written = 0;
  socket.on('data', (c: Buffer) => (received += c.toString()));
  socket.on('error', () => {});
  socket.write(head);
  const timer = setInterval(() => {
    if (socket.destroyed || !socket.writable) return;
    socket.write(drip[written++ % drip.length]!);
  }, everyMs);
  const closed = new Promise<{ received: string; written: number }>((resolve) =>
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ received, written });
    }),
  );
  return { closed, stop: () => socket.destroy() };
}

describe('model server (process): body limits', () => {
  let dir: string;
  let proc: ServeProcess;
  let infer: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cs-limits-'));
    const config = join(dir, 'config.json');
    await writeFile(
      config,
      JSON.stringify({
        modelName: 'digits',
        host: '127.0.0.1',
        port: 0,
        variants: VARIANTS.map((name) => ({ name, uri: join(MODELS, `${name}.onnx`) })),
        bodyLimitBytes: LIMIT,
        requestTimeoutMs: TIMEOUT_MS,
      }),
    );
    proc = await spawnServe(config);
    infer = `${proc.url}/v2/models/digits/infer`;
  });
  after(async () => {
    if (proc && proc.child.exitCode === null) proc.child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('an oversized body is refused on its declared length and, without one, while streaming', async () => {
    const big = 'x'.repeat(LIMIT + 1);
    const declared = await post(infer, big);
    expect(declared.status).to.equal(400);
    expect(declared.headers.get('connection')).to.equal('close');
    expect((await json(declared)).error).to.equal(`request body exceeds the limit of ${LIMIT} bytes (bodyLimitBytes)`);
    const chunked = trickle(
      proc.port,
      `POST /v2/models/digits/infer HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n` +
        `${(LIMIT + 10).toString(16)}\r\n${'x'.repeat(LIMIT + 10)}\r\n`,
      '',
      1000,
    );
    const { received } = await chunked.closed;
    expect(received).to.match(/^HTTP\/1\.1 400 /);
    expect(received).to.include('(bodyLimitBytes)');
  });

  it('a slow-loris body is cut off with 408 naming requestTimeoutMs, while other requests are served', async () => {
    const slow = trickle(
      proc.port,
      'POST /v2/models/digits/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{',
      ' ',
      40,
    );
    // Served in the meantime: the trickling client holds no more than its own connection.
    const ok = await post(infer, inferBody([new Array(64).fill(1)]));
    expect(ok.status).to.equal(200);
    const { received, written } = await slow.closed;
    expect(written).to.be.greaterThan(0);
    expect(received).to.match(/^HTTP\/1\.1 408 /);
    const body = JSON.parse(received.slice(received.indexOf('\r\n\r\n') + 4));
    expect(body.error).to.match(
      new RegExp(
        `^request body not complete within ${TIMEOUT_MS} ms \\(requestTimeoutMs\\): \\d+ of 5000 bytes arrived$`,
      ),
    );
  });

  it('slow-loris headers are cut off too (the connection is closed before any request is handled)', async () => {
    const slow = trickle(proc.port, 'POST /v2/models/digits/infer HTTP/1.1\r\nHost: x\r\n', 'X-Slow: y\r\n', 40);
    const { received, written } = await slow.closed;
    expect(written).to.be.greaterThan(0);
    expect(received).to.match(/^HTTP\/1\.1 408 Request Timeout\r\n/);
  });

  it('a huge JSON nesting (500,000 levels in 1 MiB) is refused before parsing, naming maxJsonDepth', async () => {
    const depth = 500_000;
    const deep = `{"inputs":[{"name":"input","shape":[1,64],"datatype":"FP32","data":${'['.repeat(depth)}${']'.repeat(depth)}}]}`;
    expect(deep.length).to.be.lessThan(LIMIT);
    const res = await post(infer, deep);
    expect(res.status).to.equal(400);
    expect((await json(res)).error).to.equal(
      'request body nests arrays/objects deeper than 32 levels (maxJsonDepth), at byte 96',
    );
    // Nesting that a tensor really uses still works (rank 2, nested rows: depth 5).
    const nested = JSON.stringify({
      inputs: [
        { name: 'input', shape: [2, 64], datatype: 'FP32', data: [new Array(64).fill(0), new Array(64).fill(1)] },
      ],
    });
    const fine = await post(infer, nested);
    expect(fine.status).to.equal(200);
    expect((await json(fine)).outputs[0].shape).to.deep.equal([2]);
  });

  it('counts each refusal by reason and still serves', async () => {
    expect((await post(infer, inferBody([new Array(64).fill(2)]))).status).to.equal(200);
    for (const reason of ['body_too_large', 'body_timeout', 'json_too_deep'])
      expect(await metricValue(proc.url, 'carbonscale_model_errors_total', { reason }), reason).to.be.at.least(1);
  });
});

describe('JSON depth scan', () => {
  it('counts brackets outside strings only, escapes included', () => {
    const b = (s: string) => Buffer.from(s);
    expect(jsonDepthExceeds(b('[[1],[2]]'), 2)).to.equal(undefined);
    expect(jsonDepthExceeds(b('[[[1]]]'), 2)).to.equal(2);
    expect(jsonDepthExceeds(b(`{"a":"${'['.repeat(100)}"}`), 2)).to.equal(undefined);
    expect(jsonDepthExceeds(b(`{"a":"\\"[[[[","b":[[[1]]]}`), 3)).to.equal(20);
    expect(jsonDepthExceeds(b('{"ü":[{"x":[[1]]}]}'), 5)).to.equal(undefined);
    expect(jsonDepthExceeds(b('{"ü":[{"x":[[1]]}]}'), 4)).to.equal(13);
  });
});
