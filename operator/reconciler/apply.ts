// Phase 4, apply: render the owned objects for the target variant and replicas and server-side apply only those
// that differ from the watch cache (ADR 0002: a quiet pass makes no request at all). If the spec and the target
// are the same as at our last apply, a difference is someone else's edit: it is restored and reported as drift.
import { Annotation } from '../constants.ts';
import { accountingSinceAnnotation } from './accounting-start.ts';
import { configMapName, render } from './render.ts';
import type { AppliedPass, DecidedPass, ObservedPass, ReconcilerContext } from './pass-context.ts';
import type { ChildKind } from './ports.ts';
import { isSubset } from './subset.ts';

export async function applyPass(ctx: ReconcilerContext, pass: ObservedPass, d: DecidedPass): Promise<AppliedPass> {
  const t = d.target;
  if (!t) return { driftCorrected: false };
  const { isvc } = pass;
  const { namespace } = isvc.metadata;
  const r = render(
    isvc,
    t.variant,
    t.replicas,
    ctx.options.modelServerImage ? { modelServerImage: ctx.options.modelServerImage } : {},
  );
  // What the Deployment is set to run, for the next pass's observe (workload.ts), and where the service's
  // accounting starts, persisted by the request that starts its replicas (accounting-start.ts).
  const liveDeployment = ctx.ports.cache.deployment(pass.key);
  (r.deployment.metadata as { annotations?: Record<string, string> }).annotations = {
    [Annotation.variant]: t.variant,
    ...accountingSinceAnnotation(isvc, liveDeployment, pass.usage.accountingSinceMs),
  };
  const children: Array<[ChildKind, Record<string, unknown>, unknown]> = [];
  if (r.configMap) children.push(['ConfigMap', r.configMap, ctx.ports.cache.configMap(namespace, configMapName(isvc))]);
  children.push(['Deployment', r.deployment, liveDeployment]);
  children.push(['Service', r.service, ctx.ports.cache.service(pass.key)]);
  const key = `${t.variant}/${t.replicas}`;
  const prior = pass.memory.applied;
  const unchanged = prior !== undefined && prior.key === key && prior.generation === isvc.metadata.generation;
  const stale = children.filter(([, body, live]) => !(live && isSubset(body, live)));
  await applyChildren(ctx, stale);
  const driftCorrected = unchanged && stale.some(([, , live]) => live !== undefined);
  pass.memory.applied = {
    key,
    ...(isvc.metadata.generation !== undefined ? { generation: isvc.metadata.generation } : {}),
  };
  return { driftCorrected };
}

/**
 * Applies the children that differ from the cache. Updates go out together: a swap changes the ConfigMap (the
 * active variant the model server watches) and the Deployment (its variant annotation), and each is compared
 * with its own cache on the next pass, so no order between them matters and the pass waits one round trip, not
 * two. A child that does not exist yet is created in order (ConfigMap, Deployment, Service), so the first pods
 * find their ConfigMap.
 */
async function applyChildren(
  ctx: ReconcilerContext,
  stale: ReadonlyArray<[ChildKind, Record<string, unknown>, unknown]>,
): Promise<void> {
  const apply = (kind: ChildKind, body: Record<string, unknown>) =>
    ctx.ports.writes.applyChild(kind, body).catch((e: unknown) => {
      ctx.metrics?.errors.inc({ reason: 'ApplyFailed' });
      throw e;
    });
  if (stale.every(([, , live]) => live !== undefined)) {
    const settled = await Promise.allSettled(stale.map(([kind, body]) => apply(kind, body)));
    const failed = settled.find((x): x is PromiseRejectedResult => x.status === 'rejected');
    if (failed) throw failed.reason;
    return;
  }
  for (const [kind, body] of stale) await apply(kind, body);
}
