// The one error type of the trace readers (carbon and demand). Its message always starts with the place, so it can
// be shown as it is: `file: line N: column 'X': what is wrong (value 'v')`. The parts are kept as fields too, for
// callers that wrap it (a provider's config error, a CLI exit message).

export interface TracePlace {
  file: string;
  /** Physical line in the file, 1-based (blank lines, a BOM and CRLF do not shift it); JSON traces: absent. */
  line?: number;
  /** The header name as the file spells it, or a JSON path such as `[3].datetime`. */
  column?: string;
}

export class TraceFormatError extends Error {
  override name = 'TraceFormatError';
  readonly file: string;
  readonly line: number | undefined;
  readonly column: string | undefined;

  constructor(place: TracePlace, message: string) {
    super(`${placeText(place)}: ${message}`);
    this.file = place.file;
    this.line = place.line;
    this.column = place.column;
  }
}

export function placeText(p: TracePlace): string {
  let s = p.file;
  if (p.line !== undefined) s += `: line ${p.line}`;
  if (p.column !== undefined) s += p.column.startsWith('[') ? `: ${p.column}` : `: column '${p.column}'`;
  return s;
}

/** A cell value as it appears in messages: quoted, control characters escaped, long values cut. */
export function shown(v: string): string {
  const s = JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  return `'${s.slice(1, -1)}'`;
}
