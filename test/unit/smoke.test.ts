import { expect } from 'chai';

describe('toolchain', () => {
  it('runs TypeScript on Node 24 or newer', () => {
    const major = Number(process.versions.node.split('.')[0]);
    expect(major).to.be.at.least(24);
  });
});
