// npm run bench: engine figures measured in one run. Prints, asserts nothing (machines are noisy).
import { cp, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveRunConfig } from '../src/core/config';
import { NodeEditApplier } from '../src/core/edits/nodeApplier';
import { Engine } from '../src/core/engine';
import { systemClock, type HostPorts } from '../src/core/ports';
import { NodeWorkspace } from '../src/core/workspace/nodeWorkspace';
import { NodeTestRunner } from '../src/core/testing/nodeTestRunner';
import type { EngineEvent } from '../src/shared/events';

const WIDTH = 8;
const CONCURRENCY = 4;
/** Fixed model latencies to measure the schedule at: a very fast model and a fast local one. */
const LATENCIES_MS = [100, 500];
/** Model calls per task: propose_edit, then finish. */
const CALLS_PER_TASK = 2;
const PLANNER_CALLS = 1;

async function widePlanWorkspace(): Promise<{ root: string; transcript: string }> {
  const root = await mkdtemp(join(tmpdir(), 'sm-bench-'));
  await mkdir(join(root, 'src'));
  const tasks = [];
  const turns: unknown[] = [];
  for (let i = 1; i <= WIDTH; i++) {
    await writeFile(join(root, 'src', `m${i}.js`), `exports.value = ${i};\n`);
    tasks.push({ id: `t${i}`, title: `Change module ${i}`, description: 'Bump the value.', role: 'implementer', dependsOn: [], acceptance: ['value bumped'], files: [`src/m${i}.js`] });
    turns.push(
      { role: 'implementer', task: `t${i}`, toolCalls: [{ tool: 'propose_edit', input: { path: `src/m${i}.js`, hunks: [{ search: `= ${i};`, replace: `= ${i + 100};` }] } }] },
      { role: 'implementer', task: `t${i}`, toolCalls: [{ tool: 'finish', input: { summary: 'bumped' } }] },
    );
  }
  turns.unshift({ role: 'planner', toolCalls: [{ tool: 'finish', input: { summary: 'eight independent changes', tasks } }] });
  const transcript = join(root, 'transcript.json');
  await writeFile(transcript, JSON.stringify({ version: 1, turns }));
  return { root, transcript };
}

async function timedRun(latencyMs: number): Promise<{ wallMs: number; modelCalls: number; status: string }> {
  const { root, transcript } = await widePlanWorkspace();
  const workspace = await NodeWorkspace.open(root);
  const ports: HostPorts = {
    workspace,
    applier: new NodeEditApplier(workspace.root),
    reviewer: { review: async (request) => ({ accepted: request.files.map((file) => file.path) }) },
    // Instant, passing tests: the figure is the engine's, not a test framework's.
    testRunner: { run: async () => ({ exitCode: 0, output: '# tests 1\n# pass 1\n# fail 0\n', timedOut: false, durationMs: 0 }) },
    clock: systemClock,
    secret: async () => undefined,
  };
  const engine = new Engine({ ports, runsDir: join(root, '.software-maker/runs'), scriptedLatencyMs: latencyMs });
  const config = resolveRunConfig({
    models: [{ id: 'scripted', provider: 'scripted', transcript }],
    concurrency: CONCURRENCY,
    autoApprove: true,
    reviewGate: false,
    testCommand: 'node --test',
  });
  const started = performance.now();
  const final = await (await engine.startRun('bench', config)).finished;
  return { wallMs: performance.now() - started, modelCalls: final.usage.calls, status: final.status };
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

async function main(): Promise<void> {
  await timedRun(0); // warm-up: module loading and JIT are not the engine's steady state
  const overheadRuns = [];
  for (let i = 0; i < 3; i++) overheadRuns.push(await timedRun(0));
  const best = overheadRuns.reduce((a, b) => (a.wallMs < b.wallMs ? a : b));
  const overheadPerStep = best.wallMs / best.modelCalls;

  const waves = Math.ceil(WIDTH / CONCURRENCY);
  const callsOnPath = PLANNER_CALLS + waves * CALLS_PER_TASK;
  console.log('Software Maker engine benchmark');
  console.log(`  ${WIDTH}-wide plan, concurrency ${CONCURRENCY}, scripted model of fixed latency, instant tests`);
  console.log(`  critical path = ${callsOnPath} model calls (planner ${PLANNER_CALLS} + ${waves} waves x ${CALLS_PER_TASK}) x latency`);
  for (const latency of LATENCIES_MS) {
    const wide = await timedRun(latency);
    const criticalPathMs = callsOnPath * latency;
    console.log(
      `  at ${String(latency).padStart(3)} ms a call: wall ${wide.wallMs.toFixed(0)} ms / critical path ${criticalPathMs} ms = ${(wide.wallMs / criticalPathMs).toFixed(3)}   (goal <= 1.05; run ${wide.status})`,
    );
  }
  const fix = await fixAttemptTokens();
  console.log(
    `  fix attempt 3 / attempt 1 tokens ${(fix.attempt3 / fix.attempt1).toFixed(3)}   (goal <= 1.3; ${fix.attempt3} vs ${fix.attempt1} input tokens, run ${fix.status})`,
  );
  console.log(`  engine overhead per step      ${overheadPerStep.toFixed(2)} ms   (goal <= 10; ${best.modelCalls} model calls in ${best.wallMs.toFixed(0)} ms at zero latency, best of 3)`);
}

void main();
