// The model server's copy of operator/cli-errors.ts: model-server/ ships in its own image and imports nothing from
// operator/ (the lint boundary), so the one-line wording of a bad flag is kept here too, the same words.

/** The first line `serve` or `profile` prints (then a blank line and its usage) for a command line it cannot parse. */
export function usageErrorLine(command: string, err: unknown): string {
  const message = (err as { message?: string } | null)?.message ?? String(err);
  const unknown = /^Unknown option '([^']+)'/.exec(message);
  return `carbonscale ${command}: ${unknown ? `unknown flag ${unknown[1]}` : message}`;
}
