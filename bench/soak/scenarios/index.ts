// Every soak scenario, in the order a full run plays them: the scale scenario first (the faults run on its
// world), the security checks last (they grep what every earlier scenario left behind).
import type { Scenario } from './context.ts';
import { providerOutage, flappingSignal } from './faults-carbon.ts';
import { apiserverOutage, etcdRestart } from './faults-control-plane.ts';
import { clockSkew, diskFull, gpuScarcity } from './faults-node.ts';
import { killDuringWork, leaderFailover } from './faults-process.ts';
import { scale } from './scale.ts';
import { security } from './security.ts';

export const SCENARIOS: Scenario[] = [
  scale,
  killDuringWork,
  apiserverOutage,
  etcdRestart,
  leaderFailover,
  providerOutage,
  flappingSignal,
  gpuScarcity,
  clockSkew,
  diskFull,
  security,
];
