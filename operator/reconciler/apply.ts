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
  let driftCorrected = false;
  for (const [kind, body, live] of children) {
    if (live && isSubset(body, live)) continue;
    try {
      await ctx.ports.writes.applyChild(kind, body);
    } catch (e) {
      ctx.metrics?.errors.inc({ reason: 'ApplyFailed' });
      throw e;
    }
    if (live && unchanged) driftCorrected = true;
  }
  pass.memory.applied = {
    key,
    ...(isvc.metadata.generation !== undefined ? { generation: isvc.metadata.generation } : {}),
  };
  return { driftCorrected };
}
