// The operator's log, in the format the flag asks for (`--log-format json|text|live`):
//   json  one JSON object per line on stdout (machines, `kubectl logs`, the default when stdout is not a TTY);
//   text  one line per entry for people: time, level, message, then key=value pairs;
//   live  the live view owns the terminal: the full JSON log goes to a file (its path is on the screen) and
//         warnings and errors also reach the view, one line each.
import { Writable } from 'node:stream';
import winston from 'winston';

export const LOG_FORMATS = ['json', 'text', 'live'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** live on a terminal, json otherwise (a pipe, a file, a pod). */
export function defaultLogFormat(stdoutIsTty: boolean): LogFormat {
  return stdoutIsTty ? 'live' : 'json';
}

export interface OperatorLoggerOptions {
  level: string;
  format: LogFormat;
  /** live: where the JSON log goes (required for live). */
  file?: string;
  /** live: warnings and errors as one line of words each. */
  onMessage?: (level: string, text: string) => void;
}

export function createOperatorLogger(o: OperatorLoggerOptions): winston.Logger {
  const ts = winston.format.timestamp();
  if (o.format === 'json')
    return winston.createLogger({
      level: o.level,
      format: winston.format.combine(ts, winston.format.json()),
      transports: [new winston.transports.Console()],
    });
  if (o.format === 'text')
    return winston.createLogger({
      level: o.level,
      format: winston.format.combine(ts, winston.format.printf(textLine)),
      transports: [new winston.transports.Console()],
    });
  if (!o.file) throw new Error('--log-format live: needs a log file for the JSON log');
  const transports: winston.transport[] = [new winston.transports.File({ filename: o.file })];
  if (o.onMessage) {
    const forward = o.onMessage;
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
          try {
            const info = JSON.parse(line) as Record<string, unknown>;
            forward(String(info.level), textLine(info as winston.Logform.TransformableInfo, false));
          } catch {
            forward('warn', line);
          }
        }
        done();
      },
    });
    transports.push(new winston.transports.Stream({ stream: sink, level: 'warn' }));
  }
  return winston.createLogger({
    level: o.level,
    format: winston.format.combine(ts, winston.format.json()),
    transports,
  });
}

const SKIP = new Set(['level', 'message', 'timestamp']);

/** `2026-12-02T00:17:18.921Z info  message key=value …` (without the time and level when `full` is false). */
export function textLine(info: winston.Logform.TransformableInfo, full = true): string {
  const extras = Object.entries(info)
    .filter(([k]) => !SKIP.has(k) && typeof k === 'string')
    .map(([k, v]) => `${k}=${typeof v === 'string' ? (/\s/.test(v) ? JSON.stringify(v) : v) : JSON.stringify(v)}`);
  const msg = [String(info.message), ...extras].join(' ');
  return full ? `${String(info.timestamp ?? '')} ${String(info.level).padEnd(5)} ${msg}` : msg;
}
