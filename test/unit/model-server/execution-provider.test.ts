import { expect } from 'chai';
import { describe, it } from 'mocha';
import { chooseExecutionProvider, systemProbe } from '../../../model-server/execution-provider.ts';
import type { HostProbe } from '../../../model-server/execution-provider.ts';

function probe(gpu: string | undefined, lib: string | undefined, cuda = true): HostProbe {
  return {
    nvidiaGpu: () => gpu,
    cudaProviderLibrary: () => lib,
    supportedBackends: () => [{ name: 'cpu', bundled: true }, ...(cuda ? [{ name: 'cuda', bundled: false }] : [])],
  };
}

describe('execution provider choice', () => {
  it('CUDA when a GPU and the CUDA provider are present', () => {
    const d = chooseExecutionProvider('auto', probe('/dev/nvidia0', '/x/libonnxruntime_providers_cuda.so'));
    expect(d.provider).to.equal('cuda');
    expect(d.reason).to.include('/dev/nvidia0');
  });
  it('CPU, saying why, without a GPU or without the provider library', () => {
    expect(chooseExecutionProvider('auto', probe(undefined, undefined)).reason).to.match(/no NVIDIA GPU found/);
    const d = chooseExecutionProvider('auto', probe('/usr/bin/nvidia-smi', undefined));
    expect(d.provider).to.equal('cpu');
    expect(d.reason).to.match(/CUDA provider library is not installed/);
    expect(chooseExecutionProvider('auto', probe('/dev/nvidia0', '/x.so', false)).reason).to.match(/no CUDA backend/);
  });
  it('CPU when configured, even with a GPU; an error when CUDA is required but missing', () => {
    expect(chooseExecutionProvider('cpu', probe('/dev/nvidia0', '/x.so')).provider).to.equal('cpu');
    expect(() => chooseExecutionProvider('cuda', probe(undefined, undefined))).to.throw(
      /executionProvider: "cuda" requested/,
    );
  });
  it('the system probe agrees with this host', () => {
    const p = systemProbe();
    expect(p.supportedBackends().map((b) => b.name)).to.include('cpu');
    const d = chooseExecutionProvider('auto', p);
    expect(d.provider).to.equal(p.nvidiaGpu() && p.cudaProviderLibrary() ? 'cuda' : 'cpu');
  });
});
