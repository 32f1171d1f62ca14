// JSON-lines logs (winston). Tests pass `silentLogger()` to keep mocha's output readable.
import winston from 'winston';

export type Logger = winston.Logger;

export function createLogger(level = process.env['LOG_LEVEL'] ?? 'info'): Logger {
  return winston.createLogger({
    level,
    defaultMeta: { component: 'model-server' },
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports: [new winston.transports.Console()],
  });
}

export function silentLogger(): Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console({ silent: true })] });
}
