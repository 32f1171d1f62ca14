// The path a flag names (simulate --trace, audit report DIR --csv FILE, operator --clock-trace, ...), checked and
// read the same way by every command: a path that is not there or cannot be read or written is one line naming
// the flag and the path, `--trace /no/such/file: no such file`, instead of node's `ENOENT: no such file or
// directory, open '/no/such/file'` (which says neither which flag nor which command). Commands check their paths
// before anything slow runs (a typo costs nothing); the reads and writes themselves say the same words, for a path
// that changes in between.
import { accessSync, constants, readFileSync, statSync, writeFileSync, type Stats } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** A path flag whose path cannot be used: a usage error (exit 2), printed as the one line of its message. */
export class PathFlagError extends Error {
  override name = 'PathFlagError';
}

type Want = 'file' | 'directory';

/** node's error code in words, for the thing the flag wants. */
function reason(err: unknown, want: Want): string {
  const code = (err as { code?: string } | null)?.code;
  const words: Record<string, string> = {
    ENOENT: `no such ${want}`,
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    EISDIR: 'a directory, not a file',
    ENOTDIR: want === 'directory' ? 'not a directory' : 'a part of the path is not a directory',
  };
  return (code !== undefined ? words[code] : undefined) ?? `cannot be used (${code ?? (err as Error).message})`;
}

/** `--trace /no/such/file: no such file` for an error node raised on that path. */
export function pathFlagError(flag: string, path: string, err: unknown, want: Want = 'file'): PathFlagError {
  return new PathFlagError(`${flag} ${path}: ${reason(err, want)}`, { cause: err });
}

function statOf(flag: string, path: string, want: Want): Stats {
  try {
    return statSync(path);
  } catch (e) {
    throw pathFlagError(flag, path, e, want);
  }
}

function access(flag: string, path: string, mode: number, want: Want): void {
  try {
    accessSync(path, mode);
  } catch (e) {
    throw pathFlagError(flag, path, e, want);
  }
}

/** A file the command will read: there, a file, readable. */
export function checkInputFile(flag: string, path: string): void {
  if (statOf(flag, path, 'file').isDirectory()) throw new PathFlagError(`${flag} ${path}: a directory, not a file`);
  access(flag, path, constants.R_OK, 'file');
}

/** A directory the command will read: there, a directory, listable. */
export function checkInputDir(flag: string, path: string): void {
  if (!statOf(flag, path, 'directory').isDirectory()) throw new PathFlagError(`${flag} ${path}: not a directory`);
  access(flag, path, constants.R_OK | constants.X_OK, 'directory');
}

/** A file the command will write: not a directory, in a directory that is there and writable. */
export function checkOutputFile(flag: string, path: string): void {
  let st: Stats | undefined;
  try {
    st = statSync(path);
  } catch {
    // Not there yet: its directory decides.
  }
  if (st?.isDirectory()) throw new PathFlagError(`${flag} ${path}: a directory, not a file`);
  const dir = dirname(path);
  let parent: Stats;
  try {
    parent = statSync(dir);
  } catch (e) {
    throw new PathFlagError(`${flag} ${path}: ${dir}: ${reason(e, 'directory')}`, { cause: e });
  }
  if (!parent.isDirectory()) throw new PathFlagError(`${flag} ${path}: ${dir} is not a directory`);
  if (st) return access(flag, path, constants.W_OK, 'file');
  // A new file needs its directory writable: said as such, still naming the flag's own path first.
  try {
    accessSync(dir, constants.W_OK);
  } catch (e) {
    throw new PathFlagError(`${flag} ${path}: ${dir}: ${reason(e, 'directory')}`, { cause: e });
  }
}

export function readFlagFile(flag: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw pathFlagError(flag, path, e);
  }
}

export async function readFlagFileAsync(flag: string, path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    throw pathFlagError(flag, path, e);
  }
}

/** A failed write in words: ENOENT on a write means the file's directory is not there. */
function writeError(flag: string, path: string, e: unknown): PathFlagError {
  if ((e as { code?: string } | null)?.code === 'ENOENT')
    return new PathFlagError(`${flag} ${path}: ${dirname(path)}: no such directory`, { cause: e });
  return pathFlagError(flag, path, e);
}

export function writeFlagFile(flag: string, path: string, data: string): void {
  try {
    writeFileSync(path, data);
  } catch (e) {
    throw writeError(flag, path, e);
  }
}

export async function writeFlagFileAsync(flag: string, path: string, data: string): Promise<void> {
  try {
    await writeFile(path, data);
  } catch (e) {
    throw writeError(flag, path, e);
  }
}
