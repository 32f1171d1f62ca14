// Writes a compute-bound ONNX model with the digits interface (input `input` float32 [N, 64]; outputs `label`
// int64 [N] and `probabilities` float32 [N, 10]) and a chosen width and depth, for measuring serving overhead
// against models whose run time is closer to real inference than the 0.06 ms digits MLP. The weights are
// pseudo-random from a seed: a dense MatMul costs the same whatever its values, and nothing here claims accuracy.
// The ONNX protobuf is encoded by hand (onnx-encoding.ts), so the bench needs no Python or protobuf dependency.
import { writeFile } from 'node:fs/promises';
import { ElemType, initializer, intAttr, node, onnxModel, valueInfo } from './onnx-encoding.ts';

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
  return onnxModel({
    name: `synthetic-mlp-${m.hidden}x${m.layers}`,
    nodes,
    initializers: inits,
    inputs: [valueInfo(11, 'input', ElemType.FLOAT, ['N', 64])],
    outputs: [valueInfo(12, 'label', ElemType.INT64, ['N']), valueInfo(12, 'probabilities', ElemType.FLOAT, ['N', 10])],
    producer: 'carbonscale-bench',
    opset: 17,
  });
}

export async function writeSyntheticMlp(path: string, m: SyntheticMlp): Promise<void> {
  await writeFile(path, syntheticMlp(m));
}
