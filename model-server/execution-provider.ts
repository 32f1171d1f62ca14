// Chooses onnxruntime's execution provider once at start-up: CUDA when an NVIDIA GPU and onnxruntime-node's CUDA
// provider library are both present, CPU otherwise; the reason goes into one log line.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import type { ExecutionProviderChoice } from './config.ts';
import { ConfigError } from './http-error.ts';

export interface ExecutionProviderDecision {
  provider: 'cuda' | 'cpu';
  reason: string;
}

/** What the host offers; injected so the decision is testable without a GPU. */
export interface HostProbe {
  /** Path of an NVIDIA device node or nvidia-smi, when one exists. */
  nvidiaGpu(): string | undefined;
  /** Path of onnxruntime-node's CUDA provider library, when installed. */
  cudaProviderLibrary(): string | undefined;
  /** Backends this onnxruntime-node build knows. */
  supportedBackends(): { name: string; bundled: boolean }[];
}

export function systemProbe(env: NodeJS.ProcessEnv = process.env): HostProbe {
  return {
    nvidiaGpu() {
      if (existsSync('/dev/nvidia0')) return '/dev/nvidia0';
      for (const dir of (env['PATH'] ?? '').split(delimiter)) {
        if (dir && existsSync(join(dir, 'nvidia-smi'))) return join(dir, 'nvidia-smi');
      }
      return undefined;
    },
    cudaProviderLibrary() {
      // onnxruntime-node's install script puts the CUDA provider next to its binding (skipped offline, see .npmrc).
      const require = createRequire(import.meta.url);
      const pkg = dirname(require.resolve('onnxruntime-node/package.json'));
      const lib = join(pkg, 'bin', 'napi-v6', process.platform, process.arch, 'libonnxruntime_providers_cuda.so');
      return existsSync(lib) ? lib : undefined;
    },
    supportedBackends() {
      const require = createRequire(import.meta.url);
      const ort = require('onnxruntime-node') as { listSupportedBackends?: () => { name: string; bundled: boolean }[] };
      return ort.listSupportedBackends ? ort.listSupportedBackends() : [{ name: 'cpu', bundled: true }];
    },
  };
}

export function chooseExecutionProvider(
  requested: ExecutionProviderChoice,
  probe: HostProbe,
): ExecutionProviderDecision {
  if (requested === 'cpu') return { provider: 'cpu', reason: 'executionProvider is set to "cpu" in the configuration' };
  const gpu = probe.nvidiaGpu();
  const cudaKnown = probe.supportedBackends().some((b) => b.name === 'cuda');
  const lib = probe.cudaProviderLibrary();
  let why: string | undefined;
  if (!gpu) why = 'no NVIDIA GPU found (no /dev/nvidia0 and no nvidia-smi on PATH)';
  else if (!cudaKnown) why = `NVIDIA GPU found (${gpu}) but this onnxruntime-node build has no CUDA backend`;
  else if (!lib) {
    why =
      `NVIDIA GPU found (${gpu}) but onnxruntime-node's CUDA provider library is not installed ` +
      '(install onnxruntime-node with ONNXRUNTIME_NODE_INSTALL_CUDA=v12 and network access)';
  }
  if (why) {
    if (requested === 'cuda') throw new ConfigError(`executionProvider: "cuda" requested but ${why}`);
    return { provider: 'cpu', reason: why };
  }
  return { provider: 'cuda', reason: `NVIDIA GPU found (${gpu}) and CUDA provider present (${lib})` };
}
