// The project's test runner (`npm test`): installs the system test deps, builds and packages the
// extension, then runs every suite in order and prints exact counts:
//
//   lint (1 test) → typecheck (1 test) → unit (mocha) → adversarial (mocha: hostile repositories,
//   hostile models, kill points) → host (extension-host mocha in code-server)
//   → e2e (Playwright + Chromium against code-server)
//
// The LAST line is always `N passed, N failed`, summed over every suite. Exit 1 when anything failed
// or could not run: a suite that crashes, hangs or reports no tests counts as failed, never as 0/0.
//
//   node scripts/test.mjs [--only lint,typecheck,unit,adversarial,host,e2e] [--skip-deps] [--skip-build]
//
// Artifacts: test-results/ (unit/e2e counts, host output, e2e screenshots, code-server logs).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const resultsDir = path.join(root, 'test-results');
const ALL = ['lint', 'typecheck', 'unit', 'adversarial', 'host', 'e2e'];
const NEEDS_BUILD = new Set(['host', 'e2e']);

const args = process.argv.slice(2);
function flagValue(name) {
  const i = args.indexOf(name);
  if (i >= 0) return args[i + 1] ?? '';
  const inline = args.find((a) => a.startsWith(`${name}=`));
  return inline?.slice(name.length + 1);
}
const only = flagValue('--only');
const selected = only ? only.split(',').map((s) => s.trim()).filter(Boolean) : ALL;
for (const name of selected) {
  if (!ALL.includes(name)) {
    console.error(`Unknown suite "${name}" in --only. Suites: ${ALL.join(', ')}`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
}
const skipDeps = args.includes('--skip-deps') || process.env.SM_SKIP_DEPS === '1';
const skipBuild = args.includes('--skip-build') || process.env.SM_SKIP_BUILD === '1';

// The suites see the same environment however the runner was started (`npm test`, `node
// scripts/test.mjs`, .ci/run): none of the outer npm's state (npm_config_user_agent naming the system
// Node, npm_lifecycle_*, npm_package_*, INIT_CWD, NODE), no NODE_OPTIONS. Tests start npm themselves.
const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key) && !['INIT_CWD', 'NODE', 'NODE_OPTIONS'].includes(key)));
Object.assign(env, {
  PATH: `${path.dirname(process.execPath)}:${path.join(root, 'node_modules', '.bin')}:${process.env.PATH ?? ''}`,
  NO_COLOR: '1',
  FORCE_COLOR: '0',
  CI: process.env.CI ?? '1',
});

/** @type {{ name: string; passed: number; failed: number; seconds: number; note: string }[]} */
const results = [];
/** Set when we got SIGINT/SIGTERM: the running suite is stopped and no further suite starts. */
let interrupted;

function seconds(since) {
  return (Date.now() - since) / 1000;
}

function banner(text) {
  console.log(`\n===== ${text} =====`);
}

/**
 * Runs a command with live output in its own process group; resolves with its exit code (null on a
 * timeout or signal) and the captured output.
 */
function run(command, commandArgs, { timeoutMs = 30 * 60_000, capture = false, filter } = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, commandArgs, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    let timedOut = false;
    const relay = (stream) => (chunk) => {
      const text = chunk.toString('utf8');
      if (capture) output += text;
      stream.write(filter ? filter(text) : text);
    };
    child.stdout.on('data', relay(process.stdout));
    child.stderr.on('data', relay(process.stderr));
    // SIGTERM first so the suite's own cleanup runs (it kills the code-server and Chromium process
    // groups it started), SIGKILL for whatever is left.
    const stop = () => {
      signalGroup(child.pid, 'SIGTERM');
      setTimeout(() => signalGroup(child.pid, 'SIGKILL'), 10_000).unref();
    };
    const timer = setTimeout(() => {
      timedOut = true;
      console.log(`\n[test] ${command} ${commandArgs.join(' ')} did not finish within ${timeoutMs / 60_000} min: stopping it.`);
      stop();
    }, timeoutMs);
    const onSignal = (signal) => {
      interrupted = signal;
      stop();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    child.once('error', (error) => {
      output += String(error);
      console.log(`[test] could not start ${command}: ${error.message}`);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve({ code: timedOut ? null : code, output, timedOut });
    });
  });
}

function signalGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** A suite that is one test: passes when the command exits 0. */
async function singleTest(name, command, commandArgs, timeoutMs) {
  banner(name);
  const started = Date.now();
  const { code, timedOut } = await run(command, commandArgs, { timeoutMs });
  const ok = code === 0;
  record(name, ok ? 1 : 0, ok ? 0 : 1, started, ok ? '' : timedOut ? 'timed out' : `exit code ${code}`);
  return ok;
}

function record(name, passed, failed, started, note = '') {
  const entry = { name, passed, failed, seconds: seconds(started), note };
  results.push(entry);
  console.log(`[${name}] ${passed} passed, ${failed} failed (${entry.seconds.toFixed(1)} s)${note ? ` — ${note}` : ''}`);
}

/** Mocha with the counting reporter: exact counts from the JSON it writes, never from the exit code alone. */
async function mochaSuite(name, mochaArgs, timeoutMs) {
  banner(name);
  const started = Date.now();
  const countsFile = path.join(resultsDir, `${name}-counts.json`);
  rmSync(countsFile, { force: true });
  const { code, output, timedOut } = await run(
    'mocha',
    [
      '--import=tsx',
      '--no-color',
      '--reporter', path.join(root, 'scripts', 'mochaCountingReporter.cjs'),
      '--reporter-option', `output=${countsFile}`,
      ...mochaArgs,
    ],
    { timeoutMs, capture: true },
  );
  if (!existsSync(countsFile)) {
    const why = interrupted
      ? `interrupted (${interrupted})`
      : timedOut
        ? 'timed out before reporting'
        : /No test files found/.test(output)
          ? `no test files: ${mochaArgs.filter((arg) => arg.includes('*')).join(' ')} matches nothing`
          : `mocha exited ${code} without reporting (a crash: see its output above)`;
    record(name, 0, 1, started, why);
    return;
  }
  const counts = JSON.parse(readFileSync(countsFile, 'utf8'));
  let failed = counts.failures;
  let note = counts.pending ? `${counts.pending} skipped` : '';
  if ((code !== 0 || timedOut) && failed === 0) {
    failed = 1;
    note = `mocha exited ${timedOut ? 'on timeout' : code} with no failed test`;
  }
  if (counts.passes + failed === 0) {
    failed = 1;
    note = 'no tests ran';
  }
  record(name, counts.passes, failed, started, note);
}

async function hostSuite() {
  banner('host');
  const started = Date.now();
  const { code, output, timedOut } = await run('tsx', [path.join(root, 'test', 'harness', 'hostTests.ts')], {
    timeoutMs: 20 * 60_000,
    capture: true,
  });
  const summary = [...output.matchAll(/^HOST-TESTS passed=(\d+) failed=(\d+)\s*$/gm)].pop();
  let passed = summary ? Number(summary[1]) : 0;
  let failed = summary ? Number(summary[2]) : 1;
  let note = summary ? '' : 'no HOST-TESTS summary line (crashed?)';
  if (code !== 0 && failed === 0) {
    failed = 1;
    note = timedOut ? 'timed out' : `exited ${code} with no failed test`;
  }
  if (passed + failed === 0) {
    failed = 1;
    note = 'no tests ran';
  }
  record('host', passed, failed, started, note);
}

async function main() {
  const started = Date.now();
  mkdirSync(resultsDir, { recursive: true });
  const needBuild = selected.some((s) => NEEDS_BUILD.has(s));

  let setupOk = true;
  if (needBuild && !skipDeps) {
    banner('system test deps (chromium, ripgrep, build headers, code-server)');
    const t = Date.now();
    const { code } = await run('bash', [path.join(root, 'scripts', 'install-test-deps.sh')], { timeoutMs: 30 * 60_000 });
    setupOk = code === 0;
    // Counted like package and build, so its time is in the summary (minutes on a first run, seconds after).
    record('test-deps', setupOk ? 1 : 0, setupOk ? 0 : 1, t, setupOk ? '' : `install-test-deps.sh exited ${code}`);
  }

  // Development bundle (source maps) for the host suite; production bundle + VSIX for the e2e suite.
  // Each counts as one test; a failure fails only the suites that need it.
  const ready = { build: true, package: true };
  if (needBuild && !skipBuild) {
    if (selected.includes('e2e')) {
      banner('package (npm run package → dist/software-maker.vsix)');
      const t = Date.now();
      const vsix = path.join(root, 'dist', 'software-maker.vsix');
      rmSync(vsix, { force: true });
      const { code } = await run('npm', ['run', '--silent', 'package'], { timeoutMs: 10 * 60_000 });
      ready.package = code === 0 && existsSync(vsix);
      record('package', ready.package ? 1 : 0, ready.package ? 0 : 1, t, ready.package ? '' : `npm run package exited ${code}${existsSync(vsix) ? '' : ', no VSIX'}`);
    }
    if (selected.includes('host')) {
      banner('build (node esbuild.mjs)');
      const t = Date.now();
      const { code } = await run('node', ['esbuild.mjs'], { timeoutMs: 10 * 60_000 });
      ready.build = code === 0 && existsSync(path.join(root, 'out', 'test', 'suite', 'index.js'));
      record('build', ready.build ? 1 : 0, ready.build ? 0 : 1, t, ready.build ? '' : `node esbuild.mjs exited ${code}`);
    }
  }
  const prerequisite = { host: 'build', e2e: 'package' };

  for (const suite of selected) {
    if (interrupted) {
      record(suite, 0, 1, Date.now(), `not run: interrupted (${interrupted})`);
      continue;
    }
    if (NEEDS_BUILD.has(suite) && !(setupOk && ready[prerequisite[suite]])) {
      record(suite, 0, 1, Date.now(), `not run: ${setupOk ? `${prerequisite[suite]} failed` : 'test deps could not be installed'}`);
      continue;
    }
    switch (suite) {
      case 'lint':
        await singleTest('lint', 'eslint', ['src', 'webview', 'test', 'bench', 'scripts'], 10 * 60_000);
        break;
      case 'typecheck':
        // The same command as `npm run typecheck` (tsc -b over every layer's tsconfig).
        await singleTest('typecheck', 'npm', ['run', '--silent', 'typecheck'], 10 * 60_000);
        break;
      case 'unit':
        await mochaSuite('unit', ['test/unit/**/*.test.ts'], 15 * 60_000);
        break;
      case 'adversarial':
        await mochaSuite('adversarial', ['--timeout', '120000', 'test/adversarial/**/*.test.ts'], 15 * 60_000);
        break;
      case 'host':
        await hostSuite();
        break;
      case 'e2e':
        await mochaSuite('e2e', ['--timeout', '900000', '--slow', '60000', 'test/e2e/**/*.e2e.ts'], 30 * 60_000);
        break;
    }
  }

  const passed = results.reduce((n, r) => n + r.passed, 0);
  const failed = results.reduce((n, r) => n + r.failed, 0);
  banner(`summary (${seconds(started).toFixed(0)} s)`);
  for (const r of results) {
    console.log(`${r.name.padEnd(12)} ${String(r.passed).padStart(4)} passed ${String(r.failed).padStart(4)} failed ${r.seconds.toFixed(1).padStart(7)} s${r.note ? `  ${r.note}` : ''}`);
  }
  const last = `${passed} passed, ${failed} failed`;
  writeFileSync(path.join(resultsDir, 'summary.json'), JSON.stringify({ passed, failed, suites: results }, null, 2));
  console.log(last);
  process.exitCode = failed > 0 || results.length === 0 ? 1 : 0;
}

// The project targets Node 22 (DESIGN.md §9): re-run under it when started with an older Node.
if (Number(process.versions.node.split('.')[0]) < 22) {
  const child = spawn('bash', [path.join(root, 'scripts', 'with-node22.sh'), 'node', ...process.argv.slice(1)], { stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code) => process.exit(code ?? 1));
} else {
  await main().catch((error) => {
    console.error(error?.stack ?? String(error));
    const passed = results.reduce((n, r) => n + r.passed, 0);
    const failed = results.reduce((n, r) => n + r.failed, 0) + 1;
    console.log(`${passed} passed, ${failed} failed`);
    process.exitCode = 1;
  });
}
