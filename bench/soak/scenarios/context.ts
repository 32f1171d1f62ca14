// What every scenario gets: the environment (control plane, harness client, operator processes), the world and
// the harness's view of it, the apiserver audit reader, the results table, and the options of this run.
import type { ApiserverAudit } from '../apiserver-audit.ts';
import type { World } from '../fixtures.ts';
import type { OperatorProcess } from '../operator-process.ts';
import type { Results } from '../results.ts';
import type { SoakCluster } from '../soak-cluster.ts';
import type { WorldView } from '../world-view.ts';

export interface SoakOptions {
  services: number;
  namespaces: number;
  regions: number;
  /** Length of each quiet window (the figures: two minutes). */
  quietSeconds: number;
  /** How long after a carbon step swaps may not revert. */
  stepWindowSeconds: number;
  /** Bound on any one wait for convergence. */
  timeoutMs: number;
  work: string;
  /** The suite's short form: fewer repetitions and shorter waits (the invariants stay the same). */
  quick?: boolean;
  /** The operator's cli.ts to run (default this checkout's operator/cli.ts). */
  operatorCli?: string;
}

export interface SoakContext {
  env: SoakCluster;
  world: World;
  view: WorldView;
  audit: ApiserverAudit;
  results: Results;
  opts: SoakOptions;
  /** The operator process that leads now (scenarios that replace it set it). */
  leader?: OperatorProcess;
  log(msg: string): void;
}

export interface Scenario {
  name: string;
  run(ctx: SoakContext): Promise<void>;
}
