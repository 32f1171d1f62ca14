// Text from an upstream goes into messages a person reads (conditions, Events, logs). Characters that print as
// nothing or rearrange the line — control characters, a byte-order mark, zero-width and bidirectional formatting
// characters, the replacement character of undecodable bytes — are shown as `\u{…}` escapes, so a message never
// hides what the upstream sent.
// Code point ranges (inclusive) shown escaped: C0/C1 controls but tab, newline and carriage return (collapsed by
// excerpt), soft hyphen, Arabic letter mark, Hangul fillers, Mongolian vowel separator, zero-width and bidi
// formatting characters, word joiners, variation selectors, the BOM / zero-width no-break space, and the
// interlinear annotation and replacement characters.
const INVISIBLE: readonly [number, number][] = [
  [0x00, 0x08],
  [0x0b, 0x0c],
  [0x0e, 0x1f],
  [0x7f, 0x9f],
  [0xad, 0xad],
  [0x61c, 0x61c],
  [0x115f, 0x1160],
  [0x180e, 0x180e],
  [0x200b, 0x200f],
  [0x202a, 0x202e],
  [0x2060, 0x206f],
  [0x3164, 0x3164],
  [0xfe00, 0xfe0f],
  [0xfeff, 0xfeff],
  [0xfff9, 0xfffd],
];

const invisible = (cp: number) => INVISIBLE.some(([lo, hi]) => cp >= lo && cp <= hi);

export function escapeInvisible(text: string): string {
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    out += invisible(cp) ? `\\u{${cp.toString(16).toUpperCase().padStart(4, '0')}}` : ch;
  }
  return out;
}

/** A one-line excerpt of an upstream body for a message: whitespace collapsed, invisibles escaped, capped. */
export function excerpt(text: string, max = 120): string {
  const s = escapeInvisible(text.replace(/[\t\n\r ]+/g, ' ').trim());
  return s.length > max ? `${s.slice(0, max)}…` : s;
}
