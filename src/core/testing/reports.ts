// Reads the machine-readable reports the frameworks write next to their human output (see
// invocation.ts): jest and vitest JSON, mocha JSON, TAP, JUnit XML (pytest) and go test -json.
// Each reader returns undefined when the content is not a report it understands, so the caller falls
// back to scraping the output. Counts and failures only: `ok` is decided with the exit code.
import type { TestFailure } from '../../shared/model';
import type { ReportFormat } from './detect';
import type { ParsedSummary } from './parse';
import { parseTap } from './tap';
import { firstLines, firstOwnFrame, loadFailureProblem, relativeLocation, stripAnsi } from './textUtil';

export interface ReportOptions {
  /** The folder the tests ran in: absolute paths under it are shown relative to it. */
  cwd?: string;
}

export function parseReportFile(format: ReportFormat, content: string, options: ReportOptions = {}): ParsedSummary | undefined {
  if (content.trim() === '') return undefined;
  switch (format) {
    case 'jest-json':
      return parseJestJson(content, 'jest', options);
    case 'vitest-json':
      return parseJestJson(content, 'vitest', options);
    case 'mocha-json':
      return parseMochaJson(content, options);
    case 'tap': {
      const summary = parseTap(stripAnsi(content).replace(/\r\n?/g, '\n'));
      if (!summary) return undefined;
      const failures = summary.failures.map((f) => (f.location === undefined ? f : { ...f, location: relativeLocation(f.location, options.cwd) }));
      return { ...summary, framework: 'node-test', failures };
    }
    case 'junit-xml':
      return parseJunitXml(content, options);
    case 'go-json':
      return parseGoJson(content, options);
  }
}

// --- jest / vitest JSON -------------------------------------------------------------------------
// vitest's json reporter writes jest's shape: testResults[] per file with assertionResults[] per test.

interface JestAssertion {
  ancestorTitles?: unknown;
  title?: unknown;
  status?: unknown;
  failureMessages?: unknown;
  failureDetails?: unknown;
}

function parseJestJson(content: string, framework: 'jest' | 'vitest', options: ReportOptions): ParsedSummary | undefined {
  const data = parseJson(content);
  if (!isRecord(data) || !Array.isArray(data.testResults)) return undefined;
  const summary: ParsedSummary = { framework, passed: 0, failed: 0, skipped: 0, failures: [] };
  const broken: string[] = [];
  for (const file of data.testResults) {
    if (!isRecord(file)) continue;
    const fileName = relativeLocation(str(file.name), options.cwd);
    const assertions = Array.isArray(file.assertionResults) ? (file.assertionResults as JestAssertion[]) : [];
    for (const a of assertions) {
      const status = str(a.status);
      if (status === 'passed') summary.passed++;
      else if (status === 'failed') {
        summary.failed++;
        const titles = [...strings(a.ancestorTitles), str(a.title)];
        // The same names as the human reporters print: "suite › test" (jest), "file > suite > test" (vitest).
        const name = framework === 'jest' ? titles.join(' › ') : [fileName, ...titles].join(' > ');
        const raw = strings(a.failureMessages).join('\n');
        const matcher = matcherMessage(a.failureDetails);
        const failure: TestFailure = { name, message: matcher ?? stackMessage(stripAnsi(raw)) };
        const location = firstOwnFrame(stripAnsi(raw), options.cwd);
        if (location) failure.location = location;
        summary.failures.push(failure);
      } else if (status === 'pending' || status === 'skipped' || status === 'todo' || status === 'disabled') summary.skipped++;
    }
    // A file that failed to load (syntax error, missing import) has no test results, only a message.
    const message = stripAnsi(str(file.message));
    if (str(file.status) === 'failed' && !assertions.some((a) => str(a.status) === 'failed') && message.trim() !== '') {
      summary.failed++;
      const text = suiteErrorMessage(message);
      summary.failures.push({ name: fileName, message: text, ...locationOf(message, options.cwd) });
      broken.push(`${fileName}: ${text.split('\n')[0]}`);
    }
  }
  if (broken.length) summary.problem = loadFailureProblem(broken);
  return summary;
}

/** jest keeps the matcher's message apart from the stack; it reads like the human reporter's. */
function matcherMessage(details: unknown): string | undefined {
  if (!Array.isArray(details)) return undefined;
  for (const d of details) {
    if (isRecord(d) && isRecord(d.matcherResult) && typeof d.matcherResult.message === 'string') return firstLines(stripAnsi(d.matcherResult.message).split('\n'));
  }
  return undefined;
}

/** The lines of an error before its stack frames. */
function stackMessage(stack: string): string {
  const lines = stack.split('\n');
  const at = lines.findIndex((l) => /^\s+at /.test(l));
  return firstLines(at === -1 ? lines : lines.slice(0, at));
}

/** jest's "● Test suite failed to run" message without its heading, code frame and stack. */
function suiteErrorMessage(message: string): string {
  const lines = message.split('\n').filter((l) => !/^\s*● /.test(l) && !/^\s*(>?\s*\d+ \||\|)/.test(l) && !/^\s+at /.test(l));
  return firstLines(lines);
}

function locationOf(message: string, cwd: string | undefined): { location?: string } {
  const location = firstOwnFrame(message, cwd);
  return location ? { location } : {};
}

// --- mocha JSON ---------------------------------------------------------------------------------
// { stats: { passes, failures, pending }, failures: [{ fullTitle, file, err: { message, stack } }] }

function parseMochaJson(content: string, options: ReportOptions): ParsedSummary | undefined {
  const data = parseJson(content);
  if (!isRecord(data) || !isRecord(data.stats)) return undefined;
  const stats = data.stats;
  const summary: ParsedSummary = { framework: 'mocha', passed: num(stats.passes), failed: num(stats.failures), skipped: num(stats.pending), failures: [] };
  for (const f of Array.isArray(data.failures) ? data.failures : []) {
    if (!isRecord(f)) continue;
    const err = isRecord(f.err) ? f.err : {};
    const stack = stripAnsi(str(err.stack));
    const message = stack ? stackMessage(stack) : firstLines(`${str(err.name) || 'Error'}: ${stripAnsi(str(err.message))}`.split('\n'));
    const failure: TestFailure = { name: str(f.fullTitle) || str(f.title), message };
    const location = firstOwnFrame(stack, options.cwd);
    if (location) failure.location = location;
    summary.failures.push(failure);
  }
  return summary;
}

// --- JUnit XML (pytest --junitxml) --------------------------------------------------------------
// <testcase classname="tests.test_math" name="test_x"><failure message="…">traceback</failure></testcase>

function parseJunitXml(content: string, options: ReportOptions): ParsedSummary | undefined {
  if (!/<testsuites?\b/.test(content)) return undefined;
  const summary: ParsedSummary = { framework: 'pytest', passed: 0, failed: 0, skipped: 0, failures: [] };
  const collection: string[] = [];
  for (const m of content.matchAll(/<testcase\b([^>]*?)(?:\/>|>([\s\S]*?)<\/testcase>)/g)) {
    const attrs = attributes(m[1] ?? '');
    const body = m[2] ?? '';
    const problem = /<(failure|error)\b([^>]*?)(?:\/>|>([\s\S]*?)<\/\1>)/.exec(body);
    if (problem) {
      summary.failed++;
      const pAttrs = attributes(problem[2] ?? '');
      const text = decode(problem[3] ?? '');
      const name = pytestNodeId(attrs.get('classname') ?? '', attrs.get('name') ?? '', attrs.get('file'));
      const eLines = text.split('\n').filter((l) => /^E\s/.test(l)).map((l) => l.replace(/^E\s+/, ''));
      const attrMessage = pAttrs.get('message') ?? '';
      const message = eLines.length ? firstLines(eLines) : firstLines(attrMessage.split('\n'));
      const failure: TestFailure = { name, message: message || firstLines(text.split('\n')) };
      const locs = [...text.matchAll(/^(\S+\.py):(\d+):/gm)].filter((l) => !/site-packages|\/lib\/python/.test(l[1]!));
      const last = locs[locs.length - 1];
      if (last) failure.location = relativeLocation(`${last[1]}:${last[2]}`, options.cwd);
      else if (attrs.get('file') && attrs.get('line')) failure.location = `${attrs.get('file')}:${Number(attrs.get('line')) + 1}`;
      summary.failures.push(failure);
      if (problem[1] === 'error' && attrMessage === 'collection failure') collection.push(`${name}: ${message.split('\n')[0]}`);
    } else if (/<skipped\b/.test(body)) summary.skipped++;
    else summary.passed++;
  }
  if (collection.length) summary.problem = `pytest could not collect ${collection.length} file${collection.length === 1 ? '' : 's'}: ${collection.join('; ')}`;
  return summary;
}

/** pytest's node id from JUnit's dotted classname: tests.test_math.TestX + test_y → tests/test_math.py::TestX::test_y. */
function pytestNodeId(classname: string, name: string, file: string | undefined): string {
  if (classname === '') return name.includes('/') || name.endsWith('.py') ? name : `${name.split('.').join('/')}.py`;
  const parts = classname.split('.');
  // Classes pytest collects are named Test…; everything before the first one is the module path.
  let split = parts.findIndex((p, i) => i > 0 && /^Test/.test(p));
  if (split === -1) split = parts.length;
  const module = file ?? `${parts.slice(0, split).join('/')}.py`;
  return [module, ...parts.slice(split), name].join('::');
}

function attributes(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/([\w:-]+)="([^"]*)"/g)) out.set(m[1]!, decode(m[2]!));
  return out;
}

function decode(text: string): string {
  return text
    .replace(/<!\[CDATA\[([\s\S]*?)\]\]>/g, '$1')
    .replace(/&#x([0-9a-f]+);/gi, (_m, hex: string) => String.fromCodePoint(parseInt(hex, 16)))
    .replace(/&#(\d+);/g, (_m, dec: string) => String.fromCodePoint(Number(dec)))
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

// --- go test -json ------------------------------------------------------------------------------
// One JSON event per line ({"Action":"fail","Package":"…","Test":"TestX"}). Build errors are plain
// text before go 1.24 ("# pkg", the errors, "FAIL\tpkg [build failed]"), build-output events after.

interface GoEvent {
  Action?: string;
  Package?: string;
  Test?: string;
  Output?: string;
  ImportPath?: string;
  FailedBuild?: string;
}

function parseGoJson(content: string, options: ReportOptions): ParsedSummary | undefined {
  const lines = stripAnsi(content).replace(/\r\n?/g, '\n').split('\n');
  const summary: ParsedSummary = { framework: 'go', passed: 0, failed: 0, skipped: 0, failures: [] };
  const output = new Map<string, string[]>();
  const buildOutput = new Map<string, string[]>();
  const failedTests: { pkg: string; test: string }[] = [];
  const failedPackages: string[] = [];
  const buildFailed = new Set<string>();
  const plain: string[] = [];
  let events = 0;
  for (const line of lines) {
    if (!line.startsWith('{')) {
      plain.push(line);
      continue;
    }
    const event = parseJson(line);
    if (!isRecord(event)) {
      plain.push(line);
      continue;
    }
    events++;
    const e = event as GoEvent;
    const pkg = e.Package ?? '';
    if (e.Action === 'build-output' && e.ImportPath) {
      buildOutput.set(e.ImportPath, [...(buildOutput.get(e.ImportPath) ?? []), ...(e.Output ?? '').split('\n').filter((l) => l !== '')]);
    } else if (e.Action === 'output' && e.Test) {
      const key = `${pkg}\u0000${e.Test}`;
      output.set(key, [...(output.get(key) ?? []), e.Output ?? '']);
    } else if (e.Test && e.Action === 'pass') summary.passed++;
    else if (e.Test && e.Action === 'skip') summary.skipped++;
    else if (e.Test && e.Action === 'fail') failedTests.push({ pkg, test: e.Test });
    else if (!e.Test && e.Action === 'fail') {
      if (e.FailedBuild) {
        buildFailed.add(pkg);
        summary.failures.push(goBuildFailure(pkg, buildOutput.get(e.FailedBuild) ?? [], options));
      } else failedPackages.push(pkg);
    }
  }
  if (events === 0) return undefined;
  // Plain-text build failures (go < 1.24): "# pkg [pkg.test]", the compiler errors, "FAIL\tpkg [build failed]".
  for (let i = 0; i < plain.length; i++) {
    const m = /^FAIL\s+(\S+) \[build failed\]/.exec(plain[i]!);
    if (!m || buildFailed.has(m[1]!)) continue;
    let start = i;
    while (start > 0 && !plain[start - 1]!.startsWith('# ')) start--;
    buildFailed.add(m[1]!);
    summary.failures.push(goBuildFailure(m[1]!, start > 0 ? plain.slice(start, i) : [], options));
  }
  // A test with failing subtests fails too; only the innermost failures are counted.
  const leaves = failedTests.filter((t) => !failedTests.some((o) => o.pkg === t.pkg && o.test.startsWith(`${t.test}/`)));
  for (const { pkg, test } of leaves) {
    const logs = (output.get(`${pkg}\u0000${test}`) ?? []).join('').split('\n');
    const located = logs.map((l) => /^\s+(\S+\.go:\d+): (.*)$/.exec(l)).filter((m): m is RegExpExecArray => m !== null);
    const messageLines = located.length
      ? located.map((m) => m[2]!)
      : logs.filter((l) => !/^\s*(=== (RUN|CONT|PAUSE|NAME)|--- (FAIL|PASS|SKIP):)/.test(l));
    const failure: TestFailure = { name: test, message: firstLines(messageLines) };
    if (located[0]) failure.location = located[0][1]!;
    summary.failures.push(failure);
  }
  summary.failed = leaves.length + buildFailed.size;
  // A package that failed without a failing test or a build error (a panic in TestMain, a timeout).
  const unexplained = failedPackages.filter((p) => !buildFailed.has(p) && !leaves.some((l) => l.pkg === p));
  if (buildFailed.size > 0) summary.problem = `build failed: ${[...buildFailed].join(', ')}`;
  else if (unexplained.length > 0) summary.problem = `package${unexplained.length === 1 ? '' : 's'} failed without a failing test (a panic or timeout?): ${unexplained.join(', ')}`;
  return summary;
}

function goBuildFailure(pkg: string, lines: string[], options: ReportOptions): TestFailure {
  const errors = lines.filter((l) => l.trim() !== '' && !l.startsWith('# '));
  const failure: TestFailure = { name: `${pkg} [build failed]`, message: firstLines(errors) };
  const loc = /^(\S+\.go:\d+(?::\d+)?):/.exec(errors[0] ?? '');
  if (loc) failure.location = relativeLocation(loc[1]!, options.cwd);
  return failure;
}

// --- helpers ------------------------------------------------------------------------------------

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}
