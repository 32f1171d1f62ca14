// What the main job shows, by --log-format: the logger, the live view (live), and the few lines a person needs
// whatever the format — the kubeconfig and the kubectl command, where the audit trail is, how to open the report.
// Those lines go to the screen's top (live), stdout (text), or stderr as plain text (json: stdout stays JSON lines).
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type winston from 'winston';
import type { AuditTap } from '../live-view/audit-tap.ts';
import type { LiveEvent } from '../live-view/live-state.ts';
import { createOperatorLogger, defaultLogFormat, type LogFormat } from '../live-view/operator-logger.ts';
import { startTerminalView, type TerminalView, type ViewClock } from '../live-view/terminal-view.ts';

export interface MainJobOutput {
  format: LogFormat;
  logger: winston.Logger;
  /** live only: where the JSON log goes. */
  logFile?: string;
  /** Feeds the live view from the audit trail (live only). */
  tap?: AuditTap;
  /** A line for people, said once (`key` replaces an earlier line with the same key on the live screen). */
  say(key: string, text: string): void;
  event(e: LiveEvent): void;
  setClock(c: ViewClock): void;
  /** Gives the terminal back (live: the last frame stays on screen); later lines print plainly. */
  close(): void;
}

export interface OutputOptions {
  format?: LogFormat;
  level: string;
  title: string;
  /** live: the JSON log's file (default a file in the temp dir). */
  logFile?: string;
  stdout?: NodeJS.WriteStream;
  stderr?: NodeJS.WriteStream;
}

export function mainJobOutput(o: OutputOptions): MainJobOutput {
  const stdout = o.stdout ?? process.stdout;
  const stderr = o.stderr ?? process.stderr;
  const format = o.format ?? defaultLogFormat(stdout.isTTY === true);
  if (format !== 'live') {
    const logger = createOperatorLogger({ level: o.level, format });
    const plain = format === 'json' ? stderr : stdout;
    return {
      format,
      logger,
      say: (_key, text) => void plain.write(`${text}\n`),
      event: () => {},
      setClock: () => {},
      close: () => {},
    };
  }
  const logFile = o.logFile ?? join(tmpdir(), `carbonscale-operator-${process.pid}.log`);
  let view: TerminalView | undefined = startTerminalView({ title: o.title, out: stdout });
  const v = () => view;
  const logger = createOperatorLogger({
    level: o.level,
    format: 'live',
    file: logFile,
    onMessage: (level, text) => v()?.dispatch({ type: 'log', wallMs: Date.now(), level, text }),
  });
  return {
    format,
    logger,
    logFile,
    tap: {
      usage: (row) => v()?.dispatch({ type: 'usage', row }),
      decision: (row) => v()?.dispatch({ type: 'decision', row }),
    },
    say: (key, text) => (view ? view.dispatch({ type: 'fact', key, text }) : void stdout.write(`${text}\n`)),
    event: (e) => v()?.dispatch(e),
    setClock: (c) => v()?.setClock(c),
    close() {
      view?.stop();
      view = undefined;
    },
  };
}
