// Credentials never leave the provider layer (issue 15 §1 and §4): every provider gets planted secret values,
// the emulators echo them back — in JSON and HTML error bodies, plain text, response headers, a redirect's
// Location, and as raw, URL-encoded and base64 text — and everything this layer produces is grepped for every
// encoding of every planted value: error messages, stacks and causes, the signal's reason text, every log line
// and every metric. (The full-run grep over Events, status and audit files builds on plantedCredentials/findLeaks.)
import { expect } from 'chai';
import { inspect } from 'node:util';
import { Registry } from 'prom-client';
import winston from 'winston';
import Transport from 'winston-transport';
import type { CarbonProvider, Credentials } from '../../../operator/carbon/index.ts';
import {
  CarbonSignalService,
  Secret,
  createProvider,
  validateCarbonSourceSpec,
} from '../../../operator/carbon/index.ts';
import type { Emulator, Fault } from '../../emulators/emulator-server.ts';
import { startCarbonAwareSdkEmulator } from '../../emulators/carbon-aware-sdk.ts';
import { startElectricityMapsEmulator } from '../../emulators/electricity-maps.ts';
import { findLeaks, plantedCredentials, plantedValues, secretEncodings } from '../../emulators/planted-secrets.ts';
import { startUkCarbonIntensityEmulator } from '../../emulators/uk-carbon-intensity.ts';
import type { WattTimeEmulator } from '../../emulators/watt-time.ts';
import { startWattTimeEmulator } from '../../emulators/watt-time.ts';
import { FakeClock } from './provider-cases.ts';

class MemoryTransport extends Transport {
  lines: string[] = [];
  override log(info: unknown, next: () => void) {
    this.lines.push(JSON.stringify(info));
    next();
  }
}

const planted = plantedCredentials();

/** A body that quotes every planted value in every encoding, as a verbose debugging proxy might. */
function quotingAll(): string {
  const forms = plantedValues(planted).flatMap((v) => [v, encodeURIComponent(v), Buffer.from(v).toString('base64')]);
  return JSON.stringify({ error: 'denied', detail: forms.join(' ; ') });
}

const FAULTS: Fault[] = [
  { kind: 'echo-credentials', status: 401, format: 'json' },
  { kind: 'echo-credentials', status: 500, format: 'json' },
  { kind: 'echo-credentials', status: 200, format: 'html' },
  { kind: 'echo-credentials', status: 502, format: 'html' },
  { kind: 'echo-credentials', status: 400, format: 'text' },
  { kind: 'echo-credentials', status: 403, format: 'text' },
  { kind: 'redirect', status: 302, location: 'https://login.example.org/renew', echoCredential: true },
  { kind: 'status', status: 503, body: quotingAll() },
  { kind: 'status', status: 404, body: quotingAll() },
];

interface Case {
  name: string;
  region: string;
  spec: (url: string) => Record<string, unknown>;
  creds: Credentials;
  start: (clock: FakeClock) => Promise<Emulator>;
}

const CASES: Case[] = [
  {
    name: 'electricityMaps',
    region: 'DE',
    spec: (url) => ({ provider: 'electricityMaps', endpoint: `${url}/v3`, credentialsSecretRef: { name: 'em' } }),
    creds: planted.electricityMaps,
    start: (c) => startElectricityMapsEmulator({ now: c.now, apiKey: planted.electricityMaps.apiKey }),
  },
  {
    name: 'wattTime',
    region: 'CAISO_NORTH',
    spec: (url) => ({ provider: 'wattTime', endpoint: url, credentialsSecretRef: { name: 'wt' } }),
    creds: planted.wattTime,
    start: (c) => startWattTimeEmulator({ now: c.now, ...planted.wattTime }),
  },
  // These two send no credential upstream; a misconfigured Secret still hands them one, and an upstream in front
  // of them (a gateway) may still quote it: the redactor covers every Secret the process holds.
  {
    name: 'ukCarbonIntensity',
    region: 'GB',
    spec: (url) => ({ provider: 'ukCarbonIntensity', endpoint: url }),
    creds: planted.ukCarbonIntensity,
    start: (c) => startUkCarbonIntensityEmulator({ now: c.now }),
  },
  {
    name: 'carbonAwareSdk',
    region: 'germanywestcentral',
    spec: (url) => ({ provider: 'carbonAwareSdk', endpoint: url }),
    creds: planted.carbonAwareSdk,
    start: (c) => startCarbonAwareSdkEmulator({ now: c.now }),
  },
];

function errorTexts(e: unknown): string[] {
  const err = e as Error & { cause?: unknown };
  return [
    String(err.message),
    String(err.stack),
    inspect(err, { depth: 6 }),
    JSON.stringify(err),
    err.cause instanceof Error ? `${err.cause.message} ${err.cause.stack}` : String(err.cause),
  ];
}

describe('no planted secret leaves the provider layer', () => {
  const clock = new FakeClock();
  // A run with every provider configured: all planted credentials are live Secrets of this process, as they are
  // in an operator whose CarbonSources use every provider (the redactor knows the Secrets the process holds).
  let held: Secret[] = [];
  before(() => {
    held = [
      planted.electricityMaps.apiKey,
      planted.wattTime.username,
      planted.wattTime.password,
      planted.carbonAwareSdk.apiKey,
      planted.ukCarbonIntensity.apiKey,
    ].map((v) => new Secret(v));
  });
  after(() => {
    expect(held).to.have.length(5);
  });

  it('the helper knows the encodings a leak would take (raw, URL, JSON, base64 inside Basic auth)', () => {
    const basic = Buffer.from(`${planted.wattTime.username}:${planted.wattTime.password}`).toString('base64');
    const leaks = findLeaks({ header: `Authorization: Basic ${basic}` }, [planted.wattTime.password]);
    expect(leaks.map((l) => l.where)).to.include('header');
    expect(secretEncodings('abc def/é')).to.include('abc%20def%2F%C3%A9');
  });

  for (const c of CASES)
    describe(c.name, () => {
      let emu: Emulator;
      before(async () => {
        emu = await c.start(clock);
      });
      after(() => emu.close());
      afterEach(() => emu.clearFault());

      it('in errors: each echoing fault, with the provider called directly', async () => {
        const v = validateCarbonSourceSpec({ ...c.spec(emu.url), retries: 0 });
        const p: CarbonProvider = createProvider(v.spec!, c.creds, { now: clock.now });
        await p.current(c.region); // logged in: the token exists and can be echoed
        const texts: Record<string, string> = {};
        for (const [i, f] of FAULTS.entries()) {
          emu.fault(f);
          const e = await p.current(c.region).then(
            () => new Error(`fault ${f.kind} did not fail`),
            (x: unknown) => x,
          );
          errorTexts(e).forEach(
            (t, j) => (texts[`fault ${i} (${f.kind} ${'status' in f ? f.status : ''}) text ${j}`] = t),
          );
          emu.clearFault();
        }
        const tokens = c.name === 'wattTime' ? (emu as WattTimeEmulator).issued : [];
        expect(findLeaks(texts, plantedValues(planted, tokens))).to.deep.equal([]);
        // The faults did produce errors that say what happened, so the grep looked at real messages.
        expect(Object.values(texts).join('\n')).to.include('[redacted]');
      });

      it('in the signal service: reasons, failures, every log line and every metric', async () => {
        const logs = new MemoryTransport();
        const registry = new Registry();
        const svc = new CarbonSignalService({
          now: clock.now,
          registry,
          logger: winston.createLogger({ transports: [logs] }),
        });
        const v = validateCarbonSourceSpec({
          ...c.spec(emu.url),
          retries: 0,
          pollIntervalSeconds: 10,
          staleAfterSeconds: 60,
        });
        svc.setSource('src', v.spec!, createProvider(v.spec!, c.creds, { now: clock.now }));
        svc.register('src', c.region);
        await svc.refresh();
        const texts: Record<string, string> = {};
        for (const [i, f] of FAULTS.entries()) {
          emu.fault(f);
          clock.advance(61_000);
          await svc.refresh();
          const s = svc.get('src', c.region);
          texts[`signal ${i}`] = JSON.stringify(s);
          emu.clearFault();
        }
        texts.logs = logs.lines.join('\n');
        texts.metrics = await registry.metrics();
        const tokens = c.name === 'wattTime' ? (emu as WattTimeEmulator).issued : [];
        expect(findLeaks(texts, plantedValues(planted, tokens))).to.deep.equal([]);
        expect(logs.lines.length).to.be.at.least(FAULTS.length);
        expect(texts.metrics).to.include('carbonscale_carbon_fetch_errors_total');
      });
    });
});
