// npm run bench [-- --quick]: engine figures measured on real runs, with real test gates (node:test)
// and checkpoints on. Prints figures and goals as ratios (PASS/MISS); asserts nothing, machines are
// noisy. The arithmetic (critical path, ideal schedule) is in test/support/benchSchedule.ts, checked by a unit test.
import { execFile, spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Engine, resolveRunConfig, systemClock, type HostPorts } from '../src/core';
import { NodeEditApplier, NodeTestRunner, NodeWorkspace, startInProcessGroup } from '../src/core/node';
import type { EngineEvent } from '../src/shared/events';
import { readingCosts } from './readingCosts';
import { criticalPathMs, idealScheduleMs, spread, type MeasuredTask, type Spread } from '../test/support/benchSchedule';

const QUICK = process.argv.includes('--quick');
const WIDTH = 8;
const CONCURRENCY = 4;
/** Runs a case: the small repository's (whose ratios are the goals) more, the large one's take long. */
const REPETITIONS = QUICK ? 1 : 5;
const LARGE_REPETITIONS = QUICK ? 1 : 3;
/** Model latencies a call: a very fast hosted model, a fast one, a local one. */
const LATENCIES_MS = QUICK ? [100, 500] : [50, 100, 500];
const LARGE_LATENCIES_MS = QUICK ? [100] : [50, 100, 500];
const LARGE_FILES = 20_000;
/** Model calls per task (propose_edit, then finish) and the planner's. */
const CALLS_PER_TASK = 2;
const PLANNER_CALLS = 1;
/** With instant tests and no engine cost: (planner + 8 tasks x 2) / (planner + 2 waves x 2) calls. */
const NOMINAL_SPEEDUP = (PLANNER_CALLS + WIDTH * CALLS_PER_TASK) / (PLANNER_CALLS + Math.ceil(WIDTH / CONCURRENCY) * CALLS_PER_TASK);
const GOAL_RATIO = 1.05;
const GOAL_RATIO_LATENCY = 100;
const GOAL_SPEEDUP = 3.0;
const GOAL_SPEEDUP_LATENCY = 500;
const run = promisify(execFile);

interface Fixture {
  root: string;
  transcript: string;
  /** Puts the modules back as they were, so a workspace can serve several runs. */
  reset(): Promise<void>;
}

const moduleText = (i: number) => `exports.value = ${i};\n`;

/** A small package: WIDTH modules, each with a node:test file; one task per module. */
async function fixture(fillerFiles: number): Promise<Fixture> {
  const root = await mkdtemp(join(tmpdir(), 'sm-bench-'));
  await mkdir(join(root, 'src'));
  await mkdir(join(root, 'test'));
  await writeFile(join(root, 'package.json'), JSON.stringify({ name: 'bench-fixture', version: '1.0.0', private: true, scripts: { test: 'node --test' } }, null, 2));
  const tasks = [];
  const turns: unknown[] = [];
  for (let i = 1; i <= WIDTH; i++) {
    await writeFile(join(root, 'src', `m${i}.js`), moduleText(i));
    await writeFile(
      join(root, 'test', `m${i}.test.js`),
      `const test = require('node:test');\nconst assert = require('node:assert');\nconst { value } = require('../src/m${i}.js');\ntest('m${i} holds a number', () => assert.equal(typeof value, 'number'));\n`,
    );
    tasks.push({ id: `t${i}`, title: `Change module ${i}`, description: 'Bump the value.', role: 'implementer', dependsOn: [], acceptance: ['value bumped'], files: [`src/m${i}.js`] });
    turns.push(
      { role: 'implementer', task: `t${i}`, toolCalls: [{ tool: 'propose_edit', input: { path: `src/m${i}.js`, hunks: [{ search: `= ${i};`, replace: `= ${i + 100};` }] } }] },
      { role: 'implementer', task: `t${i}`, toolCalls: [{ tool: 'finish', input: { summary: 'bumped' } }] },
    );
  }
  turns.unshift({ role: 'planner', toolCalls: [{ tool: 'finish', input: { summary: 'independent changes', tasks } }] });
  // Filler: a large repository's other sources, 100 to a folder.
  for (let folder = 0; folder * 100 < fillerFiles; folder++) {
    const dir = join(root, 'lib', `d${folder}`);
    await mkdir(dir, { recursive: true });
    const count = Math.min(100, fillerFiles - folder * 100);
    await Promise.all(Array.from({ length: count }, (_, f) => writeFile(join(dir, `f${f}.js`), `exports.f${f} = ${folder * 100 + f};\n`)));
  }
  const transcript = join(root, 'transcript.json');
  await writeFile(transcript, JSON.stringify({ version: 1, turns }));
  return {
    root,
    transcript,
    reset: async () => {
      for (let i = 1; i <= WIDTH; i++) await writeFile(join(root, 'src', `m${i}.js`), moduleText(i));
    },
  };
}

interface Measured {
  wallMs: number;
  status: string;
  /** planner + baseline + longest task + final: no concurrency does better. */
  criticalPathMs: number;
  /** planner + baseline + the tasks scheduled at the run's concurrency with no engine cost + final. */
  idealMs: number;
  /** The same work at concurrency 1 (for the ideal speed-up). */
  idealSerialMs: number;
  /** Mean measured model latency a call (the scripted model's sleep plus its bookkeeping). */
  callMs: number;
  /** Mean task test-gate run. */
  testMs: number;
}

interface RunOptions {
  fixture: Fixture;
  latencyMs: number;
  concurrency: number;
  /** A shadow repository already holding a snapshot of the workspace (a second run), or a fresh one. */
  storageDir?: string;
  tests?: 'real' | 'instant';
  checkpoints?: boolean;
}

async function timedRun(options: RunOptions): Promise<Measured> {
  await options.fixture.reset();
  const { root, transcript } = options.fixture;
  const workspace = await NodeWorkspace.open(root);
  const instant: HostPorts['testRunner'] = { run: async () => ({ exitCode: 0, output: '# tests 1\n# pass 1\n# fail 0\n', timedOut: false, durationMs: 0 }) };
  const ports: HostPorts = {
    workspace,
    applier: new NodeEditApplier(workspace.root),
    reviewer: { review: async (request) => ({ accepted: request.files.map((file) => file.path) }) },
    testRunner: options.tests === 'instant' ? instant : new NodeTestRunner(),
    clock: systemClock,
    secret: async () => undefined,
  };
  const storageDir = options.storageDir ?? (await mkdtemp(join(tmpdir(), 'sm-bench-storage-')));
  const engine = new Engine({ ports, runsDir: join(root, '.software-maker/runs'), storageDir, scriptedLatencyMs: options.latencyMs });
  const events: EngineEvent[] = [];
  engine.onEvent((_runId, event) => events.push(event));
  const config = resolveRunConfig({
    models: [{ id: 'scripted', provider: 'scripted', transcript }],
    concurrency: options.concurrency,
    autoApprove: true,
    reviewGate: false,
    checkpoints: options.checkpoints ?? true,
    testCommand: 'node --test',
  });
  const started = performance.now();
  const final = await (await engine.startRun('bench', config)).finished;
  const wallMs = performance.now() - started;
  if (!options.storageDir) await rm(storageDir, { recursive: true, force: true });

  const calls = events.flatMap((event) => (event.type === 'llm.call' ? [event] : []));
  const tests = events.flatMap((event) => (event.type === 'test.finished' ? [event] : []));
  const testOf = (phase: string) => tests.filter((event) => event.phase === phase).reduce((sum, event) => sum + event.report.durationMs, 0);
  const planner = calls.filter((call) => call.role === 'planner').reduce((sum, call) => sum + call.latencyMs, 0);
  const serialPart = planner + testOf('baseline') + testOf('final');
  const tasks: MeasuredTask[] = final.taskOrder.map((id) => ({
    id,
    dependsOn: final.tasks[id]!.dependsOn,
    durationMs:
      calls.filter((call) => call.taskId === id).reduce((sum, call) => sum + call.latencyMs, 0) +
      tests.filter((event) => event.phase === 'task' && event.taskId === id).reduce((sum, event) => sum + event.report.durationMs, 0),
  }));
  const taskTests = tests.filter((event) => event.phase === 'task');
  return {
    wallMs,
    status: final.status,
    criticalPathMs: serialPart + criticalPathMs(tasks),
    idealMs: serialPart + idealScheduleMs(tasks, options.concurrency),
    idealSerialMs: serialPart + idealScheduleMs(tasks, 1),
    callMs: calls.reduce((sum, call) => sum + call.latencyMs, 0) / Math.max(1, calls.length),
    testMs: taskTests.reduce((sum, event) => sum + event.report.durationMs, 0) / Math.max(1, taskTests.length),
  };
}

async function repeated(options: RunOptions, repetitions = REPETITIONS): Promise<Measured[]> {
  const runs: Measured[] = [];
  for (let i = 0; i < repetitions; i++) runs.push(await timedRun(options));
  const failed = runs.filter((one) => one.status !== 'completed');
  if (failed.length) console.log(`    ! ${failed.length} run(s) ended ${failed.map((one) => one.status).join(', ')}: their figures do not count for much`);
  return runs;
}

const ms = (value: number) => `${value.toFixed(0)} ms`;
const range = (s: Spread, unit = (v: number) => v.toFixed(0)) => `${unit(s.median)} (${unit(s.min)}..${unit(s.max)})`;
const verdict = (ok: boolean) => (ok ? 'PASS' : 'MISS');

function describe(label: string, runs: Measured[]): { ratio: Spread; wall: Spread } {
  const wall = spread(runs.map((one) => one.wallMs));
  const ratio = spread(runs.map((one) => one.wallMs / one.idealMs));
  const ideal = spread(runs.map((one) => one.idealMs));
  const critical = spread(runs.map((one) => one.criticalPathMs));
  const call = spread(runs.map((one) => one.callMs));
  const test = spread(runs.map((one) => one.testMs));
  console.log(
    `  ${label}: wall ${range(wall)} ms | ideal schedule ${range(ideal)} ms | critical path ${range(critical)} ms | wall/ideal ${range(ratio, (v) => v.toFixed(3))}` +
      ` | per call ${call.median.toFixed(0)} ms, per task test ${test.median.toFixed(0)} ms`,
  );
  return { ratio, wall };
}

/** Snapshot costs on the large workspace: the first one, then one after a one-file change, against plain git. */
async function checkpointCosts(large: Fixture, storageDir: string): Promise<{ first: number; perTask: Spread; beforeWrite: Spread | undefined; gitFirst: number; gitPerTask: Spread }> {
  const workspace = await NodeWorkspace.open(large.root);
  const engine = new Engine({
    ports: { workspace, applier: new NodeEditApplier(workspace.root), testRunner: new NodeTestRunner(), clock: systemClock, secret: async () => undefined },
    runsDir: join(large.root, '.software-maker/runs'),
    storageDir,
  });
  const store = await engine.checkpoints()!;
  let started = performance.now();
  await store.create('bench: first snapshot', { runId: 'bench' });
  const first = performance.now() - started;
  const perTask: number[] = [];
  const one = join(large.root, 'src', 'm1.js');
  for (let i = 0; i < 5; i++) {
    await writeFile(one, `exports.value = ${1000 + i};\n`);
    started = performance.now();
    await store.create(`bench: after change ${i}`, { runId: 'bench', taskId: 't1' });
    perTask.push(performance.now() - started);
  }
  // What a task's checkpoint costs: built from the files it writes, no scan (beforeWrite, when there).
  const beforeWrite: number[] = [];
  if ('beforeWrite' in store) {
    for (let i = 0; i < 5; i++) {
      started = performance.now();
      await (await store.beforeWrite(`bench: before write ${i}`, { runId: 'bench', taskId: 't1' }, ['src/m1.js'])).checkpoint;
      beforeWrite.push(performance.now() - started);
      await writeFile(one, `exports.value = ${3000 + i};\n`);
    }
  }
  // Plain git on the same tree (its own GIT_DIR), as the reference for what a snapshot costs.
  const gitDir = await mkdtemp(join(tmpdir(), 'sm-bench-git-'));
  const env = { ...process.env, GIT_DIR: gitDir, GIT_WORK_TREE: large.root, GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@b', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@b' };
  const git = (...args: string[]) => run('git', args, { env, cwd: large.root, maxBuffer: 64 << 20 });
  await git('init', '-q');
  await git('config', 'gc.auto', '0');
  await writeFile(join(gitDir, 'info', 'exclude'), '.software-maker\nnode_modules\n');
  started = performance.now();
  await git('add', '-A');
  await git('commit', '-q', '--no-verify', '-m', 'first');
  const gitFirst = performance.now() - started;
  const gitPerTask: number[] = [];
  for (let i = 0; i < 5; i++) {
    await writeFile(one, `exports.value = ${2000 + i};\n`);
    started = performance.now();
    await git('add', '-A');
    await git('commit', '-q', '--no-verify', '-m', `change ${i}`);
    gitPerTask.push(performance.now() - started);
  }
  await rm(gitDir, { recursive: true, force: true, maxRetries: 5 });
  await large.reset();
  return { first, perTask: spread(perTask), beforeWrite: beforeWrite.length ? spread(beforeWrite) : undefined, gitFirst, gitPerTask: spread(gitPerTask) };
}

/**
 * Tokens a fix attempt sends, compared with the first attempt: attempts 1 and 2 break multiply(), the
 * third fixes it; every attempt makes the same two calls (an edit, then finish). Each attempt's prompt is rebuilt from the log (task, parsed failure, relevant files),
 * so attempt 3 should cost about what attempt 1 did, not the sum of everything before it.
 */
async function fixAttemptTokens(): Promise<{ attempt1: number; attempt3: number; status: string }> {
  const root = await mkdtemp(join(tmpdir(), 'sm-bench-fix-'));
  await cp(join(__dirname, '..', 'samples', 'calculator'), root, { recursive: true });
  const edit = (role: string, search: string, replace: string) => ({ role, task: 't1', toolCalls: [{ tool: 'propose_edit', input: { path: 'src/calc.js', hunks: [{ search, replace }] } }] });
  const done = (role: string) => ({ role, task: 't1', toolCalls: [{ tool: 'finish', input: { summary: 'changed calc.js' } }] });
  const plan = { summary: 'Fix add().', tasks: [{ id: 't1', title: 'Fix add()', description: 'Make add return a + b.', role: 'implementer', dependsOn: [], acceptance: ['the add tests pass'], files: ['src/calc.js'] }] };
  const turns = [
    { role: 'planner', toolCalls: [{ tool: 'finish', input: plan }] },
    edit('implementer', 'return a * b;', 'return a * b + 1;'),
    done('implementer'),
    edit('fixer', 'return a * b + 1;', 'return a * b - 1;'),
    done('fixer'),
    { role: 'fixer', task: 't1', toolCalls: [{ tool: 'propose_edit', input: { path: 'src/calc.js', hunks: [{ search: 'return a * b - 1;', replace: 'return a * b;' }, { search: 'return a - b;', replace: 'return a + b;' }] } }] },
    done('fixer'),
  ];
  const transcript = join(root, 'transcript.json');
  await writeFile(transcript, JSON.stringify({ version: 1, turns }));
  const workspace = await NodeWorkspace.open(root);
  const ports: HostPorts = {
    workspace,
    applier: new NodeEditApplier(workspace.root),
    reviewer: { review: async (request) => ({ accepted: request.files.map((file) => file.path) }) },
    testRunner: new NodeTestRunner(),
    clock: systemClock,
    secret: async () => undefined,
  };
  const engine = new Engine({ ports, runsDir: join(root, '.software-maker/runs') });
  const events: EngineEvent[] = [];
  engine.onEvent((_runId, event) => events.push(event));
  const config = resolveRunConfig({ models: [{ id: 'scripted', provider: 'scripted', transcript }], autoApprove: true, reviewGate: false, maxFixAttempts: 3 });
  const final = await (await engine.startRun('bench', config)).finished;
  const inputOf = (stepId: string) => events.reduce((sum, event) => sum + (event.type === 'llm.call' && event.stepId === stepId ? event.inputTokens : 0), 0);
  return { attempt1: inputOf('t1:implement@v1'), attempt3: inputOf('t1:fix@v3'), status: final.status };
}

/**
 * How long starting a process holds up this process's event loop: a spawn of our own against a
 * command handed to the process host, at this process's size and at 250 MB more (an extension host).
 */
async function startCosts(): Promise<{ rssMb: number; direct: Spread; hosted: Spread }[]> {
  const once = async (start: () => { done: Promise<unknown> }) => {
    const started = performance.now();
    const { done } = start();
    const blocked = performance.now() - started;
    await done;
    return blocked;
  };
  const direct = () => {
    const child = spawn('true', { stdio: 'ignore' });
    return { done: new Promise((resolve) => child.on('close', resolve)) };
  };
  const hosted = () => {
    const command = startInProcessGroup('true', { cwd: tmpdir(), env: { PATH: process.env.PATH } });
    return { done: new Promise((resolve) => command.on('close', resolve)).finally(() => command.dispose()) };
  };
  const figures = [];
  const ballast: Buffer[] = [];
  for (const extraMb of [0, 250]) {
    for (let mb = 0; mb < extraMb; mb += 10) ballast.push(Buffer.alloc(10 << 20, 1));
    const directMs: number[] = [];
    const hostedMs: number[] = [];
    await once(hosted);
    for (let i = 0; i < 15; i++) {
      directMs.push(await once(direct));
      hostedMs.push(await once(hosted));
    }
    figures.push({ rssMb: process.memoryUsage().rss / (1 << 20), direct: spread(directMs), hosted: spread(hostedMs) });
  }
  ballast.length = 0;
  return figures;
}

async function main(): Promise<void> {
  const benchStarted = performance.now();
  const small = await fixture(0);
  console.log(`Software Maker engine benchmark${QUICK ? ' (--quick: 1 repetition, fewer latencies)' : ''}`);
  console.log(`  ${WIDTH}-wide plan, scripted model of fixed latency, real node:test gates (node --test), checkpoints on; ${REPETITIONS} repetition(s) (the large repository ${LARGE_REPETITIONS}), median (min..max)`);
  console.log('  ideal schedule = planner + baseline + tasks at the concurrency limit with no engine cost + final suite, from the');
  console.log('  latency and test time each task measurably had; critical path = the same with unlimited concurrency.');
  console.log(`  load average at the start ${loadavg().map((load) => load.toFixed(1)).join(' ')}`);

  // Warm-up: module loading and JIT are not the engine's steady state.
  await timedRun({ fixture: small, latencyMs: 0, concurrency: CONCURRENCY, tests: 'instant', checkpoints: false });

  console.log(`\nSmall repository (${WIDTH} modules, ${WIDTH} test files)`);
  const ratioAt = new Map<number, Spread>();
  const speedups: { latency: number; speedup: number; ideal: number }[] = [];
  for (const latency of LATENCIES_MS) {
    const wideRuns = await repeated({ fixture: small, latencyMs: latency, concurrency: CONCURRENCY });
    const wide = describe(`${String(latency).padStart(3)} ms a call, concurrency ${CONCURRENCY}`, wideRuns);
    ratioAt.set(latency, wide.ratio);
    const serialRuns = await repeated({ fixture: small, latencyMs: latency, concurrency: 1 });
    const serial = describe(`${String(latency).padStart(3)} ms a call, concurrency 1`, serialRuns);
    const speedup = serial.wall.median / wide.wall.median;
    // What the same measured work allows: the serial ideal over the ideal at the concurrency limit.
    const ideal = spread(serialRuns.map((one) => one.idealSerialMs)).median / spread(wideRuns.map((one) => one.idealMs)).median;
    speedups.push({ latency, speedup, ideal });
    console.log(`    speed-up at concurrency ${CONCURRENCY} over 1: ${speedup.toFixed(2)}x (ideal from the measured work ${ideal.toFixed(2)}x; nominal ${NOMINAL_SPEEDUP.toFixed(1)}x with instant tests)`);
  }

  console.log(`\nLarge repository (${LARGE_FILES.toLocaleString('en')} more files), checkpoints in a shadow repository that already has a snapshot (every run after the first)`);
  const large = await fixture(LARGE_FILES);
  const largeStorage = await mkdtemp(join(tmpdir(), 'sm-bench-storage-'));
  const costs = await checkpointCosts(large, largeStorage);
  console.log(`  first snapshot ${ms(costs.first)} (plain git add+commit ${ms(costs.gitFirst)}); full snapshot after a one-file change ${range(costs.perTask)} ms (plain git ${range(costs.gitPerTask)} ms)`);
  if (costs.beforeWrite) console.log(`  a task's checkpoint (the files it writes, no scan) ${range(costs.beforeWrite)} ms`);
  for (const latency of LARGE_LATENCIES_MS) {
    describe(`${String(latency).padStart(3)} ms a call, concurrency ${CONCURRENCY}`, await repeated({ fixture: large, latencyMs: latency, concurrency: CONCURRENCY, storageDir: largeStorage }, LARGE_REPETITIONS));
  }
  await rm(largeStorage, { recursive: true, force: true });
  await rm(large.root, { recursive: true, force: true });

  console.log('\nEngine cost');
  const overheadRuns = [];
  for (let i = 0; i < 3; i++) overheadRuns.push(await timedRun({ fixture: small, latencyMs: 0, concurrency: CONCURRENCY, tests: 'instant', checkpoints: false }));
  const best = overheadRuns.reduce((a, b) => (a.wallMs < b.wallMs ? a : b));
  const fix = await fixAttemptTokens();
  console.log(`  engine overhead per step      ${(best.wallMs / (PLANNER_CALLS + WIDTH * CALLS_PER_TASK)).toFixed(2)} ms   (goal <= 10; zero latency, instant tests, no checkpoints, best of 3)`);
  console.log(`  fix attempt 3 / attempt 1 tokens ${(fix.attempt3 / fix.attempt1).toFixed(3)}   (goal <= 1.3; ${fix.attempt3} vs ${fix.attempt1} input tokens, run ${fix.status})`);
  for (const cost of await startCosts()) {
    console.log(
      `  starting a process at ${cost.rssMb.toFixed(0)} MB: the event loop held ${range(cost.direct, (v) => v.toFixed(2))} ms by a spawn of our own, ` +
        `${range(cost.hosted, (v) => v.toFixed(2))} ms through the process host (${(cost.direct.median / Math.max(0.001, cost.hosted.median)).toFixed(0)}x less)`,
    );
  }

  console.log('\nGoals');
  const ratio = ratioAt.get(GOAL_RATIO_LATENCY);
  if (ratio) console.log(`  ${verdict(ratio.median <= GOAL_RATIO)}  wall / ideal schedule at ${GOAL_RATIO_LATENCY} ms, real tests: ${ratio.median.toFixed(3)} (goal <= ${GOAL_RATIO})`);
  const goal = speedups.find((entry) => entry.latency === GOAL_SPEEDUP_LATENCY);
  if (goal) console.log(`  ${verdict(goal.speedup >= GOAL_SPEEDUP)}  speed-up at concurrency ${CONCURRENCY}, real tests, small repo, ${GOAL_SPEEDUP_LATENCY} ms: ${goal.speedup.toFixed(2)}x (goal >= ${GOAL_SPEEDUP}x of the ideal ${NOMINAL_SPEEDUP.toFixed(1)}x)`);
  await rm(small.root, { recursive: true, force: true });

  // ---- reading runs, search_text, the panel's first render (issue 11 items 3-5): bench/readingCosts.ts ----
  await readingCosts(QUICK);
  // ---- end of reading costs ----
  console.log(`\n  bench time ${((performance.now() - benchStarted) / 1000).toFixed(0)} s; load average at the end ${loadavg().map((load) => load.toFixed(1)).join(' ')} (a loaded machine stretches test runs and git)`);
}

void main();
