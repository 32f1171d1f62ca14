// Phase 3, decide: one call of the engine (decision/engine.ts engineStep), the same core the simulator replays.
// Pure. The engine is told what the workload is SET to run — the Deployment carbonscale applied (in observe mode,
// the plan it would have applied) — never the variant the ready replicas serve, which lags a swap: that lag fed
// back as "the current variant" is what made swaps revert within a second (issue 16 §2).
import { engineStep, type EngineObservation } from '../decision/engine.ts';
import type { DecidedPass, GatheredPass, ObservedPass } from './pass-context.ts';
import { servicePolicyOf } from './service-policy.ts';

export function decidePass(pass: ObservedPass, g: GatheredPass): DecidedPass {
  const books = pass.memory.state.books;
  const previous = books.plan;
  const step = engineStep(books, {
    now: pass.now,
    service: servicePolicyOf(pass.isvc),
    observed: observedFor(pass),
    carbon: carbonFor(g),
    demand: { history: g.demand.points },
  });
  const d = step.decision;
  const changed = step.replanned && (!previous || previous.variant !== d.variant || previous.replicas !== d.replicas);
  const swapped = previous !== undefined && previous.variant !== d.variant;
  return { step, ...(previous ? { previous } : {}), changed, swapped: changed && swapped, ...targetFor(pass, d) };
}

function observedFor(pass: ObservedPass): EngineObservation['observed'] {
  const headroom = pass.headroomGpus;
  if (pass.mode === 'observe') {
    const plan = pass.memory.state.books.plan;
    return plan
      ? { variant: plan.variant, replicas: plan.replicas, clusterGpuHeadroom: headroom }
      : { clusterGpuHeadroom: headroom };
  }
  const w = pass.workload;
  if (!w.exists) return { clusterGpuHeadroom: headroom };
  return { ...(w.variant ? { variant: w.variant } : {}), replicas: w.replicas, clusterGpuHeadroom: headroom };
}

function carbonFor(g: GatheredPass): EngineObservation['carbon'] {
  const s = g.signal;
  const carbon: EngineObservation['carbon'] = { history: g.carbonHistory };
  // The fail-safe's assumed intensity is a value the owner configured: the policy uses it like a reading.
  if (s.valueGPerKWh !== undefined) carbon.nowGPerKWh = s.valueGPerKWh;
  if (s.forecast) carbon.forecast = s.forecast;
  return carbon;
}

/** What to apply: the decision when active; while paused, what runs (or the decision to create it). */
function targetFor(pass: ObservedPass, d: { variant: string; replicas: number }): Pick<DecidedPass, 'target'> {
  if (pass.mode === 'observe') return {};
  const w = pass.workload;
  if (pass.paused && w.exists && w.variant) return { target: { variant: w.variant, replicas: w.replicas } };
  return { target: { variant: d.variant, replicas: d.replicas } };
}
