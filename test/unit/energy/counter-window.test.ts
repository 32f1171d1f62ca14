// The counter-window rule on hand-made samples: each case's expected increase is worked out in the comment.
import { expect } from 'chai';
import { describe, it } from 'mocha';
import { increaseOver, type WindowOptions } from '../../../operator/energy/counter-window.ts';
import { disjointZones } from '../../../operator/energy/prometheus-meter.ts';

const o = (extra: Partial<WindowOptions> = {}): WindowOptions => ({
  fromMs: 10_000,
  toMs: 20_000,
  maxGapMs: 2_500,
  startsAtZero: true,
  what: 'm of pod p',
  ...extra,
});
/** A counter rising `w` per second from value v0 at t0, sampled every `step` ms. */
const ramp = (t0: number, t1: number, step: number, v0: number, w: number) =>
  Array.from({ length: Math.floor((t1 - t0) / step) + 1 }, (_, i) => ({
    t: t0 + i * step,
    v: v0 + (w * i * step) / 1000,
  }));

describe('counter window: increase over [a, b) from raw samples', () => {
  it('interpolates at both edges: 7 W over 10 s is 70 J whatever the sample phase', () => {
    const r = increaseOver(ramp(8_300, 22_300, 1_000, 500, 7), o());
    expect(r).to.deep.equal({ ok: true, increase: 70, resets: 0 });
  });

  it('a reset counts the new value after it (a restart loses what was counted since the last sample)', () => {
    // 10 W: 10..14 s gives 40 J; the restart at 14.5 s loses what was counted in (14, 14.5]; from 0 the counter
    // reads 5 J at 15 s, then +10 J a second to 20 s: 5 + 50. Total 40 + 5 + 50 = 95 J.
    const s = [
      ...ramp(9_000, 14_000, 1_000, 90, 10),
      ...Array.from({ length: 7 }, (_, i) => ({ t: 15_000 + i * 1_000, v: 5 + 10 * i })),
    ];
    const r = increaseOver(s, o());
    expect(r).to.deep.equal({ ok: true, increase: 40 + 5 + 50, resets: 1 });
  });

  it('a gap longer than maxGap inside the window is not covered, and says where', () => {
    const s = ramp(9_000, 22_000, 1_000, 0, 1).filter((x) => x.t < 13_000 || x.t > 16_000);
    const r = increaseOver(s, o());
    expect(r.ok).to.equal(false);
    if (!r.ok) expect(r.reason).to.match(/no sample between .*T00:00:12\.000Z and .*T00:00:17\.000Z \(5\.0 s/);
  });

  it('a gap at an edge cannot be interpolated', () => {
    const s = ramp(5_000, 22_000, 1_000, 0, 1).filter((x) => x.t <= 7_000 || x.t >= 11_000);
    const r = increaseOver(s, o());
    expect(r.ok).to.equal(false);
  });

  it('a series born inside the window (pod created at 12 s) counts from 0 when the counter starts with it', () => {
    const s = ramp(13_000, 22_000, 1_000, 3, 3); // 3 W since 12 s: 3 J at 13 s
    const r = increaseOver(s, o({ pod: { name: 'p', createdMs: 12_000 } }));
    expect(r).to.deep.equal({ ok: true, increase: 24, resets: 0 }); // 3 W × 8 s (12..20)
  });

  it('the same series without the pod log is a missing scrape, not a birth', () => {
    const r = increaseOver(ramp(13_000, 22_000, 1_000, 3, 3), o());
    expect(r.ok).to.equal(false);
    if (!r.ok) expect(r.reason).to.match(/no sample at or before .*00:00:10\.000Z/);
  });

  it('a device counter (not from 0) born inside the window counts from its first sample, if it came soon', () => {
    const s = ramp(13_000, 22_000, 1_000, 1_000_000, 3);
    const soon = increaseOver(s, o({ startsAtZero: false, pod: { name: 'p', createdMs: 12_000 } }));
    expect(soon).to.deep.equal({ ok: true, increase: 21, resets: 0 }); // 13..20 s: the second before is not seen
    const late = increaseOver(s, o({ startsAtZero: false, pod: { name: 'p', createdMs: 10_000 } }));
    expect(late.ok).to.equal(false);
  });

  it('a series that ends with its pod (ended at 15.2 s, last sample 15 s) ends inside the window', () => {
    const s = ramp(8_000, 15_000, 1_000, 0, 2);
    expect(increaseOver(s, o({ pod: { name: 'p', endMs: 15_200 } }))).to.deep.equal({
      ok: true,
      increase: 10,
      resets: 0,
    });
    const r = increaseOver(s, o({ pod: { name: 'p' } }));
    expect(r.ok).to.equal(false);
    if (!r.ok) expect(r.reason).to.match(/no sample at or after/);
  });

  it('a pod created before the window whose counter starts at 0 is interpolated from its creation', () => {
    // created 9.5 s, first sample 11 s at 6 J (4 W): the value at 10 s is 2 J; to 20 s: 4 × 10 = 40 J.
    const s = ramp(11_000, 21_000, 1_000, 6, 4);
    expect(increaseOver(s, o({ pod: { name: 'p', createdMs: 9_500 } }))).to.deep.equal({
      ok: true,
      increase: 40,
      resets: 0,
    });
  });

  it('RAPL zones: psys alone, else package (or core + uncore) and dram', () => {
    expect([...disjointZones(new Set(['psys', 'package', 'dram']))]).to.deep.equal(['psys']);
    expect([...disjointZones(new Set(['package', 'core', 'uncore', 'dram']))]).to.deep.equal(['package', 'dram']);
    expect([...disjointZones(new Set(['core', 'uncore']))]).to.deep.equal(['core', 'uncore']);
  });
});
