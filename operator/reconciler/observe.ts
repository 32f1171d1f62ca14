// Phase 1, observe: the service (defaulted), its workload, pods and the GPU headroom, all from the watch caches,
// and the service's memory — restored from the state store and status after a restart, so the restarted operator
// continues the same books instead of starting new ones.
import { withDefaults } from '../api/defaults.ts';
import type { Defaulted, InferenceService } from '../api/types.ts';
import { newBooks } from '../decision/engine.ts';
import { accountingStart } from './accounting-start.ts';
import { emptyLedger, withInterval } from './demand-ledger.ts';
import { freeGpus, podsView } from './gpu-headroom.ts';
import { emptyPodLog } from './pod-log.ts';
import type { ObservedPass, ReconcilerContext, ServiceMemory, UsageMemory } from './pass-context.ts';
import { servicePolicyOf } from './service-policy.ts';
import { restoreState } from './service-state.ts';
import { workloadView } from './workload.ts';

const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export function observe(ctx: ReconcilerContext, key: string): ObservedPass | undefined {
  const raw = ctx.ports.cache.inferenceService(key);
  if (!raw || (raw.metadata as { deletionTimestamp?: string }).deletionTimestamp) return undefined;
  const isvc = withDefaults(raw);
  const now = ctx.ports.clock.now();
  const { namespace, name } = isvc.metadata;
  const gpuResource = isvc.spec.variants[0]!.gpuResource;
  const pods = podsView(ctx.ports.cache.podsOf(namespace, name) as never[], gpuResource);
  const prior = ctx.memory.get(key);
  // A shallow copy: phases replace the memory's fields (the books and ledger are immutable values), never mutate
  // them, so a failed pass leaves the committed memory as it was.
  const memory = prior ? { ...prior } : recall(ctx, isvc, now);
  let usage = ctx.usage.get(key);
  if (!usage) {
    usage = recallUsage(ctx, isvc, now);
    ctx.usage.set(key, usage);
  }
  memory.state.demand = withInterval(memory.state.demand, isvc.spec.policy.intervalSeconds * 1000);
  return {
    key,
    isvc,
    now,
    nowIso: new Date(now).toISOString(),
    mode: isvc.spec.policy.mode,
    paused: isvc.spec.policy.paused,
    memory,
    usage,
    workload: workloadView(ctx.ports.cache.deployment(key)),
    pods,
    headroomGpus: freeGpus(ctx.ports.cache.nodes() as never[], ctx.ports.cache.allPods() as never[], gpuResource),
    gpuResource,
    target: {
      apiVersion: isvc.apiVersion,
      kind: isvc.kind,
      name,
      namespace,
      ...(isvc.metadata.uid ? { uid: isvc.metadata.uid } : {}),
    },
  };
}

/** A service's memory from the store and its status (a restart), or fresh books (a new service). */
function recall(ctx: ReconcilerContext, isvc: Defaulted<InferenceService>, now: number): ServiceMemory {
  const { namespace, name } = isvc.metadata;
  const loaded = ctx.ports.states.load(namespace, name);
  if (loaded.error)
    ctx.log.warn('stored engine books cannot be used; starting new ones', { namespace, name, error: loaded.error });
  const st = isvc.status;
  const memory: ServiceMemory = {
    state: loaded.state
      ? restoreState(loaded.state)
      : {
          books: newBooks(now, servicePolicyOf(isvc)),
          demand: emptyLedger(isvc.spec.policy.intervalSeconds * 1000),
          mode: isvc.spec.policy.mode,
        },
    ...(loaded.state ? { saved: loaded.state } : {}),
  };
  if (st?.carbon?.fallbackLevel) memory.lastFallbackLevel = st.carbon.fallbackLevel;
  if (st?.lastDecision?.time) memory.decisionTimeIso = st.lastDecision.time;
  return memory;
}

/**
 * The running emissions total from status (a restart), and where accounting starts (accounting-start.ts): after the
 * last interval status counted, else from the start the first apply wrote onto the Deployment (a restart before
 * the first status write), else the next accounting boundary (a new service).
 */
function recallUsage(ctx: ReconcilerContext, isvc: Defaulted<InferenceService>, now: number): UsageMemory {
  const st = isvc.status?.emissions;
  const { namespace, name } = isvc.metadata;
  const start = accountingStart(
    isvc,
    ctx.ports.cache.deployment(`${namespace}/${name}`),
    now,
    ctx.options.accountingIntervalMs,
  );
  if (start.distrusted)
    ctx.log.warn('accounting start on the Deployment not used; accounting from the next boundary', {
      namespace,
      name,
      error: start.distrusted,
    });
  else if (start.basis === 'deployment')
    ctx.log.info('no interval in status yet; accounting from the start the Deployment carries', {
      namespace,
      name,
      from: new Date(start.fromMs).toISOString(),
    });
  const from = start.fromMs;
  // The total continues from status; the accountant rolls it over at the next UTC day.
  return {
    emissions: { day: st?.day ?? utcDay(now), todayG: st?.todayG ?? 0, untilMs: from },
    accountingSinceMs: from,
    workloadLog: [],
    signalLog: [],
    pods: emptyPodLog(),
    drift: new Map(),
  };
}
