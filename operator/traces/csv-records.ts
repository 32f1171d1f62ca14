// CSV text → records that remember the physical line they start on. A BOM, CRLF or lone CR line ends, blank lines
// and quoted fields (with commas, doubled quotes or line breaks inside) do not shift the line numbers that errors
// report: line N is the Nth line an editor shows.
import { TraceFormatError } from './trace-format-error.ts';

export interface CsvRecord {
  /** Physical line (1-based) the record starts on. */
  line: number;
  cells: string[];
}

export interface CsvTable {
  /** Header cells, trimmed. */
  header: string[];
  headerLine: number;
  rows: CsvRecord[];
}

/** Splits one CSV line (no line breaks inside) into cells: RFC 4180 quoting, `""` inside quotes is a quote. */
export function parseCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/**
 * Reads a whole CSV file. The first non-blank record is the header; blank records are skipped (their lines still
 * count). A quote left open at the end of the file is an error naming the line it opened on.
 */
export function readCsv(text: string, file: string): CsvTable {
  const records = splitRecords(text.startsWith('\uFEFF') ? text.slice(1) : text, file);
  const head = records[0];
  if (!head) throw new TraceFormatError({ file }, 'the file is empty (no header line)');
  return { header: head.cells.map((h) => h.trim()), headerLine: head.line, rows: records.slice(1) };
}

/** Non-blank records; a record continues onto the next line while a quoted field is open (odd count of quotes). */
function splitRecords(text: string, file: string): CsvRecord[] {
  const lines = text.split(/\r\n|\n|\r/);
  const out: CsvRecord[] = [];
  for (let i = 0; i < lines.length; i++) {
    let rec = lines[i]!;
    const start = i + 1;
    if (rec.includes('"')) {
      while (quoteCount(rec) % 2 === 1) {
        if (++i >= lines.length) throw new TraceFormatError({ file, line: start }, 'a quoted field is never closed');
        rec += `\n${lines[i]}`;
      }
    }
    if (rec.trim() !== '') out.push({ line: start, cells: parseCsvLine(rec) });
  }
  return out;
}

function quoteCount(s: string): number {
  let n = 0;
  for (let i = s.indexOf('"'); i >= 0; i = s.indexOf('"', i + 1)) n++;
  return n;
}
