// GPU power from nvidia-smi (NVML's command-line face) when the host has one; CPU-only hosts expose no power
// counter we trust, so there the profile keeps the declared values and says so.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface PowerMeter {
  /** Instantaneous board power draw of GPU 0, watts (measured). */
  sampleWatts(): Promise<number>;
  readonly source: 'nvml';
}

export function findNvidiaSmi(env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env['PATH'] ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, 'nvidia-smi'))) return join(dir, 'nvidia-smi');
  }
  return undefined;
}

export function nvidiaSmiPowerMeter(binary: string): PowerMeter {
  return {
    source: 'nvml',
    sampleWatts: () =>
      new Promise((resolve, reject) => {
        execFile(
          binary,
          ['--query-gpu=power.draw', '--format=csv,noheader,nounits', '--id=0'],
          { timeout: 5000 },
          (err, stdout) => {
            if (err) return reject(new Error(`nvidia-smi power query failed: ${err.message}`));
            const w = Number(stdout.trim().split('\n')[0]);
            if (!Number.isFinite(w)) return reject(new Error(`nvidia-smi gave no power reading: ${stdout.trim()}`));
            resolve(w);
          },
        );
      }),
  };
}
