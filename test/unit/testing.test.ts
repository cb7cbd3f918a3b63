import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { TestReport } from '../../src/shared/model';
import { detectTestCommand } from '../../src/core/testing/detect';
import { NodeTestRunner, TestRunnerError } from '../../src/core/testing/nodeTestRunner';
import { parseSummary, parseTestOutput, stripAnsi } from '../../src/core/testing/parse';
import { secretRegistry } from '../../src/core/secrets';
import { processAlive } from './helpers';

const FIXTURES = path.join(__dirname, 'fixtures', 'test-output');

function fixture(name: string): string {
  return readFileSync(path.join(FIXTURES, name), 'utf8');
}

function parse(output: string, exitCode: number | null, extra: { timedOut?: boolean; durationMs?: number } = {}): TestReport {
  return parseTestOutput({ command: 'npm test', exitCode, output, timedOut: extra.timedOut ?? false, durationMs: extra.durationMs ?? 1234 });
}

function counts(report: TestReport): [number, number, number, boolean] {
  return [report.passed, report.failed, report.skipped, report.ok];
}

describe('detectTestCommand', () => {
  let root: string;

  beforeEach(async () => {
    root = await realpath(await mkdtemp(path.join(tmpdir(), 'sm-detect-')));
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function put(rel: string, content: string): Promise<void> {
    await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await writeFile(path.join(root, rel), content);
  }

  const pkg = (test?: string, extra: Record<string, unknown> = {}): string => JSON.stringify({ name: 'x', scripts: test === undefined ? {} : { test }, ...extra });

  it('finds nothing in an empty folder', async () => {
    assert.equal(await detectTestCommand(root), undefined);
  });

  it('uses npm test for a package.json test script, with the script in the reason', async () => {
    await put('package.json', pkg('mocha'));
    const found = await detectTestCommand(root);
    assert.equal(found?.command, 'npm test');
    assert.match(found?.reason ?? '', /"mocha"/);
  });

  it("ignores npm's placeholder test script", async () => {
    await put('package.json', pkg('echo "Error: no test specified" && exit 1'));
    assert.equal(await detectTestCommand(root), undefined);
  });

  it('picks pnpm or yarn by lockfile, and the packageManager field over lockfiles', async () => {
    await put('package.json', pkg('vitest run'));
    await put('yarn.lock', '');
    assert.equal((await detectTestCommand(root))?.command, 'yarn test');
    await put('pnpm-lock.yaml', '');
    assert.equal((await detectTestCommand(root))?.command, 'pnpm test');
    await put('package.json', pkg('vitest run', { packageManager: 'yarn@4.1.0' }));
    assert.equal((await detectTestCommand(root))?.command, 'yarn test');
  });

  it('falls through a package.json without a test script (or a broken one) to other ecosystems', async () => {
    await put('package.json', pkg(undefined));
    await put('go.mod', 'module x\n');
    assert.equal((await detectTestCommand(root))?.command, 'go test ./...');
    await put('package.json', '{ broken');
    assert.equal((await detectTestCommand(root))?.command, 'go test ./...');
  });

  it('detects pytest from pytest.ini, pyproject [tool.pytest.ini_options], setup.cfg, or a tests folder', async () => {
    await put('pytest.ini', '[pytest]\n');
    assert.equal((await detectTestCommand(root))?.command, 'pytest');
    await rm(path.join(root, 'pytest.ini'));

    await put('pyproject.toml', '[project]\nname = "x"\n');
    assert.equal(await detectTestCommand(root), undefined, 'a pyproject without pytest config is not enough');
    await put('pyproject.toml', '[project]\nname = "x"\n\n[tool.pytest.ini_options]\naddopts = "-q"\n');
    assert.match((await detectTestCommand(root))?.reason ?? '', /pyproject\.toml/);
    await rm(path.join(root, 'pyproject.toml'));

    await put('setup.cfg', '[tool:pytest]\ntestpaths = tests\n');
    assert.equal((await detectTestCommand(root))?.command, 'pytest');
    await rm(path.join(root, 'setup.cfg'));

    await put('tests/helpers.py', '');
    assert.equal(await detectTestCommand(root), undefined);
    await put('tests/test_math.py', 'def test_x(): pass\n');
    assert.match((await detectTestCommand(root))?.reason ?? '', /tests\/test_math\.py/);
  });

  it('detects go and cargo', async () => {
    await put('go.mod', 'module example.com/x\n');
    assert.deepEqual(await detectTestCommand(root), {
      command: 'go test ./...',
      cwd: root,
      framework: 'go',
      reason: 'go.mod marks a Go module.',
      source: 'detected',
      argStyle: 'append',
      namesTests: true,
      reporter: 'go-json',
    });
    await rm(path.join(root, 'go.mod'));
    await put('Cargo.toml', '[package]\nname = "x"\n');
    assert.deepEqual(await detectTestCommand(root), { command: 'cargo test', cwd: root, framework: 'cargo', reason: 'Cargo.toml marks a Rust crate.', source: 'detected', argStyle: 'append', namesTests: false });
  });
});

describe('parseTestOutput on real outputs', () => {
  // Each fixture was produced by running the tool; see fixtures/test-output/README.md.
  const cases: { file: string; exit: number; expect: [number, number, number, boolean]; failures: { name: string; message: RegExp; location?: string }[] }[] = [
    { file: 'node-spec-pass.txt', exit: 0, expect: [2, 0, 2, true], failures: [] },
    {
      file: 'node-spec-fail.txt',
      exit: 1,
      expect: [1, 2, 1, false],
      failures: [
        { name: 'math > subtracts', message: /^AssertionError \[ERR_ASSERTION\]: Expected values to be strictly equal:\n2 !== 1$/, location: 'fail.test.mjs:5:3' },
        { name: 'throws plain error', message: /^Error: boom: database unavailable$/, location: 'fail.test.mjs:7:1' },
      ],
    },
    { file: 'node-tap-pass.txt', exit: 0, expect: [2, 0, 2, true], failures: [] },
    {
      file: 'node-tap-fail.txt',
      exit: 1,
      expect: [1, 2, 1, false],
      failures: [
        { name: 'math > subtracts', message: /^Expected values to be strictly equal:\n2 !== 1$/, location: '/tmp/fx/node/fail.test.mjs:5:3' },
        { name: 'throws plain error', message: /^boom: database unavailable$/, location: '/tmp/fx/node/fail.test.mjs:7:1' },
      ],
    },
    { file: 'mocha-pass.txt', exit: 0, expect: [2, 0, 1, true], failures: [] },
    {
      file: 'mocha-fail.txt',
      exit: 2,
      expect: [1, 2, 1, false],
      failures: [
        { name: 'math > subtracts', message: /^AssertionError \[ERR_ASSERTION\]: Expected values to be strictly equal:\n2 !== 1/, location: '/tmp/fx/mocha/fail.spec.mjs:4:34' },
        { name: 'math > nested > throws plain error', message: /^Error: boom: database unavailable$/, location: '/tmp/fx/mocha/fail.spec.mjs:7:44' },
      ],
    },
    { file: 'pytest-q-pass.txt', exit: 0, expect: [1, 0, 0, true], failures: [] },
    ...['pytest-q-fail.txt', 'pytest-fail.txt'].map((file) => ({
      file,
      exit: 1,
      expect: [2, 2, 1, false] as [number, number, number, boolean],
      failures: [
        { name: 'tests/test_math.py::test_subtracts', message: /^AssertionError: subtraction is off$/, location: 'tests/test_math.py:7' },
        { name: 'tests/test_math.py::test_raises', message: /^ValueError: boom: database unavailable$/, location: 'tests/test_math.py:14' },
      ],
    })),
    { file: 'go-pass.txt', exit: 0, expect: [1, 0, 0, true], failures: [] },
    {
      file: 'go-fail.txt',
      exit: 1,
      expect: [1, 2, 0, false],
      failures: [
        { name: 'TestSubtract', message: /^subtraction is off: got 2, want 1$/, location: 'calc_test.go:13' },
        { name: 'TestTable/negative', message: /^negative numbers are off$/, location: 'calc_test.go:23' },
      ],
    },
    {
      file: 'go-v-fail.txt',
      exit: 1,
      expect: [3, 2, 1, false],
      failures: [
        { name: 'TestSubtract', message: /^subtraction is off: got 2, want 1$/, location: 'calc_test.go:13' },
        { name: 'TestTable/negative', message: /^negative numbers are off$/, location: 'calc_test.go:23' },
      ],
    },
    {
      file: 'go-build-fail.txt',
      exit: 2,
      expect: [1, 1, 0, false],
      failures: [{ name: 'example.com/calc [build failed]', message: /mismatched types int and untyped string/, location: './calc.go:3:33' }],
    },
    { file: 'cargo-pass.txt', exit: 0, expect: [2, 0, 1, true], failures: [] },
    {
      file: 'cargo-fail.txt',
      exit: 101,
      expect: [1, 2, 1, false],
      failures: [
        { name: 'tests::panics', message: /^boom: database unavailable$/, location: 'src/lib.rs:11:19' },
        { name: 'tests::subtracts', message: /^assertion `left == right` failed: subtraction is off\nleft: 2\nright: 1$/, location: 'src/lib.rs:9:22' },
      ],
    },
    { file: 'jest-pass.txt', exit: 0, expect: [3, 0, 1, true], failures: [] },
    {
      file: 'jest-fail.txt',
      exit: 1,
      expect: [3, 2, 1, false],
      failures: [
        { name: 'sum › adds two numbers', message: /^expect\(received\)\.toBe\(expected\) \/\/ Object\.is equality\nExpected: 4\nReceived: 3$/, location: 'src/sum.test.js:5:23' },
        { name: 'sum › rejects strings', message: /^TypeError: sum expects numbers$/, location: 'src/sum.js:3:11' },
      ],
    },
    { file: 'vitest-pass.txt', exit: 0, expect: [3, 0, 1, true], failures: [] },
    {
      file: 'vitest-fail.txt',
      exit: 1,
      expect: [3, 2, 1, false],
      failures: [
        { name: 'src/sum.test.js > sum > adds two numbers', message: /^AssertionError: expected 3 to be 4 \/\/ Object\.is equality/, location: 'src/sum.test.js:6:23' },
        { name: 'src/sum.test.js > sum > rejects strings', message: /^TypeError: sum expects numbers$/, location: 'src/sum.js:3:11' },
      ],
    },
  ];

  for (const c of cases) {
    it(`reads ${c.file}`, () => {
      const report = parse(fixture(c.file), c.exit);
      assert.deepEqual(counts(report), c.expect);
      assert.equal(report.exitCode, c.exit);
      assert.equal(report.failures.length, c.failures.length, JSON.stringify(report.failures, null, 1));
      c.failures.forEach((expected, i) => {
        const actual = report.failures[i];
        assert.equal(actual.name, expected.name);
        assert.match(actual.message, expected.message);
        assert.equal(actual.location, expected.location);
      });
      if (c.expect[3]) assert.equal(report.problem, undefined);
    });
  }

  it('recognises each fixture as its own framework', () => {
    const expected: Record<string, string> = { node: 'node-test', mocha: 'mocha', pytest: 'pytest', go: 'go', cargo: 'cargo', jest: 'jest', vitest: 'vitest' };
    for (const [file, framework] of [
      ['node-spec-fail.txt', 'node-test'],
      ['node-tap-fail.txt', 'tap'],
      ...Object.entries(expected)
        .filter(([k]) => k !== 'node')
        .map(([k, v]) => [`${k}-${k === 'pytest' ? 'q-' : ''}fail.txt`, v]),
    ]) {
      assert.equal(parseSummary(stripAnsi(fixture(file)))?.framework, framework, file);
    }
  });

  it('reports a cargo compile error as a crash, not as passed', () => {
    const report = parse(fixture('cargo-build-fail.txt'), 101);
    assert.deepEqual(counts(report), [0, 0, 0, false]);
    assert.match(report.problem ?? '', /^The test command exited with code 101: compile error E0277 at src\/lib\.rs:1:43: cannot add `&str` to `i32`$/);
    assert.match(report.outputTail, /error\[E0277\]/);
  });

  it('reports pytest collecting nothing (exit 5) as not passed', () => {
    const report = parse(fixture('pytest-none.txt'), 5);
    assert.equal(report.ok, false);
    assert.match(report.problem ?? '', /exited with code 5/);
    assert.match(parse(fixture('pytest-none.txt'), 0).problem ?? '', /No tests ran/);
  });
});

describe('parseTestOutput: the exit code has the last word', () => {
  it('is not ok for exit 0 without a recognised summary', () => {
    const report = parse('all good, trust me\n', 0);
    assert.equal(report.ok, false);
    assert.match(report.problem ?? '', /no recognised test summary/);
  });

  it('is not ok for exit 0 when no test ran, or all were skipped', () => {
    const none = parse('\n\n  0 passing (1ms)\n\n', 0);
    assert.deepEqual(counts(none), [0, 0, 0, false]);
    assert.match(none.problem ?? '', /^No tests ran;/);
    const skippedOnly = parse('\n  0 passing (1ms)\n  3 pending\n', 0);
    assert.deepEqual(counts(skippedOnly), [0, 0, 3, false]);
    assert.match(skippedOnly.problem ?? '', /No tests ran \(3 skipped\)/);
  });

  it('is not ok for exit 0 when the summary reports failures', () => {
    const report = parse('  3 passing (5ms)\n  1 failing\n', 0);
    assert.equal(report.ok, false);
    assert.match(report.problem ?? '', /reports 1 failed test/);
  });

  it('is not ok for a non-zero exit even when every parsed test passed', () => {
    const report = parse(fixture('mocha-pass.txt'), 1);
    assert.deepEqual(counts(report), [2, 0, 1, false]);
    assert.match(report.problem ?? '', /exited with code 1 although no failing test was reported/);
  });

  it('gives no problem when failures explain a non-zero exit', () => {
    assert.equal(parse(fixture('mocha-fail.txt'), 2).problem, undefined);
  });

  it('is not ok when timed out or killed by a signal, whatever the output says', () => {
    const timedOut = parse(fixture('mocha-pass.txt'), null, { timedOut: true, durationMs: 30_000 });
    assert.equal(timedOut.ok, false);
    assert.equal(timedOut.timedOut, true);
    assert.match(timedOut.problem ?? '', /timed out after 30 s/);
    const killed = parse(fixture('mocha-pass.txt'), null);
    assert.equal(killed.ok, false);
    assert.match(killed.problem ?? '', /killed by a signal/);
    const timedOutButZero = parse(fixture('mocha-pass.txt'), 0, { timedOut: true });
    assert.equal(timedOutButZero.ok, false);
  });

  it('strips ANSI colours before parsing and in the output tail', () => {
    const colored = '\u001b[32m  2 passing\u001b[39m\u001b[90m (3ms)\u001b[39m\n\u001b]8;;https://x\u0007link\u001b]8;;\u0007\n';
    const report = parse(colored, 0);
    assert.deepEqual(counts(report), [2, 0, 0, true]);
    assert.equal(report.outputTail, '  2 passing (3ms)\nlink\n');
    assert.equal(stripAnsi('\u001b[1;31mred\u001b[0m \u001b[2K\u001b[1Gdone'), 'red done');
  });

  it('keeps the last 4000 characters as the output tail', () => {
    const output = `${'x'.repeat(10_000)}\n  1 passing (1ms)\n`;
    const report = parse(output, 0);
    assert.equal(report.outputTail.length, 4000);
    assert.ok(output.endsWith(report.outputTail));
  });

  it('sums the summaries of several runs in one output (workspaces, cargo binaries)', () => {
    const report = parse('  2 passing (1ms)\n\n> pkg-b test\n  3 passing (1ms)\n  1 failing\n\n  1) b:\n     Error: nope\n      at x (/b.js:1:1)\n', 1);
    assert.deepEqual(counts(report), [5, 1, 0, false]);
    assert.deepEqual(report.failures, [{ name: 'b', message: 'Error: nope', location: '/b.js:1:1' }]);
  });

  it('passes command, exit code and duration through, and reports CRLF output like LF', () => {
    const report = parseTestOutput({ command: 'go test ./...', exitCode: 0, output: 'ok  \texample.com/x\t0.01s\r\n', timedOut: false, durationMs: 42 });
    assert.equal(report.command, 'go test ./...');
    assert.equal(report.durationMs, 42);
    assert.deepEqual(counts(report), [1, 0, 0, true]);
    assert.equal(report.outputTail, 'ok  \texample.com/x\t0.01s\n');
  });

  it('does not take TAP "ok" lines for go packages', () => {
    assert.equal(parseSummary('TAP version 13\nok 1 - works\n1..1\n'), undefined);
  });
});

describe('NodeTestRunner', function () {
  this.timeout(15_000);
  let dir: string;
  const runner = new NodeTestRunner();
  const run = (command: string, opts: { timeoutMs?: number; signal?: AbortSignal; runner?: NodeTestRunner } = {}) =>
    (opts.runner ?? runner).run({ command, cwd: dir, timeoutMs: opts.timeoutMs ?? 10_000, label: 'test' }, opts.signal ?? new AbortController().signal);

  beforeEach(async () => {
    dir = await realpath(await mkdtemp(path.join(tmpdir(), 'sm-run-')));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const alive = processAlive;

  async function waitForFile(file: string, timeoutMs = 10_000): Promise<string> {
    for (let i = 0; i < timeoutMs / 20; i++) {
      const text = await readFile(file, 'utf8').catch(() => '');
      if (text.trim() !== '') return text.trim();
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`${file} was never written`);
  }

  it('resolves with the exit code, zero or not', async () => {
    const ok = await run('exit 0');
    assert.equal(ok.exitCode, 0);
    assert.equal(ok.timedOut, false);
    const failed = await run('exit 3');
    assert.equal(failed.exitCode, 3);
    assert.equal((await run('definitely-not-a-command-sm')).exitCode, 127);
  });

  it('captures stdout and stderr interleaved in order, in the given folder, with CI=1 and FORCE_COLOR=0', async () => {
    const result = await run('echo one; sleep 0.05; echo two >&2; sleep 0.05; echo three; pwd; echo "$CI $FORCE_COLOR"');
    assert.equal(result.output, `one\ntwo\nthree\n${dir}\n1 0\n`);
    assert.ok(result.durationMs >= 100);
  });

  it('keeps the head and tail of output larger than the cap', async () => {
    const small = new NodeTestRunner({ maxOutputBytes: 1000 });
    const result = await run(`echo START; head -c 5000 /dev/zero | tr '\\0' x; echo; echo END`, { runner: small });
    assert.ok(result.output.startsWith('START\nxxx'));
    assert.ok(result.output.endsWith('xxx\nEND\n'));
    assert.match(result.output, /\[\d+ bytes of output omitted\]/);
    assert.ok(result.output.length < 1100);
  });

  it('on timeout kills the whole process group, children included', async () => {
    const pidFile = path.join(dir, 'child.pid');
    const started = Date.now();
    // Long enough for the guard process and the shell to start on a loaded machine.
    const result = await run(`sleep 30 & echo $! > ${pidFile}; wait`, { timeoutMs: 2000 });
    assert.equal(result.timedOut, true);
    assert.equal(result.exitCode, null);
    assert.ok(Date.now() - started < 7000);
    const childPid = Number(await waitForFile(pidFile));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(alive(childPid), false, 'the background sleep survived');
  });

  it('escalates to SIGKILL when the command ignores SIGTERM', async () => {
    const quick = new NodeTestRunner({ killGraceMs: 200 });
    const result = await run(`trap '' TERM; sleep 30 & wait; sleep 30`, { timeoutMs: 200, runner: quick });
    assert.equal(result.timedOut, true);
    assert.ok(result.durationMs < 3000, `took ${result.durationMs} ms`);
  });

  it('stops the process group when the signal aborts, without calling it a timeout', async () => {
    const controller = new AbortController();
    const pidFile = path.join(dir, 'child.pid');
    const pending = run(`sleep 30 & echo $! > ${pidFile}; wait`, { signal: controller.signal });
    const childPid = Number(await waitForFile(pidFile));
    controller.abort();
    const result = await pending;
    assert.equal(result.timedOut, false);
    assert.equal(result.exitCode, null);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(alive(childPid), false);
  });

  it('does not start when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const marker = path.join(dir, 'ran');
    const result = await run(`touch ${marker}`, { signal: controller.signal });
    assert.equal(result.exitCode, null);
    await assert.rejects(readFile(marker), { code: 'ENOENT' });
  });

  it('does not wait forever for a leftover child holding the output open', async () => {
    const quick = new NodeTestRunner({ exitGraceMs: 200 });
    const pidFile = path.join(dir, 'child.pid');
    const result = await run(`(sleep 30; echo late) & echo $! > ${pidFile}; echo done; exit 0`, { runner: quick });
    assert.equal(result.exitCode, 0);
    assert.equal(result.timedOut, false);
    assert.equal(result.output, 'done\n');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(alive(Number(await waitForFile(pidFile))), false);
  });

  it('gives the command no provider key: known names, configured names, and any variable holding a resolved key', async () => {
    const custom = 'zz-custom-7f3a9c-runner-test-key';
    secretRegistry.register('SM_TEST_CUSTOM_KEY', custom);
    const saved = { ...process.env };
    Object.assign(process.env, {
      OPENAI_API_KEY: 'sk-test-openai-aaaaaaaaaaaaaaaa',
      DEEPSEEK_API_KEY: 'deepseek-test-bbbbbbbbbbbbbbbb',
      SM_TEST_CUSTOM_KEY: custom,
      SM_TEST_COPY_OF_KEY: custom,
      SM_TEST_HARMLESS: 'stays',
    });
    try {
      const result = await run('env');
      for (const leaked of ['OPENAI_API_KEY', 'DEEPSEEK_API_KEY', 'SM_TEST_CUSTOM_KEY', 'SM_TEST_COPY_OF_KEY']) assert.ok(!result.output.includes(`${leaked}=`), `${leaked} reached the test command`);
      assert.ok(!result.output.includes(custom));
      assert.match(result.output, /^SM_TEST_HARMLESS=stays$/m, 'other variables are passed on');
    } finally {
      for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    }
  });

  it('a hard kill of the process running the tests takes the whole test process group with it', async () => {
    const pidFile = path.join(dir, 'grandchild.pid');
    const script = `
      const { NodeTestRunner } = require(${JSON.stringify(path.resolve(__dirname, '../../src/core/testing/nodeTestRunner.ts'))});
      new NodeTestRunner().run({ command: 'sleep 60 & echo $! > ${pidFile}; wait', cwd: ${JSON.stringify(dir)}, timeoutMs: 60000, label: 't' }, new AbortController().signal);
    `;
    const host = spawn(process.execPath, ['--import', 'tsx', '-e', script], { stdio: 'ignore' });
    const grandchild = Number(await waitForFile(pidFile, 20_000));
    assert.equal(alive(grandchild), true);
    host.kill('SIGKILL');
    const deadline = Date.now() + 5000;
    while (alive(grandchild) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(alive(grandchild), false, 'the test command outlived the process that started it');
  });

  it('rejects with a clear error when the working folder does not exist', async () => {
    await assert.rejects(
      runner.run({ command: 'true', cwd: path.join(dir, 'missing'), timeoutMs: 1000, label: 'test' }, new AbortController().signal),
      (e: unknown) => e instanceof TestRunnerError && /working folder .*missing does not exist/.test(e.message),
    );
  });
});
