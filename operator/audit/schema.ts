// The audit schema, one source of truth: the Parquet schema, the hash canonical form, the verifier's derived
// checks and the column table in docs/audit.md (a test compares the doc with this list) all come from here.
import { createHash } from 'node:crypto';
import { METHODOLOGY_VERSION, SCHEMA_VERSION } from './usage.ts';
import { AuditInputError } from './validate.ts';

export type ColumnType = 'string' | 'double' | 'int32' | 'int64' | 'bool' | 'timestamp';
export type StreamKind = 'usage' | 'decision';
export const STREAMS: readonly StreamKind[] = ['usage', 'decision'];

export interface ColumnSpec {
  name: string;
  type: ColumnType;
  nullable: boolean;
  /** Unit, or '-' for identifiers and flags. */
  unit: string;
  doc: string;
  /** The schema version that added the column (absent: present since 1.0.0). */
  since?: SchemaVersion;
  /** Nullability in schema 1.0.0 where 2.0.0 changed it. */
  v1Nullable?: boolean;
}

/** Every schema version a file or journal row may carry, oldest first (docs/audit.md, "Schema versions"). */
export const SCHEMA_VERSIONS = ['1.0.0', '2.0.0', '2.1.0', '2.2.0', '2.3.0'] as const;
export type SchemaVersion = (typeof SCHEMA_VERSIONS)[number];

/** The methodology each schema version's rows follow. */
export const METHODOLOGY_OF: Record<SchemaVersion, string> = {
  '1.0.0': 'carbonscale-sci-1',
  '2.0.0': 'carbonscale-sci-2',
  '2.1.0': 'carbonscale-sci-3',
  '2.2.0': 'carbonscale-sci-4',
  '2.3.0': METHODOLOGY_VERSION,
};

export function isSchemaVersion(v: unknown): v is SchemaVersion {
  return (SCHEMA_VERSIONS as readonly unknown[]).includes(v);
}

const c = (name: string, type: ColumnType, unit: string, doc: string, nullable = false): ColumnSpec => ({
  name,
  type,
  nullable,
  unit,
  doc,
});
/** A column added in 2.0.0. */
const c2 = (name: string, type: ColumnType, unit: string, doc: string, nullable = false): ColumnSpec => ({
  ...c(name, type, unit, doc, nullable),
  since: '2.0.0',
});
/** A column added in 2.1.0 (measured energy, its fallback, tokens: docs/audit.md, "Schema versions"). */
const c21 = (name: string, type: ColumnType, unit: string, doc: string, nullable = false): ColumnSpec => ({
  ...c(name, type, unit, doc, nullable),
  since: '2.1.0',
});
/** A column that 2.0.0 made nullable (null where the value is unknown, instead of a made-up number). */
const cNull = (name: string, type: ColumnType, unit: string, doc: string): ColumnSpec => ({
  ...c(name, type, unit, doc, true),
  v1Nullable: false,
});

/** Columns the sink adds to every row of every stream: position in the stream and the hash chain. */
const CHAIN_COLUMNS: ColumnSpec[] = [
  c('stream_seq', 'int64', '-', 'position of the row in its stream (usage or decision), 1-based, no gaps'),
  c('prev_hash', 'string', '-', 'row_hash of the previous row of the stream (64 zeros for the first row ever)'),
  c('row_hash', 'string', '-', 'SHA-256 (hex) of the canonical form of this row, prev_hash included (docs/audit.md)'),
];

export const USAGE_COLUMNS: readonly ColumnSpec[] = [
  c(
    'record_id',
    'string',
    '-',
    'stable id: u- + sha256(cluster, uid, interval start, interval end); a replay has the same id (docs/audit.md, "Record ids")',
  ),
  c('schema_version', 'string', '-', 'version of this schema'),
  c('methodology_version', 'string', '-', 'version of the accounting methodology in docs/audit.md'),
  c('operator_version', 'string', '-', 'carbonscale version that wrote the row'),
  c('cluster_id', 'string', '-', 'cluster identifier'),
  c('namespace', 'string', '-', 'InferenceService namespace'),
  c('name', 'string', '-', 'InferenceService name'),
  c('uid', 'string', '-', 'InferenceService metadata.uid'),
  c('tier', 'string', '-', 'premium | eco'),
  c('variant', 'string', '-', 'model variant served during the interval'),
  c('variant_quality', 'double', 'quality score (0..1)', 'declared quality of the variant served'),
  c('variant_is_full', 'bool', '-', 'true when the served variant is the full model (not degraded)'),
  c('model_digest', 'string', '-', 'digest of the variant model file, when known', true),
  c('interval_start', 'timestamp', 'UTC, ms', 'start of the accounting interval (inclusive)'),
  c('interval_end', 'timestamp', 'UTC, ms', 'end of the accounting interval (exclusive)'),
  c('interval_s', 'double', 's', '(interval_end − interval_start) / 1000'),
  c('replicas_desired', 'int32', 'replicas', 'replicas requested at the end of the interval'),
  c('replicas_ready', 'int32', 'replicas', 'replicas ready at the end of the interval'),
  c('replicas_avg', 'double', 'replicas', 'replicas running over the interval, as replicas_avg_method says'),
  c2(
    'replicas_avg_method',
    'string',
    '-',
    'time_weighted (averaged over pod transitions in the interval) | snapshot (the ready count at one instant, taken as the average)',
  ),
  c('gpus_per_replica', 'int32', 'GPUs', 'GPUs per replica'),
  c('gpu_model', 'string', '-', 'GPU model, when known', true),
  c('gpu_seconds', 'double', 'GPU·s', 'replicas_avg × gpus_per_replica × interval_s'),
  c('gpu_hours', 'double', 'GPU·h', 'gpu_seconds / 3600'),
  c('power_idle_w', 'double', 'W', 'idle power of one replica (estimated method only)', true),
  c('power_busy_w', 'double', 'W', 'fully busy power of one replica (estimated method only)', true),
  c(
    'utilization',
    'double',
    'fraction 0..1',
    'mean utilisation over the interval (estimated method only), as utilization_method says',
    true,
  ),
  c2(
    'utilization_method',
    'string',
    '-',
    'modelled (demand ÷ capacity of the ready replicas) | measured (reported by the server); null with utilization',
    true,
  ),
  c(
    'energy_it_kwh',
    'double',
    'kWh',
    'IT energy: measured, or (idle + (busy − idle) × utilization) × replicas_avg × interval_s / 3.6e6',
  ),
  c('energy_facility_kwh', 'double', 'kWh', 'energy_it_kwh × pue'),
  c('energy_method', 'string', '-', 'measured | estimated'),
  c(
    'energy_source',
    'string',
    '-',
    'power-profile (estimated) or the meter that measured it: kepler, dcgm, model-server',
  ),
  c21(
    'energy_meter',
    'string',
    '-',
    'the meter configured for the service (energy.source: kepler | dcgm | model-server); null when energy.source is profile',
    true,
  ),
  c21(
    'energy_fallback_reason',
    'string',
    '-',
    'why the interval is estimated although energy_meter is set (the meter did not cover it: the pod, series and time); null when measured or no meter',
    true,
  ),
  c21(
    'energy_profile_it_kwh',
    'double',
    'kWh',
    'the power-profile estimate of the same interval when energy_method is measured (what ProfileDrift compares); null when estimated',
    true,
  ),
  c('pue', 'double', 'ratio', 'power usage effectiveness of the facility (>= 1)'),
  cNull('ci_g_per_kwh', 'double', 'gCO2eq/kWh', 'grid carbon intensity used (location-based); null when ci_missing'),
  c('ci_unit', 'string', '-', 'always gCO2eq/kWh'),
  c('ci_region', 'string', '-', 'grid region / zone of the intensity'),
  c('ci_provider', 'string', '-', 'provider that delivered the intensity (the configured one when ci_missing)'),
  cNull('ci_signal', 'string', '-', 'average | marginal; null when ci_missing'),
  cNull('ci_basis', 'string', '-', 'direct (operational) | lifecycle; null when ci_missing'),
  cNull('ci_data_time', 'timestamp', 'UTC, ms', 'time the intensity value applies to; null when ci_missing'),
  cNull(
    'ci_data_age_s',
    'double',
    's',
    '(interval_end − ci_data_time) / 1000; negative for a forecast; null when ci_missing',
  ),
  cNull('ci_estimated', 'bool', '-', 'provider flagged the intensity as estimated; null when ci_missing'),
  cNull(
    'ci_forecast',
    'bool',
    '-',
    'intensity is a forecast, not an observation (set by the caller); null when ci_missing',
  ),
  c('ci_fallback_level', 'int32', '-', '0 = primary provider, n = n-th fallback of the chain'),
  c('ci_fallback_used', 'bool', '-', 'ci_fallback_level > 0'),
  c2(
    'ci_missing',
    'bool',
    '-',
    'no intensity was available for the interval: intensity and emission columns are null, energy is kept',
  ),
  cNull(
    'operational_co2e_g',
    'double',
    'gCO2e',
    'energy_facility_kwh × ci_g_per_kwh (location-based); null when ci_missing',
  ),
  cNull(
    'embodied_g_per_gpu_hour',
    'double',
    'gCO2e/GPU·h',
    'amortised embodied emissions factor; null when embodied_counted is false',
  ),
  c2(
    'embodied_counted',
    'bool',
    '-',
    'embodied emissions are counted in this row (a factor was configured); false: embodied columns are null',
  ),
  c2('embodied_source', 'string', '-', 'where the embodied factor comes from; null when not counted', true),
  cNull('embodied_co2e_g', 'double', 'gCO2e', 'gpu_hours × embodied_g_per_gpu_hour; null when not counted'),
  cNull(
    'total_co2e_g',
    'double',
    'gCO2e',
    'operational_co2e_g + embodied_co2e_g (embodied only when counted); null when ci_missing',
  ),
  c('requests', 'int64', 'requests', 'requests served in the interval, as requests_method says'),
  c2(
    'requests_method',
    'string',
    '-',
    'measured (a served-request counter) | modelled (the demand rate × interval_s, rounded)',
  ),
  c('inferences', 'int64', 'inferences', 'inferences served (the SCI functional unit R), as inferences_method says'),
  c2(
    'inferences_method',
    'string',
    '-',
    'measured (a served-inference counter) | modelled (derived from the demand rate × interval_s)',
  ),
  c21(
    'prompt_tokens',
    'int64',
    'tokens',
    'prompt (input) tokens processed in the interval, counted by the runtime (vllm:prompt_tokens_total); null when the runtime counts none',
    true,
  ),
  c21(
    'generated_tokens',
    'int64',
    'tokens',
    'tokens generated in the interval, counted by the runtime (vllm:generation_tokens_total); null when the runtime counts none',
    true,
  ),
  c(
    'latency_p50_ms',
    'double',
    'ms',
    "median latency of the requests answered in the interval, measured: from the model server's request-duration histogram (bucket increases over the interval, summed over the pods), interpolated within the bucket as histogram_quantile does, so an estimate exact to the bucket bounds; null when unknown (fewer than 20 requests, no histogram: another runtime, trace or static demand; a pod not read at both ends or restarted; always null before 2.3.0)",
    true,
  ),
  c(
    'latency_p95_ms',
    'double',
    'ms',
    '95th percentile latency of the requests answered in the interval, measured and interpolated like latency_p50_ms (an estimate exact to the bucket bounds; above the largest finite bound it is that bound, a lower bound); null when unknown, as latency_p50_ms (always null before 2.3.0)',
    true,
  ),
  c(
    'slo_met',
    'bool',
    '-',
    'latency_p95_ms within the p95 ceiling in force: slo.relaxedLatencyP95Ms when the decisions over the interval used it (eco, high-carbon hour), else slo.latencyP95Ms; null when the latency is unknown, when the ceiling changed inside the interval and the p95 lies between the two, or when the p95 is above the largest finite bucket bound and that bound is below the ceiling (always null before 2.3.0)',
    true,
  ),
  c(
    'baseline_replicas',
    'double',
    'replicas',
    'replicas of the full variant without carbon shaping (counterfactual): replicas_avg when the interval ran the full variant, else the replicas the demand alone needs (modelled; before 2.2.0 always the latter)',
  ),
  c('baseline_gpus_per_replica', 'int32', 'GPUs', 'GPUs per replica of the full variant'),
  c('baseline_power_idle_w', 'double', 'W', 'idle power of one full-variant replica'),
  c('baseline_power_busy_w', 'double', 'W', 'fully busy power of one full-variant replica'),
  c(
    'baseline_utilization',
    'double',
    'fraction 0..1',
    'utilisation the full variant would have had serving the same demand: utilization when the interval ran the full variant, else modelled from the demand',
  ),
  c(
    'baseline_energy_it_kwh',
    'double',
    'kWh',
    '(baseline_power_idle_w + (busy − idle) × baseline_utilization) × baseline_replicas × interval_s / 3.6e6',
  ),
  c('baseline_energy_facility_kwh', 'double', 'kWh', 'baseline_energy_it_kwh × pue'),
  cNull(
    'baseline_operational_co2e_g',
    'double',
    'gCO2e',
    'baseline_energy_facility_kwh × ci_g_per_kwh; null when ci_missing',
  ),
  cNull(
    'baseline_embodied_co2e_g',
    'double',
    'gCO2e',
    'baseline_replicas × baseline_gpus_per_replica × interval_s / 3600 × embodied_g_per_gpu_hour; null when not counted',
  ),
  cNull(
    'baseline_total_co2e_g',
    'double',
    'gCO2e',
    'baseline_operational_co2e_g + baseline_embodied_co2e_g (when counted); null when ci_missing',
  ),
  cNull(
    'savings_co2e_g',
    'double',
    'gCO2e',
    'baseline_total_co2e_g − total_co2e_g (negative = more than baseline); null when ci_missing',
  ),
  c(
    'sci_g_per_1k_inferences',
    'double',
    'gCO2e per 1000 inferences',
    'total_co2e_g / inferences × 1000; null when inferences = 0 or ci_missing',
    true,
  ),
  c21(
    'sci_g_per_1k_tokens',
    'double',
    'gCO2e per 1000 tokens',
    'total_co2e_g / (prompt_tokens + generated_tokens) × 1000 (SCI for AI, per token); null when tokens are unknown or 0, or ci_missing',
    true,
  ),
  c('degradation_budget_used', 'double', 'fraction 0..1', 'share of the degradation budget used in its window'),
  ...CHAIN_COLUMNS,
];

export const DECISION_COLUMNS: readonly ColumnSpec[] = [
  c(
    'record_id',
    'string',
    '-',
    'stable id: d- + sha256(cluster, uid, time, kind, outcome = [after_variant, after_replicas, after_mode]) (docs/audit.md)',
  ),
  c('schema_version', 'string', '-', 'version of this schema'),
  c('operator_version', 'string', '-', 'carbonscale version that wrote the row'),
  c('cluster_id', 'string', '-', 'cluster identifier'),
  c('time', 'timestamp', 'UTC, ms', 'when the decision was taken'),
  c('namespace', 'string', '-', 'InferenceService namespace'),
  c('name', 'string', '-', 'InferenceService name'),
  c('uid', 'string', '-', 'InferenceService metadata.uid'),
  c('kind', 'string', '-', 'scale | swap | fallback | mode | audit_drop'),
  c('before_variant', 'string', '-', 'variant before', true),
  c('after_variant', 'string', '-', 'variant after', true),
  c('before_replicas', 'int32', 'replicas', 'replicas before', true),
  c('after_replicas', 'int32', 'replicas', 'replicas after', true),
  c('before_mode', 'string', '-', 'mode before', true),
  c('after_mode', 'string', '-', 'mode after', true),
  c('reason', 'string', '-', 'the reason, in words'),
  c('inputs_json', 'string', '-', 'JSON object of the inputs that drove the decision'),
  c('ci_g_per_kwh', 'double', 'gCO2eq/kWh', 'carbon intensity at decision time, when used', true),
  ...CHAIN_COLUMNS,
];

const columnCache = new Map<string, readonly ColumnSpec[]>();

/** The columns of a stream in a schema version (default: the current one), in file and canonical-form order. */
export function columnsOf(
  kind: StreamKind,
  version: SchemaVersion = SCHEMA_VERSION as SchemaVersion,
): readonly ColumnSpec[] {
  const key = `${kind}@${version}`;
  let cols = columnCache.get(key);
  if (!cols) {
    const all = kind === 'usage' ? USAGE_COLUMNS : DECISION_COLUMNS;
    const at = SCHEMA_VERSIONS.indexOf(version);
    cols = all
      .filter((col) => !col.since || SCHEMA_VERSIONS.indexOf(col.since) <= at)
      .map((col) => (version === '1.0.0' && col.v1Nullable !== undefined ? { ...col, nullable: col.v1Nullable } : col));
    columnCache.set(key, cols);
  }
  return cols;
}

/** The schema version a stored row was written with (rows carry it in `schema_version`). */
export function versionOfRow(row: Row): SchemaVersion {
  const v = row.schema_version;
  return isSchemaVersion(v) ? v : (SCHEMA_VERSION as SchemaVersion);
}

/** Column giving the row's time; it decides the day partition (dt=YYYY-MM-DD, UTC). */
export function timeColumnOf(kind: StreamKind): string {
  return kind === 'usage' ? 'interval_start' : 'time';
}

export const GENESIS_HASH = '0'.repeat(64);

/** Key-value metadata written into every file's footer (a file holds rows of one schema version). */
export function fileMetadata(
  kind: StreamKind,
  version: SchemaVersion = SCHEMA_VERSION as SchemaVersion,
): Record<string, string> {
  return {
    'carbonscale.schema_version': version,
    'carbonscale.methodology_version': METHODOLOGY_OF[version],
    'carbonscale.stream': kind,
    'carbonscale.hash': 'sha256-canonical-v1',
  };
}

export type Row = Record<string, string | number | boolean | null>;

const F64 = new Float64Array(1);
const F64_BYTES = new Uint8Array(F64.buffer);
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** 16 hex digits of the big-endian IEEE-754 bytes (hot path: ~40 doubles per row). */
function doubleHex(v: number): string {
  F64[0] = v;
  let out = '';
  if (LITTLE_ENDIAN) for (let i = 7; i >= 0; i--) out += HEX[F64_BYTES[i] as number];
  else for (let i = 0; i < 8; i++) out += HEX[F64_BYTES[i] as number];
  return out;
}

/**
 * Canonical form hashed into row_hash: for every column but row_hash, in schema order, `name=value\n` with
 * value: `-` for null; `s<utf8 byte length>:<text>`; `d<16 hex digits of the IEEE-754 big-endian double>`;
 * `i<decimal>` for int32/int64; `t<decimal ms since epoch>`; `b1`/`b0`. Binary doubles make it exact and
 * easy to reproduce in any language (Python: struct.pack('>d', x).hex()).
 */
export function canonicalRow(kind: StreamKind, row: Row): string {
  let out = '';
  for (const col of columnsOf(kind, versionOfRow(row))) {
    if (col.name === 'row_hash') continue;
    const v = row[col.name];
    let enc: string;
    if (v === null || v === undefined) enc = '-';
    else if (col.type === 'string') enc = `s${Buffer.byteLength(String(v), 'utf8')}:${String(v)}`;
    else if (col.type === 'double') enc = 'd' + doubleHex(Number(v));
    else if (col.type === 'int32' || col.type === 'int64') enc = 'i' + String(v);
    else if (col.type === 'timestamp') enc = 't' + String(v);
    else enc = v ? 'b1' : 'b0';
    out += `${col.name}=${enc}\n`;
  }
  return out;
}

export function rowHash(kind: StreamKind, row: Row): string {
  return createHash('sha256').update(canonicalRow(kind, row), 'utf8').digest('hex');
}

const CHAIN_NAMES = new Set(CHAIN_COLUMNS.map((col) => col.name));

/**
 * Checks a record against its stream's columns before it is stored: a NaN or a missing value would otherwise
 * corrupt an auditor's sums or break the journal's JSON round trip. Throws AuditInputError naming the column.
 */
export function validateRecord(kind: StreamKind, record: object): void {
  const r = record as Record<string, unknown>;
  for (const col of columnsOf(kind)) {
    if (CHAIN_NAMES.has(col.name)) continue;
    const v = r[col.name];
    if (v === null || v === undefined) {
      if (!col.nullable) throw new AuditInputError(col.name, 'is required');
      continue;
    }
    const ok =
      col.type === 'string'
        ? typeof v === 'string'
        : col.type === 'bool'
          ? typeof v === 'boolean'
          : col.type === 'double'
            ? typeof v === 'number' && Number.isFinite(v)
            : typeof v === 'number' && Number.isSafeInteger(v) && (col.type !== 'int32' || Math.abs(v) <= 0x7fffffff);
    if (!ok)
      throw new AuditInputError(
        col.name,
        `must be ${col.type === 'timestamp' ? 'an integer ms timestamp' : `a valid ${col.type}`} (got ${String(v)})`,
      );
  }
}
