// The CarbonSource status.readings writer (operator/kube/carbon-source-readings.ts) across a restart: its memory of
// what it wrote is seeded from the CarbonSource the watch cache holds, so unchanged values write nothing until a
// real change or the heartbeat (counted from the status's updatedAt); a cached reading it cannot trust is not used.
// The client is a recorder of merge patches (the writer's one request); wall time is a number the test moves.
import { expect } from 'chai';
import { describe, it } from 'mocha';
import { carbonSourceReadings, type SourceReading } from '../../../operator/kube/carbon-source-readings.ts';
import type { KubeClient, KubeObject } from '../../../operator/kube/kube-client.ts';

const MIN = 60_000;
const WALL = Date.UTC(2026, 2, 2, 9);
const HEARTBEAT = 15 * MIN;

interface Patch {
  path: string;
  readings: SourceReading[];
}

function recorder(): { client: KubeClient; patches: Patch[] } {
  const patches: Patch[] = [];
  const client = {
    mergePatch: async (path: string, body: { status: { readings: SourceReading[] } }) => {
      patches.push({ path, readings: structuredClone(body.status.readings) });
      return {};
    },
  } as unknown as KubeClient;
  return { client, patches };
}

const iso = (ms: number) => new Date(ms).toISOString();

/** A reading as the writer writes it. */
function written(region: string, value: number, dataTimeMs: number, updatedAtMs: number): SourceReading {
  return {
    region,
    valueGPerKWh: value,
    unit: 'gCO2eq/kWh',
    dataTime: iso(dataTimeMs),
    fallbackLevel: 'primary',
    estimated: false,
    updatedAt: iso(updatedAtMs),
  };
}

function stored(readings: unknown[]): KubeObject {
  return { metadata: { name: 'src' }, status: { readings } } as KubeObject;
}

const view = (valueGPerKWh: number, dataTimeMs: number) => ({
  available: true,
  valueGPerKWh,
  dataTimeMs,
  fallbackLevel: 'primary',
  estimated: false,
});

/** A restarted writer at `wall.now`, over a cache holding `cached` for source 'src'. */
function restarted(cached: KubeObject | undefined) {
  const wall = { now: WALL };
  const { client, patches } = recorder();
  const w = carbonSourceReadings(client, {
    wallNow: () => wall.now,
    minGapMs: 0,
    heartbeatMs: HEARTBEAT,
    stored: (name) => (name === 'src' ? cached : undefined),
  });
  return { w, wall, patches };
}

describe('CarbonSource readings across a restart', () => {
  const before = stored([written('X', 250, WALL - 10 * MIN, WALL - 5 * MIN)]);

  it('unchanged values write nothing: the same data time, or only the data time moved within the heartbeat', async () => {
    const { w, patches } = restarted(before);
    w.note('src', 'X', view(250.04, WALL - 10 * MIN));
    await w.flush();
    w.note('src', 'X', view(250, WALL));
    await w.flush();
    expect(patches).to.deep.equal([]);
  });

  it('without the cache (the writer had no memory) the same restart wrote once', async () => {
    const { w, patches } = restarted(undefined);
    w.note('src', 'X', view(250, WALL - 10 * MIN));
    await w.flush();
    expect(patches.map((p) => p.readings.map((r) => r.valueGPerKWh))).to.deep.equal([[250]]);
  });

  it('the heartbeat is counted from the newest cached updatedAt: due 15 min after it, the moved data time rides along', async () => {
    const { w, wall, patches } = restarted(before);
    w.note('src', 'X', view(250, WALL - 10 * MIN));
    wall.now = WALL + 9 * MIN; // 14 min after updatedAt
    w.note('src', 'X', view(250, WALL + 5 * MIN));
    await w.flush();
    expect(patches).to.deep.equal([]);
    wall.now = WALL + 10 * MIN; // 15 min after it
    w.note('src', 'X', view(250, WALL + 10 * MIN));
    await w.flush();
    // The value's first-seen time stays the one from before the restart; the data time is the newest.
    expect(patches.map((p) => p.readings)).to.deep.equal([[written('X', 250, WALL + 10 * MIN, WALL - 5 * MIN)]]);
    expect(patches[0]!.path).to.match(/\/carbonsources\/src\/status$/);
  });

  it('a real change writes at once, with the new value first seen now; a region no longer polled is dropped', async () => {
    const two = stored([written('X', 250, WALL - 10 * MIN, WALL - 5 * MIN), written('Y', 90, WALL, WALL - MIN)]);
    const { w, patches } = restarted(two);
    w.note('src', 'X', view(310, WALL));
    await w.flush();
    expect(patches.map((p) => p.readings)).to.deep.equal([[written('X', 310, WALL, WALL)]]);
  });

  it('until the source first answers (pending), the cached reading stays; the answer then decides', async () => {
    const { w, patches } = restarted(before);
    w.note('src', 'X', { pending: true, available: false, fallbackLevel: 'none' });
    await w.flush();
    expect(patches).to.deep.equal([]);
    w.note('src', 'X', view(250, WALL - 10 * MIN));
    await w.flush();
    expect(patches).to.deep.equal([]);
    // No usable value once it has answered (fail-safe): the reading goes.
    w.note('src', 'X', { available: false, fallbackLevel: 'fail-safe' });
    await w.flush();
    expect(patches.map((p) => p.readings)).to.deep.equal([[]]);
  });

  const bad: Array<[string, unknown]> = [
    ['updatedAt after now', written('X', 250, WALL - 10 * MIN, WALL + MIN)],
    ['updatedAt not a time', { ...written('X', 250, WALL - 10 * MIN, WALL), updatedAt: 'soon' }],
    ['value not a number', { ...written('X', 250, WALL - 10 * MIN, WALL), valueGPerKWh: '250' }],
    ['another unit', { ...written('X', 250, WALL - 10 * MIN, WALL), unit: 'gCO2/kWh' }],
    ['not an object', 'X=250'],
  ];
  for (const [what, r] of bad)
    it(`a cached reading with ${what} is not used: the first note writes a fresh one`, async () => {
      const { w, patches } = restarted(stored([r]));
      w.note('src', 'X', view(250, WALL - 10 * MIN));
      await w.flush();
      expect(patches.map((p) => p.readings)).to.deep.equal([[written('X', 250, WALL - 10 * MIN, WALL)]]);
    });

  it('readings that are not a list are not used, and do not stop the writer', async () => {
    const { w, patches } = restarted({ metadata: { name: 'src' }, status: { readings: { X: 250 } } } as KubeObject);
    w.note('src', 'X', view(250, WALL - 10 * MIN));
    await w.flush();
    expect(patches).to.have.length(1);
  });
});
