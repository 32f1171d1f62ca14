// Credentials stay redacted wherever they travel; the node-cron schedule polls at once and then on its ticks.
import { expect } from 'chai';
import { inspect } from 'node:util';
import {
  CarbonSignalService,
  Secret,
  createProvider,
  credentialsFromEnv,
  startPolling,
  validateCarbonSourceSpec,
} from '../../../operator/carbon/index.ts';
import { startUkCarbonIntensityEmulator } from '../../emulators/uk-carbon-intensity.ts';
import { FakeClock } from './provider-cases.ts';

describe('Secret', () => {
  it('prints [redacted] in strings, JSON, inspect and errors; reveal() gives the value', () => {
    const s = new Secret('hunter2-SECRET');
    const holder = { apiKey: s };
    for (const text of [
      String(s),
      `${s}`,
      JSON.stringify(holder),
      inspect(holder),
      new Error(`bad key ${s}`).message,
    ]) {
      expect(text).to.not.include('hunter2');
      expect(text).to.include('[redacted]');
    }
    expect(s.reveal()).to.equal('hunter2-SECRET');
  });

  it('credentialsFromEnv reads named variables and names the missing ones, not their values', () => {
    const { credentials, errors } = credentialsFromEnv(
      { apiKey: 'EM_TOKEN', username: 'WT_USER' },
      { EM_TOKEN: 'tok-SECRET', WT_USER: '' },
    );
    expect(credentials.apiKey!.reveal()).to.equal('tok-SECRET');
    expect(errors).to.deep.equal(['spec.credentialsFromEnv.username: environment variable WT_USER is not set']);
  });
});

describe('startPolling (node-cron)', () => {
  it('polls registered pairs at once and stops cleanly', async () => {
    const clock = new FakeClock();
    const emu = await startUkCarbonIntensityEmulator({ now: clock.now });
    try {
      const spec = validateCarbonSourceSpec({ provider: 'ukCarbonIntensity', endpoint: emu.url, retries: 0 }).spec!;
      const svc = new CarbonSignalService({ now: clock.now });
      svc.setSource('uk', spec, createProvider(spec, undefined, { now: clock.now }));
      svc.register('uk', 'GB');
      const schedule = startPolling(svc, { now: clock.now, cronExpression: '*/1 * * * * *' });
      for (let i = 0; i < 200 && svc.get('uk', 'GB').fallbackLevel !== 'primary'; i++)
        await new Promise((r) => setTimeout(r, 10));
      await schedule.stop();
      expect(svc.get('uk', 'GB').fallbackLevel).to.equal('primary');
      expect(emu.count('/intensity')).to.equal(1);
    } finally {
      await emu.close();
    }
  });
});
