// The commands README.md shows, as a user would copy them: every line of an indented (4-space) or fenced code
// block, with its trailing `# comment` dropped, grouped under the `## ` section it appears in. Shared by the unit
// test that checks each command is run somewhere (readme-commands.test.ts) and the e2e test that runs the demo's.
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '../../..');

export interface ReadmeCommand {
  section: string;
  command: string;
  line: number;
}

/** A shell line without its trailing comment (a `#` after whitespace, outside quotes: none of ours quote one). */
function stripComment(line: string): string {
  return line.replace(/\s+#.*$/, '').trim();
}

export function readmeCommands(text = readFileSync(path.join(ROOT, 'README.md'), 'utf8')): ReadmeCommand[] {
  const out: ReadmeCommand[] = [];
  let section = '';
  let fenced = false;
  let prevBlank = true;
  let indented = false;
  text.split('\n').forEach((raw, i) => {
    if (/^```/.test(raw)) {
      fenced = !fenced;
      return;
    }
    const take = (s: string) => {
      const command = stripComment(s);
      if (command) out.push({ section, command, line: i + 1 });
    };
    if (fenced) return take(raw);
    if (raw.startsWith('## ')) section = raw.slice(3).trim();
    // An indented block starts after a blank line (a list item's continuation follows a non-blank line).
    if (raw.startsWith('    ') && (prevBlank || indented)) {
      indented = true;
      take(raw);
    } else if (raw.trim() !== '') indented = false;
    prevBlank = raw.trim() === '';
  });
  return out;
}
