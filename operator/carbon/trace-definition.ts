// The registration of the trace provider: its `spec.trace` block and its constructor. It lives beside
// trace-provider.ts rather than in it because the replay (trace-provider.ts) and the file reader (trace-file.ts)
// belong to the trace reader's owner; this file is the provider-registry side (docs/adr/0403). The reader's options
// (gaps, repeated hours, zone: operator/traces/time-series.ts) are the spec's `gapFill`, `maxGapHours`,
// `duplicates` and `zone`; without them a file with a gap or a repeated hour is a config error naming the line.
import { defineProvider } from './provider-definition.ts';
import { CarbonProviderError } from './provider-error.ts';
import { TraceProvider, loadTrace, type TraceReadOptions } from './trace-provider.ts';

export interface TraceSpec {
  /** CSV or JSON trace; relative paths resolve against the project root. */
  file: string;
  offsetSeconds?: number;
  /** Trace seconds per real second (60: one trace hour per real minute). Default 1. */
  speedup?: number;
  /** ISO time that maps to the trace start. Default: 1 January 00:00 UTC of the current year. */
  anchor?: string;
  forecast?: 'auto' | 'column' | 'oracle' | 'none';
  /** Gaps in the file: none (default) refuses them; hold repeats the last value; linear interpolates. */
  gapFill?: 'none' | 'hold' | 'linear';
  /** Longest gap filled, in hours (default 6); only with gapFill hold or linear. */
  maxGapHours?: number;
  /** A repeated timestamp: reject (default), or collapse-identical when the rows are identical. */
  duplicates?: 'reject' | 'collapse-identical';
  /** Replay only this zone's rows (required for a file holding several zones). */
  zone?: string;
}

const HOUR_MS = 3_600_000;

/** The reader's options from the spec; a bound on gaps that are never filled is a mistake, said with its field. */
export function traceReadOptions(t: TraceSpec): TraceReadOptions {
  const fill = t.gapFill ?? 'none';
  if (t.maxGapHours !== undefined && fill === 'none')
    throw new CarbonProviderError(
      'config',
      `spec.trace.maxGapHours: set to ${t.maxGapHours}, but spec.trace.gapFill is none (gaps are refused, never filled); set gapFill to hold or linear, or remove maxGapHours`,
    );
  return {
    ...(t.gapFill !== undefined ? { gapFill: t.gapFill } : {}),
    ...(t.maxGapHours !== undefined ? { maxGapMs: t.maxGapHours * HOUR_MS } : {}),
    ...(t.duplicates !== undefined ? { duplicates: t.duplicates } : {}),
    ...(t.zone !== undefined ? { zone: t.zone } : {}),
  };
}

export const trace = defineProvider<'trace', TraceSpec>({
  kind: 'trace',
  title: 'A replayed real trace (CSV/JSON: Electricity Maps exports, DACF files)',
  docsUrl: 'https://github.com/carbonscale/carbonscale/blob/main/docs/adr/0402-trace-replay-forecasts.md',
  transport: 'local',
  credentials: [],
  // Which column of an Electricity Maps export: direct or life-cycle.
  emissionFactorTypes: ['direct', 'lifecycle'],
  block: {
    key: 'trace',
    schema: {
      type: 'object',
      description: 'trace: replay a real CSV/JSON intensity trace.',
      fields: {
        file: {
          type: 'string',
          description: 'Trace file; relative paths resolve against the operator image root (data/carbon/...).',
          required: true,
          minLength: 1,
          check: { says: 'a file path', test: (v) => v.trim() !== '' },
        },
        offsetSeconds: { type: 'number', description: 'Shift of trace time against real time, in seconds.' },
        speedup: {
          type: 'number',
          description: 'Trace seconds per real second (1 = real time, 60 = one trace hour per real minute). Default 1.',
          minimum: 0,
          exclusiveMinimum: true,
          maximum: 1_000_000,
        },
        anchor: {
          type: 'string',
          description: 'ISO time that maps to the trace start. Default: 1 January 00:00 UTC of the current year.',
          check: { says: 'an ISO 8601 time', test: (v) => Number.isFinite(Date.parse(v)) },
        },
        forecast: {
          type: 'string',
          description: "auto, column (the trace's forecast column), oracle (future actuals) or none.",
          enum: ['auto', 'column', 'oracle', 'none'],
        },
        gapFill: {
          type: 'string',
          description:
            'Missing hours in the file: none (the default) refuses the file (a config error naming the line and the span); hold repeats the last value; linear interpolates. Filled hours are replayed labelled estimated.',
          enum: ['none', 'hold', 'linear'],
        },
        maxGapHours: {
          type: 'number',
          description:
            'Longest gap filled, in hours (default 6); a longer gap stays a config error. Only with gapFill hold or linear.',
          minimum: 0,
          exclusiveMinimum: true,
          maximum: 8760,
          unit: 'hours',
        },
        duplicates: {
          type: 'string',
          description:
            'A repeated timestamp: reject (the default) refuses the file naming both lines; collapse-identical drops a repeat whose values are identical (a conflicting repeat is still refused).',
          enum: ['reject', 'collapse-identical'],
        },
        zone: {
          type: 'string',
          description:
            "Replay only the rows of this zone (the file's Zone Id column, case-insensitive); a file holding several zones must name one.",
          minLength: 1,
          maxLength: 128,
        },
      },
    },
  },
  notes: 'any region; replays a CSV/JSON trace (Electricity Maps exports, DACF files) — ADR 0402',
  create: (c) => {
    const t = c.block;
    return new TraceProvider({
      trace: loadTrace(t.file, c.basis, traceReadOptions(t)),
      file: t.file,
      now: c.now,
      ...(t.anchor !== undefined ? { anchorMs: Date.parse(t.anchor) } : {}),
      ...(t.offsetSeconds !== undefined ? { offsetMs: t.offsetSeconds * 1000 } : {}),
      ...(t.speedup !== undefined ? { speedup: t.speedup } : {}),
      ...(t.forecast !== undefined ? { forecast: t.forecast } : {}),
    });
  },
});
