// Turns a test run into a TestReport. When the framework wrote a machine-readable report (see
// invocation.ts) and it parses, it is used; otherwise the output is scraped: one small parser per
// framework, the detected framework's first, then the rest in order; the first that recognises a
// summary wins. Either way the exit code has the last word on `ok`, and "no test ran" never passes.
import type { TestFailure, TestReport } from '../../shared/model';
import type { ReportFormat, TestFramework } from './detect';
import { parseReportFile } from './reports';
import { parseTap } from './tap';
import { count, firstLines, loadFailureProblem, locationFrom, relativeLocation, stripAnsi, takeUntil } from './textUtil';

export { stripAnsi } from './textUtil';
export { parseTap } from './tap';

export interface TestRunOutput {
  command: string;
  exitCode: number | null;
  output: string;
  timedOut: boolean;
  durationMs: number;
  /** The framework the command runs, when detection knows it: its parser is tried first. */
  framework?: TestFramework;
  /** The machine-readable report the run wrote (its file's content; for go -json, the output). */
  report?: { format: ReportFormat; content: string };
  /** The folder the tests ran in: absolute paths in reports under it are shown relative to it. */
  cwd?: string;
}

/** What one framework parser found. Counts are summed over every summary in the output (monorepos, cargo's per-binary runs). */
export interface ParsedSummary {
  framework: 'jest' | 'vitest' | 'mocha' | 'node-test' | 'tap' | 'pytest' | 'go' | 'cargo';
  passed: number;
  failed: number;
  skipped: number;
  failures: TestFailure[];
  /** A crash, a compile error or a file that failed to load, in one sentence. */
  problem?: string;
}

type FrameworkParser = (text: string) => ParsedSummary | undefined;

const OUTPUT_TAIL_CHARS = 4000;
const MAX_FAILURES = 50;

export function parseTestOutput(input: TestRunOutput): TestReport {
  const text = stripAnsi(input.output).replace(/\r\n?/g, '\n');
  const fromReport = input.report ? parseReportFile(input.report.format, input.report.content, { cwd: input.cwd }) : undefined;
  const summary = fromReport ?? parseSummary(text, input.framework);
  const passed = summary?.passed ?? 0;
  const failed = summary?.failed ?? 0;
  const skipped = summary?.skipped ?? 0;
  const crash = summary?.problem ?? compileError(text);

  let problem: string | undefined;
  if (input.timedOut) {
    problem = `The test command timed out after ${formatDuration(input.durationMs)} and was stopped; counted as not passed.`;
  } else if (input.exitCode === null) {
    problem = 'The test command was killed by a signal before it finished; counted as not passed.';
  } else if (input.exitCode !== 0) {
    if (crash !== undefined) {
      problem = `The test command exited with code ${input.exitCode}: ${crash}`;
    } else if (failed === 0) {
      problem = summary
        ? `The test command exited with code ${input.exitCode} although no failing test was reported (a crash, compile error or failing setup?); see the output.`
        : `The test command exited with code ${input.exitCode} without a recognised test summary (a crash or compile error?); see the output.`;
    }
  } else if (!summary) {
    problem = 'The test command exited with code 0 but printed no recognised test summary; counted as not passed.';
  } else if (failed > 0) {
    problem = `The test command exited with code 0 but its output reports ${failed} failed test${failed === 1 ? '' : 's'}; counted as not passed.`;
  } else if (crash !== undefined) {
    problem = `The test command exited with code 0 but ${crash}; counted as not passed.`;
  } else if (passed === 0) {
    // Skipped tests prove nothing: a run that only skips must not pass the gate.
    problem = skipped > 0 ? `No tests ran (${skipped} skipped); counted as not passed.` : 'No tests ran; counted as not passed.';
  }

  const ok = problem === undefined && input.exitCode === 0 && failed === 0 && passed > 0;
  const report: TestReport = {
    command: input.command,
    exitCode: input.exitCode,
    timedOut: input.timedOut,
    passed,
    failed,
    skipped,
    failures: uniqueFailures(summary?.failures ?? [])
      .slice(0, MAX_FAILURES)
      .map((f) => (f.location === undefined || input.cwd === undefined ? f : { ...f, location: relativeLocation(f.location, input.cwd) })),
    durationMs: input.durationMs,
    ok,
    outputTail: text.length > OUTPUT_TAIL_CHARS ? text.slice(-OUTPUT_TAIL_CHARS) : text,
  };
  if (problem !== undefined) report.problem = problem;
  const framework = input.framework !== undefined && input.framework !== 'unknown' ? input.framework : summary?.framework;
  if (framework !== undefined) report.framework = framework;
  report.source = fromReport ? 'report' : 'output';
  return report;
}

/**
 * The first framework whose summary appears in the (ANSI-stripped, LF) output; the hinted
 * framework's parsers are tried first, so an output that could be read two ways is read its way.
 */
export function parseSummary(text: string, hint?: TestFramework): ParsedSummary | undefined {
  const first = hint === undefined ? [] : (HINTED[hint] ?? []);
  for (const parser of [...first, ...PARSERS.filter((p) => !first.includes(p))]) {
    const summary = parser(text);
    if (summary) return summary;
  }
  return undefined;
}

/** A compiler's error, when the output has one: rustc's error[E…], tsc's TS…, go's "# pkg" block. */
function compileError(text: string): string | undefined {
  const rust = /^error(?:\[(E\d+)\])?: (.*)\n\s*--> (\S+:\d+:\d+)/m.exec(text);
  if (rust && /could not compile/.test(text)) return `compile error${rust[1] ? ` ${rust[1]}` : ''} at ${rust[3]}: ${rust[2]}`;
  const tsc = /^(\S+\.tsx?)\((\d+),(\d+)\): error (TS\d+): (.*)$/m.exec(text);
  if (tsc) return `compile error ${tsc[4]} at ${tsc[1]}:${tsc[2]}:${tsc[3]}: ${tsc[5]}`;
  return undefined;
}

function formatDuration(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 100) / 10} s` : `${Math.round(ms)} ms`;
}

// --- jest ---------------------------------------------------------------------------------------
// Tests:       1 failed, 1 skipped, 3 passed, 5 total
// ● Suite › test  (followed by the message, a code frame and "at … (file:line:col)")

function parseJest(text: string): ParsedSummary | undefined {
  const lines = [...text.matchAll(/^Tests:\s+(.*\d+ total.*)$/gm)];
  if (lines.length === 0) return undefined;
  const summary = empty('jest');
  for (const [, counts] of lines) {
    summary.passed += count(counts, /(\d+) passed/);
    summary.failed += count(counts, /(\d+) failed/);
    summary.skipped += count(counts, /(\d+) skipped/) + count(counts, /(\d+) todo/);
  }
  const all = text.split('\n');
  const broken: string[] = [];
  let file = '';
  for (let i = 0; i < all.length; i++) {
    const header = /^\s*(?:PASS|FAIL)\s+(\S+)/.exec(all[i]);
    if (header) file = header[1];
    const title = /^ {2}● (.*)$/.exec(all[i]);
    if (!title) continue;
    // The block runs into the next failure, the next file's header or the closing summary.
    const body = takeUntil(all.slice(i + 1), (l) => /^ {2}● /.test(l) || /^\s*(PASS|FAIL)\s/.test(l) || /^(Test Suites|Tests|Snapshots|Time):/.test(l) || /^Summary of all failing tests/.test(l));
    const failure: TestFailure = {
      name: title[1].trim(),
      message: firstLines(body.filter((l) => !/^\s*(>?\s*\d+ \||\|)/.test(l) && !/^\s+at /.test(l))),
      ...locationFrom(body.find((l) => /^\s+at .*:\d+:\d+/.test(l) && !l.includes('node_modules'))),
    };
    if (failure.name === 'Test suite failed to run') {
      // A file that did not load has no tests in the counts; it is counted as one failure under its name.
      failure.name = file || failure.name;
      summary.failed++;
      broken.push(`${failure.name}: ${failure.message.split('\n')[0]}`);
    }
    summary.failures.push(failure);
  }
  if (broken.length) summary.problem = loadFailureProblem(broken);
  return summary;
}

// --- vitest -------------------------------------------------------------------------------------
//  Test Files  1 failed | 1 passed (2)
//       Tests  1 failed | 3 passed | 1 skipped (5)      ("Tests  no tests" when a file failed to load)
//  FAIL  src/a.test.ts > suite > test   (in the "Failed Tests" section, message and " ❯ file:line:col" after)
//  FAIL  src/b.test.ts [ src/b.test.ts ] (in the "Failed Suites" section: a file that failed to load)

function parseVitest(text: string): ParsedSummary | undefined {
  const lines = [...text.matchAll(/^\s*Tests\s{2,}(.*\(\d+\)|no tests)\s*$/gm)];
  if (lines.length === 0 || !/^\s*Test Files\s{2,}/m.test(text)) return undefined;
  const summary = empty('vitest');
  for (const [, counts] of lines) {
    summary.passed += count(counts, /(\d+) passed/);
    summary.failed += count(counts, /(\d+) failed/);
    summary.skipped += count(counts, /(\d+) skipped/) + count(counts, /(\d+) todo/);
  }
  const all = text.split('\n');
  const broken: string[] = [];
  for (let i = 0; i < all.length; i++) {
    const m = /^\s*FAIL\s+(\S.*?)\s*$/.exec(all[i]);
    if (!m) continue;
    const suite = /^(\S+) \[ \S+ \]$/.exec(m[1]);
    // "FAIL  file > suite > test" names a test; "FAIL  file [ file ]" a file that failed to load.
    if (!m[1].includes(' > ') && !suite) continue;
    const body = takeUntil(all.slice(i + 1), (l) => /^\s*FAIL\s/.test(l) || /^⎯{3,}/.test(l));
    const frame = body.find((l) => /^\s*❯ (?:\S+ )?\S+:\d+:\d+/.test(l) && !l.includes('node_modules'));
    const file = body.map((l) => /^\s*File: (\S+:\d+:\d+)/.exec(l)?.[1]).find((f) => f !== undefined);
    const failure: TestFailure = {
      name: suite ? suite[1] : m[1],
      message: firstLines(body.filter((l) => !/^\s*❯ /.test(l) && !/^\s*\d+\s*\|/.test(l) && !/^\s*\|/.test(l) && !/^\s*(Plugin|File): /.test(l))),
      ...(frame ? locationFrom(frame) : file ? { location: file } : {}),
    };
    if (suite) {
      summary.failed++;
      broken.push(`${failure.name}: ${failure.message.split('\n')[0]}`);
    }
    summary.failures.push(failure);
  }
  if (broken.length) summary.problem = loadFailureProblem(broken);
  return summary;
}

// --- mocha (spec reporter) ----------------------------------------------------------------------
//   2 passing (4ms)
//   1 pending
//   1 failing
//   1) suite
//        test:
//      Error: message
//       at Context.<anonymous> (file:///x/test.js:4:34)

function parseMocha(text: string): ParsedSummary | undefined {
  const passing = [...text.matchAll(/^\s*(\d+) passing\b/gm)];
  if (passing.length === 0) return undefined;
  const summary = empty('mocha');
  for (const m of passing) summary.passed += Number(m[1]);
  for (const m of text.matchAll(/^\s*(\d+) failing\s*$/gm)) summary.failed += Number(m[1]);
  for (const m of text.matchAll(/^\s*(\d+) pending\s*$/gm)) summary.skipped += Number(m[1]);

  const lines = text.split('\n');
  let inFailures = false;
  for (let i = 0; i < lines.length; i++) {
    if (/^\s*\d+ failing\s*$/.test(lines[i])) {
      inFailures = true;
      continue;
    }
    const head = inFailures ? /^ {2}(\d+)\) (.*)$/.exec(lines[i]) : null;
    if (!head) continue;
    // The title runs over indented lines until one ending with ":".
    const title: string[] = [head[2]];
    let j = i;
    while (!title[title.length - 1].endsWith(':') && j + 1 < lines.length && lines[j + 1].trim() !== '') {
      title.push(lines[++j].trim());
    }
    const body = takeUntil(lines.slice(j + 1), (l) => /^ {2}\d+\) /.test(l) || /^\s*\d+ (passing|failing|pending)\b/.test(l));
    const stackAt = body.findIndex((l) => /^\s+at /.test(l));
    const messageLines = (stackAt === -1 ? body : body.slice(0, stackAt)).filter((l) => !/^\s*\+ expected - actual\s*$/.test(l));
    summary.failures.push({
      name: title.join(' > ').replace(/:$/, ''),
      message: firstLines(messageLines),
      ...locationFrom(body.find((l) => /^\s+at .*:\d+:\d+/.test(l) && !/node_modules|node:internal|\(node:/.test(l))),
    });
    i = j;
  }
  return summary;
}

// --- node:test, spec reporter -------------------------------------------------------------------
// ℹ tests 4 / ℹ pass 1 / ℹ fail 2 / ℹ cancelled 0 / ℹ skipped 1 / ℹ todo 0
// ✖ failing tests:  then per failure "test at file:5:3", "✖ name (0.6ms)", the indented error.

function parseNodeSpec(text: string): ParsedSummary | undefined {
  const pass = [...text.matchAll(/^ℹ pass (\d+)\s*$/gm)];
  if (pass.length === 0) return undefined;
  const summary = empty('node-test');
  for (const m of pass) summary.passed += Number(m[1]);
  for (const m of text.matchAll(/^ℹ (fail|cancelled) (\d+)\s*$/gm)) summary.failed += Number(m[2]);
  for (const m of text.matchAll(/^ℹ (skipped|todo) (\d+)\s*$/gm)) summary.skipped += Number(m[2]);

  const lines = text.split('\n');
  const fullNames = nodeSpecFailedNames(lines);
  const sectionAt = lines.findIndex((l) => /^✖ failing tests:\s*$/.test(l));
  if (sectionAt === -1) {
    for (const name of fullNames.values()) for (const full of name) summary.failures.push({ name: full, message: '' });
    return summary;
  }
  for (let i = sectionAt + 1; i < lines.length; i++) {
    const head = /^\s*✖ (.*?)(?: \([\d.]+m?s\))?(?: # .*)?$/.exec(lines[i]);
    if (!head) continue;
    const where = /^\s*test at (.+)$/.exec(lines[i - 1] ?? '');
    const body = takeUntil(lines.slice(i + 1), (l) => /^\s*test at /.test(l) || /^\s*✖ /.test(l) || /^ℹ /.test(l));
    const stackAt = body.findIndex((l) => /^\s+at /.test(l));
    const candidates = fullNames.get(head[1]);
    const name = candidates?.shift() ?? head[1];
    const failure: TestFailure = { name, message: firstLines(stackAt === -1 ? body : body.slice(0, stackAt)) };
    if (where) failure.location = where[1].trim();
    summary.failures.push(failure);
  }
  return summary;
}

/** Full names ("suite > test") of the failed leaf tests in the spec reporter's tree, by short name. */
function nodeSpecFailedNames(lines: string[]): Map<string, string[]> {
  const names = new Map<string, string[]>();
  const suites: { indent: number; name: string }[] = [];
  for (const line of lines) {
    if (/^✖ failing tests:/.test(line)) break;
    const m = /^(\s*)(▶|✖) (.*?)(?: \([\d.]+m?s\))?(?: # .*)?$/.exec(line);
    if (!m) continue;
    const indent = m[1].length;
    while (suites.length > 0 && suites[suites.length - 1].indent > indent) suites.pop();
    if (m[2] === '▶') {
      suites.push({ indent, name: m[3] });
      continue;
    }
    // A "✖" at the same indent as an open suite closes that suite; it is not a test of its own.
    const top = suites[suites.length - 1];
    if (top && top.indent === indent && top.name === m[3]) {
      suites.pop();
      continue;
    }
    const full = [...suites.map((s) => s.name), m[3]].join(' > ');
    names.set(m[3], [...(names.get(m[3]) ?? []), full]);
  }
  return names;
}

// --- pytest -------------------------------------------------------------------------------------
// 2 failed, 2 passed, 1 skipped in 0.63s   (or "===== … =====" around it; "no tests ran in 0.5s")
// FAILED tests/test_x.py::test_y - AssertionError: message

function parsePytest(text: string): ParsedSummary | undefined {
  const lines = [...text.matchAll(/^=*\s*((?:\d+ (?:passed|failed|skipped|xfailed|xpassed|errors?|warnings?|deselected|rerun)(?:, )?)+|no tests ran) in [\d.]+s\b.*$/gm)];
  if (lines.length === 0) return undefined;
  const summary = empty('pytest');
  for (const [, counts] of lines) {
    summary.passed += count(counts, /(\d+) passed/) + count(counts, /(\d+) xpassed/);
    summary.failed += count(counts, /(\d+) failed/) + count(counts, /(\d+) errors?\b/);
    summary.skipped += count(counts, /(\d+) skipped/) + count(counts, /(\d+) xfailed/);
  }
  for (const m of text.matchAll(/^(FAILED|ERROR) (\S+?)(?: - (.*))?$/gm)) {
    const failure: TestFailure = { name: m[2], message: m[3] ?? (m[1] === 'ERROR' ? 'error during setup or collection' : '') };
    const location = pytestLocation(text, m[2]);
    if (location) failure.location = location;
    summary.failures.push(failure);
  }
  const interrupted = /^!+ Interrupted: (.*?) !+$/m.exec(text);
  if (interrupted) summary.problem = `pytest was interrupted: ${interrupted[1]}`;
  return summary;
}

/** The last "file.py:line: …" line of the test's block in the FAILURES section, where the error was raised. */
function pytestLocation(text: string, nodeId: string): string | undefined {
  const test = nodeId.split('::').pop() ?? nodeId;
  const lines = text.split('\n');
  const start = lines.findIndex((l) => new RegExp(`^_{3,} (?:\\S+::)?${escapeRegex(test)} _{3,}$`).test(l));
  if (start === -1) return undefined;
  let found: string | undefined;
  for (let i = start + 1; i < lines.length && !/^(_{3,} |={3,})/.test(lines[i]); i++) {
    const m = /^(\S+\.py:\d+): /.exec(lines[i]);
    if (m) found = m[1];
  }
  return found;
}

// --- go test ------------------------------------------------------------------------------------
// --- FAIL: TestX (0.00s) with "    file_test.go:13: message" lines; "ok  \tpkg\t0.01s"; "FAIL\tpkg\t0.01s";
// "FAIL\tpkg [build failed]" after "# pkg" and the compiler errors.

function parseGo(text: string): ParsedSummary | undefined {
  if (!/^(--- (FAIL|PASS|SKIP): |ok\s+\S+\s+([\d.]+s|\(cached\))|FAIL\s+\S+\s+(\[build failed\]|[\d.]+s))/m.test(text)) return undefined;
  const summary = empty('go');
  const lines = text.split('\n');
  const logs = new Map<string, string[]>();
  const failed: string[] = [];
  let passLines = 0;
  let okPackages = 0;
  let current: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    let m: RegExpExecArray | null;
    if ((m = /^=== (?:RUN|CONT|PAUSE)\s+(\S+)/.exec(line))) {
      current = m[1];
    } else if ((m = /^\s*--- (FAIL|PASS|SKIP): (\S+)/.exec(line))) {
      if (m[1] === 'FAIL') {
        failed.push(m[2]);
        current = m[2];
      } else {
        if (m[1] === 'PASS') passLines++;
        else summary.skipped++;
        current = undefined;
      }
    } else if ((m = /^\s+(\S+\.go:\d+): (.*)$/.exec(line)) && current !== undefined) {
      logs.set(current, [...(logs.get(current) ?? []), `${m[1]}: ${m[2]}`]);
    } else if ((m = /^FAIL\s+(\S+) \[build failed\]/.exec(line))) {
      summary.failed++;
      summary.failures.push(goBuildFailure(lines, i, m[1]));
    } else if (/^ok\s+\S+\s+([\d.]+s|\(cached\))/.test(line) && !line.includes('[no tests to run]')) {
      okPackages++;
    }
  }
  // A test with failing subtests fails too; only the innermost failures are counted.
  const leaves = failed.filter((name) => !failed.some((other) => other.startsWith(`${name}/`)));
  for (const name of leaves) {
    const log = logs.get(name) ?? [];
    const failure: TestFailure = { name, message: log.map((l) => l.replace(/^\S+\.go:\d+: /, '')).join('\n') };
    const first = /^(\S+\.go:\d+):/.exec(log[0] ?? '');
    if (first) failure.location = first[1];
    summary.failures.push(failure);
  }
  summary.failed += leaves.length;
  // Without -v go prints only packages: each passing package then counts as one passed unit.
  summary.passed = passLines > 0 ? passLines : okPackages;
  return summary;
}

function goBuildFailure(lines: string[], at: number, pkg: string): TestFailure {
  let start = at;
  while (start > 0 && !lines[start - 1].startsWith('# ')) start--;
  const errors = start > 0 ? lines.slice(start, at).filter((l) => l.trim() !== '') : [];
  const failure: TestFailure = { name: `${pkg} [build failed]`, message: firstLines(errors) };
  const loc = /^(\S+\.go:\d+(?::\d+)?):/.exec(errors[0] ?? '');
  if (loc) failure.location = loc[1];
  return failure;
}

// --- cargo test ---------------------------------------------------------------------------------
// test result: FAILED. 1 passed; 2 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.00s
// "---- tests::x stdout ----" then "thread 'tests::x' (…) panicked at src/lib.rs:9:22:" and the message.

function parseCargo(text: string): ParsedSummary | undefined {
  const results = [...text.matchAll(/^test result: \w+\. (\d+) passed; (\d+) failed; (\d+) ignored;/gm)];
  if (results.length === 0) return undefined;
  const summary = empty('cargo');
  for (const m of results) {
    summary.passed += Number(m[1]);
    summary.failed += Number(m[2]);
    summary.skipped += Number(m[3]);
  }
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const head = /^---- (\S+) stdout ----$/.exec(lines[i]);
    if (!head) continue;
    const body = takeUntil(lines.slice(i + 1), (l) => /^---- \S+ stdout ----$/.test(l) || /^failures:$/.test(l));
    const panicAt = body.findIndex((l) => /panicked at /.test(l));
    const failure: TestFailure = { name: head[1], message: '' };
    if (panicAt !== -1) {
      const loc = /panicked at ([^\s:]+:\d+:\d+):?/.exec(body[panicAt]);
      if (loc) failure.location = loc[1];
      failure.message = firstLines(takeUntil(body.slice(panicAt + 1), (l) => /^(note|stack backtrace):/.test(l)));
    } else {
      failure.message = firstLines(body);
    }
    summary.failures.push(failure);
  }
  return summary;
}

// --- helpers ------------------------------------------------------------------------------------

// Order matters only where formats could be confused: jest's "Tests:" before vitest's "Tests  ",
// node's own spec lines ("ℹ pass") before generic TAP.
const PARSERS: readonly FrameworkParser[] = [parseJest, parseVitest, parseMocha, parseNodeSpec, parseTap, parsePytest, parseGoJsonOutput, parseGo, parseCargo];

const HINTED: Partial<Record<TestFramework, FrameworkParser[]>> = {
  jest: [parseJest],
  vitest: [parseVitest],
  mocha: [parseMocha, parseTap],
  'node-test': [parseNodeSpec, parseTap],
  pytest: [parsePytest],
  go: [parseGoJsonOutput, parseGo],
  cargo: [parseCargo],
};

/** `go test -json` printed to the output (a configured command, or no report file). */
function parseGoJsonOutput(text: string): ParsedSummary | undefined {
  return /^\{"Time":"[^"]*","Action":"/m.test(text) ? parseReportFile('go-json', text) : undefined;
}

/** Some reporters repeat failures in a closing summary; each failure is reported once. */
function uniqueFailures(failures: TestFailure[]): TestFailure[] {
  const seen = new Set<string>();
  return failures.filter((f) => {
    const key = `${f.name}\u0000${f.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function empty(framework: ParsedSummary['framework']): ParsedSummary {
  return { framework, passed: 0, failed: 0, skipped: 0, failures: [] };
}





function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
