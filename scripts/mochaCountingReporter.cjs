// Mocha reporter for scripts/test.mjs: the spec reporter on the console, plus exact counts written as
// JSON to the file given by `--reporter-option output=FILE` when the run ends.
//   mocha --reporter ./scripts/mochaCountingReporter.cjs --reporter-option output=counts.json ...
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const Mocha = require('mocha/lib/mocha.cjs');

const { Spec } = Mocha.reporters;
const { EVENT_RUN_END, EVENT_TEST_FAIL } = Mocha.Runner.constants;

class CountingReporter extends Spec {
  constructor(runner, options = {}) {
    super(runner, options);
    const output = options.reporterOption?.output ?? options.reporterOptions?.output;
    const failedTitles = [];
    runner.on(EVENT_TEST_FAIL, (test) => failedTitles.push(test.fullTitle()));
    runner.once(EVENT_RUN_END, () => {
      if (!output) return;
      const { passes, failures, pending, tests } = runner.stats;
      fs.mkdirSync(path.dirname(output), { recursive: true });
      fs.writeFileSync(output, JSON.stringify({ passes, failures, pending, tests, failedTitles }, null, 2));
    });
  }
}

module.exports = CountingReporter;
