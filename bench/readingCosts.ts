// What reading runs costs (issue 11, items 3-5): status of a 100,000-event run, listing 1,000 runs,
// search_text on 20,000 files, and the webview's first render for 10,000 events and a 200-node plan
// (its node-side work here, the browser's in webviewFirstRender.ts). Run alone with
// `bash scripts/with-node22.sh tsx bench/readingCosts.ts [--quick]`, or as part of `npm run bench`.
// Prints figures; asserts nothing (machines are noisy).
import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine, systemClock, type HostPorts } from '../src/core';
import { NodeEditApplier, NodeTestRunner, NodeWorkspace, readLog, readRunState, writeRunSnapshot } from '../src/core/node';
import { foldEvents } from '../src/shared/runState';
import type { Snapshot } from '../src/shared/protocol';
import { DAGRE_MAX_TASKS, layoutDag, quickLayout } from '../webview/dagLayout';
import { chatMessageOf } from '../webview/eventText';
import { Store } from '../webview/store';
import { spread, type Spread } from '../test/support/benchSchedule';
import { largePanelRun } from '../test/unit/fixtures/webviewRun';
import { webviewFirstRender } from './webviewFirstRender';

const ms = (value: number) => `${value.toFixed(0)} ms`;
const range = (s: Spread) => `${s.median.toFixed(0)} ms (${s.min.toFixed(0)}..${s.max.toFixed(0)})`;

async function timed(times: number, work: () => Promise<unknown>): Promise<Spread> {
  const samples: number[] = [];
  for (let i = 0; i < times; i++) {
    const started = performance.now();
    await work();
    samples.push(performance.now() - started);
  }
  return spread(samples);
}

/**
 * A run log shaped like the issue measured: a plan of `tasks` tasks that all finish, and tool calls
 * and results (about 88% of the bytes) between LLM calls and log lines, `events` events in all.
 */
export function syntheticRun(runId: string, events: number, tasks = 20): string {
  const at = '2026-12-02T12:00:00.000Z';
  const lines: string[] = [];
  const push = (event: Record<string, unknown>) => lines.push(JSON.stringify({ ...event, seq: lines.length + 1, at, runId }));
  push({ type: 'run.created', goal: `Goal of ${runId}`, workspace: '/work/ws', config: { models: [], roles: {}, concurrency: 4, budgets: { onExceed: 'pause' } } });
  push({ type: 'run.status', status: 'planning' });
  const plan = { summary: 'p', tasks: Array.from({ length: tasks }, (_, i) => ({ id: `t${i}`, title: `Task ${i}`, description: 'd', role: 'implementer', dependsOn: [], acceptance: ['a'], files: [`src/f${i}.js`] })) };
  push({ type: 'plan.accepted', plan });
  push({ type: 'run.status', status: 'running' });
  const output = 'const value = compute(input); // a line of source code the agent read\n'.repeat(7);
  const perTask = Math.max(10, Math.floor((events - lines.length - tasks * 7) / tasks));
  for (let t = 0; t < tasks; t++) {
    const taskId = `t${t}`;
    const stepId = `${taskId}:implement@v1`;
    push({ type: 'task.status', taskId, status: 'ready' });
    push({ type: 'task.status', taskId, status: 'running' });
    push({ type: 'step.started', stepId, taskId, role: 'implementer', attempt: 1, model: 'm' });
    for (let i = 0; i < perTask; i++) {
      const slot = i % 10;
      const toolCallId = `${taskId}-${i}`;
      if (slot === 8) push({ type: 'llm.call', stepId, taskId, role: 'implementer', model: 'm', inputTokens: 1000, outputTokens: 100, cachedInputTokens: 0, usd: 0.001, latencyMs: 900, outcome: 'ok' });
      else if (slot === 9) push({ type: 'log', level: 'info', message: `step ${stepId} read a file` });
      else if (slot % 2 === 0) push({ type: 'tool.call', stepId, taskId, toolCallId, tool: 'read_file', input: JSON.stringify({ path: `src/f${i}.js` }) });
      else push({ type: 'tool.result', stepId, taskId, toolCallId, tool: 'read_file', ok: true, output });
    }
    push({ type: 'step.finished', stepId, taskId, role: 'implementer', ok: true, summary: 'done' });
    push({ type: 'task.status', taskId, status: 'awaiting-review' });
    push({ type: 'task.status', taskId, status: 'testing' });
    push({ type: 'task.status', taskId, status: 'done' });
  }
  return lines.join('\n') + '\n';
}

function enginePorts(root: string, workspace: NodeWorkspace): HostPorts {
  return { workspace, applier: new NodeEditApplier(root), testRunner: new NodeTestRunner(), clock: systemClock, secret: async () => undefined };
}

export async function statusOfLargeRun(quick: boolean): Promise<void> {
  const events = quick ? 30_000 : 100_000;
  const root = await mkdtemp(join(tmpdir(), 'sm-bench-read-'));
  const runsDir = join(root, '.software-maker', 'runs');
  const runId = '20261202-120000Z-big000';
  const runDir = join(runsDir, runId);
  await mkdir(runDir, { recursive: true });
  const text = syntheticRun(runId, events);
  await writeFile(join(runDir, 'events.jsonl'), text);
  const toolBytes = text.split('\n').filter((line) => line.startsWith('{"type":"tool.')).reduce((sum, line) => sum + line.length + 1, 0);
  console.log(`\nStatus of one run: ${events.toLocaleString('en')} events, ${(text.length / 1e6).toFixed(1)} MB, ${((100 * toolBytes) / text.length).toFixed(0)}% of the bytes tool events`);
  const check = foldEvents((await readLog(runDir)).events);
  if (check?.status !== 'running') throw new Error('the synthetic log does not fold');
  const engine = new Engine({ ports: enginePorts(root, await NodeWorkspace.open(root)), runsDir });
  console.log(`  whole log parsed and folded (before)      ${range(await timed(5, async () => foldEvents((await readLog(runDir)).events)))}`);
  console.log(`  no snapshot, tool payloads not parsed     ${range(await timed(5, () => readRunState(runDir)))}`);
  await readRunState(runDir, { rewrite: true });
  console.log(`  snapshot, nothing after it (getRun)       ${range(await timed(5, () => engine.getRun(runId)))}`);
  const tail = syntheticRun(runId, 2_000).split('\n').filter((line) => line.startsWith('{"type":"tool.'))
    .slice(0, 1_000)
    .map((line, i) => line.replace(/"seq":\d+/, `"seq":${check.lastSeq + i + 1}`));
  await writeFile(join(runDir, 'events.jsonl'), text + tail.join('\n') + '\n');
  console.log(`  snapshot + 1,000 events after it          ${range(await timed(5, () => readRunState(runDir)))}`);

  // Resume as `software-maker resume` does it (getRun, then resumeRun), timed until resumeRun has
  // handed back the run: lock taken, snapshot + tail folded, log open, "Resuming" logged, driver
  // started. Test detection, the test runs and model calls come after, and are not in the figure.
  const recordsDir = join(root, 'records');
  const adopter = new Engine({ ports: enginePorts(root, await NodeWorkspace.open(root)), runsDir, recordsDir });
  // A run is resumed only by the machine that owns it: adopting it reads the whole log once, and leaves a snapshot of all of it.
  await adopter.adoptRun(runId, (await adopter.describeRunOrigin(runId)).digest);
  const adopted = await readRunState(runDir);
  if (adopted?.source !== 'snapshot' || adopted.foldedEvents !== 0) throw new Error('adopting the run did not leave a snapshot of the whole log');
  const resumeTail = tail.map((line, i) => line.replace(/"seq":\d+/, `"seq":${adopted.state.lastSeq + i + 1}`));
  await appendFile(join(runDir, 'events.jsonl'), resumeTail.join('\n') + '\n');
  const logBytes = (await stat(join(runDir, 'events.jsonl'))).size;
  const resumes = async (snapshot: boolean): Promise<Spread> => {
    const samples: number[] = [];
    for (let i = 0; i < 5; i++) {
      // Every sample starts from the same disk: the adopted log and the 1,000-event tail, with the snapshot of the adopted log or none.
      await truncate(join(runDir, 'events.jsonl'), logBytes);
      if (snapshot) await writeRunSnapshot(runDir, adopted.state, adopted.coveredBytes);
      else await rm(join(runDir, 'snapshot.json'), { force: true });
      const resumer = new Engine({ ports: enginePorts(root, await NodeWorkspace.open(root)), runsDir, recordsDir });
      const started = performance.now();
      if (!(await resumer.getRun(runId))) throw new Error('the run is not there');
      await resumer.resumeRun(runId);
      samples.push(performance.now() - started);
      await resumer.dispose();
      const appended = (await readFile(join(runDir, 'events.jsonl'))).subarray(logBytes).toString('utf8');
      const from = Number(/Resuming the run from event (\d+)/.exec(appended)?.[1] ?? 0);
      if (from !== adopted.state.lastSeq + resumeTail.length) throw new Error(`the resume did not go on from the last event (${from})`);
    }
    return spread(samples);
  };
  const resume = await resumes(true);
  const goalMs = 300;
  const scale = quick ? ` (${events.toLocaleString('en')} events with --quick; the goal is for 100,000)` : '';
  console.log(`  resume, no snapshot (getRun folds it all) ${range(await resumes(false))}`);
  console.log(`  resume (snapshot + 1,000-event tail)      ${range(resume)}: CLI resume's getRun + resumeRun until the driver starts, before test detection and any model call${scale}`);
  console.log(`  ${resume.median <= goalMs ? 'PASS' : 'MISS'}  resume / ${goalMs} ms: ${(resume.median / goalMs).toFixed(2)} (goal <= 1)`);
  await rm(root, { recursive: true, force: true });
}

export async function listingRuns(quick: boolean): Promise<void> {
  const runs = quick ? 200 : 1_000;
  const eventsEach = 2_000;
  const root = await mkdtemp(join(tmpdir(), 'sm-bench-list-'));
  const runsDir = join(root, '.software-maker', 'runs');
  for (let r = 0; r < runs; r++) {
    const runId = `20261202-${String(r).padStart(6, '0')}Z-run${String(r).padStart(3, '0')}`;
    await mkdir(join(runsDir, runId), { recursive: true });
    await writeFile(join(runsDir, runId, 'events.jsonl'), syntheticRun(runId, eventsEach, 5));
  }
  console.log(`\nListing ${runs.toLocaleString('en')} runs of ${eventsEach.toLocaleString('en')} events each (CLI status, VS Code activation and tree)`);
  const engine = new Engine({ ports: enginePorts(root, await NodeWorkspace.open(root)), runsDir });
  const before = await timed(1, async () => {
    for (const runId of await readdir(runsDir)) foldEvents((await readLog(join(runsDir, runId))).events);
  });
  console.log(`  every log parsed and folded (before)      ${range(before)}`);
  console.log(`  first list (folds, writes snapshots)      ${range(await timed(1, () => engine.listRuns()))}`);
  console.log(`  later lists (snapshots)                   ${range(await timed(3, () => engine.listRuns()))}`);
  await rm(root, { recursive: true, force: true });
}

async function searchingFiles(quick: boolean): Promise<void> {
  const files = quick ? 5_000 : 20_000;
  const root = await mkdtemp(join(tmpdir(), 'sm-bench-search-'));
  for (let folder = 0; folder < files / 100; folder++) {
    const dir = join(root, 'src', `m${folder}`);
    await mkdir(dir, { recursive: true });
    await Promise.all(Array.from({ length: 100 }, (_, f) => writeFile(join(dir, `f${f}.js`), `// module ${folder}/${f}\n${'exports.value = compute(input);\n'.repeat(30)}${folder === 150 && f === 7 ? 'const RARE_NEEDLE = 1;\n' : ''}`)));
  }
  await writeFile(join(root, '.gitignore'), 'dist/\n');
  console.log(`\nsearch_text on ${files.toLocaleString('en')} files (100 hits at most)`);
  const scanning = await NodeWorkspace.open(root, { ripgrep: false });
  const withRipgrep = await NodeWorkspace.open(root, { ripgrep: 'rg' });
  for (const query of ['RARE_NEEDLE', 'compute(input)']) {
    const js = await timed(3, () => scanning.searchText(query, 100));
    const rg = await timed(3, () => withRipgrep.searchText(query, 100));
    console.log(`  "${query}": JavaScript scan ${range(js)}, ripgrep ${range(rg)}`);
  }
  await rm(root, { recursive: true, force: true });
}

export async function panelFirstRender(): Promise<void> {
  const events = largePanelRun(10_000);
  const plan = foldEvents(events)!.plan!;
  console.log(`\nPanel first render, node side: ${events.length.toLocaleString('en')} events, a ${plan.tasks.length}-task plan (the browser's own work: the next figures)`);
  const snapshotOf = (upTo: number): Snapshot => ({ runs: [], activeRunId: 'run-panel', activeLog: events.slice(0, upTo), canStartGoals: true });
  const fold = await timed(5, async () => new Store().loadSnapshot(snapshotOf(events.length)));
  const folded = foldEvents(events)!;
  const withState = await timed(5, async () => new Store().loadSnapshot({ ...snapshotOf(events.length), activeState: folded }));
  const chat = await timed(5, async () => {
    const state = foldEvents(events)!;
    for (const event of events) chatMessageOf(event, (taskId) => state.tasks[taskId]?.title);
  });
  const quickLayoutTime = await timed(5, async () => quickLayout(plan.tasks));
  const dagre = await timed(3, async () => layoutDag(plan.tasks));
  console.log(`  store folds the snapshot                  ${range(fold)}`);
  console.log(`  store takes the host's folded state       ${range(withState)}   (what panel.ts sends: the engine's state from its snapshot)`);
  console.log(`  chat messages of every event              ${range(chat)}`);
  console.log(`  plan layout on the first frame: linear    ${range(quickLayoutTime)}   (before: dagre ${range(dagre)}; now dagre only for plans <= ${DAGRE_MAX_TASKS} tasks, when idle)`);
  let perEvent = 0;
  let perFrame = 0;
  const frames: (() => void)[] = [];
  const unbatched = new Store();
  const batched = new Store({ frame: (flush) => frames.push(flush) });
  unbatched.loadSnapshot(snapshotOf(9_000));
  batched.loadSnapshot(snapshotOf(9_000));
  unbatched.subscribe(() => perEvent++);
  batched.subscribe(() => perFrame++);
  // A burst of 1,000 live events arriving between two frames.
  for (const event of events.slice(9_000)) {
    unbatched.receiveEvent('run-panel', event);
    batched.receiveEvent('run-panel', event);
  }
  for (const flush of frames.splice(0)) flush();
  console.log(`  renders for a burst of 1,000 live events  ${perFrame} (before: ${perEvent})`);
}

export async function readingCosts(quick: boolean): Promise<void> {
  console.log('\nReading runs and searching (issue 11: items 3-5)');
  await statusOfLargeRun(quick);
  await listingRuns(quick);
  await searchingFiles(quick);
  await panelFirstRender();
  await webviewFirstRender();
}

if (process.argv[1]?.endsWith('readingCosts.ts')) void readingCosts(process.argv.includes('--quick')).then(() => console.log(`\n  done (${ms(performance.now())})`));
