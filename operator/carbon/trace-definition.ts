// The registration of the trace provider: its `spec.trace` block and its constructor. It lives beside
// trace-provider.ts rather than in it because the replay (trace-provider.ts) and the file reader (trace-file.ts)
// belong to the trace reader's owner; this file is the provider-registry side (docs/adr/0403).
import { defineProvider } from './provider-definition.ts';
import { TraceProvider, loadTrace } from './trace-provider.ts';

export interface TraceSpec {
  /** CSV or JSON trace; relative paths resolve against the project root. */
  file: string;
  offsetSeconds?: number;
  /** Trace seconds per real second (60: one trace hour per real minute). Default 1. */
  speedup?: number;
  /** ISO time that maps to the trace start. Default: 1 January 00:00 UTC of the current year. */
  anchor?: string;
  forecast?: 'auto' | 'column' | 'oracle' | 'none';
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
      },
    },
  },
  notes: 'any region; replays a CSV/JSON trace (Electricity Maps exports, DACF files) — ADR 0402',
  create: (c) => {
    const t = c.block;
    return new TraceProvider({
      trace: loadTrace(t.file, c.basis),
      file: t.file,
      now: c.now,
      ...(t.anchor !== undefined ? { anchorMs: Date.parse(t.anchor) } : {}),
      ...(t.offsetSeconds !== undefined ? { offsetMs: t.offsetSeconds * 1000 } : {}),
      ...(t.speedup !== undefined ? { speedup: t.speedup } : {}),
      ...(t.forecast !== undefined ? { forecast: t.forecast } : {}),
    });
  },
});
