// Input checks shared by the record builders: bad input becomes an error that names the field, never a
// NaN that would silently poison an auditor's sums.
import { createHash } from 'node:crypto';

export class AuditInputError extends Error {
  readonly field: string;
  constructor(field: string, problem: string) {
    super(`audit input: ${field} ${problem}`);
    this.name = 'AuditInputError';
    this.field = field;
  }
}

export function finite(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new AuditInputError(field, `must be a finite number (got ${String(v)})`);
  return v;
}

export function nonNegative(v: unknown, field: string): number {
  const n = finite(v, field);
  if (n < 0) throw new AuditInputError(field, `must be >= 0 (got ${n})`);
  return n;
}

export function nonNegativeInt(v: unknown, field: string): number {
  const n = nonNegative(v, field);
  if (!Number.isSafeInteger(n)) throw new AuditInputError(field, `must be a whole number (got ${n})`);
  return n;
}

export function optionalFinite(v: unknown, field: string): void {
  if (v !== undefined && v !== null) finite(v, field);
}

export function requireString(v: unknown, field: string): string {
  if (typeof v !== 'string' || v.length === 0) throw new AuditInputError(field, 'must be a non-empty string');
  return v;
}

/** 32 hex chars of SHA-256 over the parts, separated so that ('ab','c') and ('a','bc') differ. */
export function stableId(parts: string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32);
}
