// What the live terminal view knows, folded from events: the rows the operator writes to its audit trail (usage:
// intensity, variant, replicas, emissions and baseline, budget used; decision: what changed and why), the clock,
// the demo's load generator and local model servers, and warnings from the log. Pure: `reduceLive` returns a new
// state and touches nothing else, so the view can be tested on recorded event sequences (test/unit/live-view/).
// The audit rows are the source on purpose: the screen shows what the trail records, never a second estimate.
import type { DecisionRecord } from '../audit/decision.ts';
import type { UsageRecord } from '../audit/usage.ts';

export interface RegionLine {
  region: string;
  valueGPerKWh: number | null;
  provider: string;
  /** Time the intensity value applies to (trace time on a replay), ms. */
  dataTimeMs: number | null;
  estimated: boolean | null;
  forecast: boolean | null;
  fallback: boolean;
}

export interface ServiceLine {
  key: string;
  namespace: string;
  name: string;
  tier: string;
  region: string;
  variant: string;
  variantIsFull: boolean;
  replicasDesired: number;
  replicasReady: number;
  /** eco only: share of the degradation budget used in its window (the audit column). */
  budgetUsed: number | null;
  /** Sums over the usage rows of this run, gCO2e (rows whose intensity was missing are counted apart). */
  emissionsG: number;
  baselineG: number;
  rows: number;
  rowsWithoutIntensity: number;
  /** Energy of every row counted came from the power profile (estimated), not a meter. */
  energyEstimated: boolean;
  /** End of the last accounting interval counted (clock time), ms. */
  untilMs: number;
  load?: LoadLine;
  servers?: ServerLine;
}

/** The demo's generated load for one service over the last report period (wall time). */
export interface LoadLine {
  requestsPerSecond: number;
  p95Ms: number | null;
  failed: number;
}

/** The demo's local model-server processes of one service and the variant each reports serving. */
export interface ServerLine {
  running: number;
  starting: number;
  servedBy: Record<string, number>;
}

export interface DecisionLine {
  /** Clock time of the decision (trace time on a replay), ms. */
  timeMs: number;
  service: string;
  kind: string;
  text: string;
}

export interface MessageLine {
  wallMs: number;
  level: string;
  text: string;
}

export interface ClockLine {
  nowMs: number;
  speedup: number;
  replay: boolean;
}

export interface LiveState {
  title: string;
  wallStartMs: number;
  wallNowMs: number;
  clock?: ClockLine;
  /** Lines said once at the top (kubeconfig, audit dir, log file, what the pods are), in insertion order. */
  facts: Array<{ key: string; text: string }>;
  regions: Record<string, RegionLine>;
  services: Record<string, ServiceLine>;
  decisions: DecisionLine[];
  messages: MessageLine[];
  usageRows: number;
  decisionRows: number;
}

export type LiveEvent =
  | { type: 'usage'; row: UsageRecord }
  | { type: 'decision'; row: DecisionRecord }
  | { type: 'clock'; wallMs: number; clock: ClockLine }
  | { type: 'log'; wallMs: number; level: string; text: string }
  | { type: 'fact'; key: string; text: string }
  | { type: 'load'; service: string; load: LoadLine }
  | { type: 'servers'; service: string; servers: ServerLine };

/** Decisions and messages kept (the view shows the newest that fit). */
export const KEPT_DECISIONS = 200;
export const KEPT_MESSAGES = 50;

export function initialLiveState(title: string, wallStartMs: number): LiveState {
  return {
    title,
    wallStartMs,
    wallNowMs: wallStartMs,
    facts: [],
    regions: {},
    services: {},
    decisions: [],
    messages: [],
    usageRows: 0,
    decisionRows: 0,
  };
}

export function serviceKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

export function reduceLive(s: LiveState, e: LiveEvent): LiveState {
  switch (e.type) {
    case 'usage':
      return withUsage(s, e.row);
    case 'decision':
      return withDecision(s, e.row);
    case 'clock':
      return { ...s, wallNowMs: Math.max(s.wallNowMs, e.wallMs), clock: e.clock };
    case 'log':
      return {
        ...s,
        wallNowMs: Math.max(s.wallNowMs, e.wallMs),
        messages: [...s.messages, { wallMs: e.wallMs, level: e.level, text: e.text }].slice(-KEPT_MESSAGES),
      };
    case 'fact': {
      const facts = s.facts.some((f) => f.key === e.key)
        ? s.facts.map((f) => (f.key === e.key ? { key: e.key, text: e.text } : f))
        : [...s.facts, { key: e.key, text: e.text }];
      return { ...s, facts };
    }
    case 'load':
      return patchService(s, e.service, { load: e.load });
    case 'servers':
      return patchService(s, e.service, { servers: e.servers });
  }
}

/** A service the audit trail has not mentioned yet gets a placeholder line, filled by its first usage row. */
function patchService(s: LiveState, key: string, patch: Partial<ServiceLine>): LiveState {
  const cur = s.services[key] ?? placeholder(key);
  return { ...s, services: { ...s.services, [key]: { ...cur, ...patch } } };
}

function placeholder(key: string): ServiceLine {
  const [namespace = '', name = key] = key.includes('/') ? key.split('/', 2) : ['', key];
  return {
    key,
    namespace,
    name,
    tier: '',
    region: '',
    variant: '',
    variantIsFull: true,
    replicasDesired: 0,
    replicasReady: 0,
    budgetUsed: null,
    emissionsG: 0,
    baselineG: 0,
    rows: 0,
    rowsWithoutIntensity: 0,
    energyEstimated: true,
    untilMs: 0,
  };
}

function withUsage(s: LiveState, r: UsageRecord): LiveState {
  const key = serviceKey(r.namespace, r.name);
  const cur = s.services[key] ?? placeholder(key);
  // Rows of one service arrive in interval order; an older one (a replay after restart) only adds to the sums.
  const newest = r.interval_end >= cur.untilMs;
  const counted = r.total_co2e_g !== null && r.baseline_total_co2e_g !== null;
  const svc: ServiceLine = {
    ...cur,
    namespace: r.namespace,
    name: r.name,
    tier: r.tier,
    region: r.ci_region,
    ...(newest
      ? {
          variant: r.variant,
          variantIsFull: r.variant_is_full,
          replicasDesired: r.replicas_desired,
          replicasReady: r.replicas_ready,
          budgetUsed: r.tier === 'eco' ? r.degradation_budget_used : null,
          untilMs: r.interval_end,
        }
      : {}),
    emissionsG: cur.emissionsG + (counted ? r.total_co2e_g! : 0),
    baselineG: cur.baselineG + (counted ? r.baseline_total_co2e_g! : 0),
    rows: cur.rows + 1,
    rowsWithoutIntensity: cur.rowsWithoutIntensity + (counted ? 0 : 1),
    energyEstimated: (cur.rows === 0 || cur.energyEstimated) && r.energy_method === 'estimated',
  };
  const region = r.ci_region;
  const prev = s.regions[region];
  const regionNewer = !prev || (r.ci_data_time ?? 0) >= (prev.dataTimeMs ?? 0);
  const regions = regionNewer
    ? {
        ...s.regions,
        [region]: {
          region,
          valueGPerKWh: r.ci_g_per_kwh,
          provider: r.ci_provider,
          dataTimeMs: r.ci_data_time,
          estimated: r.ci_estimated,
          forecast: r.ci_forecast,
          fallback: r.ci_fallback_used,
        },
      }
    : s.regions;
  return { ...s, services: { ...s.services, [key]: svc }, regions, usageRows: s.usageRows + 1 };
}

function withDecision(s: LiveState, r: DecisionRecord): LiveState {
  const key = serviceKey(r.namespace, r.name);
  const line: DecisionLine = { timeMs: r.time, service: r.name, kind: r.kind, text: decisionInWords(r) };
  const cur = s.services[key];
  // A decision changes the service line at once; the next usage row confirms what ran.
  const services =
    cur && r.after_variant !== null && r.after_replicas !== null && r.time >= cur.untilMs
      ? { ...s.services, [key]: { ...cur, variant: r.after_variant, replicasDesired: r.after_replicas } }
      : s.services;
  // Services decide concurrently, so rows can arrive a little out of time order: keep the list in time order.
  const decisions = [...s.decisions];
  let i = decisions.length;
  while (i > 0 && decisions[i - 1]!.timeMs > line.timeMs) i--;
  decisions.splice(i, 0, line);
  return {
    ...s,
    services,
    decisions: decisions.slice(-KEPT_DECISIONS),
    decisionRows: s.decisionRows + 1,
  };
}

/**
 * One decision in words: what changed, then the reason's clauses that say why (the clause restating the change
 * itself, with its arrow, is left out: the headline says it already).
 */
export function decisionInWords(r: DecisionRecord): string {
  const v = (x: string | null) => x ?? '?';
  const v2 = (x: number | null) => (x === null ? '?' : String(x));
  const plural = (n: number | null) => `${v2(n)} ${n === 1 ? 'replica' : 'replicas'}`;
  const reps = (a: number | null, b: number | null) =>
    a === null || a === b ? plural(b) : `${v2(a)}→${v2(b)} replicas`;
  let head: string;
  switch (r.kind) {
    case 'swap':
      head = `swapped ${v(r.before_variant)} → ${v(r.after_variant)}, ${reps(r.before_replicas, r.after_replicas)}`;
      break;
    case 'scale':
      head =
        r.before_replicas === null
          ? `started ${plural(r.after_replicas)} of ${v(r.after_variant)}`
          : `scaled ${reps(r.before_replicas, r.after_replicas)} of ${v(r.after_variant)}`;
      break;
    case 'fallback':
      head = `fell back to ${v(r.after_variant)}, ${reps(r.before_replicas, r.after_replicas)}`;
      break;
    case 'mode':
      head = `mode ${v(r.before_mode)} → ${v(r.after_mode)}`;
      break;
    case 'audit_drop':
      head = 'audit rows dropped';
      break;
    default:
      head = String(r.kind).replace(/_/g, ' ');
  }
  const why = r.reason
    .split(/;\s*/)
    .map((c) => c.trim())
    .filter((c) => c.length > 0 && !c.includes('→'));
  return why.length > 0 ? `${head}: ${why.join('; ')}` : head;
}
