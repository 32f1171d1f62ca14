// The attestor as a leader-only runnable: it signs an in-toto attestation per service and period of the audit
// directory (operator/attestation/attestor.ts), with the key read from the Secret --attestation-key-secret names
// (kube/attestation-keys.ts) at every pass, so a rotated key is used from the next pass on, and the public
// keyring published in a ConfigMap. It runs on the operator's clock: on a replay the days pass N times faster, and
// the timer ticks N times more often (at most once a second). Each attested service gets an AttestationWritten
// Event; a refused period (incomplete: rows still in the journal, a file that does not verify) is retried and
// said in the log; a key that cannot be read is an AttestationKeyUnavailable log line each pass until it can.
import { readFlagFileAsync } from '../cli-paths.ts';
import type { Logger } from 'winston';
import { startAttestor, type Attestor } from '../attestation/attestor.ts';
import { parseEnvelopeRel } from '../attestation/layout.ts';
import { parsePricingPlan, type PricingPlan } from '../billing/pricing-plan.ts';
import type { OperatorClock } from '../clock.ts';
import { EventAction, Reason } from '../constants.ts';
import { publishPublicKeys, readSigningKey } from '../kube/attestation-keys.ts';
import type { KubeClient } from '../kube/kube-client.ts';
import type { Runnable } from '../kube/manager.ts';
import type { EventPort } from '../reconciler/ports.ts';
import type { AttestationFlags } from './meter-flags.ts';

export interface AttestorRunnableOptions {
  dir: string;
  clock: OperatorClock;
  client: KubeClient;
  /** The operator's namespace (the Secret and the ConfigMap live there). */
  namespace: string;
  flags: AttestationFlags;
  operatorVersion: string;
  /** The declared latency SLO of a service by uid (from the cache). */
  sloOf: (uid: string) => number | undefined;
  /** The InferenceService of a uid, for its Event. */
  serviceOf: (uid: string) => { namespace: string; name: string; apiVersion: string; kind: string } | undefined;
  events: EventPort;
  log: Logger;
  /** Wall ms between passes (default: 10 min of the clock, at least 1 s). */
  tickMs?: number;
}

/** The pricing plan of --pricing-plan, checked (an error names the file and the field). */
export async function loadPlan(file: string | undefined): Promise<PricingPlan | null> {
  if (!file) return null;
  return parsePricingPlan(await readFlagFileAsync('--pricing-plan', file), file);
}

export function attestorRunnable(o: AttestorRunnableOptions): Runnable & { attestor(): Attestor | undefined } {
  let attestor: Attestor | undefined;
  const { flags, namespace } = o;
  return {
    name: 'attestor',
    needsLeaderElection: true,
    attestor: () => attestor,
    async start() {
      let plan: PricingPlan | null = null;
      try {
        plan = await loadPlan(flags.pricingPlanFile);
      } catch (e) {
        // Never crash on a bad plan: attest without billing lines and say why.
        o.log.error('pricing plan unusable; attestations carry no billing lines', { error: (e as Error).message });
      }
      attestor = startAttestor({
        dir: o.dir,
        now: () => o.clock.now(),
        periods: flags.periods,
        operatorVersion: o.operatorVersion,
        plan,
        sloOf: o.sloOf,
        keyProvider: async () => {
          try {
            return await readSigningKey(o.client, namespace, flags.keySecret, flags.keySecretKey);
          } catch (e) {
            o.log.warn('attestation key unavailable', {
              reason: Reason.AttestationKeyUnavailable,
              error: (e as Error).message,
            });
            throw e;
          }
        },
        publishKeyring: (ring, key) => publishPublicKeys(o.client, namespace, flags.publicKeysConfigMap, ring, key),
        logger: {
          info: (m, meta) => o.log.info(m, meta),
          warn: (m, meta) =>
            o.log.warn(m, {
              ...(m.startsWith('attestation refused') ? { reason: Reason.AttestationRefused } : {}),
              ...meta,
            }),
        },
        onAttested: (r) => void announce(o, r.written),
        tickMs: o.tickMs ?? Math.max(1000, Math.round(600_000 / o.clock.speedup)),
      });
    },
    async stop() {
      await attestor?.stop();
    },
  };
}

/** One Normal Event per service and envelope written. */
async function announce(o: AttestorRunnableOptions, written: readonly string[]): Promise<void> {
  for (const rel of written) {
    const e = parseEnvelopeRel(rel);
    const svc = e ? o.serviceOf(e.uid) : undefined;
    if (!e || !svc) continue;
    await o.events
      .record(
        { ...svc, uid: e.uid },
        {
          type: 'Normal',
          reason: Reason.AttestationWritten,
          action: EventAction.Attest,
          note: `signed the ${e.kind} ${e.periodId} attestation of this service (${rel})`,
        },
      )
      .catch(() => undefined);
  }
}
