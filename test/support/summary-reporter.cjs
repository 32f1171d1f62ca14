// Mocha reporter: mocha's own spec output, plus the tier's counts appended as one JSON line to
// $CARBONSCALE_SUMMARY so scripts/test.sh can print one `N passed, N failed, N skipped` line over all tiers.
'use strict';
const fs = require('node:fs');
const Mocha = require('mocha');
const { Spec } = Mocha.reporters;
const { EVENT_RUN_END } = Mocha.Runner.constants;

class SummaryReporter extends Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(EVENT_RUN_END, () => {
      const file = process.env.CARBONSCALE_SUMMARY;
      if (!file) return;
      const s = runner.stats;
      const line = {
        tier: process.env.CARBONSCALE_TIER ?? 'unknown',
        passed: s.passes,
        failed: s.failures,
        skipped: s.pending,
      };
      fs.appendFileSync(file, JSON.stringify(line) + '\n');
    });
  }
}
module.exports = SummaryReporter;
