// Request bodies within bounds: at most `bodyLimitBytes` (checked on the declared length and while streaming),
// complete within `requestTimeoutMs` of the handler asking for it (a slow-loris body that trickles a byte at a time
// holds a concurrency slot only that long), and JSON nested at most `maxJsonDepth` deep, checked on the bytes
// before JSON.parse (which parses 500,000 nested brackets, the most a 1 MiB body holds, in close to a second of
// blocked event loop). Every refusal is a 4xx naming the setting; the connection is closed after a refused body.
import type { IncomingMessage } from 'node:http';
import { HttpError } from './http-error.ts';

export interface BodyLimits {
  bodyLimitBytes: number;
  requestTimeoutMs: number;
  maxJsonDepth: number;
}

const CLOSE = { connection: 'close' };

function tooBig(limit: number): HttpError {
  return new HttpError(
    400,
    'body_too_large',
    `request body exceeds the limit of ${limit} bytes (bodyLimitBytes)`,
    CLOSE,
  );
}

/** The whole body, or an HttpError: 400 over the limit (as before: the protocol's bad input), 408 not complete in time, 400 when the client aborts. */
export function readBody(req: IncomingMessage, limits: BodyLimits): Promise<Buffer> {
  const limit = limits.bodyLimitBytes;
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(tooBig(limit));
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let settled = false;
    const finish = (err: Error | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
      if (!err) return resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total));
      // Stop buffering what is left; the response closes the connection.
      req.on('data', () => {});
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      total += chunk.length;
      if (total > limit) return finish(tooBig(limit));
      chunks.push(chunk);
    };
    const onEnd = () => finish(undefined);
    const onError = (e: Error) =>
      finish(new HttpError(400, 'body_aborted', `request body not read: ${e.message}`, CLOSE));
    const onClose = () =>
      finish(new HttpError(400, 'body_aborted', 'the client closed the request before its end', CLOSE));
    const timer = setTimeout(() => {
      const of = Number.isFinite(declared) ? ` of ${declared}` : '';
      finish(
        new HttpError(
          408,
          'body_timeout',
          `request body not complete within ${limits.requestTimeoutMs} ms (requestTimeoutMs): ${total}${of} bytes arrived`,
          CLOSE,
        ),
      );
    }, limits.requestTimeoutMs);
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

/** Depth of the deepest array/object nesting, scanning the bytes once (strings and their escapes skipped). */
export function jsonDepthExceeds(buf: Buffer, maxDepth: number): number | undefined {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i]!;
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) return i;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return undefined;
}

/** The body as JSON, refusing nesting deeper than maxJsonDepth before parsing it. */
export function parseJsonBody(buf: Buffer, maxDepth: number): unknown {
  const at = jsonDepthExceeds(buf, maxDepth);
  if (at !== undefined)
    throw new HttpError(
      400,
      'json_too_deep',
      `request body nests arrays/objects deeper than ${maxDepth} levels (maxJsonDepth), at byte ${at}`,
    );
  try {
    return JSON.parse(buf.toString('utf8'));
  } catch (err) {
    throw new HttpError(400, 'malformed_json', `request body is not valid JSON: ${(err as Error).message}`);
  }
}
