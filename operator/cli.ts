#!/usr/bin/env node
// carbonscale: one entry point for every role (operator, model server, simulator, audit tools).
// Each subcommand lives with its concept and exports `main(argv): Promise<number>`; loaded lazily so the
// operator never pays for onnxruntime and the model server never loads the Kubernetes client.
const commands: Record<string, { load: () => Promise<{ main: (argv: string[]) => Promise<number> }>; help: string }> = {
  operator: {
    load: () => import('./main-job/main-job.ts'),
    help: 'run the operator (in-cluster, a kubeconfig, or --embedded)',
  },
  serve: {
    load: () => import('../model-server/serve-cli.ts'),
    help: 'run the model server (Open Inference Protocol v2)',
  },
  profile: { load: () => import('../model-server/profile-cli.ts'), help: 'measure model variants into a profile' },
  simulate: {
    load: () => import('./simulator/simulate-cli.ts'),
    help: 'replay carbon and demand traces through the policy',
  },
  audit: {
    load: () => import('./audit/audit-cli.ts'),
    help: 'audit verify DIR | audit report DIR [--html FILE] | audit attest DIR',
  },
};

const USAGE_HEAD = 'usage: carbonscale <command> [options]   (carbonscale <command> --help for its flags)';

export function usage(): string {
  const lines = Object.entries(commands).map(([n, c]) => `  ${n.padEnd(10)} ${c.help}`);
  return `${USAGE_HEAD}\n\ncommands:\n${lines.join('\n')}\n  ${'help'.padEnd(10)} this list, or help COMMAND for a command's flags`;
}

/** Runs one command; 0 ok, 1 the command failed, 2 bad usage (an unknown command or flag prints the usage). */
export async function run(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--help' || name === '-h' || (name === 'help' && rest.length === 0)) {
    console.log(usage());
    return 0;
  }
  if (name === 'help') return run([rest[0]!, '--help']);
  const cmd = name ? commands[name] : undefined;
  if (!cmd) {
    console.error(`${name ? `carbonscale: unknown command ${JSON.stringify(name)}\n\n` : ''}${usage()}`);
    return 2;
  }
  const mod = await cmd.load();
  return mod.main(rest);
}

if (import.meta.main) {
  run(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : String(err));
      process.exitCode = 1;
    },
  );
}
