// Open Inference Protocol v2 JSON tensors <-> onnxruntime tensors. Validation names the input and the field that
// is wrong (shape, datatype, data) so a client can fix its request from the 400 alone.
import { HttpError } from './http-error.ts';
import { inputRefusal, isOipDatatype, oipDatatypeOf, servedInput } from './oip-datatypes.ts';
import type { NumericArray, OipDatatype } from './oip-datatypes.ts';

export type { NumericArray, OipDatatype } from './oip-datatypes.ts';

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
  const served = servedInput(datatype);
  if (!served && isOipDatatype(datatype))
    throw new HttpError(400, 'bad_datatype', `input '${name}': ${inputRefusal(datatype)}`);
  if (datatype !== spec.datatype || !served) {
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
  const out = served.array(n);
  const range = served.range;
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

const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER);

/** Encodes an onnxruntime output (or a row slice of it) as an OIP JSON tensor, flat and row-major. */
export function encodeOutput(
  name: string,
  type: string,
  dims: readonly number[],
  data: ArrayLike<number | bigint | boolean | string>,
): OipOutputTensor {
  const datatype = oipDatatypeOf(type);
  if (!datatype) {
    throw new HttpError(500, 'runtime_error', `output '${name}': onnxruntime type ${type} has no OIP datatype`);
  }
  const out: (number | boolean | string)[] = new Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    // A JSON number is exact only up to 2^53: a larger 64-bit value is an error, never a silently rounded one.
    if (typeof v === 'bigint' && (v > MAX_EXACT || v < -MAX_EXACT)) {
      throw new HttpError(
        500,
        'runtime_error',
        `output '${name}': data[${i}] = ${v} is outside the range a JSON number holds exactly (±2^53-1)`,
      );
    }
    // onnxruntime holds bool as 0/1 bytes; OIP's JSON form of BOOL is true/false.
    out[i] = typeof v === 'bigint' ? Number(v) : datatype === 'BOOL' ? Boolean(v) : v;
  }
  return { name, datatype, shape: [...dims], data: out };
}
