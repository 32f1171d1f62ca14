// WattTime API v3 emulator. Follows https://docs.watttime.org/ : `GET /login` with HTTP Basic auth →
// `{"token": "…"}` (about 30 minutes), then `Authorization: Bearer`; 401 for a bad or expired token.
// `GET /v3/forecast?region&signal_type&horizon_hours` and `/v3/historical?region&start&end&signal_type` →
// `{data: [{point_time, value}], meta: {data_point_period_seconds: 300, region, signal_type, model, units:
// "lbs_co2_per_mwh", generated_at_period_seconds, generated_at}}`; `/v3/signal-index` → percentile 0–100;
// `/v3/region-from-loc?latitude&longitude&signal_type` → `{region, region_full_name, signal_type}`.
// Only CAISO_NORTH is on the free plan: other known regions answer 403, unknown ones 400.
// Data: the CAISO trace in data/carbon (Electricity Maps US-CAL-CISO 2023, direct, ODbL), served as if it were a
// MOER in lbs/MWh (g/kWh ÷ 0.45359237), each hour repeated over its twelve 5-minute points. Payload faults:
// `value`, `shift-time` (point_time), `wrong-region` (meta.region), `no-current` (the forecast starts at the next
// 5-minute interval, as a late model run would), `wrong-units` (meta.units).
import type { Emulator, Fault, Reply } from './emulator-server.ts';
import {
  HOUR,
  faulted,
  floorTo,
  pointAt,
  regionFor,
  shifted,
  startEmulator,
  trace,
  unauthorized,
} from './emulator-server.ts';
import { LBS_PER_MWH_TO_G_PER_KWH } from '../../operator/carbon/types.ts';

const FIVE_MIN = 300_000;
const KNOWN_NOT_IN_PLAN = new Set(['PJM_DC', 'ERCOT_NORTHCENTRAL', 'MISO_INDIANAPOLIS']);

export interface WattTimeEmulator extends Emulator {
  /** Invalidates every token issued so far, as if they had expired. */
  expireTokens(): void;
  readonly logins: number;
  /** Every bearer token issued so far (leak tests grep for them). */
  readonly issued: readonly string[];
}

export async function startWattTimeEmulator(o: {
  now: () => number;
  username: string;
  password: string;
}): Promise<WattTimeEmulator> {
  const tokens = new Set<string>();
  const issued: string[] = [];
  let logins = 0;
  const t = () => trace('US-CAL-CISO_2023_hourly.csv');
  const points = (from: number, to: number, f: Fault | undefined) => {
    const out: { point_time: string; value: unknown }[] = [];
    const first = floorTo(from, FIVE_MIN) + (f?.kind === 'no-current' ? FIVE_MIN : 0);
    for (let ms = first; ms < to; ms += FIVE_MIN) {
      const p = pointAt(t(), ms);
      if (p)
        out.push({
          point_time: new Date(shifted(ms, f)).toISOString().replace('.000Z', '+00:00'),
          value: faulted(p.valueGPerKWh / LBS_PER_MWH_TO_G_PER_KWH, f),
        });
    }
    return out;
  };
  const meta = (region: string, signal: string, f: Fault | undefined) => ({
    data_point_period_seconds: 300,
    region: regionFor(region, f),
    signal_type: signal,
    model: { date: '2023-01-01', type: 'binned_regression' },
    units: f?.kind === 'wrong-units' ? 'kg_co2_per_mwh' : 'lbs_co2_per_mwh',
    generated_at_period_seconds: 300,
    generated_at: new Date(floorTo(o.now(), FIVE_MIN)).toISOString(),
  });
  const emu = await startEmulator((req, url, f): Reply => {
    if (url.pathname === '/login') {
      const expected = `Basic ${Buffer.from(`${o.username}:${o.password}`).toString('base64')}`;
      if (req.headers.authorization !== expected) return unauthorized('invalid username or password');
      logins++;
      const token = `tok-${logins}-${Math.random().toString(36).slice(2)}`;
      tokens.add(token);
      issued.push(token);
      return { status: 200, body: { token } };
    }
    const auth = req.headers.authorization ?? '';
    if (!auth.startsWith('Bearer ') || !tokens.has(auth.slice(7))) return unauthorized('token expired or invalid');
    const signal = url.searchParams.get('signal_type') ?? 'co2_moer';
    if (url.pathname === '/v3/region-from-loc') {
      const lat = Number(url.searchParams.get('latitude'));
      const lon = Number(url.searchParams.get('longitude'));
      if (lat > 35 && lat < 42 && lon > -124.5 && lon < -119)
        return {
          status: 200,
          body: { region: 'CAISO_NORTH', region_full_name: 'California ISO Northern', signal_type: signal },
        };
      return { status: 404, body: { error: 'Coordinates not found', message: 'no region for these coordinates' } };
    }
    const region = url.searchParams.get('region') ?? '';
    if (region !== 'CAISO_NORTH') {
      if (KNOWN_NOT_IN_PLAN.has(region))
        return { status: 403, body: { error: 'Forbidden', message: `Your plan does not include region ${region}` } };
      return { status: 400, body: { error: 'Invalid region', message: `region '${region}' is not a valid region` } };
    }
    const now = o.now();
    switch (url.pathname) {
      case '/v3/forecast': {
        const h = Math.min(72, Number(url.searchParams.get('horizon_hours') ?? 24));
        return { status: 200, body: { data: points(now, now + h * HOUR, f), meta: meta(region, signal, f) } };
      }
      case '/v3/historical': {
        const s = Date.parse(url.searchParams.get('start') ?? '');
        const e = Date.parse(url.searchParams.get('end') ?? '');
        if (!Number.isFinite(s) || !Number.isFinite(e))
          return { status: 400, body: { error: 'Bad request', message: 'start and end are required' } };
        return { status: 200, body: { data: points(s, e, f), meta: meta(region, signal, f) } };
      }
      case '/v3/signal-index': {
        const tr = t();
        const cur = pointAt(tr, now)?.valueGPerKWh ?? 0;
        const day = tr.points.filter((p) => p.timeMs > now - 24 * HOUR && p.timeMs <= now).map((p) => p.valueGPerKWh);
        const pct = day.length ? Math.round((100 * day.filter((v) => v <= cur).length) / day.length) : 50;
        return {
          status: 200,
          body: {
            data: [{ point_time: new Date(floorTo(now, FIVE_MIN)).toISOString(), value: pct }],
            meta: { ...meta(region, signal, f), units: 'percentile' },
          },
        };
      }
      default:
        return { status: 404, body: { error: 'Not found' } };
    }
  });
  return Object.defineProperties(emu as WattTimeEmulator, {
    expireTokens: { value: () => tokens.clear() },
    logins: { get: () => logins },
    issued: { get: () => [...issued] },
  });
}
