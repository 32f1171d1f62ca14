// Green Software Foundation Carbon Aware SDK WebAPI emulator. Follows
// https://github.com/Green-Software-Foundation/carbon-aware-sdk/blob/dev/casdk-docs/docs/architecture/web-api.md
// and the WebAPI controller code: `GET /emissions/bylocation?location&time&toTime` →
// `[{location, time, rating, duration}]` (rating gCO2/kWh, duration a .NET TimeSpan `01:00:00`), 204 No Content
// when nothing matches; `GET /emissions/forecasts/current?location&dataStartAt&dataEndAt&windowSize` →
// `[{requestedAt, generatedAt, location, dataStartAt, dataEndAt, windowSize, optimalDataPoints: [...],
// forecastData: [{location, timestamp, duration (minutes), value}]}]` (the code returns `optimalDataPoints` as an
// array); errors are RFC 7807 `{title, status, detail, errors, traceId}`; `GET /health`.
// Data: Electricity Maps DE-LU 2023 hourly (ODbL) for location `germanywestcentral`; forecasts serve the trace's
// actual future values. Payload faults: `value` (rating, value), `wrong-units` (duration), `no-content` (204),
// `shift-time` (time, timestamp), `wrong-region` (location), `no-current` (only emissions after now).
import type { Fault, Reply } from './emulator-server.ts';
import { HOUR, faulted, floorTo, pointsBetween, regionFor, shifted, startEmulator, trace } from './emulator-server.ts';

export const CASDK_LOCATIONS: Record<string, string> = { germanywestcentral: 'DE-LU_2023_hourly.csv' };

const sdkTime = (ms: number) => new Date(ms).toISOString().replace('.000Z', '+00:00');

export function startCarbonAwareSdkEmulator(o: { now: () => number }) {
  const problem = (status: number, title: string, detail: string): Reply => ({
    status,
    body: { type: 'https://tools.ietf.org/html/rfc7231', title, status, detail, errors: {}, traceId: '00-emulated-00' },
  });
  return startEmulator((_req, url, f: Fault | undefined): Reply => {
    if (url.pathname === '/health') return { status: 200, body: { status: 'Healthy' } };
    const location = url.searchParams.get('location') ?? '';
    const file = CASDK_LOCATIONS[location];
    if (!file) return problem(400, 'ArgumentException', `Unknown location: '${location}'`);
    const t = trace(file);
    const now = o.now();
    if (url.pathname === '/emissions/bylocation') {
      const from = Date.parse(url.searchParams.get('time') ?? '') || now - HOUR;
      const to = Date.parse(url.searchParams.get('toTime') ?? '') || now;
      // The SDK returns every emission whose interval overlaps [time, toTime].
      const pts =
        f?.kind === 'no-current'
          ? pointsBetween(t, floorTo(now, HOUR) + HOUR, floorTo(now, HOUR) + 2 * HOUR)
          : pointsBetween(t, floorTo(from, HOUR), to + 1);
      if (pts.length === 0 || f?.kind === 'no-content') return { status: 204 };
      return {
        status: 200,
        body: pts.map((p) => ({
          location: regionFor(location, f),
          time: sdkTime(shifted(p.timeMs, f)),
          rating: faulted(p.valueGPerKWh, f),
          duration: f?.kind === 'wrong-units' ? 60 : '01:00:00',
        })),
      };
    }
    if (url.pathname === '/emissions/forecasts/current') {
      const start = Date.parse(url.searchParams.get('dataStartAt') ?? '') || now;
      const end = Date.parse(url.searchParams.get('dataEndAt') ?? '') || start + 24 * HOUR;
      const pts = pointsBetween(t, floorTo(start, HOUR), end);
      if (pts.length === 0 || f?.kind === 'no-content') return { status: 204 };
      const data = pts.map((p) => ({
        location: regionFor(location, f),
        timestamp: sdkTime(shifted(p.timeMs, f)),
        duration: 60,
        value: faulted(p.valueGPerKWh, f),
      }));
      const best = [...data].sort((a, b) => Number(a.value) - Number(b.value))[0];
      return {
        status: 200,
        body: [
          {
            requestedAt: sdkTime(now),
            generatedAt: sdkTime(floorTo(now, HOUR)),
            location: regionFor(location, f),
            dataStartAt: sdkTime(start),
            dataEndAt: sdkTime(end),
            windowSize: Number(url.searchParams.get('windowSize') ?? 0),
            optimalDataPoints: best ? [best] : [],
            forecastData: data,
          },
        ],
      };
    }
    return problem(404, 'NotFound', `No route ${url.pathname}`);
  });
}
