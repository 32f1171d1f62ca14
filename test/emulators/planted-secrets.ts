// Planted credentials for leak tests, and the encodings to grep for. Computed here independently of the operator's
// redactor (operator/carbon/redact.ts), so a gap in the redactor's list of forms cannot hide itself. Use:
//   const planted = plantedCredentials();                     // one set per provider, all distinct
//   ... run something with them, collect its logs / Events / status / audit files / metrics as text ...
//   expect(findLeaks({ 'operator log': logText, 'events': eventsJson }, plantedValues(planted))).to.deep.equal([]);
// Values are long and random enough never to occur by chance; each has the word SECRET in it for readability.

export interface PlantedCredentials {
  electricityMaps: { apiKey: string };
  wattTime: { username: string; password: string };
  /** The Carbon Aware SDK and UK API take no credentials; these go in anyway (a misconfigured Secret). */
  carbonAwareSdk: { apiKey: string };
  ukCarbonIntensity: { apiKey: string };
}

function token(label: string): string {
  const rand = Array.from(
    { length: 18 },
    () => 'abcdefghijkmnpqrstuvwxyz23456789'[Math.floor(Math.random() * 32)],
  ).join('');
  return `${label}-SECRET-${rand}`;
}

export function plantedCredentials(): PlantedCredentials {
  return {
    electricityMaps: { apiKey: token('em-key') },
    wattTime: { username: token('wt-user'), password: token('wt-pass') },
    carbonAwareSdk: { apiKey: token('sdk-key') },
    ukCarbonIntensity: { apiKey: token('uk-key') },
  };
}

/** Every planted value, plus the combined WattTime login (`user:password`, as Basic auth encodes it). */
export function plantedValues(p: PlantedCredentials, extra: readonly string[] = []): string[] {
  return [
    p.electricityMaps.apiKey,
    p.wattTime.username,
    p.wattTime.password,
    `${p.wattTime.username}:${p.wattTime.password}`,
    p.carbonAwareSdk.apiKey,
    p.ukCarbonIntensity.apiKey,
    ...extra,
  ];
}

/**
 * The encodings a value can leak in: as it is, URL-encoded, JSON-escaped, base64 (standard, URL-safe, unpadded),
 * and a distinctive middle slice of its base64 at each byte alignment (inside `Basic base64(user:password)`).
 */
export function secretEncodings(value: string): string[] {
  const b = Buffer.from(value, 'utf8');
  const out = new Set<string>([value, encodeURIComponent(value), JSON.stringify(value).slice(1, -1)]);
  out.add(b.toString('base64'));
  out.add(b.toString('base64url'));
  out.add(b.toString('base64').replace(/=+$/, ''));
  for (let pad = 0; pad < 3; pad++) {
    const enc = Buffer.concat([Buffer.alloc(pad, 0x20), b]).toString('base64');
    // Skip the characters touched by the padding and the last (partial) group: what remains is the value's alone.
    out.add(enc.slice(4, enc.length - 4));
  }
  return [...out].filter((s) => s.length >= 8);
}

export interface Leak {
  where: string;
  value: string;
  encoding: string;
}

/** Every place (name → text) that contains any encoding of any value. */
export function findLeaks(texts: Record<string, string>, values: readonly string[]): Leak[] {
  const leaks: Leak[] = [];
  for (const [where, text] of Object.entries(texts))
    for (const value of values)
      for (const encoding of secretEncodings(value))
        if (text.includes(encoding)) leaks.push({ where, value, encoding });
  return leaks;
}
