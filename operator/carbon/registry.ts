// The one list of carbon providers. Adding a provider is its file (with its `definition`, see
// provider-definition.ts) plus one line here; the validator, createProvider, the CRD enum and blocks, the chart's
// values-schema enum and the docs table follow from this list (recipe: docs/development.md, "Add a carbon provider").
import { carbonAwareSdk } from './carbon-aware-sdk.ts';
import { electricityMaps } from './electricity-maps.ts';
import type { ProviderDefinition } from './provider-definition.ts';
import { staticValue } from './static-provider.ts';
import { trace } from './trace-definition.ts';
import { ukCarbonIntensity } from './uk-carbon-intensity.ts';
import { wattTime } from './watt-time.ts';

export const BUILT_IN_PROVIDERS = [
  electricityMaps,
  wattTime,
  ukCarbonIntensity,
  carbonAwareSdk,
  trace,
  staticValue,
] as const;

export type ProviderKind = (typeof BUILT_IN_PROVIDERS)[number]['kind'];

/* eslint-disable @typescript-eslint/no-explicit-any -- each definition has its own block type; the list holds any */
type AnyDefinition = ProviderDefinition<string, any>;
/* eslint-enable @typescript-eslint/no-explicit-any */

export class ProviderRegistry {
  readonly #defs: AnyDefinition[];

  constructor(defs: readonly AnyDefinition[]) {
    this.#defs = [];
    for (const d of defs) this.#add(d);
  }

  #add(d: AnyDefinition): void {
    if (!/^[a-z][A-Za-z0-9]*$/.test(d.kind)) throw new Error(`provider kind '${d.kind}' must be lowerCamelCase`);
    if (this.get(d.kind)) throw new Error(`provider kind '${d.kind}' is registered twice`);
    const key = d.block?.key;
    if (key !== undefined && this.#defs.some((o) => o.block?.key === key))
      throw new Error(`provider '${d.kind}': spec block '${key}' is already used by another provider`);
    this.#defs.push(d);
  }

  /** A new registry with one more provider (tests; out-of-tree builds). */
  with(d: AnyDefinition): ProviderRegistry {
    return new ProviderRegistry([...this.#defs, d]);
  }

  get(kind: string): AnyDefinition | undefined {
    return this.#defs.find((d) => d.kind === kind);
  }

  kinds(): string[] {
    return this.#defs.map((d) => d.kind);
  }

  list(): readonly AnyDefinition[] {
    return this.#defs;
  }
}

export const providerRegistry = new ProviderRegistry(BUILT_IN_PROVIDERS);

/** The built-in kinds, in registry order. */
export const PROVIDER_KINDS: readonly ProviderKind[] = BUILT_IN_PROVIDERS.map((d) => d.kind);
