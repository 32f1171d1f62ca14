// One line for a bad command line, the same for every subcommand: `carbonscale simulate: unknown flag --bogus`.
// node:util's parseArgs words its errors for programmers (an unknown option also gets a hint about `--` and
// positionals that no user of these commands needs); this keeps the part that names the flag.
// model-server/cli-errors.ts holds the model server's copy (its image imports nothing from operator/).

/** The first line a subcommand prints (then a blank line and its usage) for a command line it cannot parse. */
export function usageErrorLine(command: string, err: unknown): string {
  const message = (err as { message?: string } | null)?.message ?? String(err);
  const unknown = /^Unknown option '([^']+)'/.exec(message);
  return `carbonscale ${command}: ${unknown ? `unknown flag ${unknown[1]}` : message}`;
}

/** True for node:util parseArgs' own errors (unknown flag, missing value, stray argument): usage errors, exit 2. */
export function isParseArgsError(err: unknown): boolean {
  return (err as { code?: string } | null)?.code?.startsWith('ERR_PARSE_ARGS') === true;
}
