// What one engine step costs at the soak's shape: a week's budget window, a 60 s policy interval, 8 days of hourly
// demand history and a 24 h carbon forecast. Prints µs and bytes allocated per replan (the first pass of an
// interval) and per standing pass, measured side by side in one run.
//   node bench/pass-cost.ts [--passes N]
import { engineStep, newBooks, type EngineObservation, type ServicePolicy } from '../operator/decision/index.ts';
import { baseInput, HOUR, series } from '../test/unit/decision/fixtures.ts';

const N = Number(process.argv[process.argv.indexOf('--passes') + 1]) || 2000;
const b = baseInput();
const iv = 60_000;
const service: ServicePolicy = {
  variants: b.variants,
  tier: 'eco',
  replicas: b.replicas,
  slo: { ...b.slo, degradationBudget: { fraction: 0.5, window: 'week' } },
  pue: b.pue,
  embodiedGPerGpuHour: b.embodiedGPerGpuHour,
  policy: { ...b.policy, intervalMs: iv, minDwellMs: 120_000 },
};
const T = Date.UTC(2026, 11, 2, 10, 30);
const obs = (now: number): EngineObservation => ({
  now,
  service,
  observed: { variant: b.variants[0]!.name, replicas: 2, clusterGpuHeadroom: 10_000 },
  carbon: {
    nowGPerKWh: 110,
    forecast: series(Math.floor(now / HOUR) * HOUR + HOUR, 24, (i) => (i % 12 < 3 ? 600 : 110)),
    history: series(now - 48 * HOUR, 48, () => 110),
  },
  demand: { history: Array.from({ length: 193 }, (_, i) => ({ timeMs: now - (193 - i) * HOUR, rps: 80 })) },
});

function measure(label: string, step: (i: number) => void): void {
  for (let i = 0; i < 50; i++) step(i); // warm up
  globalThis.gc?.();
  const m0 = process.memoryUsage().heapUsed;
  const c0 = process.cpuUsage();
  let allocated = 0;
  let last = m0;
  for (let i = 0; i < N; i++) {
    step(i);
    const m = process.memoryUsage().heapUsed;
    if (m > last) allocated += m - last;
    last = m;
  }
  const c = process.cpuUsage(c0);
  console.log(
    `${label}: ${((c.user + c.system) / N).toFixed(0)} µs CPU per step, ~${(allocated / N / 1024).toFixed(0)} KiB allocated per step (heap growth between GCs)`,
  );
}

let books = newBooks(T, service);
measure('replan (first pass of an interval)', (i) => {
  books = engineStep(books, obs(T + i * iv)).books;
});
const standing = engineStep(books, obs(T + N * iv + iv)).books;
measure('standing plan (a later pass of the same interval)', (i) => {
  engineStep(standing, obs(T + N * iv + iv + 1 + (i % 50)));
});
