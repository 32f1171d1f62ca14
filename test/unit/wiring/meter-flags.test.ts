// The operator's energy and attestation flags through the operator's own parser (wiring/flags.ts): defaults,
// what a good value becomes, and a bad value refused with a one-line message naming the flag and the value.
import { expect } from 'chai';
import { FlagError, parseFlags } from '../../../operator/wiring/flags.ts';

const parse = (...argv: string[]) => parseFlags(argv, {});

function refusal(...argv: string[]): string {
  try {
    parse(...argv);
  } catch (e) {
    expect(e).to.be.instanceOf(FlagError);
    return (e as Error).message;
  }
  throw new Error(`accepted: ${argv.join(' ')}`);
}

describe('operator flags: energy meters and attestations', () => {
  it('defaults: the profile estimate, a 90 s gap, no Prometheus, no attestations', () => {
    expect(parse().meters).to.deep.equal({ energySource: 'profile', energyMaxGapMs: 90_000 });
  });

  it('a meter, its Prometheus and a gap in seconds; an attestation key with its defaults', () => {
    const m = parse(
      '--energy-source=dcgm',
      '--energy-prometheus-url=http://prometheus.monitoring:9090',
      '--energy-max-gap-seconds=45',
      '--attestation-key-secret=attest-key',
      '--attestation-periods=day',
      '--pricing-plan=/etc/carbonscale/pricing/plan.json',
    ).meters;
    expect(m).to.deep.equal({
      energySource: 'dcgm',
      energyPrometheusUrl: 'http://prometheus.monitoring:9090',
      energyMaxGapMs: 45_000,
      attestation: {
        keySecret: 'attest-key',
        keySecretKey: 'ed25519.pem',
        publicKeysConfigMap: 'carbonscale-attestation-keys',
        periods: ['day'],
        pricingPlanFile: '/etc/carbonscale/pricing/plan.json',
      },
    });
    expect(parse('--attestation-key-secret=k').meters.attestation?.periods).to.deep.equal(['day', 'month']);
  });

  const bad: Array<[string[], RegExp]> = [
    [['--energy-source=rapl'], /^--energy-source: expected one of kepler, dcgm, model-server, profile, got rapl$/],
    [['--energy-prometheus-url=prometheus:9090'], /^--energy-prometheus-url: .*got prometheus:9090$/],
    [['--energy-max-gap-seconds=0'], /^--energy-max-gap-seconds: expected a number > 0, got 0$/],
    [['--energy-max-gap-seconds=ninety'], /^--energy-max-gap-seconds: .*got ninety$/],
    [['--attestation-key-secret=Not_A_Name'], /^--attestation-key-secret: not a Secret name: Not_A_Name$/],
    [['--attestation-key-secret=k', '--attestation-periods=day,week'], /^--attestation-periods: .*got week$/],
    [['--attestation-periods=day'], /^--attestation-periods: only with --attestation-key-secret /],
    [['--attestation-public-keys-configmap=x'], /^--attestation-public-keys-configmap: only with/],
    [['--pricing-plan=/p.json'], /^--pricing-plan: only with --attestation-key-secret/],
  ];
  for (const [argv, message] of bad)
    it(`refuses ${argv.join(' ')} in one line naming the flag`, () => {
      const m = refusal(...argv);
      expect(m).to.match(message);
      expect(m).to.not.include('\n');
    });
});
