// Watches the file that names the variant to serve (a mounted ConfigMap key). Kubernetes updates such files by
// swapping the `..data` symlink, which fs.watch on the file itself misses; so the file is re-read on a poll
// interval (and early, when fs.watch on its folder fires), and a change of content is what counts.
import { watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from './logger.ts';

export interface ActiveVariantWatcherOptions {
  path: string;
  pollMs: number;
  /** Called with the file's trimmed content when it changes; errors are logged and retried on the next change. */
  onChange: (variant: string) => Promise<void>;
  logger: Logger;
}

export async function readActiveVariantFile(path: string): Promise<string | undefined> {
  try {
    const text = (await readFile(path, 'utf8')).trim();
    return text.length > 0 ? text : undefined;
  } catch {
    return undefined;
  }
}

export class ActiveVariantWatcher {
  private readonly opts: ActiveVariantWatcherOptions;
  private last: string | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private fsWatcher: FSWatcher | undefined;
  private checking: Promise<void> | undefined;
  private missingLogged = false;

  constructor(opts: ActiveVariantWatcherOptions, initial?: string) {
    this.opts = opts;
    this.last = initial;
  }

  start(): void {
    this.timer = setInterval(() => void this.check(), this.opts.pollMs);
    this.timer.unref();
    try {
      this.fsWatcher = watch(dirname(this.opts.path), () => void this.check());
      this.fsWatcher.on('error', () => undefined);
      this.fsWatcher.unref();
    } catch {
      // polling alone is enough; fs.watch only makes changes show up sooner
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.fsWatcher?.close();
  }

  /** Re-reads the file now; overlapping calls share one read. */
  check(): Promise<void> {
    this.checking ??= this.doCheck().finally(() => (this.checking = undefined));
    return this.checking;
  }

  private async doCheck(): Promise<void> {
    const v = await readActiveVariantFile(this.opts.path);
    if (v === undefined) {
      if (!this.missingLogged) this.opts.logger.warn('active-variant file missing or empty', { path: this.opts.path });
      this.missingLogged = true;
      return;
    }
    this.missingLogged = false;
    if (v === this.last) return;
    try {
      await this.opts.onChange(v);
      this.last = v;
    } catch (err) {
      // Remember it anyway so a bad name is logged once, not every poll; a new write is tried again.
      this.last = v;
      this.opts.logger.error('cannot switch to the variant named in the active-variant file', {
        path: this.opts.path,
        variant: v,
        error: (err as Error).message,
      });
    }
  }
}
