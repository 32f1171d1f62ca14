// Every datatype the server serves loads, warms (at start and before a variant switch) and answers with the values
// it was sent; FP16 and BYTES are refused by name at load, at warm-up and at request. The models are tiny ONNX
// graphs written here (bench/onnx-encoding.ts) and run by the real onnxruntime: input `x` [N, 3] of the datatype
// under test, outputs `same` = Identity(x) and `as_float` = Cast(x, FLOAT).
import { expect } from 'chai';
import { after, before, describe, it } from 'mocha';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ElemType, intAttr, node, onnxModel, valueInfo } from '../../../bench/onnx-encoding.ts';
import { HttpError } from '../../../model-server/http-error.ts';
import { decodeInferRequest } from '../../../model-server/oip-tensor.ts';
import type { OipDatatype } from '../../../model-server/oip-tensor.ts';
import { warmUp } from '../../../model-server/variant-pool.ts';
import { WorkerSession } from '../../../model-server/worker-session.ts';
import { json, post, startTestServer } from './support.ts';

/** Each served datatype with its ONNX element type and values at both ends of its range. */
const SERVED: [OipDatatype, number, (number | boolean)[]][] = [
  ['BOOL', ElemType.BOOL, [true, false, false, true, true, false]],
  ['UINT8', ElemType.UINT8, [0, 1, 255, 254, 7, 0]],
  ['UINT16', ElemType.UINT16, [0, 1, 65535, 65534, 300, 0]],
  ['UINT32', ElemType.UINT32, [0, 1, 4294967295, 4294967294, 70000, 0]],
  ['UINT64', ElemType.UINT64, [0, 1, Number.MAX_SAFE_INTEGER, 2 ** 40, 5, 0]],
  ['INT8', ElemType.INT8, [-128, 0, 127, -1, 1, 100]],
  ['INT16', ElemType.INT16, [-32768, 0, 32767, -1, 1, 1000]],
  ['INT32', ElemType.INT32, [-2147483648, 0, 2147483647, -1, 1, 123456]],
  ['INT64', ElemType.INT64, [Number.MIN_SAFE_INTEGER, 0, Number.MAX_SAFE_INTEGER, -1, 1, 2 ** 40]],
  ['FP32', ElemType.FLOAT, [-1.5, 0, 3.25, 1e30, -1e-30, 7]],
  // FP64 values within FP32's range, so `as_float` is each one rounded to FP32 (not an infinity or a zero).
  ['FP64', ElemType.DOUBLE, [0.1, 0, -2.5, 1e300 / 1e270, -1e-30, Math.PI]],
];

/** The first value past the top of each integer datatype's range (what a request must not carry). */
const PAST_RANGE: Partial<Record<OipDatatype, number>> = {
  BOOL: 2,
  UINT8: 256,
  UINT16: 65536,
  UINT32: 4294967296,
  UINT64: 2 ** 53,
  INT8: 128,
  INT16: 32768,
  INT32: 2147483648,
  INT64: 2 ** 53,
};

function castModel(elemType: number, outType: number = ElemType.FLOAT): Buffer {
  return onnxModel({
    name: `cast-${elemType}`,
    nodes: [
      node('Identity', 'same', ['x'], ['same']),
      node('Cast', 'cast', ['x'], ['as_float'], [intAttr('to', outType)]),
    ],
    inputs: [valueInfo(11, 'x', elemType, ['N', 3])],
    outputs: [valueInfo(12, 'same', elemType, ['N', 3]), valueInfo(12, 'as_float', outType, ['N', 3])],
    producer: 'carbonscale-test',
    opset: 17,
  });
}

function body(datatype: string, data: unknown[], shape = [2, 3]): string {
  return JSON.stringify({ inputs: [{ name: 'x', datatype, shape, data }] });
}

describe('model server: input datatypes', () => {
  let dir: string;
  const file = (name: string) => join(dir, `${name}.onnx`);
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cs-datatypes-'));
    for (const [d, elem] of SERVED) {
      // Two variants per datatype, so a switch (which warms the variant it switches to) is exercised too.
      await writeFile(file(`${d}-a`), castModel(elem));
      await writeFile(file(`${d}-b`), castModel(elem));
    }
    await writeFile(file('half-in'), castModel(ElemType.FLOAT16));
    await writeFile(file('strings-in'), castModel(ElemType.STRING));
    await writeFile(file('half-out'), castModel(ElemType.FLOAT, ElemType.FLOAT16));
    await writeFile(
      file('doubler'),
      onnxModel({
        name: 'doubler',
        nodes: [node('Add', 'add', ['x', 'x'], ['y'])],
        inputs: [valueInfo(11, 'x', ElemType.INT64, ['N'])],
        outputs: [valueInfo(12, 'y', ElemType.INT64, ['N'])],
        producer: 'carbonscale-test',
        opset: 17,
      }),
    );
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const serve = (...variants: string[]) =>
    startTestServer({
      modelName: 'dt',
      variants: variants.map((name) => ({ name, uri: file(name) })),
      activeVariant: variants[0],
    });

  for (const [datatype, , values] of SERVED) {
    it(`${datatype}: loads, warms, switches and answers with the values sent`, async () => {
      const server = await serve(`${datatype}-a`, `${datatype}-b`);
      try {
        const meta = await json(fetch(`${server.url}/v2/models/dt`));
        expect(meta.inputs).to.deep.equal([{ name: 'x', datatype, shape: [-1, 3] }]);
        const switched = await server.switchVariant(`${datatype}-b`);
        expect(switched.changed).to.equal(true);
        const res = await post(`${server.url}/v2/models/dt/infer`, body(datatype, values));
        const out = await json(res);
        expect(res.status, JSON.stringify(out)).to.equal(200);
        expect(out.model_version).to.equal(`${datatype}-b`);
        const byName = Object.fromEntries((out.outputs as { name: string }[]).map((o) => [o.name, o]));
        // FP32 travels as float32: what comes back is each value rounded to FP32; every other datatype is exact.
        const same = datatype === 'FP32' ? values.map((v) => Math.fround(Number(v))) : values;
        expect(byName['same']).to.deep.equal({ name: 'same', datatype, shape: [2, 3], data: same });
        const asNumbers = values.map((v) => (typeof v === 'boolean' ? Number(v) : v));
        expect(byName['as_float']).to.deep.equal({
          name: 'as_float',
          datatype: 'FP32',
          shape: [2, 3],
          data: asNumbers.map((v) => Math.fround(v)),
        });
        const past = PAST_RANGE[datatype];
        if (past !== undefined) {
          const bad = await post(`${server.url}/v2/models/dt/infer`, body(datatype, [...values.slice(0, 5), past]));
          expect(bad.status).to.equal(400);
          expect(await json(bad)).to.deep.equal({
            error: `input 'x': data[5] = ${past} is not a valid ${datatype} value`,
          });
        }
      } finally {
        await server.shutdown();
      }
    });
  }

  for (const [variant, what, datatype] of [
    ['half-in', 'input', 'FP16'],
    ['strings-in', 'input', 'BYTES'],
    ['half-out', 'output', 'FP16'],
  ] as const) {
    it(`a model whose ${what} is ${datatype} is refused at load, naming the variant, the ${what} and the datatype`, async () => {
      const name = what === 'input' ? 'x' : 'as_float';
      const want = `variant ${variant}: ${what} '${name}': datatype ${datatype} is not served by this server: `;
      let err: Error | undefined;
      await serve(variant).catch((e: Error) => (err = e));
      expect(err?.message).to.include(want);
      // A switch to it fails the same way and leaves the current variant serving.
      const server = await serve('FP32-a', variant);
      try {
        let switchErr: Error | undefined;
        await server.switchVariant(variant).catch((e: Error) => (switchErr = e));
        expect(switchErr?.message).to.include(want);
        expect(server.pool.active.name).to.equal('FP32-a');
        const res = await post(`${server.url}/v2/models/dt/infer`, body('FP32', [1, 2, 3, 4, 5, 6]));
        expect(res.status).to.equal(200);
      } finally {
        await server.shutdown();
      }
    });
  }

  it('warm-up refuses an FP16 or BYTES input by name, from the same table as the request path', async () => {
    for (const [variant, datatype] of [
      ['half-in', 'FP16'],
      ['strings-in', 'BYTES'],
    ] as const) {
      const session = await WorkerSession.create(file(variant), {});
      try {
        const signature = { inputs: [{ name: 'x', datatype, shape: [-1, 3] }], outputs: [] };
        let err: Error | undefined;
        await warmUp({ session, signature }).catch((e: Error) => (err = e));
        expect(err?.message).to.match(
          new RegExp(
            `^cannot warm up input 'x': datatype ${datatype} is not served by this server: .+ \\(served input datatypes: BOOL, UINT8, UINT16, UINT32, UINT64, INT8, INT16, INT32, INT64, FP32, FP64\\)$`,
          ),
        );
      } finally {
        await session.release();
      }
    }
  });

  it('a request with an FP16 or BYTES input gets a 400 OIP error naming the input and the datatype', async () => {
    const server = await serve('FP32-a');
    try {
      for (const [datatype, data] of [
        ['FP16', [1, 2, 3, 4, 5, 6]],
        ['BYTES', ['a', 'b', 'c', 'd', 'e', 'f']],
      ] as const) {
        const res = await post(`${server.url}/v2/models/dt/infer`, body(datatype, [...data]));
        expect(res.status).to.equal(400);
        expect(res.headers.get('content-type')).to.equal('application/json');
        const out = await json(res);
        expect(Object.keys(out)).to.deep.equal(['error']);
        expect(out.error).to.match(new RegExp(`^input 'x': datatype ${datatype} is not served by this server: `));
      }
      // A datatype OIP does not have is still a mismatch with the model's.
      const res = await post(`${server.url}/v2/models/dt/infer`, body('FLOAT', [1, 2, 3, 4, 5, 6]));
      expect(await json(res)).to.deep.equal({ error: "input 'x': datatype FLOAT does not match the model's FP32" });
    } finally {
      await server.shutdown();
    }
    // The decoder refuses them even where a signature declares them (a model the load check would have refused).
    for (const datatype of ['FP16', 'BYTES'] as const) {
      const signature = { inputs: [{ name: 'x', datatype, shape: [-1, 3] }], outputs: [] };
      let err: unknown;
      try {
        decodeInferRequest(JSON.parse(body(datatype, [1, 2, 3, 4, 5, 6])), signature);
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(HttpError);
      expect((err as HttpError).status).to.equal(400);
      expect((err as HttpError).reason).to.equal('bad_datatype');
      expect((err as HttpError).message).to.match(new RegExp(`^input 'x': datatype ${datatype} is not served`));
    }
  });

  it('a 64-bit output past what a JSON number holds exactly is an error, not a rounded value', async () => {
    const server = await serve('doubler');
    try {
      const ok = await json(post(`${server.url}/v2/models/dt/infer`, body('INT64', [5, -7], [2])));
      expect(ok.outputs).to.deep.equal([{ name: 'y', datatype: 'INT64', shape: [2], data: [10, -14] }]);
      const res = await post(`${server.url}/v2/models/dt/infer`, body('INT64', [1, Number.MAX_SAFE_INTEGER], [2]));
      expect(res.status).to.equal(500);
      expect(await json(res)).to.deep.equal({
        error: `output 'y': data[1] = ${2n * BigInt(Number.MAX_SAFE_INTEGER)} is outside the range a JSON number holds exactly (±2^53-1)`,
      });
    } finally {
      await server.shutdown();
    }
  });
});
