// Errors that say what happened (issue 15 §1, "misleading errors"), for every HTTP provider: a redirect is a
// redirect (status, Location, not retried, not followed); a body that cannot be decoded says so and names the
// encoding; a UTF-8 byte-order mark is stripped; invisible characters from upstream are shown escaped.
import { expect } from 'chai';
import { CarbonProviderError } from '../../../operator/carbon/index.ts';
import type { Started } from './provider-cases.ts';
import { FakeClock, HTTP_CASES } from './provider-cases.ts';

async function failure(p: Promise<unknown>): Promise<CarbonProviderError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e, 'expected the call to fail').to.be.instanceOf(CarbonProviderError);
  return e as CarbonProviderError;
}

for (const c of HTTP_CASES) {
  describe(`HTTP errors in words: ${c.name}`, () => {
    const clock = new FakeClock();
    let s: Started;
    before(async () => {
      s = await c.start(clock);
    });
    after(() => s.close());
    afterEach(() => s.emulator!.clearFault());

    it('a redirect is reported with its status and Location, not as "cannot reach", and not retried', async () => {
      const p = s.make({ retries: 2 }, { sleep: async () => undefined });
      await p.current(c.region);
      const before = s.emulator!.total();
      s.emulator!.fault({ kind: 'redirect', status: 301, location: 'https://api.example.org/v4/moved?session=abc' });
      const e = await failure(p.current(c.region));
      expect(e.reason).to.equal('redirect');
      expect(e.message).to.match(
        /the server answered 301 Moved Permanently to https:\/\/api\.example\.org\/v4\/moved;/,
      );
      expect(e.message).to.include('redirects are not followed');
      expect(e.message).to.not.include('session=abc');
      expect(e.message).to.not.include('cannot reach');
      expect(s.emulator!.total() - before).to.equal(1);
    });

    it('a body whose Content-Encoding does not decode says so, naming the encoding', async () => {
      await s.provider.current(c.region);
      s.emulator!.fault({ kind: 'bad-gzip' });
      const e = await failure(s.provider.current(c.region));
      expect(e.reason).to.equal('malformed');
      expect(e.message).to.match(
        /failed to decode the response body \(Content-Encoding: gzip\): incorrect header check/,
      );
      expect(e.message).to.not.include('connection failed');
    });

    it('a body that is not UTF-8 says so', async () => {
      await s.provider.current(c.region);
      s.emulator!.fault({ kind: 'bad-utf8' });
      const e = await failure(s.provider.current(c.region));
      expect(e.reason).to.equal('malformed');
      expect(e.message).to.include('the response body is not valid UTF-8 text');
    });

    it('a body starting with a UTF-8 byte-order mark is read as if it had none', async () => {
      await s.provider.current(c.region);
      s.emulator!.fault({ kind: 'bom' });
      const r = await s.provider.current(c.region);
      expect(r.valueGPerKWh).to.be.closeTo(c.expected(clock.t), c.tolerance);
    });

    it('invisible characters from upstream are shown escaped, never as they are', async () => {
      await s.provider.current(c.region);
      s.emulator!.fault({ kind: 'status', status: 502, body: 'bad\u200Bgateway \u202Eevil\u0007 \uFEFFend' });
      const e = await failure(s.provider.current(c.region));
      expect(e.message).to.include('bad\\u{200B}gateway \\u{202E}evil\\u{0007} \\u{FEFF}end');
      for (const ch of ['\uFEFF', '\u200B', '\u202E', '\u0007']) expect(e.message).to.not.include(ch);
    });
  });
}
