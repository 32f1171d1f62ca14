// The main job's stop, whatever stops it. The first SIGINT (a terminal's Ctrl-C), SIGTERM or SIGHUP runs the
// ordered steps: stop taking work, close the audit sink (pending rows into Parquet, the journal compacted only
// past rows in final files), then stop the embedded control plane; then the process exits 130/143/129. A second
// signal while closing exits at once: every acknowledged audit row is already fsync'd in the journal and the
// next start writes it, so hurrying loses nothing. A deadline bounds a stop that hangs (a disk that blocks).
// The local control plane (local-cluster/processes.ts) leaves the signals to this owner once claimed.

export interface ShutdownStep {
  name: string;
  run: () => Promise<void>;
}

export interface ShutdownOptions {
  log: (message: string, meta?: Record<string, unknown>) => void;
  /** Default process.exit. */
  exit?: (code: number) => void;
  /** The whole ordered stop may take this long before the process exits anyway (default 60 s). */
  deadlineMs?: number;
  /** Where signals come from (default process). */
  signals?: Pick<NodeJS.Process, 'on' | 'removeListener'>;
}

export interface Shutdown {
  /** Runs the steps once, in order (a later call returns the same promise); an error in one step does not skip the rest. */
  run(reason: string): Promise<void>;
  /** Removes the signal handlers (tests). */
  dispose(): void;
}

const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

let claimed = false;

/** True once the main job owns SIGINT/SIGTERM/SIGHUP: the control plane's own handlers then leave them alone. */
export function signalsClaimed(): boolean {
  return claimed;
}

export function installShutdown(steps: readonly ShutdownStep[], opts: ShutdownOptions): Shutdown {
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  const deadlineMs = opts.deadlineMs ?? 60_000;
  const source = opts.signals ?? process;
  let running: Promise<void> | undefined;
  let signalled = 0;

  const run = (reason: string): Promise<void> => {
    running ??= (async () => {
      opts.log('stopping', { reason, steps: steps.map((s) => s.name) });
      for (const step of steps) {
        try {
          await step.run();
          opts.log('stopped', { step: step.name });
        } catch (err) {
          opts.log('stop step failed; continuing with the next', { step: step.name, error: String(err) });
        }
      }
    })();
    return running;
  };

  const onSignal = (sig: NodeJS.Signals): void => {
    const code = SIGNAL_EXIT[sig] ?? 1;
    signalled++;
    if (signalled > 1) {
      opts.log(
        `${sig} again: exiting now; acknowledged audit rows are in the journal and are written at the next start`,
      );
      exit(code);
      return;
    }
    opts.log(`${sig}: stopping (press Ctrl-C again to exit at once; no acknowledged audit row is lost either way)`);
    const deadline = setTimeout(() => {
      opts.log('stop took too long: exiting; acknowledged audit rows are in the journal', { deadlineMs });
      exit(code);
    }, deadlineMs);
    deadline.unref();
    void run(sig).then(() => {
      clearTimeout(deadline);
      exit(code);
    });
  };
  const signals = Object.keys(SIGNAL_EXIT) as NodeJS.Signals[];
  for (const sig of signals) source.on(sig, onSignal);
  claimed = true;
  return {
    run,
    dispose() {
      for (const sig of signals) source.removeListener(sig, onSignal);
      claimed = false;
    },
  };
}
