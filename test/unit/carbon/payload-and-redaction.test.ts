// The shared readers and the redactor on their own: what a number, a time and a region may be; which forms of a
// secret are found; what is escaped.
import { expect } from 'chai';
import { jsonNumber, parseIsoTime, sameRegion, timestamp } from '../../../operator/carbon/payload.ts';
import { escapeInvisible } from '../../../operator/carbon/printable.ts';
import { CarbonProviderError, Secret, redact, secretForms } from '../../../operator/carbon/index.ts';

const thrown = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return e as CarbonProviderError;
  }
  throw new Error('expected a throw');
};

describe('payload readers', () => {
  it('times: ISO 8601 with an explicit offset, real calendar dates only', () => {
    expect(parseIsoTime('2023-06-15T12:00Z')).to.equal(Date.UTC(2023, 5, 15, 12));
    expect(parseIsoTime('2023-06-15T14:00:00+02:00')).to.equal(Date.UTC(2023, 5, 15, 12));
    expect(parseIsoTime('2022-05-17T20:45:11.1234567+00:00')).to.equal(Date.UTC(2022, 4, 17, 20, 45, 11, 123));
    for (const bad of ['2023-06-15T12:00:00', '2023-02-30T00:00Z', '2023-06-15T24:00Z', '2023-06-15 12:00Z', 'today'])
      expect(Number.isNaN(parseIsoTime(bad)), bad).to.equal(true);
    const e = thrown(() => timestamp('2023-06-15T12:00:00', 'x DE', '$.datetime'));
    expect(e.message).to.equal(
      'x DE: $.datetime: expected an ISO 8601 time with an offset (e.g. 2023-06-15T12:00:00Z), got "2023-06-15T12:00:00"',
    );
  });

  it('numbers: a JSON number; a plain decimal string only where the provider documents one', () => {
    expect(jsonNumber(12.5, 'x', '$.v', 'g')).to.equal(12.5);
    expect(jsonNumber('1035.5', 'x', '$.v', 'g', { numericString: true })).to.equal(1035.5);
    for (const bad of ['1,035', '1 035', "1'035", '1e3', '0x10', ' 12', ''])
      expect(thrown(() => jsonNumber(bad, 'x', '$.v', 'g', { numericString: true })).reason, bad).to.equal('malformed');
    const e = thrown(() => jsonNumber('1,035', 'x', '$.v', 'gCO2eq/kWh'));
    expect(e.message).to.equal(
      'x: $.v: expected a JSON number of gCO2eq/kWh, got "1,035" (a thousands or decimal separator is ambiguous: not read)',
    );
    expect(e.field).to.equal('$.v');
  });

  it('identity: a present region field must match (case aside); a required one must be there', () => {
    sameRegion({ zone: 'de' }, 'zone', 'DE', 'x', '$', true);
    sameRegion({}, 'zone', 'DE', 'x', '$', false);
    expect(thrown(() => sameRegion({}, 'zone', 'DE', 'x', '$', true)).message).to.include('$.zone: missing field');
    const e = thrown(() => sameRegion({ zone: 'FR' }, 'zone', 'DE', 'x', '$', false));
    expect(e.reason).to.equal('wrong-region');
    expect(e.message).to.equal(`x: $.zone: the answer is for "FR", not for 'DE' as asked: not used`);
  });
});

describe('redaction', () => {
  const key = new Secret('k3y-Value/with+odd=chars');
  const user = new Secret('someone@example.org');
  const pass = new Secret('pa55-w0rd-SECRET');

  it('finds a live secret raw, URL-encoded, JSON-escaped and in base64 at any alignment', () => {
    const basic = Buffer.from(`${user.reveal()}:${pass.reveal()}`).toString('base64');
    const texts = [
      `key=${key.reveal()}`,
      `key=${encodeURIComponent(key.reveal())}`,
      JSON.stringify({ key: key.reveal() }),
      `Basic ${basic}`,
      `x ${Buffer.from(key.reveal()).toString('base64url')} y`,
      `prefix-${Buffer.from(`ab${pass.reveal()}cd`).toString('base64')}`,
    ];
    for (const t of texts) {
      const r = redact(t);
      expect(r, t).to.include('[redacted]');
      for (const v of [key, user, pass]) expect(r).to.not.include(v.reveal());
    }
    expect(redact(`Basic ${basic}`)).to.not.include(basic.slice(8, 20));
  });

  it('an Authorization or auth-token header value quoted back is redacted even when it is not one we hold', () => {
    expect(redact('authorization: Bearer abc.def.ghi, other')).to.equal('authorization: Bearer [redacted], other');
    expect(redact('{"auth-token":"zzz-unknown"}')).to.equal('{"auth-token":"[redacted]"}');
  });

  it('every CarbonProviderError message is redacted and printable, whoever builds it', () => {
    const e = new CarbonProviderError('http-error', `upstream said ${pass.reveal()}\u200B`, {
      cause: new Error(`socket saw ${key.reveal()}`),
    });
    expect(e.message).to.equal('upstream said [redacted]\\u{200B}');
    expect(String(e.stack)).to.not.include(pass.reveal());
    expect((e.cause as Error).message).to.equal('socket saw [redacted]');
  });

  it('short values are not searched for (they would match ordinary words)', () => {
    const short = new Secret('abc');
    expect(redact('abcdef')).to.equal('abcdef');
    expect(secretForms('abc')).to.deep.equal([]);
    expect(short.reveal()).to.equal('abc');
  });

  it('invisible characters are escaped, visible ones kept', () => {
    expect(escapeInvisible('a\u0000b\u202Ec\uFEFFd é ✓')).to.equal('a\\u{0000}b\\u{202E}c\\u{FEFF}d é ✓');
  });
});
