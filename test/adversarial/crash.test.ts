// Attacks through process death and foreign state: kill -9 while the tests run, run locks left by
// dead, reused or remote processes, and task ids that are names every JavaScript object has.
import { strict as assert } from 'node:assert';
import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { DEFAULT_RUN_CONFIG } from '../../src/core/config';
import type { TranscriptTurn } from '../../src/core/models/scripted';
import type { EngineEvent } from '../../src/shared/events';
import { processAlive, runCli, tempDir, writeTranscript } from '../unit/helpers';
import { buildCli } from '../unit/builtCli';
import { hostileWorkspace, isolatedUserEnv, killHard, spawnCli } from './support';

const GOAL = 'Fix the failing calculator tests';
const RUN_ID = '20260101-000000Z-a1b2c3';
const at = '2026-01-01T00:00:00.000Z';

const alive = processAlive;

async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return check();
}

/** A run folder with a log of its own (events without seq/at/runId are completed here). */
async function plantRun(ws: string, runId: string, events: Omit<EngineEvent, 'seq' | 'at' | 'runId'>[]): Promise<string> {
  const dir = join(ws, '.software-maker', 'runs', runId);
  await mkdir(dir, { recursive: true });
  const lines = events.map((event, index) => JSON.stringify({ ...event, seq: index + 1, at, runId }));
  await writeFile(join(dir, 'events.jsonl'), `${lines.join('\n')}\n`);
  return dir;
}

/**
 * A run that failed before planning, adopted by this (isolated) user: resuming it gets as far as the
 * lock, then says it has ended.
 */
async function endedRun(ws: string, env: NodeJS.ProcessEnv): Promise<string> {
  const dir = await plantRun(ws, RUN_ID, [
    { type: 'run.created', goal: GOAL, workspace: ws, config: DEFAULT_RUN_CONFIG } as Omit<EngineEvent, 'seq' | 'at' | 'runId'>,
    { type: 'run.status', status: 'failed', reason: 'planted' } as Omit<EngineEvent, 'seq' | 'at' | 'runId'>,
  ]);
  const adopted = await runCli(await buildCli(), ['adopt', RUN_ID, '--workspace', ws, '--yes'], { env });
  assert.equal(adopted.code, 0, adopted.stdout + adopted.stderr);
  return dir;
}

function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

describe('attacks through process death and foreign state', function () {
  this.timeout(180_000);

  it('kill -9 of the CLI while a test command with a long-lived grandchild runs: the grandchild dies too', async function () {
    if (process.platform === 'win32') return this.skip();
    const pidFile = join(await tempDir('sm-adv-pid-'), 'grandchild.pid');
    // npm test → sh → node slow-test.js → a node grandchild that would run forever.
    const ws = await hostileWorkspace({
      'package.json': JSON.stringify({ name: 'slow', version: '1.0.0', private: true, scripts: { test: 'node slow-test.js' } }),
      'slow-test.js': [
        "const { spawn } = require('node:child_process');",
        "const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });",
        "require('node:fs').writeFileSync(process.env.SM_ADV_PID_FILE, String(child.pid));",
        'setInterval(() => {}, 1000);',
      ].join('\n'),
    });
    const transcript = await writeTranscript(ws, []);
    const cli = spawnCli(await buildCli(), ['run', GOAL, '--workspace', ws, '--model', `scripted:${transcript}`, '--yes'], await isolatedUserEnv({ SM_ADV_PID_FILE: pidFile }));
    let grandchild = 0;
    try {
      assert.ok(await waitFor(async () => (grandchild = Number(await readFile(pidFile, 'utf8').catch(() => '0'))) > 0, 60_000), 'the baseline test run started its grandchild');
      assert.equal(alive(grandchild), true);
      await killHard(cli);
      assert.ok(await waitFor(() => !alive(grandchild), 5000), `the grandchild ${grandchild} outlived a kill -9 of the CLI`);
    } finally {
      await killHard(cli);
      if (grandchild && alive(grandchild)) process.kill(grandchild, 'SIGKILL');
    }
  });

  it('a stale lock from a dead process: taken over', async () => {
    const ws = await hostileWorkspace();
    const env = await isolatedUserEnv();
    const dir = await endedRun(ws, env);
    const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
    await writeFile(join(dir, 'run.lock'), JSON.stringify({ pid: Number(dead.stdout.trim()), host: hostname(), since: at }));
    const result = await runCli(await buildCli(), ['resume', RUN_ID, '--workspace', ws, '--yes'], { env });
    assert.match(result.stderr, /has already ended \(failed\)/, 'the lock was taken over and the run read');
    await assert.rejects(access(join(dir, 'run.lock')), 'the stale lock is gone');
  });

  it('a lock naming a live pid that now belongs to an unrelated process: taken over', async function () {
    if (process.platform !== 'linux') return this.skip();
    const ws = await hostileWorkspace();
    const env = await isolatedUserEnv();
    const dir = await endedRun(ws, env);
    // This test process is alive, but it is not the process that wrote the lock: its start time differs.
    await writeFile(join(dir, 'run.lock'), JSON.stringify({ pid: process.pid, host: hostname(), since: at, startTime: '1', token: 'old' }));
    const result = await runCli(await buildCli(), ['resume', RUN_ID, '--workspace', ws, '--yes'], { env });
    assert.match(result.stderr, /has already ended \(failed\)/, result.stderr);
    await assert.rejects(access(join(dir, 'run.lock')));
  });

  it('a lock held by a live process: refused at once, naming the holder and the file to delete', async function () {
    const startTime = startTimeOf(process.pid);
    const ws = await hostileWorkspace();
    const env = await isolatedUserEnv();
    const dir = await endedRun(ws, env);
    const lock = JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString(), startTime, token: 'live' });
    await writeFile(join(dir, 'run.lock'), lock);
    const started = Date.now();
    const result = await runCli(await buildCli(), ['resume', RUN_ID, '--workspace', ws, '--yes'], { env });
    assert.ok(Date.now() - started < 30_000, 'it does not wait for the lock');
    assert.equal(result.code, 1);
    assert.match(result.stderr, new RegExp(`being driven by another process \\(pid ${process.pid} on `));
    assert.ok(result.stderr.includes(`delete ${join(dir, 'run.lock')}`), result.stderr);
    assert.equal(await readFile(join(dir, 'run.lock'), 'utf8'), lock, 'a live holder keeps its lock');
  });

  it('a lock from another host: reported with host, age and the file to delete, never taken over or waited on', async () => {
    const ws = await hostileWorkspace();
    const env = await isolatedUserEnv();
    const dir = await endedRun(ws, env);
    const lock = JSON.stringify({ pid: 4242, host: 'other-build-host', since: new Date(Date.now() - 5 * 3600_000).toISOString() });
    await writeFile(join(dir, 'run.lock'), lock);
    const result = await runCli(await buildCli(), ['resume', RUN_ID, '--workspace', ws, '--yes'], { env });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /locked by a process on another machine \(pid 4242 on other-build-host since .*, 5 h ago\)/);
    assert.ok(result.stderr.includes(`If no process on other-build-host uses this run any more, delete ${join(dir, 'run.lock')}`), result.stderr);
    assert.equal(await readFile(join(dir, 'run.lock'), 'utf8'), lock);
  });

  it('a planner names tasks __proto__ and constructor: refused with a clear message, repaired, and status --json stays valid', async () => {
    const ws = await hostileWorkspace();
    const task = (id: string, dependsOn: string[] = []) => ({ id, title: `Task ${id}`, description: 'Make add return a + b.', role: 'implementer', dependsOn, acceptance: ['add works'], files: ['src/calc.js'] });
    const turns: TranscriptTurn[] = [
      { role: 'planner', toolCalls: [{ tool: 'finish', input: { summary: 'Fix add().', tasks: [task('__proto__'), task('constructor', ['__proto__'])] } }] },
      { role: 'planner', expect: 'the id \\"__proto__\\" is reserved', toolCalls: [{ tool: 'finish', input: { summary: 'Fix add().', tasks: [task('t1')] } }] },
      { role: 'implementer', task: 't1', toolCalls: [{ tool: 'finish', input: { summary: 'nothing to change' } }] },
      { role: 'reviewer', task: 't1', toolCalls: [{ tool: 'finish', input: { approved: true, summary: 'ok', issues: [] } }] },
    ];
    const transcript = await writeTranscript(ws, turns);
    const cli = await buildCli();
    const env = await isolatedUserEnv();
    const run = await runCli(cli, ['run', GOAL, '--workspace', ws, '--model', `scripted:${transcript}`, '--test-command', 'none', '--yes'], { env });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const list = await runCli(cli, ['status', '--workspace', ws, '--json'], { env });
    assert.equal(list.code, 0, list.stderr);
    const runs = JSON.parse(list.stdout) as { id: string; tasksTotal: number }[];
    assert.equal(runs.length, 1);
    assert.equal(runs[0]!.tasksTotal, 1);
    const detail = await runCli(cli, ['status', runs[0]!.id, '--workspace', ws, '--json'], { env });
    const state = JSON.parse(detail.stdout) as { tasks: Record<string, unknown>; taskOrder: string[] };
    assert.deepEqual(Object.keys(state.tasks), ['t1']);
    assert.deepEqual(state.taskOrder, ['t1']);
  });

  it('a planted events.jsonl names a task __proto__: that run is refused with a clear error, status --json lists the others', async () => {
    const ws = await hostileWorkspace();
    const cli = await buildCli();
    const env = await isolatedUserEnv();
    const good = await runCli(cli, ['run', GOAL, '--workspace', ws, '--model', `scripted:${await writeTranscript(ws, [])}`, '--test-command', 'none', '--yes'], { env });
    assert.equal(good.code, 1, 'a run without transcript turns fails at planning, which is all this needs');
    const hostileTask = { id: '__proto__', title: 'x', description: 'x', role: 'implementer', dependsOn: [], acceptance: ['x'], files: [] };
    await plantRun(ws, RUN_ID, [
      { type: 'run.created', goal: 'hostile', workspace: ws, config: DEFAULT_RUN_CONFIG } as Omit<EngineEvent, 'seq' | 'at' | 'runId'>,
      { type: 'run.status', status: 'planning' } as Omit<EngineEvent, 'seq' | 'at' | 'runId'>,
      { type: 'plan.accepted', repairs: 0, plan: { summary: 's', tasks: [hostileTask, { ...hostileTask, id: 'constructor' }] } } as Omit<EngineEvent, 'seq' | 'at' | 'runId'>,
    ]);
    const list = await runCli(cli, ['status', '--workspace', ws, '--json'], { env });
    assert.equal(list.code, 0, list.stderr);
    const runs = JSON.parse(list.stdout) as { id: string }[];
    assert.equal(runs.length, 1, 'the well-formed run is listed');
    assert.notEqual(runs[0]!.id, RUN_ID);
    assert.match(list.stderr, new RegExp(`Run ${RUN_ID} could not be read: Event 3 \\(plan.accepted\\) names "__proto__", which is reserved`));
    const detail = await runCli(cli, ['status', RUN_ID, '--workspace', ws, '--json'], { env });
    assert.equal(detail.code, 1);
    assert.equal(detail.stdout, '', 'no half-folded state is printed');
    assert.match(detail.stderr, /names "__proto__", which is reserved/);
  });
});
