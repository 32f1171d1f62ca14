// The one table of Open Inference Protocol datatypes and what this server does with each: the onnxruntime tensor
// type it travels as, the typed array an input is held in, its integer range, and why a datatype is not served.
// The request decoder (oip-tensor.ts), the signature check at load and the warm-up (variant-pool.ts) and the
// runner (inference-runner.ts) all read this table, so a datatype is served on every path or refused on every
// path with the same words; before, warm-up kept its own list and refused models the request path could serve.
import type { Tensor } from 'onnxruntime-node';

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

/** How JSON input values of a served datatype are checked and held. */
export interface ServedInput {
  /** A zero-filled array of `n` elements, of the type onnxruntime-node expects for this datatype. */
  array: (n: number) => NumericArray;
  /** Inclusive integer range; undefined for floats, which accept any finite number. */
  range?: readonly [number, number];
}

interface DatatypeRow {
  ort: Tensor.Type;
  /** Undefined: inputs of this datatype are refused, for the reason in `refused`. */
  input?: ServedInput;
  /** Whether an output of this datatype is returned as the values it holds (else refused at load). */
  output: boolean;
  refused?: string;
}

// FP16: Node has no Float16Array, so onnxruntime-node holds float16 data as raw 16-bit patterns in a Uint16Array;
// JSON numbers written there (or outputs read from there) would be bit patterns, not the values. BYTES: string
// tensors; the decoder reads numbers only. Both are refused by name instead of being served wrongly.
const FP16_REFUSED = 'float16 data would travel as raw 16-bit patterns (this Node has no Float16Array), not values';
const DATATYPES: Record<OipDatatype, DatatypeRow> = {
  BOOL: { ort: 'bool', input: { array: (n) => new Uint8Array(n), range: [0, 1] }, output: true },
  UINT8: { ort: 'uint8', input: { array: (n) => new Uint8Array(n), range: [0, 255] }, output: true },
  UINT16: { ort: 'uint16', input: { array: (n) => new Uint16Array(n), range: [0, 65535] }, output: true },
  UINT32: { ort: 'uint32', input: { array: (n) => new Uint32Array(n), range: [0, 4294967295] }, output: true },
  // 64-bit integers: JSON numbers are exact only up to 2^53, so that is the range a request may use.
  UINT64: {
    ort: 'uint64',
    input: { array: (n) => new BigUint64Array(n), range: [0, Number.MAX_SAFE_INTEGER] },
    output: true,
  },
  INT8: { ort: 'int8', input: { array: (n) => new Int8Array(n), range: [-128, 127] }, output: true },
  INT16: { ort: 'int16', input: { array: (n) => new Int16Array(n), range: [-32768, 32767] }, output: true },
  INT32: { ort: 'int32', input: { array: (n) => new Int32Array(n), range: [-2147483648, 2147483647] }, output: true },
  INT64: {
    ort: 'int64',
    input: { array: (n) => new BigInt64Array(n), range: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER] },
    output: true,
  },
  FP16: { ort: 'float16', output: false, refused: FP16_REFUSED },
  FP32: { ort: 'float32', input: { array: (n) => new Float32Array(n) }, output: true },
  FP64: { ort: 'float64', input: { array: (n) => new Float64Array(n) }, output: true },
  // String outputs come back from onnxruntime as JS strings, which OIP's JSON form of BYTES allows.
  BYTES: { ort: 'string', output: true, refused: 'string tensors are not decoded from requests (numeric inputs only)' },
};

const ORT_TO_OIP = new Map<string, OipDatatype>(
  (Object.entries(DATATYPES) as [OipDatatype, DatatypeRow][]).map(([oip, row]) => [row.ort, oip]),
);

const SERVED_INPUTS = (Object.keys(DATATYPES) as OipDatatype[]).filter((d) => DATATYPES[d].input).join(', ');

export function isOipDatatype(d: string): d is OipDatatype {
  return Object.hasOwn(DATATYPES, d);
}

/** The OIP datatype of an onnxruntime tensor type, or undefined when it has none (int4, bfloat16, ...). */
export function oipDatatypeOf(ortType: string): OipDatatype | undefined {
  return ORT_TO_OIP.get(ortType);
}

export function ortTypeOf(d: OipDatatype): Tensor.Type {
  return DATATYPES[d].ort;
}

/** How inputs of `d` are held, or undefined when this server refuses inputs of `d` (see inputRefusal). */
export function servedInput(d: string): ServedInput | undefined {
  return isOipDatatype(d) ? DATATYPES[d].input : undefined;
}

/** Why an input of datatype `d` is not served, as a clause naming `d` and what is served instead. */
export function inputRefusal(d: string): string {
  const why = isOipDatatype(d) ? DATATYPES[d].refused : 'it is not an Open Inference Protocol datatype';
  return `datatype ${d} is not served by this server: ${why} (served input datatypes: ${SERVED_INPUTS})`;
}

/** Why an output of datatype `d` cannot be returned truthfully; undefined when it can. */
export function outputRefusal(d: OipDatatype): string | undefined {
  const row = DATATYPES[d];
  return row.output ? undefined : `datatype ${d} is not served by this server: ${row.refused}`;
}
