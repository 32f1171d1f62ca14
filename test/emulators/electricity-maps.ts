// Electricity Maps API v3 emulator. Follows the v3 API reference (https://docs.electricitymaps.com/ ,
// "Carbon intensity" endpoints): header `auth-token`; `GET /v3/carbon-intensity/latest?zone=` →
// `{zone, carbonIntensity, datetime, updatedAt, createdAt, emissionFactorType, isEstimated, estimationMethod}`;
// `/v3/carbon-intensity/history?zone=` → `{zone, history: [same items]}` (last 24 h, hourly);
// `/v3/carbon-intensity/past-range?zone&start&end` → `{zone, data: [...]}`;
// `/v3/carbon-intensity/forecast?zone&horizonHours` → `{zone, forecast: [{carbonIntensity, datetime}], updatedAt}`;
// `emissionFactorType=direct|lifecycle` picks the trace's direct or LCA column; `/v3/zones`.
// Data: the Electricity Maps 2023 hourly exports in data/carbon (ODbL). The forecast serves the trace's actual
// future values (the exports carry no forecast). The unknown-zone answer (404 `{status, message}`) follows
// what clients report; the exact wording is not verified against the docs. Payload faults: `value` (the
// carbonIntensity served), `shift-time` (every datetime moved), `wrong-region` (`zone` names another zone).
import type { Emulator, Fault, Reply } from './emulator-server.ts';
import {
  HOUR,
  faulted,
  floorTo,
  regionFor,
  shifted,
  pointAt,
  pointsBetween,
  startEmulator,
  trace,
  unauthorized,
} from './emulator-server.ts';
import type { EmissionBasis, TracePoint } from '../../operator/carbon/trace-file.ts';

export const EM_ZONES: Record<string, string> = {
  DE: 'DE-LU_2023_hourly.csv',
  GB: 'GB_2023_hourly.csv',
  'US-CAL-CISO': 'US-CAL-CISO_2023_hourly.csv',
};

export interface ElectricityMapsEmulatorOptions {
  now: () => number;
  apiKey: string;
}

export function startElectricityMapsEmulator(o: ElectricityMapsEmulatorOptions): Promise<Emulator> {
  const item = (zone: string, p: TracePoint, basis: EmissionBasis, f: Fault | undefined) => ({
    zone: regionFor(zone, f),
    carbonIntensity: faulted(p.valueGPerKWh, f),
    datetime: new Date(shifted(p.timeMs, f)).toISOString(),
    updatedAt: new Date(p.timeMs + 10 * 60_000).toISOString(),
    createdAt: new Date(p.timeMs - 24 * HOUR).toISOString(),
    emissionFactorType: basis,
    isEstimated: p.estimated,
    estimationMethod: p.estimated ? 'TIME_SLICER_AVERAGE' : null,
  });
  return startEmulator((req, url, f): Reply => {
    if (req.headers['auth-token'] !== o.apiKey) return unauthorized('Invalid authentication token');
    if (url.pathname === '/v3/zones')
      return { status: 200, body: Object.fromEntries(Object.keys(EM_ZONES).map((z) => [z, { zoneName: z }])) };
    const zone = url.searchParams.get('zone') ?? '';
    const file = EM_ZONES[zone];
    if (!file) return { status: 404, body: { status: 'error', message: `Zone '${zone}' does not exist.` } };
    const basisParam = url.searchParams.get('emissionFactorType') ?? 'lifecycle';
    const basis: EmissionBasis = basisParam === 'direct' ? 'direct' : 'lifecycle';
    const t = trace(file, basis);
    const now = o.now();
    switch (url.pathname) {
      case '/v3/carbon-intensity/latest': {
        const p = pointAt(t, now);
        if (!p) return { status: 404, body: { status: 'error', message: 'No recent data for zone' } };
        return { status: 200, body: item(zone, p, basis, f) };
      }
      case '/v3/carbon-intensity/history': {
        const pts = pointsBetween(t, floorTo(now, HOUR) - 23 * HOUR, floorTo(now, HOUR) + 1);
        return { status: 200, body: { zone: regionFor(zone, f), history: pts.map((p) => item(zone, p, basis, f)) } };
      }
      case '/v3/carbon-intensity/past-range': {
        const start = Date.parse(url.searchParams.get('start') ?? '');
        const end = Date.parse(url.searchParams.get('end') ?? '');
        if (!Number.isFinite(start) || !Number.isFinite(end))
          return { status: 400, body: { status: 'error', message: 'start and end are required' } };
        const data = pointsBetween(t, start, end).map((p) => item(zone, p, basis, f));
        return { status: 200, body: { zone: regionFor(zone, f), data } };
      }
      case '/v3/carbon-intensity/forecast': {
        const h = Math.min(72, Number(url.searchParams.get('horizonHours') ?? 24));
        const from = floorTo(now, HOUR);
        const pts = pointsBetween(t, from, from + h * HOUR);
        return {
          status: 200,
          body: {
            zone: regionFor(zone, f),
            forecast: pts.map((p) => ({
              carbonIntensity: faulted(p.valueGPerKWh, f),
              datetime: new Date(shifted(p.timeMs, f)).toISOString(),
            })),
            updatedAt: new Date(from).toISOString(),
          },
        };
      }
      default:
        return { status: 404, body: { status: 'error', message: `No route ${url.pathname}` } };
    }
  });
}
