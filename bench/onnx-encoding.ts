// A few message types of onnx.proto3, encoded by hand, so benches and tests can write small ONNX models with no
// Python or protobuf dependency (the synthetic MLP, the model server's datatype models). Field numbers are cited
// from https://github.com/onnx/onnx/blob/main/onnx/onnx.proto3; the wire format is
// https://protobuf.dev/programming-guides/encoding/.

// --- protobuf wire format ---
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

/** TensorProto.DataType. */
export const ElemType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
} as const;

const ATTR_INT = 2; // AttributeProto.AttributeType.INT

/** NodeProto: input = 1, output = 2, name = 3, op_type = 4, attribute = 5. */
export function node(op: string, name: string, inputs: string[], outputs: string[], attrs: Buffer[] = []): Buffer {
  return msg(1, ...inputs.map((i) => str(1, i)), ...outputs.map((o) => str(2, o)), str(3, name), str(4, op), ...attrs);
}

/** AttributeProto: name = 1, i = 3, type = 20. */
export const intAttr = (name: string, i: number) => msg(5, str(1, name), int(3, i), int(20, ATTR_INT));

/** A float initializer. TensorProto: dims = 1, data_type = 2, name = 8, raw_data = 9 (little-endian). */
export function initializer(name: string, dims: number[], data: Float32Array): Buffer {
  const raw = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return msg(5, ...dims.map((d) => int(1, d)), int(2, ElemType.FLOAT), str(8, name), bytes(9, raw));
}

/**
 * A graph input (field 11) or output (field 12). ValueInfoProto name = 1, type = 2 -> TypeProto.tensor_type = 1 ->
 * elem_type = 1, shape = 2 -> dim = 1 (dim_value = 1, or dim_param = 2 for a named dynamic dimension).
 */
export function valueInfo(field: 11 | 12, name: string, elemType: number, dims: (number | string)[]): Buffer {
  const dimMsgs = dims.map((d) => msg(1, typeof d === 'number' ? int(1, d) : str(2, d)));
  return msg(field, str(1, name), msg(2, msg(1, int(1, elemType), msg(2, ...dimMsgs))));
}

export interface OnnxGraph {
  name: string;
  nodes: Buffer[];
  initializers?: Buffer[];
  /** valueInfo(11, ...) each. */
  inputs: Buffer[];
  /** valueInfo(12, ...) each. */
  outputs: Buffer[];
  producer: string;
  /** Default-domain opset. */
  opset: number;
}

/** ModelProto: ir_version = 1, producer_name = 2, graph = 7, opset_import = 8 (domain = 1, version = 2). */
export function onnxModel(g: OnnxGraph): Buffer {
  // GraphProto: node = 1, name = 2, initializer = 5, input = 11, output = 12.
  const graph = msg(7, ...g.nodes, str(2, g.name), ...(g.initializers ?? []), ...g.inputs, ...g.outputs);
  return Buffer.concat([int(1, 8), str(2, g.producer), graph, msg(8, str(1, ''), int(2, g.opset))]);
}
