// Open Inference Protocol v2 JSON tensors <-> onnxruntime tensors. Validation names the input and the field that
// is wrong (shape, datatype, data) so a client can fix its request from the 400 alone.
import type { Tensor } from 'onnxruntime-node';
import { HttpError } from './http-error.ts';

export type OipDatatype =
  | 'BOOL'
  | 'UINT8'
  | 'UINT16'
  | 'UINT32'
  | 'UINT64'
  | 'INT8'
  | 'INT16'
  | 'INT32'
  | 'INT64'
  | 'FP16'
  | 'FP32'
  | 'FP64'
  | 'BYTES';

/** A tensor's declared interface: `-1` marks a dynamic dimension (as in OIP model metadata). */
export interface TensorSpec {
  name: string;
  datatype: OipDatatype;
  shape: number[];
}

export interface ModelSignature {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

export type NumericArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array;

/** A validated input: flat row-major data already in the model's element type. */
export interface DecodedTensor {
  name: string;
  datatype: OipDatatype;
  shape: number[];
  data: NumericArray;
}

export interface DecodedRequest {
  id?: string;
  inputs: DecodedTensor[];
  /** Output names the client asked for; all outputs when empty. */
  outputs: string[];
  /** Rows along the first dimension (the batch dimension), shared by every input. */
  rows: number;
}

export interface OipOutputTensor {
  name: string;
  datatype: OipDatatype;
  shape: number[];
  data: (number | boolean | string)[];
}

const ORT_TO_OIP: Record<string, OipDatatype> = {
  bool: 'BOOL',
  uint8: 'UINT8',
  uint16: 'UINT16',
  uint32: 'UINT32',
  uint64: 'UINT64',
  int8: 'INT8',
  int16: 'INT16',
  int32: 'INT32',
  int64: 'INT64',
  float16: 'FP16',
  float32: 'FP32',
  float64: 'FP64',
  string: 'BYTES',
};

export const OIP_TO_ORT: Record<string, Tensor.Type> = {
  BOOL: 'bool',
  UINT8: 'uint8',
  UINT16: 'uint16',
  UINT32: 'uint32',
  UINT64: 'uint64',
  INT8: 'int8',
  INT16: 'int16',
  INT32: 'int32',
  INT64: 'int64',
  FP16: 'float16',
  FP32: 'float32',
  FP64: 'float64',
  BYTES: 'string',
};

export function oipDatatype(ortType: string): OipDatatype {
  const t = ORT_TO_OIP[ortType];
  if (!t) throw new Error(`onnxruntime type ${ortType} has no Open Inference Protocol datatype`);
  return t;
}

/** Integer ranges per datatype; floats accept any finite number. */
const INT_RANGE: Record<string, [number, number]> = {
  BOOL: [0, 1],
  UINT8: [0, 255],
  UINT16: [0, 65535],
  UINT32: [0, 4294967295],
  UINT64: [0, Number.MAX_SAFE_INTEGER],
  INT8: [-128, 127],
  INT16: [-32768, 32767],
  INT32: [-2147483648, 2147483647],
  INT64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};

function allocate(datatype: OipDatatype, n: number, inputName: string): NumericArray {
  switch (datatype) {
    case 'FP32':
      return new Float32Array(n);
    case 'FP64':
      return new Float64Array(n);
    case 'INT8':
      return new Int8Array(n);
    case 'INT16':
      return new Int16Array(n);
    case 'INT32':
      return new Int32Array(n);
    case 'INT64':
      return new BigInt64Array(n);
    case 'UINT8':
    case 'BOOL':
      return new Uint8Array(n);
    case 'UINT16':
      return new Uint16Array(n);
    case 'UINT32':
      return new Uint32Array(n);
    case 'UINT64':
      return new BigUint64Array(n);
    case 'FP16':
    case 'BYTES':
    default:
      throw new HttpError(400, 'bad_datatype', `input '${inputName}': datatype ${datatype} is not supported here`);
  }
}

/**
 * Flattens nested arrays (OIP allows both the flat and the nested form) into `out`, row-major. Nesting deeper than
 * the tensor's rank is refused, which also bounds the recursion whatever the body holds.
 */
function flattenInto(data: unknown, out: unknown[], depthLeft: number, inputName: string): void {
  if (Array.isArray(data)) {
    if (depthLeft === 0) {
      throw new HttpError(400, 'bad_data', `input '${inputName}': data is nested deeper than the tensor's rank`);
    }
    for (const v of data) flattenInto(v, out, depthLeft - 1, inputName);
  } else {
    out.push(data);
  }
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function decodeTensor(raw: unknown, index: number, spec: TensorSpec | undefined, known: string): DecodedTensor {
  if (!isObj(raw)) throw new HttpError(400, 'bad_request', `inputs[${index}]: expected an object`);
  const name = raw['name'];
  if (typeof name !== 'string') throw new HttpError(400, 'bad_request', `inputs[${index}].name: expected a string`);
  if (!spec) {
    throw new HttpError(400, 'unknown_input', `inputs[${index}].name: unknown input '${name}' (expected: ${known})`);
  }
  const datatype = raw['datatype'];
  if (typeof datatype !== 'string') {
    throw new HttpError(400, 'bad_datatype', `input '${name}': datatype: expected a string such as "${spec.datatype}"`);
  }
  if (datatype !== spec.datatype) {
    throw new HttpError(
      400,
      'bad_datatype',
      `input '${name}': datatype ${datatype} does not match the model's ${spec.datatype}`,
    );
  }
  const shape = raw['shape'];
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number' && Number.isInteger(d) && d >= 0)) {
    throw new HttpError(400, 'bad_shape', `input '${name}': shape: expected a list of non-negative integers`);
  }
  const dims = shape as number[];
  const want = `[${spec.shape.join(', ')}]`;
  if (dims.length !== spec.shape.length) {
    throw new HttpError(
      400,
      'bad_shape',
      `input '${name}': shape [${dims.join(', ')}] has rank ${dims.length}; the model expects ${want}`,
    );
  }
  dims.forEach((d, i) => {
    const w = spec.shape[i]!;
    if (w >= 0 && d !== w) {
      throw new HttpError(
        400,
        'bad_shape',
        `input '${name}': shape [${dims.join(', ')}] dimension ${i} is ${d}; the model expects ${want}`,
      );
    }
  });
  if (!Array.isArray(raw['data'])) {
    throw new HttpError(400, 'bad_data', `input '${name}': data: expected an array`);
  }
  const flat: unknown[] = [];
  flattenInto(raw['data'], flat, Math.max(1, dims.length), name);
  const n = dims.reduce((a, b) => a * b, 1);
  if (flat.length !== n) {
    throw new HttpError(
      400,
      'bad_shape',
      `input '${name}': data has ${flat.length} elements but shape [${dims.join(', ')}] needs ${n}`,
    );
  }
  const out = allocate(spec.datatype, n, name);
  const range = INT_RANGE[spec.datatype];
  for (let i = 0; i < n; i++) {
    let v = flat[i];
    if (spec.datatype === 'BOOL' && typeof v === 'boolean') v = v ? 1 : 0;
    if (
      typeof v !== 'number' ||
      !Number.isFinite(v) ||
      (range && (!Number.isInteger(v) || v < range[0] || v > range[1]))
    ) {
      throw new HttpError(
        400,
        'bad_data',
        `input '${name}': data[${i}] = ${JSON.stringify(v)} is not a valid ${spec.datatype} value`,
      );
    }
    if (out instanceof BigInt64Array || out instanceof BigUint64Array) out[i] = BigInt(v);
    else out[i] = v;
  }
  return { name, datatype: spec.datatype, shape: dims, data: out };
}

/** Validates an OIP inference request body against the model's signature. */
export function decodeInferRequest(body: unknown, signature: ModelSignature): DecodedRequest {
  if (!isObj(body)) throw new HttpError(400, 'bad_request', 'request body: expected a JSON object with "inputs"');
  const id = body['id'];
  if (id !== undefined && typeof id !== 'string') throw new HttpError(400, 'bad_request', 'id: expected a string');
  const inputs = body['inputs'];
  if (!Array.isArray(inputs) || inputs.length === 0) {
    throw new HttpError(400, 'bad_request', 'inputs: expected a non-empty list of tensors');
  }
  const specs = new Map(signature.inputs.map((s) => [s.name, s]));
  const known = signature.inputs.map((s) => s.name).join(', ');
  const decoded = inputs.map((t, i) => {
    const name = isObj(t) ? t['name'] : undefined;
    return decodeTensor(t, i, typeof name === 'string' ? specs.get(name) : undefined, known);
  });
  const seen = new Set<string>();
  for (const t of decoded) {
    if (seen.has(t.name)) throw new HttpError(400, 'bad_request', `inputs: input '${t.name}' appears twice`);
    seen.add(t.name);
  }
  for (const s of signature.inputs) {
    if (!seen.has(s.name)) throw new HttpError(400, 'missing_input', `inputs: missing input '${s.name}'`);
  }
  const rows = decoded[0]!.shape[0] ?? 1;
  for (const t of decoded) {
    if ((t.shape[0] ?? 1) !== rows) {
      throw new HttpError(
        400,
        'bad_shape',
        `input '${t.name}': shape[0] is ${t.shape[0]} but input '${decoded[0]!.name}' has ${rows} rows`,
      );
    }
  }
  const outputsRaw = body['outputs'];
  const outputs: string[] = [];
  if (outputsRaw !== undefined) {
    if (!Array.isArray(outputsRaw)) throw new HttpError(400, 'bad_request', 'outputs: expected a list of { name }');
    const outNames = new Set(signature.outputs.map((o) => o.name));
    outputsRaw.forEach((o: unknown, i) => {
      const n = isObj(o) ? o['name'] : undefined;
      if (typeof n !== 'string') throw new HttpError(400, 'bad_request', `outputs[${i}].name: expected a string`);
      if (!outNames.has(n)) {
        throw new HttpError(
          400,
          'unknown_output',
          `outputs[${i}].name: unknown output '${n}' (expected: ${[...outNames].join(', ')})`,
        );
      }
      outputs.push(n);
    });
  }
  return { ...(typeof id === 'string' ? { id } : {}), inputs: decoded, outputs, rows };
}

/** Encodes an onnxruntime output (or a row slice of it) as an OIP JSON tensor, flat and row-major. */
export function encodeOutput(
  name: string,
  type: string,
  dims: readonly number[],
  data: ArrayLike<number | bigint | boolean | string>,
): OipOutputTensor {
  const out: (number | boolean | string)[] = new Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    out[i] = typeof v === 'bigint' ? Number(v) : v;
  }
  return { name, datatype: oipDatatype(type), shape: [...dims], data: out };
}
