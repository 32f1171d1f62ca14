// UK National Grid ESO Carbon Intensity API emulator. Follows https://carbon-intensity.github.io/api-definitions/ :
// no key; `GET /intensity` → `{data: [{from, to, intensity: {forecast, actual, index}}]}` for the current half
// hour; `/intensity/{from}/fw24h|fw48h` and `/intensity/{from}/{to}` → the same items (future `actual` is null);
// regional: `/regional/regionid/{1-17}` and `/regional/postcode/{outward}` → `{data: [{regionid, dnoregion,
// shortname, data: [{from, to, intensity: {forecast, index}, generationmix}]}]}`;
// `/regional/intensity/{from}/fw24h|fw48h/regionid/{id}` → `{data: {regionid, …, data: [...]}}` (an object,
// not an array: the API mixes both, which is why clients accept either). Times are `YYYY-MM-DDThh:mmZ`.
// Data: Electricity Maps GB 2023 hourly (ODbL) in data/carbon, each hour split into two half hours; the
// `forecast` field serves the same trace value (the export has no forecast), and regions serve the national trace.
// Payload faults: `value`, `missing-field`, `data-as-object`, `shift-time` (from/to), `wrong-region` (`regionid`),
// `no-current` (the current-intensity endpoints answer with the next half hour only).
import type { Fault, Reply } from './emulator-server.ts';
import { HOUR, faulted, floorTo, pointAt, regionFor, shifted, startEmulator, trace } from './emulator-server.ts';

const HALF = 1_800_000;
const REGIONS: Record<number, [string, string]> = {
  13: ['UKPN London', 'London'],
  12: ['SSE South', 'South England'],
  1: ['Scottish Hydro Electric Power Distribution', 'North Scotland'],
};
const POSTCODES: Record<string, number> = { RG10: 12, SW1: 13, IV1: 1 };

const iso = (ms: number) => `${new Date(ms).toISOString().slice(0, 16)}Z`;
const index = (v: number) =>
  v < 50 ? 'very low' : v < 120 ? 'low' : v < 200 ? 'moderate' : v < 300 ? 'high' : 'very high';

export function startUkCarbonIntensityEmulator(o: { now: () => number }) {
  const t = () => trace('GB_2023_hourly.csv');
  const entries = (from: number, to: number, f: Fault | undefined, regional: boolean) => {
    const out: unknown[] = [];
    const now = o.now();
    for (let ms = floorTo(from, HALF); ms < to; ms += HALF) {
      const p = pointAt(t(), ms);
      if (!p) continue;
      const measured = ms + HALF <= now + HALF && ms <= now;
      const intensity: Record<string, unknown> = { forecast: faulted(p.valueGPerKWh, f), index: index(p.valueGPerKWh) };
      if (!regional) intensity.actual = measured ? faulted(p.valueGPerKWh, f) : null;
      const e: Record<string, unknown> = { from: iso(shifted(ms, f)), to: iso(shifted(ms + HALF, f)), intensity };
      if (f?.kind === 'missing-field') delete e.intensity;
      if (regional)
        e.generationmix = [
          { fuel: 'gas', perc: 40 },
          { fuel: 'wind', perc: 60 },
        ];
      out.push(e);
    }
    return out;
  };
  const region = (id: number, data: unknown[], f?: Fault) => ({
    regionid: Number(regionFor(id, f)),
    dnoregion: REGIONS[id]![0],
    shortname: REGIONS[id]![1],
    data,
  });
  const bad = (message: string): Reply => ({ status: 400, body: { error: { code: '400 Bad Request', message } } });
  const span = (from: string, what: string): [number, number] | undefined => {
    const s = Date.parse(from);
    if (!Number.isFinite(s)) return undefined;
    const h = what === 'fw24h' ? 24 : what === 'fw48h' ? 48 : what === 'pt24h' ? -24 : NaN;
    if (Number.isFinite(h)) return h > 0 ? [s, s + h * HOUR] : [s + h * HOUR, s];
    const e = Date.parse(what);
    return Number.isFinite(e) ? [s, e] : undefined;
  };
  const wrap = (data: unknown, f: Fault | undefined) => ({
    data: f?.kind === 'data-as-object' && Array.isArray(data) ? data[0] : data,
  });
  const regionId = (kind: string, v: string): number | undefined =>
    kind === 'regionid' ? (REGIONS[Number(v)] ? Number(v) : undefined) : POSTCODES[v.toUpperCase()];

  return startEmulator((_req, url, f): Reply => {
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const now = o.now();
    // The half hour a current-intensity endpoint serves: the one containing now, or the next one (no-current).
    const cur = f?.kind === 'no-current' ? floorTo(now, HALF) + HALF : now;
    if (parts[0] === 'intensity') {
      if (parts.length === 1) return { status: 200, body: wrap(entries(cur, cur + 1, f, false), f) };
      const r = span(parts[1]!, parts[2] ?? '');
      if (!r) return bad('Please enter a valid ISO 8601 datetime');
      return { status: 200, body: wrap(entries(r[0], r[1], f, false), f) };
    }
    if (parts[0] === 'regional') {
      if (parts[1] === 'regionid' || parts[1] === 'postcode') {
        const id = regionId(parts[1], parts[2] ?? '');
        if (id === undefined)
          return bad(
            parts[1] === 'regionid' ? 'Please enter a valid region ID i.e. 1-17.' : 'Please enter a valid postcode.',
          );
        return { status: 200, body: wrap([region(id, entries(cur, cur + 1, f, true), f)], f) };
      }
      if (parts[1] === 'intensity') {
        const r = span(parts[2]!, parts[3] ?? '');
        const id = regionId(parts[4] ?? '', parts[5] ?? '');
        if (!r) return bad('Please enter a valid ISO 8601 datetime');
        if (id === undefined) return bad('Please enter a valid region ID or postcode.');
        // This endpoint answers with `data` as an object (one region).
        return { status: 200, body: { data: region(id, entries(r[0], r[1], f, true), f) } };
      }
    }
    return { status: 404, body: { error: { code: '404 Not Found', message: 'Not found' } } };
  });
}
