// Drift detection without a write (ADR 0002): the rendered body holds exactly the fields carbonscale owns; the live
// object matches when every one of them is present and equal there, whatever the API server added.

/** True when every field of `want` is present and equal in `have` (arrays element-wise, objects by key). */
export function isSubset(want: unknown, have: unknown): boolean {
  if (want === null || typeof want !== 'object') {
    // The API server prints some integers as strings (resource quantities): compare by text.
    if (typeof want === 'number' && typeof have === 'string') return String(want) === have;
    return want === have;
  }
  if (Array.isArray(want)) {
    if (!Array.isArray(have) || have.length !== want.length) return false;
    return want.every((w, i) => isSubset(w, have[i]));
  }
  if (have === null || typeof have !== 'object' || Array.isArray(have)) return false;
  const h = have as Record<string, unknown>;
  return Object.entries(want as Record<string, unknown>).every(([k, v]) => isSubset(v, h[k]));
}
