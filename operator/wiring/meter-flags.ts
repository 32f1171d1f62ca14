// The operator's flags for measured energy and attestations, parsed beside flags.ts (which spreads these options
// into its parser and these lines into its usage): every error names the flag and the value.
import { isEnergySourceName, ENERGY_SOURCE_NAMES } from '../energy/registry.ts';
import type { EnergySourceName } from '../energy/energy-source.ts';

export interface AttestationFlags {
  /** Secret in the operator's namespace holding the Ed25519 PKCS#8 PEM. */
  keySecret: string;
  keySecretKey: string;
  /** ConfigMap in the operator's namespace the public keyring is published to. */
  publicKeysConfigMap: string;
  periods: Array<'day' | 'month'>;
  /** Mounted pricing plan file (the chart's RELEASE-carbonscale-pricing-plan ConfigMap, plan.json). */
  pricingPlanFile?: string;
}

export interface MeterFlags {
  energySource: EnergySourceName;
  energyPrometheusUrl?: string;
  energyMaxGapMs: number;
  attestation?: AttestationFlags;
}

export const METER_FLAG_OPTIONS = {
  'energy-source': { type: 'string' },
  'energy-prometheus-url': { type: 'string' },
  'energy-max-gap-seconds': { type: 'string' },
  'attestation-key-secret': { type: 'string' },
  'attestation-key-secret-key': { type: 'string' },
  'attestation-public-keys-configmap': { type: 'string' },
  'attestation-periods': { type: 'string' },
  'pricing-plan': { type: 'string' },
} as const;

export const METER_USAGE = `  --energy-source SOURCE         energy of services whose spec.energy names none: ${ENERGY_SOURCE_NAMES.join(', ')}
                                 (default profile: estimated from the variant power profile)
  --energy-prometheus-url URL    Prometheus that scrapes the energy meters (Kepler, dcgm-exporter, model servers)
  --energy-max-gap-seconds N     longest time between two samples of a meter's series before an interval is not
                                 measured (default 90: three 30 s scrapes)
  --attestation-key-secret NAME  sign an attestation per service and period with the Ed25519 key in this Secret of
                                 the operator's namespace (needs --audit-dir)
  --attestation-key-secret-key K the Secret's data key holding the PEM (default ed25519.pem)
  --attestation-public-keys-configmap NAME  where the public keyring is published (default
                                 carbonscale-attestation-keys)
  --attestation-periods LIST     day, month or day,month (default day,month)
  --pricing-plan FILE            the pricing plan (JSON or YAML) whose billing lines the attestations carry`;

type Values = { [K in keyof typeof METER_FLAG_OPTIONS]?: string };

export function meterFlags(v: Values, fail: (message: string) => Error): MeterFlags {
  const source = v['energy-source'] ?? 'profile';
  if (!isEnergySourceName(source))
    throw fail(`--energy-source: expected one of ${ENERGY_SOURCE_NAMES.join(', ')}, got ${source}`);
  const url = v['energy-prometheus-url'];
  if (url !== undefined && !/^https?:\/\/[^\s]+$/.test(url))
    throw fail(`--energy-prometheus-url: expected http(s)://host[:port], got ${url}`);
  const gap = v['energy-max-gap-seconds'] === undefined ? 90 : Number(v['energy-max-gap-seconds']);
  if (!Number.isFinite(gap) || gap <= 0)
    throw fail(`--energy-max-gap-seconds: expected a number > 0, got ${v['energy-max-gap-seconds']}`);
  const out: MeterFlags = {
    energySource: source,
    energyMaxGapMs: gap * 1000,
    ...(url ? { energyPrometheusUrl: url } : {}),
  };
  const secret = v['attestation-key-secret'];
  const periods = (v['attestation-periods'] ?? 'day,month').split(',').map((p) => p.trim());
  for (const p of periods)
    if (p !== 'day' && p !== 'month') throw fail(`--attestation-periods: expected day and/or month, got ${p}`);
  if (secret === undefined) {
    // Without a key nothing is attested: a flag of the attestor would be ignored, so it is refused instead.
    const attestorOnly = [
      'attestation-key-secret-key',
      'attestation-public-keys-configmap',
      'attestation-periods',
      'pricing-plan',
    ] as const;
    for (const k of attestorOnly)
      if (v[k] !== undefined) throw fail(`--${k}: only with --attestation-key-secret (nothing is attested without it)`);
    return out;
  }
  const name = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
  if (!name.test(secret) || secret.length > 253) throw fail(`--attestation-key-secret: not a Secret name: ${secret}`);
  const cm = v['attestation-public-keys-configmap'] ?? 'carbonscale-attestation-keys';
  if (!name.test(cm) || cm.length > 253) throw fail(`--attestation-public-keys-configmap: not a ConfigMap name: ${cm}`);
  out.attestation = {
    keySecret: secret,
    keySecretKey: v['attestation-key-secret-key'] ?? 'ed25519.pem',
    publicKeysConfigMap: cm,
    periods: [...new Set(periods)] as Array<'day' | 'month'>,
    ...(v['pricing-plan'] !== undefined ? { pricingPlanFile: v['pricing-plan'] } : {}),
  };
  return out;
}
