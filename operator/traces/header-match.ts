// Header names matched by meaning, not spelling. Exports of the same data differ between generations and tools:
// Electricity Maps wrote `Carbon Intensity gCO₂eq/kWh (direct)`, `Zone Id`, `Data Estimated` and now writes
// `Carbon intensity gCO₂eq/kWh (direct)`, `Carbon intensity gCO₂eq/kWh (Life cycle)`, `Zone id`, `Data estimated`
// (its portal page also says `(life cycle assessment)`); DACF writes `carbon_intensity`. A key folds case, Unicode
// compatibility forms (₂ → 2), underscores and runs of blanks, so each meaning is recognised once, and a unit other
// than the one carbonscale reads is an error naming the column rather than a silent misreading.

/** `carbon intensity gco2eq/kwh (direct)` for any spelling of the same header. */
export function headerKey(h: string): string {
  return h
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[_\s]+/g, ' ')
    .replace(/\s*\/\s*/g, '/')
    .trim();
}

export type Basis = 'direct' | 'lifecycle';

/** What a carbon-trace column means. */
export type CarbonColumn =
  | { role: 'time' }
  | { role: 'intensity'; basis: Basis | undefined }
  | { role: 'forecast'; basis: Basis | undefined }
  | { role: 'zone' }
  | { role: 'estimated' }
  | { role: 'other' };

const TIME = /^(utc )?(date ?time|time ?stamp|time|start time|period start)( ?\(utc\)| utc)?$/;
const ZONE = /^(zone ?id|zone|zone key|zone code)$/;
const ESTIMATED = /^(data )?(is )?estimated$/;
const LIFECYCLE = /\b(lca|life ?-?cycle( assessment)?)\b/;
const DIRECT = /\bdirect\b/;
/** An intensity unit written into a header: mass / energy (`gco2eq/kwh`, `lbs/mwh`, `kgco2/kwh`, …). */
const UNIT = /\b([a-z0-9]+)\/([kmgt]?wh)\b/;

/** Classifies a header cell; throws a message (not naming the file) for a unit carbonscale cannot read as is. */
export function carbonColumn(header: string): CarbonColumn {
  const k = headerKey(header);
  if (TIME.test(k)) return { role: 'time' };
  if (ZONE.test(k)) return { role: 'zone' };
  if (ESTIMATED.test(k)) return { role: 'estimated' };
  const isForecast = /\bforecasts?\b/.test(k) && /\b(carbon|intensity|co2)/.test(k);
  const isIntensity = /\bcarbon intensity\b/.test(k);
  if (!isForecast && !isIntensity) return { role: 'other' };
  const unit = UNIT.exec(k);
  if (unit && !(['g', 'gco2', 'gco2e', 'gco2eq'].includes(unit[1]!) && unit[2] === 'kwh'))
    throw new Error(`unit '${unit[0]}' is not gCO2eq/kWh; convert the column before replaying it`);
  if (/\b(marginal|moer)\b/.test(k)) return { role: 'other' };
  const basis: Basis | undefined = LIFECYCLE.test(k) ? 'lifecycle' : DIRECT.test(k) ? 'direct' : undefined;
  return isForecast ? { role: 'forecast', basis } : { role: 'intensity', basis };
}

/** What a demand-trace column means. */
export type DemandColumn =
  | { role: 'tStartS' }
  | { role: 'day' }
  | { role: 'hour' }
  | { role: 'timeOfDay' }
  | { role: 'date' }
  | { role: 'time' }
  | { role: 'other' };

export function demandColumn(header: string): DemandColumn {
  const k = headerKey(header);
  if (/^t ?start ?\(?s\)?$|^t start s$|^start ?s$/.test(k)) return { role: 'tStartS' };
  if (k === 'day') return { role: 'day' };
  if (k === 'hour') return { role: 'hour' };
  if (k === 'time of day') return { role: 'timeOfDay' };
  if (k === 'date') return { role: 'date' };
  if (TIME.test(k)) return { role: 'time' };
  return { role: 'other' };
}
