// CarbonSource spec validation: defaults, and one clear error per bad field, each naming its path.
import { expect } from 'chai';
import { DEFAULTS, validateCarbonSourceSpec } from '../../../operator/carbon/index.ts';

describe('validateCarbonSourceSpec', () => {
  it('fills the documented defaults', () => {
    const { spec, errors } = validateCarbonSourceSpec({
      provider: 'electricityMaps',
      credentialsSecretRef: { name: 'em-token' },
    });
    expect(errors).to.deep.equal([]);
    expect(spec).to.deep.include({
      provider: 'electricityMaps',
      pollIntervalSeconds: DEFAULTS.pollIntervalSeconds,
      timeoutSeconds: 10,
      staleAfterSeconds: 7200,
      retries: 2,
      forecastHorizonHours: 24,
      failSafe: { action: 'full-variant' },
    });
  });

  it('accepts a whole CarbonSource object and a full spec', () => {
    const { spec, errors } = validateCarbonSourceSpec({
      apiVersion: 'carbonscale.dev/v1alpha1',
      kind: 'CarbonSource',
      spec: {
        provider: 'wattTime',
        endpoint: 'https://api.watttime.org',
        credentialsSecretRef: { name: 'wt', namespace: 'carbonscale-system', usernameKey: 'user', passwordKey: 'pass' },
        signalType: 'co2_moer',
        pollIntervalSeconds: 300,
        rateLimit: { requests: 3000, perSeconds: 300 },
        fallback: ['em', 'uk'],
        failSafe: { action: 'assume-intensity', valueGPerKWh: 500 },
        regionMap: { 'us-west': 'CAISO_NORTH' },
      },
    });
    expect(errors).to.deep.equal([]);
    expect(spec!.fallback).to.deep.equal(['em', 'uk']);
    expect(spec!.regionMap).to.deep.equal({ 'us-west': 'CAISO_NORTH' });
  });

  const cases: [string, Record<string, unknown>, string][] = [
    ['unknown provider', { provider: 'acme' }, 'spec.provider: must be one of electricityMaps, wattTime'],
    [
      'endpoint not a URL',
      { provider: 'ukCarbonIntensity', endpoint: 'ftp://x' },
      'spec.endpoint: must be an http(s) URL',
    ],
    [
      'credentials in the URL',
      { provider: 'ukCarbonIntensity', endpoint: 'https://user:pw@x.org' },
      'spec.endpoint: must be an http(s) URL without credentials in it',
    ],
    ['no endpoint for the SDK', { provider: 'carbonAwareSdk' }, 'spec.endpoint: required for carbonAwareSdk'],
    ['no credentials for WattTime', { provider: 'wattTime' }, 'spec.credentialsSecretRef: required for wattTime'],
    [
      'bad Secret name',
      { provider: 'electricityMaps', credentialsSecretRef: { name: 'Bad_Name' } },
      'spec.credentialsSecretRef.name: must be a Kubernetes object name',
    ],
    [
      'poll interval too short',
      { provider: 'ukCarbonIntensity', pollIntervalSeconds: 1 },
      'spec.pollIntervalSeconds: must be an integer between 10 and 86400',
    ],
    [
      'stale bound below poll interval',
      { provider: 'ukCarbonIntensity', pollIntervalSeconds: 600, staleAfterSeconds: 300 },
      'spec.staleAfterSeconds: must be at least pollIntervalSeconds',
    ],
    [
      'emission factor for WattTime',
      {
        provider: 'wattTime',
        credentialsFromEnv: { username: 'WT_USER', password: 'WT_PASS' },
        emissionFactorType: 'direct',
      },
      'spec.emissionFactorType: not supported by wattTime',
    ],
    [
      'wrong signal type',
      { provider: 'wattTime', credentialsFromEnv: { username: 'WT_USER', password: 'WT_PASS' }, signalType: 'average' },
      'spec.signalType: must be one of co2_moer, co2_aoer for wattTime',
    ],
    ['trace without file', { provider: 'trace', trace: {} }, 'spec.trace.file: required'],
    ['trace with an empty file', { provider: 'trace', trace: { file: ' ' } }, 'spec.trace.file: must be a file path'],
    [
      'trace speedup 0',
      { provider: 'trace', trace: { file: 'x.csv', speedup: 0 } },
      'spec.trace.speedup: must be a number > 0',
    ],
    [
      'static negative',
      { provider: 'static', static: { valueGPerKWh: -1 } },
      'spec.static.valueGPerKWh: must be a number between 0 and 2000 (gCO2eq/kWh)',
    ],
    ['static missing', { provider: 'static' }, 'spec.static: required for provider static: { valueGPerKWh }'],
    ['static without its value', { provider: 'static', static: {} }, 'spec.static.valueGPerKWh: required'],
    [
      "another provider's block",
      { provider: 'static', static: { valueGPerKWh: 1 }, trace: { file: 'x.csv' } },
      "spec.trace: only for provider 'trace'",
    ],
    [
      'credentials for a provider that needs none',
      { provider: 'ukCarbonIntensity', credentialsSecretRef: { name: 'uk' } },
      "spec.credentialsSecretRef: not used by provider 'ukCarbonIntensity' (it needs no credentials)",
    ],
    [
      'an endpoint for a local provider',
      { provider: 'static', static: { valueGPerKWh: 1 }, endpoint: 'https://x.org' },
      "spec.endpoint: not used by provider 'static'",
    ],
    [
      'a timeout below 50 ms',
      { provider: 'ukCarbonIntensity', timeoutSeconds: 0.01 },
      'spec.timeoutSeconds: must be a number between 0.05 and 300',
    ],
    [
      'fallback twice',
      { provider: 'ukCarbonIntensity', fallback: ['a', 'a'] },
      "spec.fallback[1]: 'a' is listed twice",
    ],
    [
      'fail-safe without value',
      { provider: 'ukCarbonIntensity', failSafe: { action: 'assume-intensity' } },
      'spec.failSafe.valueGPerKWh: required for assume-intensity',
    ],
    ['unknown field', { provider: 'ukCarbonIntensity', apiKey: 'oops' }, 'spec.apiKey: unknown field'],
    [
      'env var name',
      { provider: 'electricityMaps', credentialsFromEnv: { apiKey: 'not a name' } },
      'spec.credentialsFromEnv.apiKey: must be an environment variable name',
    ],
  ];
  for (const [title, input, message] of cases)
    it(`rejects ${title}`, () => {
      const { spec, errors } = validateCarbonSourceSpec(input);
      expect(spec).to.equal(undefined);
      expect(errors.join('\n')).to.include(message);
    });

  it('rejects a non-object', () => {
    expect(validateCarbonSourceSpec('electricityMaps').errors).to.deep.equal(['spec: must be an object']);
  });

  it('reports every problem at once', () => {
    const { errors } = validateCarbonSourceSpec({ provider: 'wattTime', retries: -1, timeoutSeconds: 'x' });
    expect(errors).to.have.length(3);
  });
});
