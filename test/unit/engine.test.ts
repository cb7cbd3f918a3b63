import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { access, appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Engine } from '../../src/core/engine';
import { RunLockedError } from '../../src/core/log/eventLog';
import type { TranscriptTurn } from '../../src/core/models/scripted';
import type { NewEvent } from '../../src/shared/events';
import { IllegalTransitionError } from '../../src/shared/lifecycle';
import { foldEvents } from '../../src/shared/runState';
import {
  CALCULATOR_TRANSCRIPT,
  calculatorWorkspace,
  fakeTestRunner,
  makeEngine,
  ofType,
  scriptedConfig,
  ScriptedReviewer,
  tapOutput,
  tempDir,
  writeTranscript,
} from './helpers';

const GOAL = 'Fix the failing calculator tests';

function nodeTestPasses(dir: string): boolean {
  return spawnSync(process.execPath, ['--test'], { cwd: dir, encoding: 'utf8' }).status === 0;
}

const onePlan = {
  summary: 'Fix add().',
  tasks: [{ id: 't1', title: 'Fix add()', description: 'Make add return a + b.', role: 'implementer', dependsOn: [], acceptance: ['add tests pass'], files: ['src/calc.js'] }],
};
const planTurn: TranscriptTurn = { role: 'planner', toolCalls: [{ tool: 'finish', input: onePlan }] };
const editAdd = (to: string, role = 'implementer'): TranscriptTurn => ({
  role,
  task: 't1',
  toolCalls: [{ tool: 'propose_edit', input: { path: 'src/calc.js', hunks: [{ search: 'return a - b;', replace: `return ${to};` }] } }],
});
const finish = (role: string, summary: string, expect?: string): TranscriptTurn => ({
  role,
  task: 't1',
  ...(expect ? { expect } : {}),
  toolCalls: [{ tool: 'finish', input: { summary } }],
});
const approve: TranscriptTurn = { role: 'reviewer', task: 't1', toolCalls: [{ tool: 'finish', input: { approved: true, summary: 'ok', issues: [] } }] };

// A wrong fix that breaks multiply() adds a failure the baseline did not have, so the gate blames the task.
const breakMultiply: TranscriptTurn = {
  role: 'implementer',
  task: 't1',
  toolCalls: [{ tool: 'propose_edit', input: { path: 'src/calc.js', hunks: [{ search: 'return a * b;', replace: 'return a * b + 1;' }] } }],
};

describe('engine: a whole run', function () {
  this.timeout(60_000);

  it('runs the recorded calculator goal to completion: parallel tasks, real edits, tests gate, all green', async () => {
    const ws = await calculatorWorkspace();
    assert.ok(!nodeTestPasses(ws), 'the sample starts with failing tests');
    const { engine, events, runsDir } = await makeEngine(ws);
    const handle = await engine.startRun(GOAL, scriptedConfig(CALCULATOR_TRANSCRIPT));
    const final = await handle.finished;
    assert.equal(final.status, 'completed', final.statusReason);
    assert.ok(nodeTestPasses(ws), 'the edits made the failing tests pass');
    assert.match(await readFile(join(ws, 'src/calc.js'), 'utf8'), /return a \+ b;/);
    await access(join(ws, 'test/multiply.test.js'));
    assert.match(await readFile(join(ws, 'README.md'), 'utf8'), /`add\(a, b\)` returns the sum/);

    // t1 and t2 have disjoint scopes and no dependency: both ran before either finished.
    const statusOf = ofType(events, 'task.status').map((e) => `${e.taskId}:${e.status}`);
    assert.ok(statusOf.indexOf('t2:running') < statusOf.indexOf('t1:done') && statusOf.indexOf('t1:running') < statusOf.indexOf('t2:done'));
    assert.ok(statusOf.indexOf('t3:running') > Math.max(statusOf.indexOf('t1:done'), statusOf.indexOf('t2:done')), 't3 waits for both');

    const phases = ofType(events, 'test.finished').map((e) => e.phase);
    assert.equal(phases[0], 'baseline');
    assert.equal(phases.at(-1), 'final');
    assert.equal(phases.filter((p) => p === 'task').length, 3);

    // The log on disk is the truth: folding it gives the state the engine reported.
    const fromDisk = foldEvents(await engine.readEvents(handle.runId))!;
    assert.equal(fromDisk.status, 'completed');
    assert.deepEqual(fromDisk.tasks, final.tasks);
    for (const artifact of ['plan.md', 'report.md', 'steps/t1.implement@v1.json', 'steps/t1.review@v1.json', 'steps/plan@v1.json']) {
      await access(join(runsDir, handle.runId, artifact));
    }
    assert.equal((await readFile(join(ws, '.software-maker/.gitignore'), 'utf8')).trim(), '*');
    const runs = await engine.listRuns();
    assert.equal(runs[0]!.id, handle.runId);
    assert.equal(runs[0]!.tasksDone, 3);
  });


  it('puts a task whose fixes keep failing in dead-letter and pauses the run for triage', async () => {
    const ws = await calculatorWorkspace();
    const transcript = await writeTranscript(ws, [
      planTurn,
      breakMultiply,
      finish('implementer', 'changed multiply'),
      { role: 'fixer', task: 't1', expect: 'multiply returns the product', toolCalls: [{ tool: 'propose_edit', input: { path: 'src/calc.js', hunks: [{ search: 'return a * b + 1;', replace: 'return a * b + 2;' }] } }] },
      finish('fixer', 'tried again'),
    ]);
    const { engine, events } = await makeEngine(ws);
    const final = await (await engine.startRun(GOAL, scriptedConfig(transcript, { maxFixAttempts: 1 }))).finished;
    assert.equal(final.status, 'paused');
    assert.match(final.statusReason!, /needs triage: t1 \(2 attempts failed; last: tests: new failing tests: multiply returns the product\)/);
    assert.equal(final.tasks.t1!.status, 'dead_letter');
    assert.equal(final.tasks.t1!.attempts, 2);
    assert.equal(final.finalTest, undefined, 'a paused run has not been judged yet');
    assert.deepEqual(ofType(events, 'step.started').map((e) => e.stepId), ['plan@v1', 't1:implement@v1', 't1:fix@v2']);
    assert.ok(!nodeTestPasses(ws));
  });

  it('never completes a run whose tests still fail, even when every task passed its gate', async () => {
    const ws = await calculatorWorkspace();
    // The edit leaves add() broken: only failures the baseline already had remain, so the task's gate
    // passes and the reviewer approves, but the final whole-suite gate refuses to call the run completed.
    const transcript = await writeTranscript(ws, [planTurn, editAdd('a - b - 0'), finish('implementer', 'tidied add'), approve]);
    const { engine } = await makeEngine(ws);
    const final = await (await engine.startRun(GOAL, scriptedConfig(transcript))).finished;
    assert.equal(final.tasks.t1!.status, 'done');
    assert.equal(final.status, 'failed');
    assert.match(final.statusReason!, /the tests still fail after all tasks: 2 failing: add returns the sum/);
  });

  it('hands the parsed failure to the fixer, which fixes it, and the run completes', async () => {
    const ws = await calculatorWorkspace();
    const transcript = await writeTranscript(ws, [
      planTurn,
      breakMultiply,
      finish('implementer', 'changed multiply'),
      // The fixer's prompt must carry the failing test's name, or this turn refuses to play.
      {
        role: 'fixer',
        task: 't1',
        expect: 'multiply returns the product',
        toolCalls: [{ tool: 'propose_edit', input: { path: 'src/calc.js', hunks: [{ search: 'return a - b;', replace: 'return a + b;' }, { search: 'return a * b + 1;', replace: 'return a * b;' }] } }],
      },
      finish('fixer', 'add adds and multiply multiplies'),
      approve,
    ]);
    const { engine } = await makeEngine(ws);
    const final = await (await engine.startRun(GOAL, scriptedConfig(transcript))).finished;
    assert.equal(final.status, 'completed', final.statusReason);
    assert.equal(final.tasks.t1!.attempts, 2);
    assert.ok(nodeTestPasses(ws));
  });

  it('returns a hunk that does not match to the agent with the mismatch, never rewriting the file', async () => {
    const ws = await calculatorWorkspace();
    const transcript = await writeTranscript(ws, [
      planTurn,
      { role: 'implementer', task: 't1', toolCalls: [{ tool: 'propose_edit', input: { path: 'src/calc.js', hunks: [{ search: 'return a minus b;', replace: 'return a + b;' }] } }] },
      { ...editAdd('a + b'), expect: 'return a minus b' },
      finish('implementer', 'fixed'),
      approve,
    ]);
    const { engine, events } = await makeEngine(ws);
    const final = await (await engine.startRun(GOAL, scriptedConfig(transcript))).finished;
    assert.equal(final.status, 'completed', final.statusReason);
    const failedEdit = ofType(events, 'tool.result').find((e) => e.tool === 'propose_edit' && !e.ok);
    assert.ok(failedEdit, 'the mismatch came back as a failed tool result');
    assert.match(failedEdit.output, /return a minus b/);
    assert.equal(final.tasks.t1!.attempts, 1, 'a hunk miss is corrected inside the turn, not as a failed attempt');
  });

  it('sends a rejection and its reason back to the agent, which revises', async () => {
    const ws = await calculatorWorkspace();
    const transcript = await writeTranscript(ws, [
      planTurn,
      editAdd('b + a'),
      finish('implementer', 'fixed'),
      { ...editAdd('a + b', 'fixer'), expect: 'please write a + b' },
      finish('fixer', 'as asked'),
      approve,
    ]);
    const reviewer = new ScriptedReviewer((request) =>
      request.files[0]!.after.includes('b + a') ? { accepted: [], reason: 'please write a + b' } : { accepted: request.files.map((f) => f.path) },
    );
    const { engine, events } = await makeEngine(ws, { reviewer });
    const final = await (await engine.startRun(GOAL, scriptedConfig(transcript, { autoApprove: false }))).finished;
    assert.equal(final.status, 'completed', final.statusReason);
    const decisions = ofType(events, 'edit.decided');
    assert.deepEqual(decisions.map((d) => [d.accepted.length, d.by]), [[0, 'user'], [1, 'user']]);
    assert.equal(reviewer.requests.length, 2);
    assert.match(await readFile(join(ws, 'src/calc.js'), 'utf8'), /return a \+ b;/);
  });

  it('repairs an invalid plan once, and fails clearly when the repair is invalid too', async () => {
    const cyclic = { summary: 's', tasks: [{ ...onePlan.tasks[0], dependsOn: ['t1'] }] };
    const ws = await calculatorWorkspace();
    const repaired = await writeTranscript(ws, [
      { role: 'planner', toolCalls: [{ tool: 'finish', input: cyclic }] },
      { role: 'planner', expect: 'depends on itself', toolCalls: [{ tool: 'finish', input: onePlan }] },
      editAdd('a + b'),
      finish('implementer', 'fixed'),
      approve,
    ]);
    const first = await makeEngine(ws);
    const ok = await (await first.engine.startRun(GOAL, scriptedConfig(repaired))).finished;
    assert.equal(ok.status, 'completed', ok.statusReason);
    assert.equal(ofType(first.events, 'plan.accepted')[0]!.repairs, 1);

    const ws2 = await calculatorWorkspace();
    const broken = await writeTranscript(ws2, [
      { role: 'planner', toolCalls: [{ tool: 'finish', input: cyclic }] },
      { role: 'planner', toolCalls: [{ tool: 'finish', input: { ...cyclic, tasks: [{ ...cyclic.tasks[0], role: 'wizard' }] } }] },
    ]);
    const second = await makeEngine(ws2);
    const failed = await (await second.engine.startRun(GOAL, scriptedConfig(broken))).finished;
    assert.equal(failed.status, 'failed');
    assert.match(failed.statusReason!, /still invalid after one repair attempt[\s\S]*unknown role "wizard"/);
    assert.equal(ofType(second.events, 'plan.rejected').length, 2);
  });

  it('fails with a clear message when no test command can be found', async () => {
    const ws = await tempDir();
    await writeFile(join(ws, 'notes.txt'), 'hello');
    const transcript = await writeTranscript(ws, [planTurn]);
    const { engine } = await makeEngine(ws);
    const final = await (await engine.startRun(GOAL, scriptedConfig(transcript))).finished;
    assert.equal(final.status, 'failed');
    assert.match(final.statusReason!, /No test command found.*testCommand/);
  });

  it('stops with the transcript mismatch when the model is asked for more than was recorded', async () => {
    const ws = await calculatorWorkspace();
    const transcript = await writeTranscript(ws, [planTurn]);
    const { engine } = await makeEngine(ws);
    const final = await (await engine.startRun(GOAL, scriptedConfig(transcript, { maxFixAttempts: 0 }))).finished;
    assert.equal(final.status, 'paused');
    assert.match(final.tasks.t1!.statusReason!, /no response left for implementer\/t1/);
  });
});

describe('engine: triage and loops', function () {
  this.timeout(60_000);

  const deadLetterTurns: TranscriptTurn[] = [planTurn, breakMultiply, finish('implementer', 'changed multiply')];

  async function deadLettered(extraTurns: TranscriptTurn[] = [], models?: { id: string; transcript: string }[]) {
    const ws = await calculatorWorkspace();
    const transcript = await writeTranscript(ws, [...deadLetterTurns, ...extraTurns]);
    const { engine, events } = await makeEngine(ws);
    const config = scriptedConfig(transcript, { maxFixAttempts: 0 });
    const withModels = models ? { ...config, models: [...config.models, ...models.map((m) => ({ id: m.id, provider: 'scripted' as const, transcript: m.transcript }))] } : config;
    const handle = await engine.startRun(GOAL, withModels);
    const paused = await handle.finished;
    assert.equal(paused.status, 'paused');
    assert.equal(paused.tasks.t1!.status, 'dead_letter');
    return { ws, engine, events, runId: handle.runId };
  }

  it('retries a dead-lettered task with another model, gives it fresh attempts, and completes', async () => {
    const ws0 = await tempDir();
    const strong = await writeTranscript(ws0, [
      { role: 'fixer', task: 't1', expect: 'multiply returns the product', toolCalls: [{ tool: 'propose_edit', input: { path: 'src/calc.js', hunks: [{ search: 'return a - b;', replace: 'return a + b;' }, { search: 'return a * b + 1;', replace: 'return a * b;' }] } }] },
      finish('fixer', 'fixed both'),
    ]);
    // The reviewer keeps its own chain: only the task's attempts use the pinned model.
    const { ws, engine, events, runId } = await deadLettered([approve], [{ id: 'strong', transcript: strong }]);
    // A fresh engine, as after a window reload: the paused run is resumed by the decision.
    const again = await makeEngine(ws);
    const final = await (await again.engine.triageTask(runId, 't1', { kind: 'retry', model: 'strong' })).finished;
    assert.equal(final.status, 'completed', final.statusReason);
    assert.equal(final.tasks.t1!.modelOverride, 'strong');
    assert.equal(final.tasks.t1!.attempts, 2);
    const retried = ofType(again.events, 'step.started').find((e) => e.stepId === 't1:fix@v2');
    assert.equal(retried?.model, 'strong');
    assert.ok(nodeTestPasses(ws));
    void engine;
    void events;
  });

  it('refuses triage that does not apply, without touching the run', async () => {
    const { engine, runId } = await deadLettered();
    await assert.rejects(engine.triageTask(runId, 't9', { kind: 'skip' }), /has no task "t9"/);
    await assert.rejects(engine.triageTask(runId, 't1', { kind: 'retry', model: 'nope' }), /Model "nope" is not configured/);
    const state = await engine.getRun(runId);
    assert.equal(state!.status, 'paused');
    assert.deepEqual(engine.activeRunIds(), []);
  });

  it('skips a dead letter (and what depends on it), or takes it over by hand', async () => {
    const twoTasks = {
      summary: 's',
      tasks: [
        onePlan.tasks[0],
        { id: 't2', title: 'Docs', description: 'd', role: 'docs', dependsOn: ['t1'], acceptance: ['a'], files: ['README.md'] },
      ],
    };
    const ws = await calculatorWorkspace();
    const transcript = await writeTranscript(ws, [{ role: 'planner', toolCalls: [{ tool: 'finish', input: twoTasks }] }, breakMultiply, finish('implementer', 'x')]);
    const first = await makeEngine(ws);
    const handle = await first.engine.startRun(GOAL, scriptedConfig(transcript, { maxFixAttempts: 0 }));
    const paused = await handle.finished;
    assert.equal(paused.tasks.t2!.status, 'pending', 'the dependent waits for the decision');
    const skipped = await (await first.engine.triageTask(handle.runId, 't1', { kind: 'skip' })).finished;
    assert.equal(skipped.tasks.t1!.status, 'skipped');
    assert.equal(skipped.tasks.t2!.status, 'skipped');
    assert.equal(skipped.status, 'failed', 'the tests still fail, so the run cannot complete');

    const { engine, runId } = await deadLettered();
    const taken = await (await engine.triageTask(runId, 't1', { kind: 'takeOver' })).finished;
    assert.equal(taken.tasks.t1!.status, 'done');
    assert.equal(taken.tasks.t1!.statusReason, 'done by hand');
  });

  it('stops a task whose agent repeats the same tool call, with the explanation', async () => {
    const ws = await calculatorWorkspace();
    const read = { role: 'implementer', task: 't1', toolCalls: [{ tool: 'read_file', input: { path: 'src/calc.js' } }] };
    const transcript = await writeTranscript(ws, [planTurn, read, read, read, read]);
    const { engine, events } = await makeEngine(ws);
    const final = await (await engine.startRun(GOAL, scriptedConfig(transcript, { loopThreshold: 3 }))).finished;
    assert.equal(final.tasks.t1!.status, 'dead_letter');
    assert.match(final.tasks.t1!.statusReason!, /stopped: .*read_file.*3 times/);
    const loop = ofType(events, 'loop.detected')[0]!;
    assert.equal(loop.kind, 'tool-call');
    assert.equal(loop.count, 3);
    assert.equal(ofType(events, 'step.started').filter((e) => e.taskId === 't1').length, 1, 'no fix attempt after a loop');
  });

  it('tells the fixer to change strategy after the same failure twice, and stops at the threshold', async () => {
    const ws = await calculatorWorkspace();
    const sameBreak = (n: number, expect?: string): TranscriptTurn => ({
      role: 'fixer',
      task: 't1',
      ...(expect ? { expect } : {}),
      toolCalls: [{ tool: 'propose_edit', input: { path: 'src/calc.js', hunks: [{ search: `return a * b + ${n};`, replace: `return a * b + ${n + 1};` }] } }],
    });
    const transcript = await writeTranscript(ws, [
      planTurn,
      breakMultiply,
      finish('implementer', 'x'),
      sameBreak(1, 'This is attempt 2'),
      finish('fixer', 'y'),
      sameBreak(2, 'Take a different approach'),
      finish('fixer', 'z'),
    ]);
    const { engine, events } = await makeEngine(ws);
    const final = await (await engine.startRun(GOAL, scriptedConfig(transcript, { maxFixAttempts: 5, loopThreshold: 3 }))).finished;
    assert.equal(final.tasks.t1!.status, 'dead_letter');
    assert.equal(final.tasks.t1!.attempts, 3, 'stopped after three identical failures, not after six attempts');
    assert.match(final.tasks.t1!.statusReason!, /the same failure 3 times in a row/);
    assert.equal(ofType(events, 'loop.detected')[0]!.kind, 'same-failure');
  });
});

describe('engine: interruption and resume', function () {
  this.timeout(60_000);

  const transcriptTurns: TranscriptTurn[] = [planTurn, editAdd('a + b'), finish('implementer', 'fixed'), approve];

  it('resumes a run after the process stopped mid-review, recognising an edit applied but not logged', async () => {
    const ws = await calculatorWorkspace();
    const transcript = await writeTranscript(ws, transcriptTurns);
    const blocking = new ScriptedReviewer();
    const first = await makeEngine(ws, { reviewer: blocking });
    const handle = await first.engine.startRun(GOAL, scriptedConfig(transcript, { autoApprove: false }));
    const pending = await blocking.next();
    assert.equal(pending.request.taskId, 't1');
    // The window closes: the engine stops driving without ending the run.
    await first.engine.dispose();
    const stopped = await handle.finished;
    assert.equal(stopped.status, 'running');
    assert.equal(stopped.tasks.t1!.status, 'awaiting-review');
    // The edit reached the disk but the process died before logging it.
    await writeFile(join(ws, 'src/calc.js'), pending.request.files[0]!.after);
    // …and the last log line was cut off mid-write.
    await appendFile(join(ws, '.software-maker/runs', handle.runId, 'events.jsonl'), '{"type":"log","seq":99,');

    const second = await makeEngine(ws);
    const resumed = await (await second.engine.resumeRun(handle.runId)).finished;
    assert.equal(resumed.status, 'completed', resumed.statusReason);
    const applied = ofType(second.events, 'edit.applied');
    assert.deepEqual(applied.map((e) => e.alreadyApplied), [['src/calc.js']], 'recognised by content hash, not applied twice');
    assert.ok(ofType(second.events, 'log').some((e) => e.level === 'warn' && /torn last line/.test(e.message)));
    assert.ok(nodeTestPasses(ws));
    const log = foldEvents(await second.engine.readEvents(handle.runId))!;
    assert.equal(log.status, 'completed', 'the resumed log folds cleanly from its first event');
  });

  it('re-runs a step that was in flight when the process stopped, with the same attempt number', async () => {
    const ws = await calculatorWorkspace();
    const transcript = await writeTranscript(ws, transcriptTurns);
    // The test runner blocks the baseline until we stop the engine: the run is mid-planning.
    let release: () => void = () => undefined;
    const blockedRunner = { run: () => new Promise<never>((_resolve, reject) => (release = () => reject(new Error('stopped')))) };
    const first = await makeEngine(ws, { testRunner: blockedRunner });
    const handle = await first.engine.startRun(GOAL, scriptedConfig(transcript));
    while (!first.events.some((e) => e.type === 'test.started')) await new Promise((r) => setTimeout(r, 5));
    const disposing = first.engine.dispose();
    release();
    await disposing;
    assert.equal((await handle.finished).status, 'planning');
    const second = await makeEngine(ws);
    const resumed = await (await second.engine.resumeRun(handle.runId)).finished;
    assert.equal(resumed.status, 'completed', resumed.statusReason);
    assert.deepEqual(ofType(second.events, 'step.started').map((e) => e.stepId), ['plan@v1', 't1:implement@v1', 't1:review@v1']);
  });

  it('never lets two engines drive one run', async () => {
    const ws = await calculatorWorkspace();
    const transcript = await writeTranscript(ws, transcriptTurns);
    const blocking = new ScriptedReviewer();
    const first = await makeEngine(ws, { reviewer: blocking });
    const handle = await first.engine.startRun(GOAL, scriptedConfig(transcript, { autoApprove: false }));
    await blocking.next();
    const second = await makeEngine(ws);
    await assert.rejects(second.engine.resumeRun(handle.runId), RunLockedError);
    assert.equal(await first.engine.cancelRun(handle.runId), true);
    const final = await handle.finished;
    assert.equal(final.status, 'cancelled');
    await assert.rejects(second.engine.resumeRun(handle.runId), /already ended \(cancelled\)/);
  });

  it('gates tasks against the baseline: old failures are not blamed, new ones are', async () => {
    const ws = await calculatorWorkspace();
    const transcript = await writeTranscript(ws, [planTurn, editAdd('a + b'), finish('implementer', 'x'), approve]);
    // Baseline: one old failure. Task run: the old one plus a new one. Fix attempt: none would help (maxFixAttempts 0).
    const runner = fakeTestRunner((call) => (call === 1 ? { exitCode: 1, output: tapOutput(2, ['old']) } : { exitCode: 1, output: tapOutput(1, ['old', 'brand new']) }));
    const { engine } = await makeEngine(ws, { testRunner: runner });
    const final = await (await engine.startRun(GOAL, scriptedConfig(transcript, { maxFixAttempts: 0 }))).finished;
    assert.equal(final.tasks.t1!.status, 'dead_letter');
    assert.match(final.tasks.t1!.statusReason!, /new failing tests: brand new/);
    assert.equal(final.status, 'paused');

    const ws2 = await calculatorWorkspace();
    const transcript2 = await writeTranscript(ws2, [planTurn, editAdd('a + b'), finish('implementer', 'x'), approve]);
    const lenient = fakeTestRunner((call) => (call < 3 ? { exitCode: 1, output: tapOutput(2, ['old']) } : { exitCode: 0, output: tapOutput(3, []) }));
    const second = await makeEngine(ws2, { testRunner: lenient });
    const ok = await (await second.engine.startRun(GOAL, scriptedConfig(transcript2))).finished;
    assert.equal(ok.tasks.t1!.status, 'done');
    assert.equal(ok.status, 'completed');
  });
});

describe('engine: appending to a run no driver holds', function () {
  this.timeout(60_000);

  // Replays, adoption notes and rollbacks append through the engine's private withRunLog.
  type WithRunLog = (runId: string, access: { own?: boolean }, work: (session: { emit: (event: NewEvent) => void }) => Promise<void>) => Promise<void>;
  const withRunLog = (engine: Engine): WithRunLog => (engine as unknown as { withRunLog: WithRunLog }).withRunLog.bind(engine);

  it('refuses an illegal transition before it is written, and releases the run', async () => {
    const ws = await calculatorWorkspace();
    const transcript = await writeTranscript(ws, [planTurn, editAdd('a + b'), finish('implementer', 'x'), approve]);
    const { engine, runsDir } = await makeEngine(ws, { testRunner: fakeTestRunner(() => ({ exitCode: 0, output: tapOutput(3, []) })) });
    const handle = await engine.startRun(GOAL, scriptedConfig(transcript));
    assert.equal((await handle.finished).status, 'completed');
    const logFile = join(runsDir, handle.runId, 'events.jsonl');
    const before = await readFile(logFile, 'utf8');

    const illegal: NewEvent[] = [
      { type: 'run.status', status: 'running', reason: 'back from the dead' },
      { type: 'task.status', taskId: 't1', status: 'running' },
      { type: 'task.status', taskId: 'no-such-task', status: 'done' },
    ];
    for (const event of illegal) {
      await assert.rejects(withRunLog(engine)(handle.runId, { own: true }, async ({ emit }) => emit(event)), IllegalTransitionError);
      assert.equal(await readFile(logFile, 'utf8'), before, `${event.type} was not written`);
    }

    // The lock was released each time, and a legal event still goes in after the refused ones.
    await withRunLog(engine)(handle.runId, { own: true }, async ({ emit }) => emit({ type: 'log', level: 'info', message: 'a note after the refusals' }));
    const after = foldEvents(await engine.readEvents(handle.runId))!;
    assert.equal(after.status, 'completed');
    assert.equal(after.tasks.t1!.status, 'done');
    assert.equal(after.lastSeq, foldEvents(before.trim().split('\n').map((line) => JSON.parse(line)))!.lastSeq + 1);
  });
});
