// Runs `node operator/cli.ts serve` as a real child process and waits for its "listening" line.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './support.ts';

export interface ServeProcess {
  child: ChildProcess;
  url: string;
  port: number;
  logs: () => string;
  exited: Promise<number | null>;
}

export async function spawnServe(configPath: string, extraArgs: string[] = []): Promise<ServeProcess> {
  const child = spawn(
    process.execPath,
    [join(ROOT, 'operator', 'cli.ts'), 'serve', '--config', configPath, ...extraArgs],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LOG_LEVEL: 'info' },
    },
  );
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start in 20 s:\n${out}`)), 20_000);
    const onData = () => {
      const m = /\{"listening":"[^"]+","port":(\d+)\}/.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        resolve(Number(m[1]));
      }
    };
    child.stdout!.on('data', onData);
    void exited.then((code) => reject(new Error(`serve exited with ${code} before listening:\n${out}`)));
  });
  return { child, url: `http://127.0.0.1:${port}`, port, logs: () => out, exited };
}
