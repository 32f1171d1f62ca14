// Which steps of a trace count as high-carbon, by the rule decide() applies (carbonLevel in decision/carbon-view.ts), so
// that the baselines and the oracle get exactly the relaxed-ceiling allowance the policy gets.
/** The same high-carbon test decide() applies, on measured history (exact, since history is the trace), and for
 *  the first steps on the trace's own forecast as the policy receives it (none: not high-carbon). */
export function highCarbonSteps(
  intensity: Float64Array,
  stepsPerDay: number,
  forecast?: Float64Array,
  preRoll: Float64Array = new Float64Array(0),
): Uint8Array {
  const n = intensity.length;
  const pre = preRoll.length;
  const at = (k: number) => (k < 0 ? preRoll[pre + k]! : intensity[k]!);
  const out = new Uint8Array(n);
  for (let t = 0; t < n; t++) {
    const I = intensity[t]!;
    // The measured history before the trace's first step counts as the policy's does (intensityPreRoll).
    const from = Math.max(-pre, t - stepsPerDay + 1);
    let sum = I;
    let c = 1;
    for (let k = from; k < t; k++) {
      sum += at(k);
      c++;
    }
    if (c >= 12) out[t] = I >= (sum / c) * (1 - 1e-9) ? 1 : 0;
    else {
      const next: number[] = [];
      if (forecast)
        for (let k = t + 1; k <= Math.min(n - 1, t + stepsPerDay); k++)
          if (Number.isFinite(forecast[k])) next.push(forecast[k]!);
      next.sort((a, b) => a - b);
      out[t] = next.length > 0 && I >= next[Math.floor(next.length / 2)]! ? 1 : 0;
    }
  }
  return out;
}
