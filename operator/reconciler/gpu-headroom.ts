// GPUs the scheduler could still place: allocatable on schedulable nodes minus what bound, live pods request.
// The policy plans within it (a plan the cluster cannot schedule would leave pods Pending).

interface NodeLike {
  metadata?: { name?: string };
  spec?: { unschedulable?: boolean };
  status?: { allocatable?: Record<string, string> };
}
interface PodLike {
  spec?: { nodeName?: string; containers?: Array<{ resources?: { requests?: Record<string, string> } }> };
  status?: { phase?: string; conditions?: Array<{ type: string; status: string; reason?: string }> };
}

export function podRequests(pod: PodLike, resource: string): number {
  let n = 0;
  for (const c of pod.spec?.containers ?? []) n += Number(c.resources?.requests?.[resource] ?? 0) || 0;
  return n;
}

/** Unallocated `resource` on schedulable nodes: allocatable minus what bound, live pods request. */
export function freeGpus(nodes: readonly NodeLike[], pods: readonly PodLike[], resource: string): number {
  let alloc = 0;
  const names = new Set<string>();
  for (const n of nodes) {
    if (n.spec?.unschedulable) continue;
    alloc += Number(n.status?.allocatable?.[resource] ?? 0) || 0;
    if (n.metadata?.name) names.add(n.metadata.name);
  }
  let used = 0;
  for (const p of pods) {
    if (!p.spec?.nodeName || !names.has(p.spec.nodeName)) continue;
    if (p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') continue;
    used += podRequests(p, resource);
  }
  return Math.max(0, alloc - used);
}

/** A service's pods: how many the scheduler could not place, and the GPUs the placed ones hold. */
export function podsView(pods: readonly PodLike[], resource: string): { pending: number; heldGpus: number } {
  let pending = 0;
  let heldGpus = 0;
  for (const p of pods) {
    const unschedulable = (p.status?.conditions ?? []).some(
      (c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable',
    );
    if (unschedulable) pending++;
    if (p.spec?.nodeName) heldGpus += podRequests(p, resource);
  }
  return { pending, heldGpus };
}
