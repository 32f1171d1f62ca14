// One keep-alive connection pool to the apiserver (issue 15 §2). client-node's `applyToHTTPSOptions` hands out
// an https.Agent without keepAlive, so every request paid a TCP + TLS handshake (3,000 GETs, 3,000 handshakes).
// Here: one Agent with keepAlive and a bounded socket count for requests, and a second one for watches, because
// a watch holds its socket for minutes and must never take a socket a request is waiting for. Both count the
// sockets they open and the TLS handshakes they complete, so tests prove reuse by counting, not by timing.
import { Agent as HttpsAgent, type AgentOptions } from 'node:https';
import { Agent as HttpAgent } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';

export interface PoolStats {
  /** Sockets the pool opened (TCP connections). */
  socketsCreated: number;
  /** TLS handshakes completed ('secureConnect'); 0 for plain-http servers. */
  tlsHandshakes: number;
}

export interface ConnectionPoolOptions {
  /** Concurrent request sockets (default 10). Requests beyond it wait for a free socket. */
  maxSockets?: number;
  /** Idle sockets kept open for reuse (default maxSockets). */
  maxFreeSockets?: number;
  /** TLS material read once from the kubeconfig (ca, cert, key, servername, rejectUnauthorized). */
  tls?: AgentOptions;
  /** Plain http (a test server or kubectl proxy). */
  plainHttp?: boolean;
}

type AnyAgent = HttpsAgent | HttpAgent;

function countingAgent(opts: AgentOptions, plainHttp: boolean, stats: PoolStats): AnyAgent {
  const agent: AnyAgent = plainHttp ? new HttpAgent(opts) : new HttpsAgent(opts);
  // Wrap the agent's own createConnection: every socket the pool opens passes here exactly once.
  const create = agent.createConnection.bind(agent) as (
    o: unknown,
    cb?: (err: Error | null, s: Duplex) => void,
  ) => Duplex | null | undefined;
  agent.createConnection = ((o: unknown, cb?: (err: Error | null, s: Duplex) => void) => {
    stats.socketsCreated++;
    const s = create(o, cb);
    if (s && !plainHttp) (s as TLSSocket).once('secureConnect', () => stats.tlsHandshakes++);
    return s;
  }) as typeof agent.createConnection;
  return agent;
}

export class ConnectionPool {
  readonly requestStats: PoolStats = { socketsCreated: 0, tlsHandshakes: 0 };
  readonly watchStats: PoolStats = { socketsCreated: 0, tlsHandshakes: 0 };
  readonly requests: AnyAgent;
  readonly watches: AnyAgent;
  readonly maxSockets: number;

  constructor(o: ConnectionPoolOptions = {}) {
    this.maxSockets = o.maxSockets ?? 10;
    if (!(this.maxSockets >= 1)) throw new Error(`connection pool: maxSockets must be >= 1, got ${o.maxSockets}`);
    const base: AgentOptions = { ...o.tls, keepAlive: true, keepAliveMsecs: 30_000, scheduling: 'lifo' };
    this.requests = countingAgent(
      { ...base, maxSockets: this.maxSockets, maxFreeSockets: o.maxFreeSockets ?? this.maxSockets },
      o.plainHttp ?? false,
      this.requestStats,
    );
    // One socket per watch, as many as there are reflectors; none are kept idle (a watch ends rarely).
    this.watches = countingAgent({ ...base, maxFreeSockets: 1 }, o.plainHttp ?? false, this.watchStats);
  }

  /** Closes every socket (idle and in use); later requests open new ones. */
  destroy(): void {
    this.requests.destroy();
    this.watches.destroy();
  }
}
