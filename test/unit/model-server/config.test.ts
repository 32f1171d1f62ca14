import { expect } from 'chai';
import { describe, it } from 'mocha';
import { parseServerConfig } from '../../../model-server/config.ts';

const base = { modelName: 'digits', variants: [{ name: 'a', uri: 'models/a.onnx' }] };

describe('model server config', () => {
  it('fills defaults and resolves bare paths against the config folder', () => {
    const c = parseServerConfig(base, '/etc/carbonscale');
    expect(c.variants[0]!.uri).to.equal('file:///etc/carbonscale/models/a.onnx');
    expect(c.activeVariant).to.equal('a');
    expect(c.batching.enabled).to.equal(false);
    expect(c.bodyLimitBytes).to.be.greaterThan(0);
    expect(c.instances).to.equal(1);
    expect(c.intraOpSpinning).to.equal(false);
  });

  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['no model name', { variants: base.variants }, /^modelName: expected a non-empty string/],
    ['no variants', { modelName: 'd', variants: [] }, /^variants: expected a non-empty list/],
    ['variant without uri', { modelName: 'd', variants: [{ name: 'a' }] }, /^variants\[0\]\.uri: expected/],
    [
      'bad scheme',
      { modelName: 'd', variants: [{ name: 'a', uri: 's3://b/a.onnx' }] },
      /^variants\[0\]\.uri: unsupported/,
    ],
    [
      'duplicate names',
      { modelName: 'd', variants: [base.variants[0], base.variants[0]] },
      /duplicate variant name "a"/,
    ],
    ['unknown active variant', { ...base, activeVariant: 'b' }, /^activeVariant: "b" is not one of a/],
    ['negative body limit', { ...base, bodyLimitBytes: -1 }, /^bodyLimitBytes: expected an integer/],
    [
      'batch size as a string',
      { ...base, batching: { maxBatchSize: '8' } },
      /^batching\.maxBatchSize: expected an integer/,
    ],
    ['unknown execution provider', { ...base, executionProvider: 'tpu' }, /^executionProvider: expected "auto"/],
    ['zero instances', { ...base, instances: 0 }, /^instances: expected an integer/],
    ['spinning as a string', { ...base, intraOpSpinning: 'yes' }, /^intraOpSpinning: expected/],
    [
      'a request timeout under 100 ms',
      { ...base, requestTimeoutMs: 10 },
      /^requestTimeoutMs: expected an integer in \[100, 3600000\]/,
    ],
    [
      'a JSON depth too small for a request',
      { ...base, maxJsonDepth: 2 },
      /^maxJsonDepth: expected an integer in \[4, 1024\]/,
    ],
    [
      'a pvc:// URI without a path',
      { ...base, variants: [{ name: 'a', uri: 'pvc://models' }] },
      /^variants\[0\]\.uri: not of the form pvc:\/\/<claim>/,
    ],
  ];
  for (const [what, raw, msg] of bad) {
    it(`rejects ${what}, naming the field`, () => {
      expect(() => parseServerConfig(raw, '/')).to.throw(msg);
    });
  }
});
