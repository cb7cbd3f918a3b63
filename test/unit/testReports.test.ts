import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { ReportFormat, TestFramework } from '../../src/core/testing/detect';
import { parseTestOutput } from '../../src/core/testing/parse';
import { parseReportFile } from '../../src/core/testing/reports';
import type { TestReport } from '../../src/shared/model';

// Every fixture here was produced by running the real tool on a tiny project; see fixtures/test-output/README.md.
const FIXTURES = path.join(__dirname, 'fixtures', 'test-output');

function fixture(name: string): string {
  return readFileSync(path.join(FIXTURES, name), 'utf8');
}

type Counts = [passed: number, failed: number, skipped: number];
interface Expected {
  name: string;
  message: RegExp;
  location?: string;
}

function check(actual: { passed: number; failed: number; skipped: number; failures: { name: string; message: string; location?: string }[] }, counts: Counts, failures: Expected[]): void {
  assert.deepEqual([actual.passed, actual.failed, actual.skipped], counts);
  assert.equal(actual.failures.length, failures.length, JSON.stringify(actual.failures, null, 1));
  failures.forEach((expected, i) => {
    const got = actual.failures[i]!;
    assert.equal(got.name, expected.name);
    assert.match(got.message, expected.message);
    assert.equal(got.location, expected.location, `location of ${got.name}`);
  });
}

const JEST_FAILURES: Expected[] = [
  { name: 'sum › adds two numbers', message: /^expect\(received\)\.toBe\(expected\) \/\/ Object\.is equality\nExpected: 4\nReceived: 3$/, location: 'src/sum.test.js:5:23' },
  { name: 'sum › rejects strings', message: /^TypeError: sum expects numbers$/, location: 'src/sum.js:3:11' },
];
const VITEST_FAILURES: Expected[] = [
  { name: 'src/sum.test.js > sum > adds two numbers', message: /^AssertionError: expected 3 to be 4 \/\/ Object\.is equality/, location: 'src/sum.test.js:6:23' },
  { name: 'src/sum.test.js > sum > rejects strings', message: /^TypeError: sum expects numbers$/, location: 'src/sum.js:3:11' },
];
const NODE_SPEC_FAILURES: Expected[] = [
  { name: 'math > subtracts', message: /^AssertionError \[ERR_ASSERTION\]: Expected values to be strictly equal:\n2 !== 1$/, location: 'fail.test.mjs:5:3' },
  { name: 'throws plain error', message: /^Error: boom: database unavailable$/, location: 'fail.test.mjs:7:1' },
];
const PYTEST_FAILURES: Expected[] = [
  { name: 'tests/test_math.py::test_subtracts', message: /^AssertionError: subtraction is off$/, location: 'tests/test_math.py:7' },
  { name: 'tests/test_math.py::test_raises', message: /^ValueError: boom: database unavailable$/, location: 'tests/test_math.py:14' },
];
const GO_FAILURES: Expected[] = [
  { name: 'TestSubtract', message: /^subtraction is off: got 2, want 1$/, location: 'calc_test.go:13' },
  { name: 'TestTable/negative', message: /^negative numbers are off$/, location: 'calc_test.go:23' },
];
const CARGO_FAILURES: Expected[] = [
  { name: 'tests::panics', message: /^boom: database unavailable$/, location: 'src/lib.rs:11:19' },
  { name: 'tests::subtracts', message: /^assertion `left == right` failed: subtraction is off\nleft: 2\nright: 1$/, location: 'src/lib.rs:9:22' },
];

describe('parseTestOutput on real outputs (colour on and off, crashes)', () => {
  const cases: { file: string; exit: number; framework?: TestFramework; expect: Counts; ok: boolean; as: string; failures: Expected[]; problem?: RegExp }[] = [
    { file: 'jest-pass-color.txt', exit: 0, expect: [3, 0, 1], ok: true, as: 'jest', failures: [] },
    { file: 'jest-fail-color.txt', exit: 1, expect: [3, 2, 1], ok: false, as: 'jest', failures: JEST_FAILURES },
    // The human output of a --json --outputFile run (it goes to stderr) reads the same.
    { file: 'jest-json-fail-output.txt', exit: 1, expect: [3, 2, 1], ok: false, as: 'jest', failures: JEST_FAILURES },
    {
      file: 'jest-syntax-error.txt',
      exit: 1,
      expect: [0, 1, 0],
      ok: false,
      as: 'jest',
      failures: [{ name: 'broken/syntax.test.js', message: /^SyntaxError: .*syntax\.test\.js: Unexpected token, expected "," \(3:26\)$/ }],
      problem: /exited with code 1: 1 test file failed to load: broken\/syntax\.test\.js: SyntaxError/,
    },
    { file: 'vitest-pass-color.txt', exit: 0, expect: [3, 0, 1], ok: true, as: 'vitest', failures: [] },
    { file: 'vitest-fail-color.txt', exit: 1, expect: [3, 2, 1], ok: false, as: 'vitest', failures: VITEST_FAILURES },
    { file: 'vitest-json-fail-output.txt', exit: 1, expect: [3, 2, 1], ok: false, as: 'vitest', failures: VITEST_FAILURES },
    {
      file: 'vitest-syntax-error.txt',
      exit: 1,
      expect: [0, 1, 0],
      ok: false,
      as: 'vitest',
      failures: [{ name: 'broken/syntax.test.js', message: /^Error: Failed to parse source for import analysis/, location: '/tmp/fx/vitest5/broken/syntax.test.js:1:0' }],
      problem: /1 test file failed to load: broken\/syntax\.test\.js/,
    },
    {
      file: 'mocha-fail-color.txt',
      exit: 2,
      expect: [1, 2, 1],
      ok: false,
      as: 'mocha',
      failures: [
        { name: 'math > subtracts', message: /^AssertionError \[ERR_ASSERTION\]: Expected values to be strictly equal:\n2 !== 1/, location: '/tmp/fx/mocha12/fail.spec.mjs:4:34' },
        { name: 'math > nested > throws plain error', message: /^Error: boom: database unavailable$/, location: '/tmp/fx/mocha12/fail.spec.mjs:7:44' },
      ],
    },
    { file: 'mocha-tap-pass.txt', exit: 0, expect: [2, 0, 1], ok: true, as: 'tap', failures: [] },
    {
      file: 'mocha-tap-fail.txt',
      exit: 2,
      expect: [1, 2, 1],
      ok: false,
      as: 'tap',
      failures: [
        { name: 'math subtracts', message: /^AssertionError \[ERR_ASSERTION\]: Expected values to be strictly equal:\n2 !== 1$/, location: '/tmp/fx/mocha12/fail.spec.mjs:4:34' },
        { name: 'math nested throws plain error', message: /^Error: boom: database unavailable$/, location: '/tmp/fx/mocha12/fail.spec.mjs:7:44' },
      ],
    },
    { file: 'mocha-tap-fail.txt', exit: 2, framework: 'mocha', expect: [1, 2, 1], ok: false, as: 'mocha', failures: [] },
    { file: 'node-spec-fail-color.txt', exit: 1, expect: [1, 2, 1], ok: false, as: 'node-test', failures: NODE_SPEC_FAILURES },
    // The spec half of the two-reporter command (tap to a file, spec to stdout).
    { file: 'node-multi-fail-output.txt', exit: 1, expect: [1, 2, 1], ok: false, as: 'node-test', failures: NODE_SPEC_FAILURES },
    { file: 'pytest-q-fail-color.txt', exit: 1, expect: [2, 2, 1], ok: false, as: 'pytest', failures: PYTEST_FAILURES },
    {
      file: 'pytest-collect-error.txt',
      exit: 2,
      expect: [0, 1, 0],
      ok: false,
      as: 'pytest',
      failures: [{ name: 'tests/test_broken.py', message: /^error during setup or collection$/ }],
      problem: /exited with code 2: pytest was interrupted: 1 error during collection/,
    },
    { file: 'go-json-pass.txt', exit: 0, expect: [1, 0, 0], ok: true, as: 'go', failures: [] },
    { file: 'go-json-fail.txt', exit: 1, expect: [3, 2, 1], ok: false, as: 'go', failures: GO_FAILURES },
    {
      file: 'go-json-build-fail.txt',
      exit: 2,
      expect: [1, 1, 0],
      ok: false,
      as: 'go',
      failures: [{ name: 'example.com/calc [build failed]', message: /^\.\/calc\.go:3:33: invalid operation: a \+ b \+ "x" \(mismatched types int and untyped string\)$/, location: './calc.go:3:33' }],
      problem: /exited with code 2: build failed: example\.com\/calc$/,
    },
    { file: 'cargo-fail-color.txt', exit: 101, expect: [1, 2, 1], ok: false, as: 'cargo', failures: CARGO_FAILURES },
    {
      file: 'cargo-build-fail-color.txt',
      exit: 101,
      framework: 'cargo',
      expect: [0, 0, 0],
      ok: false,
      as: 'cargo',
      failures: [],
      problem: /^The test command exited with code 101: compile error E0277 at src\/lib\.rs:1:43: cannot add `&str` to `i32`$/,
    },
  ];

  for (const c of cases) {
    it(`reads ${c.file}${c.framework ? ` as ${c.framework}` : ''}`, () => {
      const report = parseTestOutput({ command: 'x', exitCode: c.exit, output: fixture(c.file), timedOut: false, durationMs: 5, framework: c.framework });
      if (c.failures.length || !c.framework) check(report, c.expect, c.failures);
      else assert.deepEqual([report.passed, report.failed, report.skipped], c.expect);
      assert.equal(report.ok, c.ok);
      assert.equal(report.framework, c.as);
      assert.equal(report.source, 'output');
      assert.doesNotMatch(report.outputTail, /\u001b\[/, 'ANSI codes are stripped');
      if (c.problem) assert.match(report.problem ?? '', c.problem);
      else if (c.ok) assert.equal(report.problem, undefined);
    });
  }
});

describe('parseReportFile on real report files', () => {
  const cases: { file: string; format: ReportFormat; cwd?: string; expect: Counts; failures: Expected[]; problem?: RegExp }[] = [
    { file: 'jest-report-pass.json', format: 'jest-json', cwd: '/tmp/fx/jest30', expect: [3, 0, 1], failures: [] },
    { file: 'jest-report-fail.json', format: 'jest-json', cwd: '/tmp/fx/jest30', expect: [3, 2, 1], failures: JEST_FAILURES },
    {
      file: 'jest-report-syntax-error.json',
      format: 'jest-json',
      cwd: '/tmp/fx/jest30',
      expect: [0, 1, 0],
      failures: [{ name: 'broken/syntax.test.js', message: /^SyntaxError: \/tmp\/fx\/jest30\/broken\/syntax\.test\.js: Unexpected token, expected "," \(3:26\)$/ }],
      problem: /^1 test file failed to load: broken\/syntax\.test\.js: SyntaxError/,
    },
    { file: 'vitest-report-pass.json', format: 'vitest-json', cwd: '/tmp/fx/vitest5', expect: [3, 0, 1], failures: [] },
    { file: 'vitest-report-fail.json', format: 'vitest-json', cwd: '/tmp/fx/vitest5', expect: [3, 2, 1], failures: VITEST_FAILURES },
    {
      file: 'vitest-report-syntax-error.json',
      format: 'vitest-json',
      cwd: '/tmp/fx/vitest5',
      expect: [0, 1, 0],
      failures: [{ name: 'broken/syntax.test.js', message: /^Failed to parse source for import analysis/ }],
      problem: /failed to load: broken\/syntax\.test\.js/,
    },
    { file: 'mocha-report-pass.json', format: 'mocha-json', cwd: '/tmp/fx/mocha12', expect: [2, 0, 1], failures: [] },
    {
      file: 'mocha-report-fail.json',
      format: 'mocha-json',
      cwd: '/tmp/fx/mocha12',
      expect: [1, 2, 1],
      failures: [
        { name: 'math subtracts', message: /^AssertionError \[ERR_ASSERTION\]: Expected values to be strictly equal:\n2 !== 1$/, location: 'fail.spec.mjs:4:34' },
        { name: 'math nested throws plain error', message: /^Error: boom: database unavailable$/, location: 'fail.spec.mjs:7:44' },
      ],
    },
    { file: 'node-report-pass.tap', format: 'tap', cwd: '/tmp/fx/node', expect: [2, 0, 2], failures: [] },
    {
      file: 'node-report-fail.tap',
      format: 'tap',
      cwd: '/tmp/fx/node',
      expect: [1, 2, 1],
      failures: [
        { name: 'math > subtracts', message: /^Expected values to be strictly equal:\n2 !== 1$/, location: 'fail.test.mjs:5:3' },
        { name: 'throws plain error', message: /^boom: database unavailable$/, location: 'fail.test.mjs:7:1' },
      ],
    },
    { file: 'pytest-report-pass.xml', format: 'junit-xml', cwd: '/tmp/fx/py', expect: [1, 0, 0], failures: [] },
    {
      file: 'pytest-report-fail.xml',
      format: 'junit-xml',
      cwd: '/tmp/fx/py',
      expect: [2, 2, 1],
      failures: [
        { name: 'tests/test_math.py::test_subtracts', message: /^AssertionError: subtraction is off\nassert \(5 - 3\) == 1$/, location: 'tests/test_math.py:7' },
        { name: 'tests/test_math.py::test_raises', message: /^ValueError: boom: database unavailable$/, location: 'tests/test_math.py:14' },
      ],
    },
    {
      file: 'pytest-report-collect-error.xml',
      format: 'junit-xml',
      cwd: '/tmp/fx/pybroken',
      expect: [0, 1, 0],
      failures: [{ name: 'tests/test_broken.py', message: /^ModuleNotFoundError: No module named 'no_such_module'$/, location: 'tests/test_broken.py:1' }],
      problem: /^pytest could not collect 1 file: tests\/test_broken\.py: ModuleNotFoundError/,
    },
    { file: 'go-json-pass.txt', format: 'go-json', expect: [1, 0, 0], failures: [] },
    { file: 'go-json-fail.txt', format: 'go-json', expect: [3, 2, 1], failures: GO_FAILURES },
    {
      file: 'go-json-build-fail.txt',
      format: 'go-json',
      expect: [1, 1, 0],
      failures: [{ name: 'example.com/calc [build failed]', message: /mismatched types int and untyped string/, location: './calc.go:3:33' }],
      problem: /^build failed: example\.com\/calc$/,
    },
  ];

  for (const c of cases) {
    it(`reads ${c.file}`, () => {
      const summary = parseReportFile(c.format, fixture(c.file), { cwd: c.cwd });
      assert.ok(summary, 'the report parses');
      check(summary, c.expect, c.failures);
      if (c.problem) assert.match(summary.problem ?? '', c.problem);
      else assert.equal(summary.problem, undefined);
    });
  }

  it('returns undefined for empty or foreign content, so the output is scraped instead', () => {
    for (const format of ['jest-json', 'vitest-json', 'mocha-json', 'tap', 'junit-xml', 'go-json'] as const) {
      assert.equal(parseReportFile(format, ''), undefined, format);
      assert.equal(parseReportFile(format, 'Segmentation fault (core dumped)\n'), undefined, format);
    }
    assert.equal(parseReportFile('jest-json', '{"truncated": '), undefined);
  });
});

describe('parseTestOutput with a report file', () => {
  function run(output: string, exitCode: number | null, report?: { format: ReportFormat; content: string }, cwd?: string): TestReport {
    return parseTestOutput({ command: 'x', exitCode, output, timedOut: false, durationMs: 9, report, cwd });
  }

  it('prefers the report over the scraped output', () => {
    // The human output says nothing parseable about names (mocha's json reporter prints nothing).
    const report = run('', 2, { format: 'mocha-json', content: fixture('mocha-report-fail.json') }, '/tmp/fx/mocha12');
    assert.equal(report.source, 'report');
    assert.equal(report.framework, 'mocha');
    check(report, [1, 2, 1], [
      { name: 'math subtracts', message: /^AssertionError/, location: 'fail.spec.mjs:4:34' },
      { name: 'math nested throws plain error', message: /^Error: boom/, location: 'fail.spec.mjs:7:44' },
    ]);
    assert.equal(report.ok, false);
  });

  it('falls back to the output when the report is missing or unreadable', () => {
    const report = run(fixture('jest-json-fail-output.txt'), 1, { format: 'jest-json', content: '' });
    assert.equal(report.source, 'output');
    check(report, [3, 2, 1], JEST_FAILURES);
  });

  it('lets the exit code have the last word over a passing report', () => {
    const passing = fixture('jest-report-pass.json');
    assert.equal(run('', 0, { format: 'jest-json', content: passing }).ok, true);
    const crashed = run('', 1, { format: 'jest-json', content: passing });
    assert.equal(crashed.ok, false);
    assert.match(crashed.problem ?? '', /exited with code 1 although no failing test was reported/);
    const killed = run('', null, { format: 'jest-json', content: passing });
    assert.equal(killed.ok, false);
  });

  it('never passes a report in which no test ran', () => {
    const none = run('', 0, { format: 'mocha-json', content: JSON.stringify({ stats: { passes: 0, failures: 0, pending: 2 }, failures: [] }) });
    assert.equal(none.ok, false);
    assert.match(none.problem ?? '', /No tests ran \(2 skipped\)/);
  });

  it('reports a go build failure from -json output as a problem, not a pass', () => {
    const report = run(fixture('go-json-build-fail.txt'), 2, { format: 'go-json', content: fixture('go-json-build-fail.txt') });
    assert.equal(report.ok, false);
    assert.match(report.problem ?? '', /build failed: example\.com\/calc/);
  });
});
