// Shared set-up for the model-server tests: real servers on 127.0.0.1:0 serving the committed digits models.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseServerConfig } from '../../../model-server/config.ts';
import type { ServerConfig } from '../../../model-server/config.ts';
import { silentLogger } from '../../../model-server/logger.ts';
import { startModelServer } from '../../../model-server/model-server.ts';
import type { ModelServer, ModelServerDeps } from '../../../model-server/model-server.ts';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const MODELS = join(ROOT, 'model-server', 'models');
export const VARIANTS = ['digits-full', 'digits-small', 'digits-int8'];

export interface EvalSet {
  features: number[][];
  labels: number[];
}

export function loadEvalSet(): EvalSet {
  return JSON.parse(readFileSync(join(MODELS, 'digits-eval.json'), 'utf8')) as EvalSet;
}

export function testConfig(overrides: Record<string, unknown> = {}): ServerConfig {
  return parseServerConfig(
    {
      modelName: 'digits',
      host: '127.0.0.1',
      port: 0,
      variants: VARIANTS.map((name) => ({ name, uri: join(MODELS, `${name}.onnx`) })),
      executionProvider: 'cpu',
      ...overrides,
    },
    ROOT,
  );
}

export function startTestServer(
  overrides: Record<string, unknown> = {},
  deps: ModelServerDeps = {},
): Promise<ModelServer> {
  return startModelServer(testConfig(overrides), { logger: silentLogger(), ...deps });
}

export function inferBody(rows: number[][], id?: string): string {
  return JSON.stringify({
    ...(id ? { id } : {}),
    inputs: [{ name: 'input', shape: [rows.length, 64], datatype: 'FP32', data: rows.flat() }],
  });
}

export async function post(url: string, body: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
}

/** Sum of a metric's samples whose labels include `labels`, read from the server's own /metrics text. */
export async function metricValue(url: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) sum += Number(line.split(' ').pop());
  }
  return sum;
}

/** A response body as loosely typed JSON: the tests assert its shape field by field. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function json(res: Response | Promise<Response>): Promise<any> {
  return (await res).json();
}
