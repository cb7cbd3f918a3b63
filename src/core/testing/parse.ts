// Turns a test run's output into a TestReport. One small parser per framework, tried in order; the
// first that recognises a summary wins. The exit code has the last word on `ok` whatever was parsed.
import type { TestFailure, TestReport } from '../../shared/model';

export interface TestRunOutput {
  command: string;
  exitCode: number | null;
  output: string;
  timedOut: boolean;
  durationMs: number;
}

/** What one framework parser found. Counts are summed over every summary in the output (monorepos, cargo's per-binary runs). */
export interface ParsedSummary {
  framework: 'jest' | 'vitest' | 'mocha' | 'node-test' | 'tap' | 'pytest' | 'go' | 'cargo';
  passed: number;
  failed: number;
  skipped: number;
  failures: TestFailure[];
}

type FrameworkParser = (text: string) => ParsedSummary | undefined;

const OUTPUT_TAIL_CHARS = 4000;
const MAX_FAILURES = 50;
const MAX_MESSAGE_LINES = 6;

const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-Z\\-_]/g;

export function stripAnsi(s: string): string {
  return s.replace(ANSI, '');
}

export function parseTestOutput(input: TestRunOutput): TestReport {
  const text = stripAnsi(input.output).replace(/\r\n?/g, '\n');
  const summary = parseSummary(text);
  const passed = summary?.passed ?? 0;
  const failed = summary?.failed ?? 0;
  const skipped = summary?.skipped ?? 0;

  let problem: string | undefined;
  if (input.timedOut) {
    problem = `The test command timed out after ${formatDuration(input.durationMs)} and was stopped; counted as not passed.`;
  } else if (input.exitCode === null) {
    problem = 'The test command was killed by a signal before it finished; counted as not passed.';
  } else if (input.exitCode !== 0) {
    if (failed === 0) {
      problem = summary
        ? `The test command exited with code ${input.exitCode} although no failing test was reported (a crash, compile error or failing setup?); see the output.`
        : `The test command exited with code ${input.exitCode} without a recognised test summary (a crash or compile error?); see the output.`;
    }
  } else if (!summary) {
    problem = 'The test command exited with code 0 but printed no recognised test summary; counted as not passed.';
  } else if (failed > 0) {
    problem = `The test command exited with code 0 but its output reports ${failed} failed test${failed === 1 ? '' : 's'}; counted as not passed.`;
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
    failures: uniqueFailures(summary?.failures ?? []).slice(0, MAX_FAILURES),
    durationMs: input.durationMs,
    ok,
    outputTail: text.length > OUTPUT_TAIL_CHARS ? text.slice(-OUTPUT_TAIL_CHARS) : text,
  };
  if (problem !== undefined) report.problem = problem;
  return report;
}

/** The first framework whose summary appears in the (ANSI-stripped, LF) output. */
export function parseSummary(text: string): ParsedSummary | undefined {
  for (const parser of PARSERS) {
    const summary = parser(text);
    if (summary) return summary;
  }
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
  const blocks = text.split(/^ {2}● /m).slice(1);
  for (const block of blocks) {
    const [title, ...rest] = block.split('\n');
    // The last block runs into the next file's header or the closing summary.
    const body = takeUntil(rest, (l) => /^(PASS|FAIL) /.test(l) || /^(Test Suites|Tests|Snapshots|Time):/.test(l) || /^Summary of all failing tests/.test(l));
    summary.failures.push({
      name: title.trim(),
      message: firstLines(body.filter((l) => !/^\s*(>?\s*\d+ \||\|)/.test(l) && !/^\s+at /.test(l))),
      ...locationFrom(body.find((l) => /^\s+at .*:\d+:\d+/.test(l) && !l.includes('node_modules'))),
    });
  }
  return summary;
}

// --- vitest -------------------------------------------------------------------------------------
//  Test Files  1 failed | 1 passed (2)
//       Tests  1 failed | 3 passed | 1 skipped (5)
//  FAIL  src/a.test.ts > suite > test   (in the "Failed Tests" section, message and " ❯ file:line:col" after)

function parseVitest(text: string): ParsedSummary | undefined {
  const lines = [...text.matchAll(/^\s*Tests\s{2,}(.*\(\d+\))\s*$/gm)];
  if (lines.length === 0 || !/^\s*Test Files\s{2,}/m.test(text)) return undefined;
  const summary = empty('vitest');
  for (const [, counts] of lines) {
    summary.passed += count(counts, /(\d+) passed/);
    summary.failed += count(counts, /(\d+) failed/);
    summary.skipped += count(counts, /(\d+) skipped/) + count(counts, /(\d+) todo/);
  }
  const all = text.split('\n');
  for (let i = 0; i < all.length; i++) {
    const m = /^\s*FAIL\s+(\S.*?)\s*$/.exec(all[i]);
    // "FAIL  file > suite > test" names a test; a bare "FAIL  file" is a file that failed to load.
    if (!m || !m[1].includes(' > ')) continue;
    const body = takeUntil(all.slice(i + 1), (l) => /^\s*FAIL\s/.test(l) || /^⎯{3,}/.test(l));
    summary.failures.push({
      name: m[1],
      message: firstLines(body.filter((l) => !/^\s*❯ /.test(l) && !/^\s*\d+\|/.test(l) && !/^\s*\|/.test(l))),
      ...locationFrom(body.find((l) => /^\s*❯ \S+:\d+/.test(l))),
    });
  }
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

// --- TAP (node --test-reporter=tap, tape, …) ----------------------------------------------------
// # pass 1 / # fail 2 / # skipped 1 / # todo 0; "not ok 2 - name" with a YAML block (error, location).

function parseTap(text: string): ParsedSummary | undefined {
  const pass = [...text.matchAll(/^# pass (\d+)\s*$/gm)];
  if (pass.length === 0) return undefined;
  const summary = empty('tap');
  for (const m of pass) summary.passed += Number(m[1]);
  for (const m of text.matchAll(/^# (fail|cancelled) (\d+)\s*$/gm)) summary.failed += Number(m[2]);
  for (const m of text.matchAll(/^# (skipped|skip|todo) (\d+)\s*$/gm)) summary.skipped += Number(m[2]);

  const lines = text.split('\n');
  const subtests: { indent: number; name: string }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const sub = /^(\s*)# Subtest: (.*)$/.exec(lines[i]);
    if (sub) {
      const indent = sub[1].length;
      while (subtests.length > 0 && subtests[subtests.length - 1].indent >= indent) subtests.pop();
      subtests.push({ indent, name: sub[2] });
      continue;
    }
    const notOk = /^(\s*)not ok \d+ (?:- )?(.*?)(?: # (?:TODO|SKIP).*)?$/.exec(lines[i]);
    if (!notOk || /# TODO/.test(lines[i])) continue;
    const indent = notOk[1].length;
    while (subtests.length > 0 && subtests[subtests.length - 1].indent > indent) subtests.pop();
    const path = subtests.map((s) => s.name);
    if (path[path.length - 1] !== notOk[2]) path.push(notOk[2]);
    const yaml = tapYaml(lines, i + 1);
    // A suite fails because its tests failed; those tests are reported themselves.
    if (yaml.get('type') === 'suite' || yaml.get('failureType') === 'subtestsFailed') continue;
    const failure: TestFailure = { name: path.join(' > '), message: yaml.get('error') ?? '' };
    const location = yaml.get('location');
    if (location) failure.location = location;
    summary.failures.push(failure);
  }
  return summary;
}

/** The scalar keys of the YAML diagnostic block starting at `start` ("---" … "..."), block scalars included. */
function tapYaml(lines: string[], start: number): Map<string, string> {
  const values = new Map<string, string>();
  if (!/^\s*---\s*$/.test(lines[start] ?? '')) return values;
  const baseIndent = /^\s*/.exec(lines[start])![0].length;
  for (let i = start + 1; i < lines.length && !/^\s*\.\.\.\s*$/.test(lines[i]); i++) {
    const m = /^(\s*)([A-Za-z_]+): ?(.*)$/.exec(lines[i]);
    if (!m || m[1].length !== baseIndent) continue;
    const [, , key, raw] = m;
    if (raw === '|-' || raw === '|' || raw === '>-' || raw === '>') {
      const block: string[] = [];
      while (i + 1 < lines.length && (lines[i + 1].trim() === '' || /^\s*/.exec(lines[i + 1])![0].length > baseIndent) && !/^\s*\.\.\.\s*$/.test(lines[i + 1])) {
        block.push(lines[++i]);
      }
      values.set(key, firstLines(block));
    } else {
      values.set(key, unquote(raw.trim()));
    }
  }
  return values;
}

function unquote(s: string): string {
  if (s.length >= 2 && s.startsWith("'") && s.endsWith("'")) return s.slice(1, -1).replace(/''/g, "'");
  if (s.length >= 2 && s.startsWith('"') && s.endsWith('"')) {
    try {
      return JSON.parse(s) as string;
    } catch {
      return s.slice(1, -1);
    }
  }
  return s;
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
const PARSERS: readonly FrameworkParser[] = [parseJest, parseVitest, parseMocha, parseNodeSpec, parseTap, parsePytest, parseGo, parseCargo];

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

function count(text: string, re: RegExp): number {
  const m = re.exec(text);
  return m ? Number(m[1]) : 0;
}

function takeUntil(lines: string[], stop: (line: string) => boolean): string[] {
  const out: string[] = [];
  for (const line of lines) {
    if (stop(line)) break;
    out.push(line);
  }
  return out;
}

/** The first few non-blank lines, trimmed, joined by newlines. */
function firstLines(lines: string[]): string {
  return lines
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .slice(0, MAX_MESSAGE_LINES)
    .join('\n');
}

/** `{ location: "path:line:col" }` from a stack line "at fn (file:///path:4:34)" or "❯ path:6:17". */
function locationFrom(line: string | undefined): { location?: string } {
  if (line === undefined) return {};
  const m = /\(?((?:file:\/\/)?[^\s()]+:\d+:\d+)\)?\s*$/.exec(line.trim());
  return m ? { location: m[1].replace(/^file:\/\//, '') } : {};
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
