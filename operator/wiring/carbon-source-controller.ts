// The CarbonSource controller: its own queue, retry with backoff, and status. A pass validates the spec, loads
// the credentials (a Secret through kube/, or the operator's environment), builds the provider and hands it to the
// carbon signal service; then it wakes exactly the services that read this source. A credentials failure is an
// error the queue retries with backoff (capped at SOURCE_BACKOFF_MAX_MS) while the status says why, so a Secret
// created later is picked up within one backoff; an invalid spec waits for the next spec change.
import type { CarbonSignalService } from '../carbon/signal-service.ts';
import { validateCarbonSourceSpec, type CarbonSourceSpec } from '../carbon/config.ts';
import { createProvider } from '../carbon/create-provider.ts';
import { credentialsFromEnv, type Credentials } from '../carbon/secret.ts';
import type { OperatorClock } from '../clock.ts';
import { Reason } from '../constants.ts';
import { applyCarbonSourceStatus, type SourceCondition } from '../kube/carbon-source-status.ts';
import { ControllerBuilder, predicates, type Controller, type ReconcileReport } from '../kube/controller.ts';
import type { KubeClient, KubeObject } from '../kube/kube-client.ts';
import type { Reflector } from '../kube/reflector.ts';
import { readSecretCredentials } from '../kube/secret-credentials.ts';
import type { SourceState, SourceStates } from './signal-port.ts';

export const SOURCE_BACKOFF_MAX_MS = 30_000;

export interface CarbonSourceControllerDeps {
  client: KubeClient;
  carbonSources: Reflector<KubeObject>;
  signals: CarbonSignalService;
  clock: OperatorClock;
  operatorNamespace: string;
  env: NodeJS.ProcessEnv;
  /** Wake the services that read this source. */
  wake: (source: string) => void;
  log: (level: 'info' | 'warn' | 'error', msg: string, meta?: Record<string, unknown>) => void;
  onReconciled?: (r: ReconcileReport) => void;
}

/** What the controller knows of each source, for the signal port. */
export class SourceRegistry implements SourceStates {
  private states = new Map<string, SourceState & { generation?: number }>();
  private cache: Reflector<KubeObject>;
  constructor(cache: Reflector<KubeObject>) {
    this.cache = cache;
  }
  state(name: string): SourceState | undefined {
    return this.states.get(name);
  }
  exists(name: string): boolean {
    return this.cache.get(name) !== undefined;
  }
  set(name: string, s: SourceState & { generation?: number }): void {
    this.states.set(name, s);
  }
  loadedAt(name: string): number | undefined {
    const s = this.states.get(name);
    return s?.kind === 'loaded' ? s.generation : undefined;
  }
  delete(name: string): void {
    this.states.delete(name);
  }
}

/** A problem with a source, shown in its status, with whether retrying can help. */
class SourceProblem extends Error {
  readonly condition: SourceCondition;
  readonly retry: boolean;
  constructor(reason: string, message: string, retry: boolean) {
    super(message);
    this.condition = { ok: false, reason, message };
    this.retry = retry;
  }
}

async function credentialsOf(d: CarbonSourceControllerDeps, spec: CarbonSourceSpec): Promise<Credentials | undefined> {
  try {
    if (spec.credentialsFromEnv) {
      const { credentials, errors } = credentialsFromEnv(spec.credentialsFromEnv, d.env);
      if (errors.length) throw new Error(errors.join('; '));
      return credentials;
    }
    return spec.credentialsSecretRef
      ? await readSecretCredentials(d.client, spec.credentialsSecretRef, d.operatorNamespace)
      : undefined;
  } catch (e) {
    throw new SourceProblem(Reason.CredentialsUnavailable, `credentials: ${(e as Error).message}`, true);
  }
}

async function load(d: CarbonSourceControllerDeps, reg: SourceRegistry, obj: KubeObject): Promise<SourceCondition> {
  const name = obj.metadata!.name!;
  const { spec, errors } = validateCarbonSourceSpec(obj.spec);
  if (!spec) throw new SourceProblem(Reason.InvalidSpec, errors.join('; '), false);
  const creds = await credentialsOf(d, spec);
  if (d.clock.replay && (spec.trace?.speedup ?? 1) !== 1)
    d.log('warn', 'a trace speedup on a replay clock multiplies the two: use speedup 1 (the clock replays)', {
      carbonSource: name,
    });
  let provider;
  try {
    provider = createProvider(spec, creds, { now: () => d.clock.now() });
  } catch (e) {
    throw new SourceProblem(Reason.ProviderUnavailable, (e as Error).message, false);
  }
  // The same generation already loaded: keep the service's cached values (a resync, or a retry of a status write).
  if (reg.loadedAt(name) !== obj.metadata?.generation) d.signals.setSource(name, spec, provider);
  return { ok: true, reason: Reason.SourceValid, message: `provider ${spec.provider}` };
}

export function carbonSourceController(d: CarbonSourceControllerDeps, reg: SourceRegistry): Controller<KubeObject> {
  return new ControllerBuilder<KubeObject>('carbonsource', {
    clock: d.clock,
    concurrency: 2,
    backoffMaxMs: SOURCE_BACKOFF_MAX_MS,
    log: d.log,
    ...(d.onReconciled ? { onReconciled: d.onReconciled } : {}),
  })
    .for(d.carbonSources, { predicate: predicates.generationChanged })
    .build(async ({ key }) => {
      const obj = d.carbonSources.get(key);
      if (!obj) {
        d.signals.removeSource(key);
        reg.delete(key);
        d.wake(key);
        return;
      }
      const nowIso = new Date(d.clock.now()).toISOString();
      try {
        const cond = await load(d, reg, obj);
        reg.set(key, {
          kind: 'loaded',
          ...(obj.metadata?.generation !== undefined ? { generation: obj.metadata.generation } : {}),
        });
        await applyCarbonSourceStatus(d.client, obj, cond, nowIso);
        d.wake(key);
      } catch (e) {
        if (!(e instanceof SourceProblem)) throw e;
        d.signals.removeSource(key);
        reg.set(key, { kind: 'unusable', message: e.message });
        await applyCarbonSourceStatus(d.client, obj, e.condition, nowIso);
        d.wake(key);
        d.log('warn', 'CarbonSource cannot be used', {
          carbonSource: key,
          reason: e.condition.reason,
          error: e.message,
        });
        // Credentials may appear later: retry with backoff. A bad spec waits for the next change.
        if (e.retry) throw e;
      }
    });
}
