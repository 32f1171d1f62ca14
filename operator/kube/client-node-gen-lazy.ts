// Stands in for @kubernetes/client-node's generated API client (dist/gen/index.js) as seen by its config.js, which
// the operator loads for KubeConfig alone (kube-config.ts). config.js needs two names from it, and only inside
// makeApiClient, which the operator never calls; the generated client is 7 MB of source and some 70 MiB of RSS
// once loaded (issue 15: RSS at 2,000 services). Each name loads the real module on first use, synchronously
// (require of an ES module), so a process that does call makeApiClient (the embedded cluster, tests) gets the
// genuine objects: Node keeps one instance per module, shared by import and require.
import { createRequire } from 'node:module';
import type * as GenModule from '@kubernetes/client-node/dist/gen/index.js';

type Gen = typeof GenModule;

const require = createRequire(import.meta.url);
let gen: Gen | undefined;
/** The real generated client, loaded on first use. */
export function realGen(): Gen {
  gen ??= require('@kubernetes/client-node/dist/gen/index.js') as Gen;
  return gen;
}

export function createConfiguration(
  ...args: Parameters<Gen['createConfiguration']>
): ReturnType<Gen['createConfiguration']> {
  return realGen().createConfiguration(...args);
}

type ServerConfigurationArgs = ConstructorParameters<Gen['ServerConfiguration']>;
/** `new ServerConfiguration(...)` in config.js builds the real class's object (a constructor may return one). */
export const ServerConfiguration = function ServerConfiguration(...args: ServerConfigurationArgs) {
  const Real = realGen().ServerConfiguration;
  return new Real(...args);
} as unknown as Gen['ServerConfiguration'];
