// The file-system operations the audit sink needs, behind one adapter so tests can inject disk-full or
// read-only failures around the real file system (no module mocking). Every write that matters is fsync'd.
import { constants } from 'node:fs';
import * as fsp from 'node:fs/promises';
import path from 'node:path';

export interface AuditFs {
  mkdirp(dir: string): Promise<void>;
  /** Appends and fsyncs before resolving: the bytes survive a crash. */
  appendDurable(file: string, data: string): Promise<void>;
  /**
   * Writes a whole file and fsyncs it (not atomic by itself: callers write a temp name, then rename). `data` may
   * come in pieces, so a big file (a compacted journal) is never one string in memory.
   */
  writeFileDurable(file: string, data: string | Iterable<string>): Promise<void>;
  /** fsyncs an existing file (after a library such as parquetjs wrote and closed it). */
  fsyncFile(file: string): Promise<void>;
  /** fsyncs a directory so a rename or create in it is durable. */
  fsyncDir(dir: string): Promise<void>;
  /** Cuts a file back to `size` bytes and fsyncs it (drops a torn tail left by a failed append). */
  truncate(file: string, size: number): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(file: string): Promise<void>;
  rmdir(dir: string): Promise<void>;
  readdir(dir: string): Promise<string[]>;
  readFile(file: string): Promise<Buffer>;
  exists(file: string): Promise<boolean>;
  size(file: string): Promise<number>;
  /** Throws when a new file cannot be created in dir (read-only, full); used to probe recovery. */
  probeWritable(dir: string): Promise<void>;
}

export const nodeAuditFs: AuditFs = {
  async mkdirp(dir) {
    await fsp.mkdir(dir, { recursive: true });
  },
  async appendDurable(file, data) {
    const fh = await fsp.open(file, 'a');
    try {
      await fh.writeFile(data, 'utf8');
      await fh.datasync();
    } finally {
      await fh.close();
    }
  },
  async writeFileDurable(file, data) {
    const fh = await fsp.open(file, 'w');
    try {
      await fh.writeFile(data, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
  },
  async fsyncFile(file) {
    const fh = await fsp.open(file, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  },
  async fsyncDir(dir) {
    const fh = await fsp.open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  },
  async truncate(file, size) {
    const fh = await fsp.open(file, 'r+');
    try {
      await fh.truncate(size);
      await fh.sync();
    } finally {
      await fh.close();
    }
  },
  rename: (a, b) => fsp.rename(a, b),
  unlink: (f) => fsp.unlink(f),
  rmdir: (d) => fsp.rmdir(d),
  async readdir(dir) {
    try {
      return await fsp.readdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  },
  readFile: (f) => fsp.readFile(f),
  async exists(f) {
    try {
      await fsp.stat(f);
      return true;
    } catch {
      return false;
    }
  },
  async size(f) {
    return (await fsp.stat(f)).size;
  },
  async probeWritable(dir) {
    const probe = path.join(dir, `.probe-${process.pid}`);
    await fsp.writeFile(probe, 'x');
    await fsp.unlink(probe);
  },
};
