// A small Dockerfile reader (instructions with line continuations joined, grouped by stage) so tests can check
// the final stages and replay their RUN/COPY steps outside Docker. Not a full parser: heredocs and ONBUILD are
// not used in this project's Dockerfile and are not supported.
export interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

export interface Stage {
  name: string;
  from: string;
  instructions: Instruction[];
}

export function parseDockerfile(text: string): { args: Record<string, string>; stages: Stage[] } {
  const lines = text.split('\n');
  const instructions: Instruction[] = [];
  let buf = '';
  let start = 0;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    if (!buf && (raw.trim() === '' || raw.trim().startsWith('#'))) continue;
    if (buf && raw.trim().startsWith('#')) continue;
    if (!buf) start = i + 1;
    if (raw.endsWith('\\')) {
      buf += raw.slice(0, -1) + ' ';
      continue;
    }
    buf += raw;
    const m = /^\s*([A-Za-z]+)\s+([\s\S]*)$/.exec(buf);
    if (!m) throw new Error(`Dockerfile line ${start}: cannot read instruction "${buf.trim()}"`);
    instructions.push({ keyword: m[1]!.toUpperCase(), args: m[2]!.trim(), line: start });
    buf = '';
  }
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      if (!m) throw new Error(`Dockerfile line ${ins.line}: cannot read FROM "${ins.args}"`);
      stages.push({ from: m[1]!, name: m[2] ?? String(stages.length), instructions: [] });
    } else if (stages.length === 0) {
      if (ins.keyword === 'ARG') {
        const [k, v] = ins.args.split('=');
        args[k!] = v ?? '';
      }
    } else stages[stages.length - 1]!.instructions.push(ins);
  }
  return { args, stages };
}

/** A COPY instruction's flags, sources and destination. */
export function parseCopy(argsText: string): { from?: string; sources: string[]; dest: string } {
  const words = argsText.split(/\s+/);
  let from: string | undefined;
  while (words[0]?.startsWith('--')) {
    const w = words.shift()!;
    if (w.startsWith('--from=')) from = w.slice('--from='.length);
  }
  const dest = words.pop();
  if (!dest || words.length === 0) throw new Error(`COPY ${argsText}: expected sources and a destination`);
  return { ...(from ? { from } : {}), sources: words, dest };
}

/** The JSON (exec) form of ENTRYPOINT/CMD. */
export function execForm(argsText: string): string[] {
  const v = JSON.parse(argsText) as unknown;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new Error(`not an exec form: ${argsText}`);
  return v;
}
