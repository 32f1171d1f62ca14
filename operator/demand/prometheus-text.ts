// A reader for the Prometheus text exposition format, enough for counters and gauges: `name{labels} value [ts]`.
// Comment and blank lines are skipped; malformed lines are an error naming the line.

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?\s*$/;

function parseLabels(text: string, lineNo: number): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    while (text[i] === ' ' || text[i] === ',') i++;
    if (i >= text.length) break;
    const eq = text.indexOf('=', i);
    if (eq < 0 || text[eq + 1] !== '"') throw new Error(`metrics line ${lineNo}: malformed labels {${text}}`);
    const key = text.slice(i, eq).trim();
    let j = eq + 2;
    let value = '';
    while (j < text.length && text[j] !== '"') {
      if (text[j] === '\\') {
        const n = text[j + 1];
        value += n === 'n' ? '\n' : (n ?? '');
        j += 2;
      } else {
        value += text[j];
        j++;
      }
    }
    if (j >= text.length) throw new Error(`metrics line ${lineNo}: unterminated label value in {${text}}`);
    labels[key] = value;
    i = j + 1;
  }
  return labels;
}

export function parsePrometheusText(text: string): PromSample[] {
  const out: PromSample[] = [];
  text.split('\n').forEach((raw, idx) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = LINE.exec(line);
    if (!m) throw new Error(`metrics line ${idx + 1}: cannot parse ${JSON.stringify(line.slice(0, 120))}`);
    const v = m[3]!;
    // Like Prometheus (Go's ParseFloat), NaN and Inf are accepted in any letter case (prom-client writes "Nan").
    const lower = v.toLowerCase();
    const value =
      lower === '+inf' || lower === 'inf' ? Infinity : lower === '-inf' ? -Infinity : lower === 'nan' ? NaN : Number(v);
    if (Number.isNaN(value) && lower !== 'nan') {
      throw new Error(`metrics line ${idx + 1}: bad value ${JSON.stringify(v)}`);
    }
    out.push({ name: m[1]!, labels: m[2] ? parseLabels(m[2], idx + 1) : {}, value });
  });
  return out;
}
