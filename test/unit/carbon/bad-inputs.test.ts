// Every bad input from the issue, against every HTTP provider's emulator: each ends in a CarbonProviderError
// with the expected reason and a message that says what went wrong — never a crash, never a value used.
import { expect } from 'chai';
import { inspect } from 'node:util';
import { CarbonProviderError } from '../../../operator/carbon/index.ts';
import type { CarbonProvider } from '../../../operator/carbon/index.ts';
import type { Fault } from '../../emulators/emulator-server.ts';
import type { WattTimeEmulator } from '../../emulators/watt-time.ts';
import type { Started } from './provider-cases.ts';
import { EM_KEY, FakeClock, HTTP_CASES, WT_PASS } from './provider-cases.ts';

async function failure(p: Promise<unknown>): Promise<CarbonProviderError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e, 'expected the call to fail').to.be.instanceOf(CarbonProviderError);
  return e as CarbonProviderError;
}

interface BadInput {
  title: string;
  fault: Fault;
  reason: string;
  message: RegExp | ((valueField: string) => RegExp);
  only?: string[];
  spec?: Record<string, unknown>;
}

const BAD: BadInput[] = [
  { title: 'malformed JSON', fault: { kind: 'malformed-json' }, reason: 'malformed', message: /malformed JSON/ },
  {
    title: 'a missing value field',
    fault: { kind: 'missing-field' },
    reason: 'malformed',
    message: (f) => new RegExp(`${f}: missing field`),
  },
  {
    title: 'a negative value',
    fault: { kind: 'value', value: -5 },
    reason: 'out-of-range',
    message: /negative carbon intensity -\d/,
  },
  {
    title: 'NaN (a string: no provider documents numeric strings)',
    fault: { kind: 'value', value: 'NaN' },
    reason: 'malformed',
    message: (f) => new RegExp(`${f}(\\.\\w+)?: expected a JSON number of (gCO2eq/kWh|lbs CO2/MWh), got "NaN"`),
  },
  {
    title: 'an absurd value (above 2,000 g/kWh)',
    fault: { kind: 'value', value: 5000 },
    reason: 'out-of-range',
    message: /above the 2000 gCO2eq\/kWh ceiling/,
  },
  {
    title: 'an HTML error page with status 200',
    fault: { kind: 'html-200' },
    reason: 'malformed',
    message: /expected JSON but got an HTML page \(status 200\): <!DOCTYPE html>/,
  },
  { title: '401', fault: { kind: 'status', status: 401 }, reason: 'unauthorized', message: /401 Unauthorized/ },
  {
    title: '403',
    fault: { kind: 'status', status: 403 },
    reason: 'forbidden',
    message: /403 Forbidden: .*configuration/,
  },
  {
    title: '429 with Retry-After (no retries left)',
    fault: { kind: 'status', status: 429, retryAfter: '7' },
    reason: 'rate-limited',
    message: /429 Too Many Requests, retry after 7 s/,
  },
  { title: '500', fault: { kind: 'status', status: 500 }, reason: 'server-error', message: /upstream error 500/ },
  {
    title: 'a timeout (no answer)',
    fault: { kind: 'hang' },
    reason: 'timeout',
    message: /no response within 300 ms/,
    spec: { timeoutSeconds: 0.3 },
  },
  {
    title: 'a slow-loris body, cut off by the deadline',
    fault: { kind: 'slow-loris', intervalMs: 20 },
    reason: 'timeout',
    message: /no complete response within 300 ms/,
    spec: { timeoutSeconds: 0.3 },
  },
  {
    title: 'a huge body, cut off by the size limit',
    fault: { kind: 'huge', bytes: 4 * 1024 * 1024 },
    reason: 'too-large',
    message: /exceeds the 65536-byte limit/,
    spec: { maxBodyBytes: 65536 },
  },
  {
    title: 'wrong units (WattTime meta.units)',
    fault: { kind: 'wrong-units' },
    reason: 'malformed',
    message: /meta\.units: wrong units 'kg_co2_per_mwh', expected 'lbs_co2_per_mwh'/,
    only: ['wattTime'],
  },
  {
    title: 'wrong units (Carbon Aware SDK duration not a TimeSpan)',
    fault: { kind: 'wrong-units' },
    reason: 'malformed',
    message: /duration: expected a TimeSpan like '01:00:00', got 60/,
    only: ['carbonAwareSdk'],
  },
];

for (const c of HTTP_CASES) {
  describe(`bad inputs: ${c.name}`, () => {
    const clock = new FakeClock();
    let s: Started;
    before(async () => {
      s = await c.start(clock);
    });
    after(() => s.close());
    afterEach(() => s.emulator!.clearFault());

    for (const b of BAD.filter((x) => !x.only || x.only.includes(c.name))) {
      it(`${b.title} → ${b.reason}`, async () => {
        const p = s.make(b.spec ?? {});
        // Warm up any login first so the fault hits the data call.
        await p.current(c.region);
        s.emulator!.fault(b.fault);
        const e = await failure(p.current(c.region));
        expect(e.reason).to.equal(b.reason);
        const re = typeof b.message === 'function' ? b.message(c.valueField) : b.message;
        expect(e.message).to.match(re);
        expect(e.message).to.include(c.name);
      });
    }

    it('an unknown zone → unknown-region, naming it', async () => {
      const e = await failure(s.provider.current(c.unknownRegion!));
      expect(e.reason).to.equal('unknown-region');
      expect(e.message).to.include(`'${c.unknownRegion}'`);
    });

    it('429 Retry-After is honoured: waits exactly that long, then succeeds', async () => {
      const slept: number[] = [];
      const p = s.make({ retries: 2 }, { sleep: async (ms) => void slept.push(ms) });
      await p.current(c.region);
      s.emulator!.fault({ kind: 'status', status: 429, retryAfter: '7' }, { times: 1 });
      const r = await p.current(c.region);
      expect(r.valueGPerKWh).to.be.closeTo(c.expected(clock.t), c.tolerance);
      expect(slept).to.deep.equal([7000]);
    });

    it('a Retry-After beyond the limit is not waited for', async () => {
      const slept: number[] = [];
      const p = s.make({ retries: 2 }, { sleep: async (ms) => void slept.push(ms), maxRetryAfterMs: 60_000 });
      await p.current(c.region);
      s.emulator!.fault({ kind: 'status', status: 429, retryAfter: '3600' });
      const e = await failure(p.current(c.region));
      expect(e.message).to.match(/retry after 3600 s/);
      expect(slept).to.deep.equal([]);
    });

    it('5xx is retried with exponential backoff and jitter', async () => {
      const slept: number[] = [];
      const p = s.make(
        { retries: 3 },
        { sleep: async (ms) => void slept.push(ms), random: () => 0.5, baseDelayMs: 400 },
      );
      await p.current(c.region);
      const before = s.emulator!.total();
      s.emulator!.fault({ kind: 'status', status: 503 }, { times: 2 });
      const r = await p.current(c.region);
      expect(r.valueGPerKWh).to.be.closeTo(c.expected(clock.t), c.tolerance);
      // full jitter: random × min(max, base × 2^attempt) = 0.5 × 400, 0.5 × 800
      expect(slept).to.deep.equal([200, 400]);
      expect(s.emulator!.total() - before).to.equal(3);
    });

    it('the local rate limit fails fast once the budget is spent, and refills with time', async () => {
      const p: CarbonProvider = s.make({ rateLimit: { requests: 2, perSeconds: 60 } });
      // WattTime spends one request on /login.
      const budget = c.name === 'wattTime' ? 1 : 2;
      for (let i = 0; i < budget; i++) await p.current(c.region);
      const e = await failure(p.current(c.region));
      expect(e.reason).to.equal('rate-limited');
      expect(e.message).to.match(/local rate limit of 2 requests per 60 s reached/);
      clock.advance(61_000);
      await p.current(c.region);
    });
  });
}

describe('bad inputs: provider specifics', () => {
  const clock = new FakeClock();

  it('WattTime: an expired token costs exactly one re-login, and the call succeeds', async () => {
    const s = await HTTP_CASES.find((c) => c.name === 'wattTime')!.start(clock);
    try {
      const emu = s.emulator as WattTimeEmulator;
      await s.provider.current('CAISO_NORTH');
      expect(emu.logins).to.equal(1);
      emu.expireTokens();
      const r = await s.provider.current('CAISO_NORTH');
      expect(r.signal).to.equal('marginal');
      expect(emu.logins).to.equal(2);
      expect(emu.count('/login')).to.equal(2);
    } finally {
      await s.close();
    }
  });

  it('WattTime: wrong credentials → unauthorized, and the password is in no message', async () => {
    const s = await HTTP_CASES.find((c) => c.name === 'wattTime')!.start(clock);
    try {
      const bad = 'not-the-password-SECRET';
      const p = s.make({}, {}, { username: 'wt-user', password: bad });
      const e = await failure(p.current('CAISO_NORTH'));
      expect(e.reason).to.equal('unauthorized');
      expect(e.message).to.match(/wattTime login: 401 Unauthorized/);
      for (const text of [e.message, String(e.stack), JSON.stringify(p), inspect(p, { depth: 5 })]) {
        expect(text).to.not.include(bad);
        expect(text).to.not.include(WT_PASS);
      }
    } finally {
      await s.close();
    }
  });

  it('WattTime: a region outside the plan → forbidden (a configuration error, not an outage)', async () => {
    const s = await HTTP_CASES.find((c) => c.name === 'wattTime')!.start(clock);
    try {
      const e = await failure(s.provider.current('PJM_DC'));
      expect(e.reason).to.equal('forbidden');
      expect(e.message).to.match(/403 Forbidden: the account or plan does not cover this request/);
    } finally {
      await s.close();
    }
  });

  it('Electricity Maps: a wrong API key → unauthorized; the key never appears', async () => {
    const s = await HTTP_CASES.find((c) => c.name === 'electricityMaps')!.start(clock);
    try {
      const e = await failure(s.make({}, {}, { apiKey: 'wrong-key-SECRET' }).current('DE'));
      expect(e.reason).to.equal('unauthorized');
      expect(e.message).to.not.include('wrong-key-SECRET');
      expect(inspect(s.provider, { depth: 5 }) + JSON.stringify(s.provider)).to.not.include(EM_KEY);
    } finally {
      await s.close();
    }
  });

  it('UK: `data` as an object instead of an array is accepted', async () => {
    const uk = HTTP_CASES.find((c) => c.name === 'ukCarbonIntensity')!;
    const s = await uk.start(clock);
    try {
      s.emulator!.fault({ kind: 'data-as-object' });
      const r = await s.provider.current('GB');
      expect(r.valueGPerKWh).to.equal(uk.expected(clock.t));
      const regional = await s.provider.forecast('regionid:13', 3 * 3_600_000);
      expect(regional).to.be.an('array').with.length.above(3);
    } finally {
      await s.close();
    }
  });

  it('Carbon Aware SDK: 204 No Content → no-data', async () => {
    const s = await HTTP_CASES.find((c) => c.name === 'carbonAwareSdk')!.start(clock);
    try {
      s.emulator!.fault({ kind: 'no-content' });
      const e = await failure(s.provider.current('germanywestcentral'));
      expect(e.reason).to.equal('no-data');
      expect(e.message).to.match(/204 No Content/);
      expect(await s.provider.forecast('germanywestcentral', 3_600_000)).to.equal(null);
    } finally {
      await s.close();
    }
  });
});
