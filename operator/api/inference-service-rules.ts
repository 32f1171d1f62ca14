// The InferenceService CEL rules that say what the operator can run, not only what is well formed: a name its
// child objects can carry, model URIs the model server reads, and a latency SLO some variant can meet. Each limit
// is a constant here that the run-time check (operator/reconciler/feasibility.ts) reads too, so an object admitted
// before a rule existed is refused at run time for the same reason and in the same words.
import { MODEL_URI_PATTERN, MODEL_URI_SCHEMES, MODEL_URI_SCHEME_LIST } from '../../model-server/model-uri.ts';
import type { Schema } from './schema-builders.ts';

/**
 * The service's name is the name of its Service, which must be a DNS-1035 label (RFC 1035: a lowercase letter
 * first, then letters, digits or '-', ending with a letter or digit) of at most 63 characters; it is also a label
 * value (at most 63) on every child, and `<name>-carbonscale` / `<name>-carbonscale-state` name its ConfigMaps.
 */
export const NAME_MAX_LENGTH = 63;
export const NAME_PATTERN = '^[a-z]([-a-z0-9]*[a-z0-9])?$';
export const NAME_PATTERN_WORDS =
  "a DNS-1035 label: lowercase letters, digits and '-', starting with a letter and ending with a letter or digit (no dots)";

/** CEL guard for rules that index spec.variants: an empty list already fails minItems with the real message. */
export const NO_VARIANTS_OR = 'size(self.variants) == 0 || ';

// Messages are static where the text would need unbounded strings (metadata.name has no maxLength the API server
// can see; the cost estimate of a messageExpression over it exceeds the CRD's budget).
export const isvcNameRules: Schema[] = [
  {
    rule: `size(self.metadata.name) <= ${NAME_MAX_LENGTH}`,
    message: `metadata.name must have at most ${NAME_MAX_LENGTH} characters: it names the Service carbonscale creates (a DNS-1035 label) and is a label value on every child object`,
    reason: 'FieldValueInvalid',
  },
  {
    rule: `self.metadata.name.matches('${NAME_PATTERN}')`,
    message: `metadata.name must be ${NAME_PATTERN_WORDS}: it names the Service carbonscale creates`,
    reason: 'FieldValueInvalid',
  },
];

/** Only the project's own model server reads model.uri; for a custom runtime (vLLM, Triton, …) it is the runtime's. */
const OURS = "(!has(self.runtime) || !has(self.runtime.type) || self.runtime.type == 'carbonscale')";
const URI_OK = `v.model.uri.matches('${MODEL_URI_PATTERN}')`;

export const modelUriDescription =
  `Model URI. runtime carbonscale reads ${MODEL_URI_SCHEMES.map((s) => s.form).join(', ')}; ` +
  'pvc:// claims are mounted read-only into the pods. A custom runtime receives any URI in <variantEnv>_URI.';

export const modelUriRule: Schema = {
  rule: `!${OURS} || self.variants.all(v, ${URI_OK})`,
  message:
    `spec.variants[].model.uri: runtime carbonscale reads only ${MODEL_URI_SCHEME_LIST} URIs ` +
    `(${MODEL_URI_SCHEMES.map((s) => s.form).join(', ')}); a custom runtime may use any URI`,
  fieldPath: '.variants',
  reason: 'FieldValueInvalid',
};

/** The variants that may serve: premium only the full one, eco every variant at or above the quality floor. */
const ELIGIBLE =
  "(self.tier == 'eco' ? v.quality >= (has(self.slo.qualityFloor) ? self.slo.qualityFloor : 0.0) : v.name == self.variants[0].name)";

/**
 * The p95 ceiling must lie above some eligible variant's measured low-load p95: the latency model
 * (decision/latency-model.ts) gives p95(ρ) = p95(0) / (1 − ρ), so a ceiling at or below p95(0) holds at no load
 * and no number of replicas meets it.
 */
export const latencySloRule: Schema = {
  rule: `${NO_VARIANTS_OR}self.variants.exists(v, ${ELIGIBLE} && v.latencyP95Ms < self.slo.latencyP95Ms)`,
  // Static: a messageExpression that prints the numbers (string(double)) exceeds the CRD's cost budget.
  message:
    'slo.latencyP95Ms must be above the measured latencyP95Ms of at least one variant that may serve (premium: the ' +
    'full variant, variants[0]; eco: every variant with quality >= slo.qualityFloor): at or below a variant’s own ' +
    'low-load p95 no number of replicas meets the ceiling',
  fieldPath: '.slo.latencyP95Ms',
  reason: 'FieldValueInvalid',
};
