// Writes a compute-bound ONNX model with the digits interface (input `input` float32 [N, 64]; outputs `label`
// int64 [N] and `probabilities` float32 [N, 10]) and a chosen width and depth, for measuring serving overhead
// against models whose run time is closer to real inference than the 0.06 ms digits MLP. The weights are
// pseudo-random from a seed: a dense MatMul costs the same whatever its values, and nothing here claims accuracy.
// The ONNX protobuf is encoded by hand (a few message types of onnx.proto3, field numbers cited below), so the
// bench needs no Python or protobuf dependency.
import { writeFile } from 'node:fs/promises';

export interface SyntheticMlp {
  /** Hidden layer width. */
  hidden: number;
  /** Hidden layers (MatMul + Add + Relu each). */
  layers: number;
  seed: number;
}

/** Multiply-accumulates per row: what makes the run time. */
export function macsPerRow(m: SyntheticMlp): number {
  return 64 * m.hidden + (m.layers - 1) * m.hidden * m.hidden + m.hidden * 10;
}

// --- protobuf wire format (https://protobuf.dev/programming-guides/encoding/) ---
function varint(n: number): number[] {
  const out: number[] = [];
  let v = BigInt(n);
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return out;
}
const tag = (field: number, wire: number) => varint((field << 3) | wire);
const int = (field: number, n: number) => Buffer.from([...tag(field, 0), ...varint(n)]);
const bytes = (field: number, b: Buffer) => Buffer.concat([Buffer.from([...tag(field, 2), ...varint(b.length)]), b]);
const str = (field: number, s: string) => bytes(field, Buffer.from(s, 'utf8'));
const msg = (field: number, ...parts: Buffer[]) => bytes(field, Buffer.concat(parts));

// --- onnx.proto3 (https://github.com/onnx/onnx/blob/main/onnx/onnx.proto3) ---
const FLOAT = 1; // TensorProto.DataType.FLOAT
const INT64 = 7; // TensorProto.DataType.INT64
const ATTR_INT = 2; // AttributeProto.AttributeType.INT

/** NodeProto: input = 1, output = 2, name = 3, op_type = 4, attribute = 5. */
function node(op: string, name: string, inputs: string[], outputs: string[], attrs: Buffer[] = []): Buffer {
  return msg(1, ...inputs.map((i) => str(1, i)), ...outputs.map((o) => str(2, o)), str(3, name), str(4, op), ...attrs);
}
/** AttributeProto: name = 1, i = 3, type = 20. */
const intAttr = (name: string, i: number) => msg(5, str(1, name), int(3, i), int(20, ATTR_INT));
/** TensorProto: dims = 1, data_type = 2, name = 8, raw_data = 9 (little-endian). */
function initializer(name: string, dims: number[], data: Float32Array): Buffer {
  const raw = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return msg(5, ...dims.map((d) => int(1, d)), int(2, FLOAT), str(8, name), bytes(9, raw));
}
/** ValueInfoProto name = 1, type = 2 -> TypeProto.tensor_type = 1 -> elem_type = 1, shape = 2 -> dim = 1. */
function valueInfo(field: number, name: string, elemType: number, dims: (number | string)[]): Buffer {
  const dimMsgs = dims.map((d) => msg(1, typeof d === 'number' ? int(1, d) : str(2, d)));
  return msg(field, str(1, name), msg(2, msg(1, int(1, elemType), msg(2, ...dimMsgs))));
}

/** A deterministic uniform(-a, a) stream (mulberry32). */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function syntheticMlp(m: SyntheticMlp): Buffer {
  if (!Number.isInteger(m.hidden) || m.hidden < 1) throw new Error(`hidden: expected a positive integer`);
  if (!Number.isInteger(m.layers) || m.layers < 1) throw new Error(`layers: expected a positive integer`);
  const rnd = random(m.seed);
  const inits: Buffer[] = [];
  const nodes: Buffer[] = [];
  let prev = 'input';
  let width = 64;
  const dense = (i: number, out: number, relu: boolean) => {
    // He-style scale keeps activations finite through many layers.
    const scale = Math.sqrt(6 / width);
    const w = new Float32Array(width * out).map(() => (rnd() * 2 - 1) * scale);
    const b = new Float32Array(out).map(() => (rnd() * 2 - 1) * 0.01);
    inits.push(initializer(`w${i}`, [width, out], w), initializer(`b${i}`, [out], b));
    nodes.push(node('MatMul', `matmul${i}`, [prev, `w${i}`], [`mm${i}`]));
    nodes.push(node('Add', `add${i}`, [`mm${i}`, `b${i}`], [relu ? `pre${i}` : 'logits']));
    if (relu) nodes.push(node('Relu', `relu${i}`, [`pre${i}`], [`h${i}`]));
    prev = relu ? `h${i}` : 'logits';
    width = out;
  };
  for (let i = 0; i < m.layers; i++) dense(i, m.hidden, true);
  dense(m.layers, 10, false);
  nodes.push(node('Softmax', 'softmax', ['logits'], ['probabilities'], [intAttr('axis', 1)]));
  nodes.push(node('ArgMax', 'argmax', ['logits'], ['label'], [intAttr('axis', 1), intAttr('keepdims', 0)]));
  // GraphProto: node = 1, name = 2, initializer = 5, input = 11, output = 12.
  const graph = msg(
    7,
    ...nodes,
    str(2, `synthetic-mlp-${m.hidden}x${m.layers}`),
    ...inits,
    valueInfo(11, 'input', FLOAT, ['N', 64]),
    valueInfo(12, 'label', INT64, ['N']),
    valueInfo(12, 'probabilities', FLOAT, ['N', 10]),
  );
  // ModelProto: ir_version = 1, producer_name = 2, graph = 7, opset_import = 8 (domain = 1, version = 2).
  return Buffer.concat([int(1, 8), str(2, 'carbonscale-bench'), graph, msg(8, str(1, ''), int(2, 17))]);
}

export async function writeSyntheticMlp(path: string, m: SyntheticMlp): Promise<void> {
  await writeFile(path, syntheticMlp(m));
}
