// The operator's attestor: one call from the controller's wiring starts it, and it attests every completed
// period (the UTC day, and the billing period, e.g. the month) of every service in the audit directory.
//
//   const attestor = startAttestor({
//     dir: auditDir, now: clock, periods: ['day', 'month'], operatorVersion,
//     keyProvider: async () => signingKeyFromSecret(await kube.readSecret(ns, name), `${ns}/${name}`),
//     publishKeyring: (ring, key) => kube.applyConfigMap(ns, 'carbonscale-attestation-keys', publicKeyConfigMapData(ring, key)),
//     plan, sloOf: (uid) => cache.byUid(uid)?.spec.slo.latencyP95Ms, logger,
//   });
//   ...; await attestor.stop();
//
// All Kubernetes I/O stays with the caller (operator/kube/): the key comes through keyProvider, the public keys
// go out through publishKeyring. The injected clock decides what is complete; the timer only wakes it.
import path from 'node:path';
import { nodeAuditFs, type AuditFs } from '../audit/audit-fs.ts';
import { scanPartFiles } from '../audit/part-files.ts';
import { STREAMS } from '../audit/schema.ts';
import type { PricingPlan } from '../billing/pricing-plan.ts';
import { attestPeriod, recordPublicKey, type AttestResult } from './attest.ts';
import type { Keyring, SigningKey } from './keys.ts';
import { ATTESTATIONS_DIR } from './layout.ts';
import { periodsCovering, type Period, type PeriodKind } from './period.ts';

export interface AttestorLogger {
  info(msg: string, meta?: Record<string, unknown>): void;
  warn(msg: string, meta?: Record<string, unknown>): void;
}

export interface AttestorOptions {
  /** The audit directory the ParquetAuditSink writes. */
  dir: string;
  /** ms since the epoch (the operator's one clock). */
  now: () => number;
  /** Called on every pass, so a rotated Secret is picked up; errors are reported, never logged with key material. */
  keyProvider: () => Promise<SigningKey>;
  /** Period kinds to attest; default ['day', 'month']. */
  periods?: readonly PeriodKind[];
  operatorVersion: string;
  plan?: PricingPlan | null;
  sloOf?: (uid: string) => number | undefined;
  /** Publishes the public keyring (e.g. a ConfigMap); called at start and whenever a new key appears. */
  publishKeyring?: (ring: Keyring, current: SigningKey) => Promise<void>;
  /** A period is attested this long after its end at the earliest (late re-accounted rows); default 2 h. */
  graceMs?: number;
  /** Periods that ended longer ago than this are not looked at (bounds the work on a long trail); default 40 days. */
  lookbackMs?: number;
  /** How long to wait before trying a refused (incomplete) period again; default 1 h. */
  retryMs?: number;
  /** Timer period; 0 = no timer (call tick()). Default 10 min. */
  tickMs?: number;
  logger?: AttestorLogger;
  onAttested?: (r: AttestResult) => void;
  fs?: AuditFs;
}

export interface AttestorHealth {
  lastRunMs: number | null;
  lastError: string | null;
  envelopesWritten: number;
  /** Periods that were due but refused (incomplete or inconsistent), with the first reason. */
  refused: Record<string, string>;
}

export interface Attestor {
  /** One pass: attests every due period not attested yet. Never throws; errors go to health() and the logger. */
  tick(): Promise<AttestResult[]>;
  health(): AttestorHealth;
  stop(): Promise<void>;
}

const DAY_MS = 86_400_000;
/** Written last in a period's folder: the period is fully attested and is not read again. */
export const COMPLETE_MARKER = 'complete.json';

interface State {
  o: AttestorOptions;
  fs: AuditFs;
  kinds: readonly PeriodKind[];
  grace: number;
  lookback: number;
  retry: number;
  nextTry: Map<string, number>;
  done: Set<string>;
  health: AttestorHealth;
  /** The keyids published last (with the current one), to publish only on change. */
  published: string | null;
}

const markerOf = (st: State, p: Period): string => path.join(st.o.dir, ATTESTATIONS_DIR, p.kind, p.id, COMPLETE_MARKER);

/** Periods that ended (plus the grace) within the lookback, not marked complete, not waiting for a retry. */
async function duePeriods(st: State, now: number): Promise<Period[]> {
  const scan = await scanPartFiles(st.fs, st.o.dir);
  const days = [...new Set(STREAMS.flatMap((k) => scan.parts[k].map((p) => p.day)))];
  const out: Period[] = [];
  for (const kind of st.kinds)
    for (const p of periodsCovering(kind, days)) {
      const key = `${p.kind}/${p.id}`;
      if (st.done.has(key) || p.endMs + st.grace > now || p.endMs < now - st.lookback) continue;
      if ((st.nextTry.get(key) ?? 0) > now) continue;
      if (await st.fs.exists(markerOf(st, p))) st.done.add(key);
      else out.push(p);
    }
  return out;
}

async function publish(st: State, key: SigningKey, now: number): Promise<void> {
  const ring = await recordPublicKey(st.o.dir, key, now, st.fs);
  const stamp = ring.keys.map((k) => k.keyid).join(',') + '|' + key.keyid;
  if (stamp === st.published || !st.o.publishKeyring) return;
  await st.o.publishKeyring(ring, key);
  st.published = stamp;
  st.o.logger?.info('published attestation keyring', { keyids: ring.keys.map((k) => k.keyid), current: key.keyid });
}

/** Records a period's outcome: a refusal waits retryMs; a success gets its complete.json marker. */
async function settle(st: State, p: Period, r: AttestResult, key: SigningKey, now: number): Promise<void> {
  const pid = `${p.kind}/${p.id}`;
  if (r.refused.length > 0) {
    st.nextTry.set(pid, now + st.retry);
    st.health.refused[pid] = r.refused[0] as string;
    st.o.logger?.warn('attestation refused: period incomplete or inconsistent', {
      period: pid,
      reasons: r.refused.slice(0, 5),
    });
    return;
  }
  delete st.health.refused[pid];
  const marker = {
    period: pid,
    envelopes: r.written.length + r.existing.length,
    keyid: key.keyid,
    at: new Date(now).toISOString(),
  };
  await st.fs.mkdirp(path.dirname(markerOf(st, p)));
  await st.fs.writeFileDurable(markerOf(st, p), JSON.stringify(marker) + '\n');
  st.done.add(pid);
  st.health.envelopesWritten += r.written.length;
  st.o.logger?.info('attested period', { period: pid, written: r.written.length, existing: r.existing.length });
  st.o.onAttested?.(r);
}

/** One pass on the injected clock; never throws. */
async function pass(st: State): Promise<AttestResult[]> {
  const now = st.o.now();
  try {
    const key = await st.o.keyProvider();
    await publish(st, key, now);
    const results: AttestResult[] = [];
    for (const p of await duePeriods(st, now)) {
      const r = await attestPeriod(st.o.dir, p, {
        key,
        nowMs: now,
        operatorVersion: st.o.operatorVersion,
        plan: st.o.plan ?? null,
        sloOf: st.o.sloOf,
        fs: st.fs,
      });
      results.push(r);
      await settle(st, p, r, key, now);
    }
    st.health.lastError = null;
    return results;
  } catch (err) {
    st.health.lastError = (err as Error).message;
    st.o.logger?.warn('attestor pass failed; retrying at the next tick', { error: st.health.lastError });
    return [];
  } finally {
    st.health.lastRunMs = now;
  }
}

export function startAttestor(o: AttestorOptions): Attestor {
  const st: State = {
    o,
    fs: o.fs ?? nodeAuditFs,
    kinds: o.periods ?? ['day', 'month'],
    grace: o.graceMs ?? 2 * 3_600_000,
    lookback: o.lookbackMs ?? 40 * DAY_MS,
    retry: o.retryMs ?? 3_600_000,
    nextTry: new Map(),
    done: new Set(),
    health: { lastRunMs: null, lastError: null, envelopesWritten: 0, refused: {} },
    published: null,
  };
  let running: Promise<AttestResult[]> | null = null;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;

  function tick(): Promise<AttestResult[]> {
    if (!running) running = pass(st).finally(() => (running = null));
    return running;
  }

  const every = o.tickMs ?? 600_000;
  const schedule = (): void => {
    if (stopped || every <= 0) return;
    timer = setTimeout(() => void tick().finally(schedule), every);
    timer.unref();
  };
  if (every > 0) void tick().finally(schedule);

  return {
    tick,
    health: () => ({ ...st.health, refused: { ...st.health.refused } }),
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      if (running) await running;
    },
  };
}
