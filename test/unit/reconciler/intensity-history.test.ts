import { expect } from 'chai';
import { IntensityHistory } from '../../../operator/reconciler/pure.ts';

describe('intensity history kept for the fallback forecast', () => {
  it('keeps one point per new data timestamp, in order, 48 h deep', () => {
    const h = new IntensityHistory();
    const H = 3_600_000;
    h.record('s/DE', 0, 100);
    h.record('s/DE', 0, 999); // same data point polled again
    h.record('s/DE', -H, 50); // older than the last one
    for (let i = 1; i <= 60; i++) h.record('s/DE', i * H, 100 + i);
    const pts = h.get('s/DE');
    expect(pts[0]).to.deep.equal({ timeMs: 12 * H, valueGPerKWh: 112 });
    expect(pts[pts.length - 1]).to.deep.equal({ timeMs: 60 * H, valueGPerKWh: 160 });
    expect(pts.length).to.equal(49);
    expect(h.get('s/GB')).to.deep.equal([]);
  });
});
