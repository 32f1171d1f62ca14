// A small declarative language for CarbonSource fields, so that one declaration gives both the operator's validator
// (readFields: defaults filled, every problem named by its path) and the CRD's OpenAPI schema
// (operator/api/carbon-source-schema.ts renders the same declarations). The common fields live in config.ts; a
// provider's own block (`trace`, `static`, …) is declared in the provider's file. Pure: no I/O.

interface FieldBase {
  /** One sentence for `kubectl explain` and docs/carbon.md; the default is appended when there is one. */
  description: string;
  required?: boolean;
}

export interface StringField extends FieldBase {
  type: 'string';
  enum?: readonly string[];
  /** A pattern for the CRD (RE2 syntax) and the validator, with the words an error uses for it. */
  pattern?: { source: string; says: string };
  minLength?: number;
  maxLength?: number;
  default?: string;
  /** A rule no schema keyword can say (a URL's parts, an ISO time); returns the problem or undefined. */
  check?: { says: string; test: (v: string) => boolean };
}

export interface NumberField extends FieldBase {
  type: 'number' | 'integer';
  minimum?: number;
  maximum?: number;
  /** The minimum itself is not allowed (`> 0`). */
  exclusiveMinimum?: boolean;
  default?: number;
  /** Shown after the bounds in errors: `seconds`, `gCO2eq/kWh`. */
  unit?: string;
}

export interface ObjectField extends FieldBase {
  type: 'object';
  fields: Record<string, Field>;
}

/** A map of non-empty strings (regionMap). */
export interface MapField extends FieldBase {
  type: 'map';
  /** What a key and a value are, for the error message. */
  says: string;
}

export interface ListField extends FieldBase {
  type: 'list';
  item: StringField;
  maxItems?: number;
  unique?: boolean;
}

export type Field = StringField | NumberField | ObjectField | MapField | ListField;
export type Fields = Record<string, Field>;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The text an error gives for a number field's bounds: `an integer between 10 and 86400 (seconds)`. */
function numberSays(f: NumberField): string {
  const kind = f.type === 'integer' ? 'an integer' : 'a number';
  const unit = f.unit ? ` (${f.unit})` : '';
  const lo = f.minimum;
  const hi = f.maximum;
  if (lo !== undefined && hi !== undefined)
    return f.exclusiveMinimum ? `${kind} > ${lo} and ≤ ${hi}${unit}` : `${kind} between ${lo} and ${hi}${unit}`;
  if (lo !== undefined) return `${kind} ${f.exclusiveMinimum ? '>' : '≥'} ${lo}${unit}`;
  if (hi !== undefined) return `${kind} ≤ ${hi}${unit}`;
  return `${kind}${unit}`;
}

function readString(f: StringField, v: unknown, err: (m: string) => void): string | undefined {
  if (typeof v !== 'string') return void err(`must be a string${f.enum ? ` (one of ${f.enum.join(', ')})` : ''}`);
  if (f.enum && !f.enum.includes(v)) return void err(`must be one of ${f.enum.join(', ')}`);
  if (f.minLength !== undefined && v.length < f.minLength)
    return void err(f.minLength === 1 ? 'must be a non-empty string' : `must have at least ${f.minLength} characters`);
  if (f.maxLength !== undefined && v.length > f.maxLength)
    return void err(`must have at most ${f.maxLength} characters`);
  if (f.pattern && !new RegExp(f.pattern.source).test(v)) return void err(`must be ${f.pattern.says}`);
  if (f.check && !f.check.test(v)) return void err(`must be ${f.check.says}`);
  return v;
}

function readNumber(f: NumberField, v: unknown, err: (m: string) => void): number | undefined {
  const ok =
    typeof v === 'number' &&
    Number.isFinite(v) &&
    (f.type === 'number' || Number.isInteger(v)) &&
    (f.minimum === undefined || (f.exclusiveMinimum ? v > f.minimum : v >= f.minimum)) &&
    (f.maximum === undefined || v <= f.maximum);
  if (!ok) return void err(`must be ${numberSays(f)}`);
  return v;
}

/** Reads one field; problems go to `errors` as `<path>: <problem>`. Returns undefined when absent or invalid. */
export function readField(f: Field, v: unknown, path: string, errors: string[]): unknown {
  const err = (m: string) => errors.push(`${path}: ${m}`);
  switch (f.type) {
    case 'string':
      return readString(f, v, err);
    case 'number':
    case 'integer':
      return readNumber(f, v, err);
    case 'object':
      if (!isObj(v)) return void err('must be an object');
      return readFields(v, f.fields, path, errors);
    case 'map': {
      if (!isObj(v)) return void err(`must be a map of ${f.says}`);
      const out: Record<string, string> = {};
      for (const [k, x] of Object.entries(v)) {
        if (typeof x !== 'string' || x.trim() === '') errors.push(`${path}.${k}: must be a non-empty string`);
        else out[k] = x;
      }
      return out;
    }
    case 'list': {
      if (!Array.isArray(v)) return void err(`must be a list of ${f.item.description.replace(/\.$/, '')}`);
      if (f.maxItems !== undefined && v.length > f.maxItems) err(`must have at most ${f.maxItems} entries`);
      const out: string[] = [];
      v.forEach((x, i) => {
        const s = readString(f.item, x, (m) => errors.push(`${path}[${i}]: ${m}`));
        if (s === undefined) return;
        if (f.unique && out.includes(s)) errors.push(`${path}[${i}]: '${s}' is listed twice`);
        else out.push(s);
      });
      return out;
    }
  }
}

/**
 * Reads an object against its declared fields: unknown keys are errors (a key can never be smuggled into the spec),
 * required fields must be there, defaults are filled in. Every problem is reported, not only the first.
 */
export function readFields(raw: Record<string, unknown>, fields: Fields, path: string, errors: string[]) {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(raw)) if (!(k in fields)) errors.push(`${path}.${k}: unknown field`);
  for (const [k, f] of Object.entries(fields)) {
    const v = raw[k];
    if (v === undefined) {
      if (f.required) errors.push(`${path}.${k}: required`);
      else if ('default' in f && f.default !== undefined) out[k] = f.default;
      continue;
    }
    const got = readField(f, v, `${path}.${k}`, errors);
    if (got !== undefined) out[k] = got;
  }
  return out;
}

/** The description a schema shows: the field's sentence plus its default. */
export function describe(f: Field): string {
  const d = 'default' in f && f.default !== undefined ? ` Default ${f.default}.` : '';
  return `${f.description}${d}`;
}
