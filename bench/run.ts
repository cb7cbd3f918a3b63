// npm run bench: engine figures measured in one run. Prints, asserts nothing (machines are noisy).
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveRunConfig } from '../src/core/config';
import { NodeEditApplier } from '../src/core/edits/nodeApplier';
import { Engine } from '../src/core/engine';
import { systemClock, type HostPorts } from '../src/core/ports';
import { NodeWorkspace } from '../src/core/workspace/nodeWorkspace';

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
  console.log(`  engine overhead per step      ${overheadPerStep.toFixed(2)} ms   (goal <= 10; ${best.modelCalls} model calls in ${best.wallMs.toFixed(0)} ms at zero latency, best of 3)`);
}

void main();
