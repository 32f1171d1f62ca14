// What the cluster holds for a service's workload, read from the Deployment in the cache: the variant and replicas
// it is SET to run (what carbonscale last applied: the engine's observed state, never the lagging served one),
// how many replicas are ready, and whether the rollout is complete.
import { Annotation } from '../constants.ts';
import type { KubeObject } from '../kube/kube-client.ts';

export interface WorkloadView {
  exists: boolean;
  /** The variant the Deployment is set to run (the annotation carbonscale applies with it). */
  variant?: string;
  /** spec.replicas: what it is set to run. */
  replicas: number;
  ready: number;
  rolledOut: boolean;
}

interface DeploymentLike {
  metadata?: { generation?: number; annotations?: Record<string, string> };
  spec?: { replicas?: number };
  status?: {
    observedGeneration?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    replicas?: number;
  };
}

export function workloadView(dep: KubeObject | undefined): WorkloadView {
  if (!dep) return { exists: false, replicas: 0, ready: 0, rolledOut: false };
  const d = dep as DeploymentLike;
  const want = d.spec?.replicas ?? 0;
  const st = d.status ?? {};
  const ready = st.readyReplicas ?? 0;
  const rolledOut =
    (st.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) &&
    (st.updatedReplicas ?? 0) >= want &&
    ready >= want &&
    (st.replicas ?? 0) <= want;
  const variant = d.metadata?.annotations?.[Annotation.variant];
  return { exists: true, replicas: want, ready, rolledOut, ...(variant ? { variant } : {}) };
}
