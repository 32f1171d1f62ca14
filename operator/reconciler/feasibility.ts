// Can the operator run this service at all? The API server rejects most of what it cannot (the CEL rules of
// api/inference-service-rules.ts), but an object admitted before a rule existed, or by an API server that skipped
// it, still reaches the reconciler; and the cluster's nodes are known only at run time. Each check here names the
// field, the value and the limit, in words a tenant can act on. Pure: the service and the nodes in, a problem out.
//
// A problem stalls the service (kstatus `Stalled`, Ready False) instead of a plan that cannot work: 0 replicas
// reported Ready, a Deployment without its Service, "max replicas reached" for a latency no replica count meets.
import { NAME_MAX_LENGTH, NAME_PATTERN, NAME_PATTERN_WORDS } from '../api/inference-service-rules.ts';
import type { Defaulted, InferenceService, VariantSpec } from '../api/types.ts';
import { Reason } from '../constants.ts';
import { modelUriProblem } from '../../model-server/model-uri.ts';

export interface Infeasible {
  /** Condition and Event reason (constants.ts). */
  reason: string;
  message: string;
  /** What can end it: an edit of the spec (or a new object), or a change of the cluster (nodes), rechecked. */
  until: 'spec-change' | 'cluster-change';
}

/** Thrown where a stalled spec is found late (render): the reconciler reports it as Stalled. */
export class InfeasibleSpecError extends Error {
  override name = 'InfeasibleSpecError';
  readonly infeasible: Infeasible;
  constructor(infeasible: Infeasible) {
    super(infeasible.message);
    this.infeasible = infeasible;
  }
}

interface NodeLike {
  metadata?: { name?: string };
  status?: { allocatable?: Record<string, string> };
}

/** The name the Deployment, Service, labels and ConfigMaps carry (render.ts) must fit them all. */
export function nameProblem(isvc: InferenceService): Infeasible | undefined {
  const name = isvc.metadata.name;
  const says = (what: string): Infeasible => ({
    reason: Reason.InvalidName,
    message: `metadata.name '${name}' ${what}: it names the Service carbonscale creates and is a label value on every child object; recreate the service under a shorter name`,
    until: 'spec-change',
  });
  if (name.length > NAME_MAX_LENGTH)
    return says(`has ${name.length} characters; at most ${NAME_MAX_LENGTH} are allowed`);
  if (!new RegExp(NAME_PATTERN).test(name)) return says(`is not ${NAME_PATTERN_WORDS}`);
  return undefined;
}

/** Our model server reads only the schemes of model-server/model-uri.ts; a custom runtime reads what it likes. */
export function modelUriInfeasible(isvc: InferenceService): Infeasible | undefined {
  if (isvc.spec.runtime.type !== 'carbonscale') return undefined;
  for (const [i, v] of isvc.spec.variants.entries()) {
    const problem = modelUriProblem(v.model.uri);
    if (problem)
      return {
        reason: Reason.UnsupportedModelUri,
        // The URI itself stays out: it may carry credentials (user:password@, a signed query) into Events and logs.
        message: `spec.variants[${i}].model.uri (variant ${v.name}): ${problem}`,
        until: 'spec-change',
      };
  }
  return undefined;
}

/** The variants the policy may serve: premium the full one only; eco every variant at or above the quality floor. */
export function eligibleVariants(isvc: Defaulted<InferenceService>): VariantSpec[] {
  const [full, ...rest] = isvc.spec.variants;
  if (!full) return [];
  if (isvc.spec.tier !== 'eco') return [full];
  return [full, ...rest.filter((v) => v.quality >= isvc.spec.slo.qualityFloor)];
}

/**
 * The latency model (decision/latency-model.ts) gives p95(ρ) = p95(0) / (1 − ρ): a ceiling at or below a variant's
 * measured low-load p95 holds at no load, so no number of replicas meets it.
 */
export function latencyInfeasible(isvc: Defaulted<InferenceService>): Infeasible | undefined {
  const slo = isvc.spec.slo.latencyP95Ms;
  const eligible = eligibleVariants(isvc);
  if (eligible.length === 0 || eligible.some((v) => v.latencyP95Ms < slo)) return undefined;
  const fastest = Math.min(...eligible.map((v) => v.latencyP95Ms));
  const which = isvc.spec.tier === 'eco' ? 'every variant at or above slo.qualityFloor' : 'the full variant';
  return {
    reason: Reason.SLOUnattainable,
    message:
      `slo.latencyP95Ms is ${slo} ms, at or below the measured low-load p95 of ${which} ` +
      `(${eligible.map((v) => `${v.name} ${v.latencyP95Ms} ms`).join(', ')}): no number of replicas meets it; ` +
      `raise slo.latencyP95Ms above ${fastest} ms or add a faster variant`,
    until: 'spec-change',
  };
}

/** Most of `resource` any one node offers (allocatable), whether or not it is cordoned now: a replica's shape. */
export function largestNode(nodes: readonly NodeLike[], resource: string): { gpus: number; node?: string } {
  let best: { gpus: number; node?: string } = { gpus: 0 };
  for (const n of nodes) {
    const raw = n.status?.allocatable?.[resource];
    const gpus = raw === undefined ? 0 : Number(raw);
    if (Number.isFinite(gpus) && gpus > best.gpus)
      best = { gpus, ...(n.metadata?.name ? { node: n.metadata.name } : {}) };
  }
  return best;
}

/** A replica must fit on one node: GPUs are not shared across nodes, so a larger request is never scheduled. */
export function nodeFitInfeasible(
  isvc: Defaulted<InferenceService>,
  nodes: readonly NodeLike[],
): Infeasible | undefined {
  for (const v of eligibleVariants(isvc)) {
    if (v.gpusPerReplica <= 0) continue;
    const big = largestNode(nodes, v.gpuResource);
    if (big.gpus >= v.gpusPerReplica) continue;
    const i = isvc.spec.variants.indexOf(v);
    const have =
      big.gpus > 0
        ? `the largest node (${big.node ?? 'unnamed'}) has ${big.gpus} allocatable`
        : `no node of the ${nodes.length} in the cluster offers ${v.gpuResource}`;
    return {
      reason: Reason.NoNodeFitsReplica,
      message:
        `variant ${v.name} requests ${v.gpusPerReplica} ${v.gpuResource} per replica (spec.variants[${i}].gpusPerReplica), ` +
        `but ${have}: no replica can be scheduled; lower gpusPerReplica or add a node with at least ${v.gpusPerReplica}`,
      until: 'cluster-change',
    };
  }
  return undefined;
}

/** What render refuses: children it cannot name, or a server config the model server would refuse at start. */
export function renderProblem(isvc: InferenceService): Infeasible | undefined {
  return nameProblem(isvc) ?? modelUriInfeasible(isvc);
}

/** The first reason this service cannot run, or undefined when it can. */
export function feasibility(isvc: Defaulted<InferenceService>, nodes: readonly NodeLike[]): Infeasible | undefined {
  return renderProblem(isvc) ?? latencyInfeasible(isvc) ?? nodeFitInfeasible(isvc, nodes);
}

/**
 * Words for SLOAtRisk when the variant the plan runs cannot meet the ceiling in force at any load (an eco service
 * whose full variant is slower than its SLO): "max replicas reached" would send the owner to the wrong knob.
 */
export function latencyFloorMessage(
  isvc: Defaulted<InferenceService>,
  variant: string,
  relaxed: boolean,
): string | undefined {
  const v = isvc.spec.variants.find((x) => x.name === variant);
  const slo = relaxed ? isvc.spec.slo.relaxedLatencyP95Ms : isvc.spec.slo.latencyP95Ms;
  if (!v || slo === undefined || v.latencyP95Ms < slo) return undefined;
  const field = relaxed ? 'slo.relaxedLatencyP95Ms' : 'slo.latencyP95Ms';
  return `variant ${v.name} measures ${v.latencyP95Ms} ms p95 at low load, at or above ${field} (${slo} ms): no number of replicas holds the SLO while it serves`;
}
