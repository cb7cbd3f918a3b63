// Attacks through replays: a replay must never change a task's state (attempts, status), and the
// next real attempt after one must not reuse a step id (and overwrite a record).
import { strict as assert } from 'node:assert';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Engine } from '../../src/core/engine';
import { stepRecordName } from '../../src/core/run/replay';
import { loadTranscript, ScriptedModel, type TranscriptTurn } from '../../src/core/models/scripted';
import { resolveRunConfig } from '../../src/core/config';
import { foldEvents } from '../../src/shared/runState';
import { CALCULATOR_TRANSCRIPT, makeEngine, makePorts, ofType, scriptedConfig, tempDir, writeTranscript } from '../unit/helpers';
import { hostileWorkspace } from './support';

const GOAL = 'Fix the failing calculator tests';

const plan: TranscriptTurn = {
  role: 'planner',
  toolCalls: [
    {
      tool: 'finish',
      input: {
        summary: 'Fix multiply().',
        tasks: [{ id: 't1', title: 'Touch multiply()', description: 'Change multiply.', role: 'implementer', dependsOn: [], acceptance: ['tests pass'], files: ['src/calc.js'] }],
      },
    },
  ],
};

function edit(role: string, search: string, replace: string, extra: { search: string; replace: string }[] = []): TranscriptTurn {
  return { role, task: 't1', toolCalls: [{ tool: 'propose_edit', input: { path: 'src/calc.js', hunks: [{ search, replace }, ...extra] } }] };
}
const done = (role: string): TranscriptTurn => ({ role, task: 't1', toolCalls: [{ tool: 'finish', input: { summary: `${role} changed calc.js` } }] });

describe('attacks through replays', function () {
  this.timeout(120_000);

  it('replaying a fix attempt of a dead-lettered task: attempts and status stay, and the retry after it gets a fresh step id', async () => {
    const ws = await hostileWorkspace();
    // Three attempts break multiply() (dead letter after 1 + 2 fix attempts); the fourth (after the
    // retry) fixes multiply() and add().
    const transcript = await writeTranscript(ws, [
      plan,
      edit('implementer', 'return a * b;', 'return a * b + 1;'),
      done('implementer'),
      edit('fixer', 'return a * b + 1;', 'return a * b - 1;'),
      done('fixer'),
      edit('fixer', 'return a * b - 1;', 'return a * b - 2;'),
      done('fixer'),
      edit('fixer', 'return a * b - 2;', 'return a * b;', [{ search: 'return a - b;', replace: 'return a + b;' }]),
      done('fixer'),
    ]);
    const { engine, runsDir } = await makeEngine(ws);
    const config = scriptedConfig(transcript, { reviewGate: false, maxFixAttempts: 2 });
    const handle = await engine.startRun(GOAL, config);
    const paused = await handle.finished;
    assert.equal(paused.status, 'paused', paused.statusReason);
    assert.equal(paused.tasks.t1!.status, 'dead_letter');
    assert.equal(paused.tasks.t1!.attempts, 3);
    const runDir = join(runsDir, handle.runId);
    const startedBefore = new Set(ofType(await engine.readEvents(handle.runId), 'step.started').map((event) => event.stepId));
    const v3Before = await readFile(join(runDir, stepRecordName('t1:fix@v3')), 'utf8');

    const replay = await engine.replayStep(handle.runId, 't1:fix@v2');
    assert.equal(replay.ok, true, replay.summary);
    const afterReplay = (await engine.getRun(handle.runId))!;
    assert.equal(afterReplay.tasks.t1!.attempts, 3, 'a replay does not rewind the attempts');
    assert.equal(afterReplay.tasks.t1!.status, 'dead_letter', 'a replay does not change the status');
    assert.equal(afterReplay.status, 'paused');
    const replayRecord = await readFile(join(runDir, replay.artifact), 'utf8');

    const final = await (await engine.triageTask(handle.runId, 't1', { kind: 'retry' })).finished;
    assert.equal(final.status, 'completed', final.statusReason);
    assert.equal(final.tasks.t1!.attempts, 4);
    const events = await engine.readEvents(handle.runId);
    const retryStep = ofType(events, 'step.started').filter((event) => event.taskId === 't1' && event.attempt === 4);
    assert.equal(retryStep.length, 1);
    const retryId = retryStep[0]!.stepId;
    assert.ok(!startedBefore.has(retryId) && retryId !== replay.replayId, `the retry's step id ${retryId} was used before`);
    assert.equal(await readFile(join(runDir, stepRecordName('t1:fix@v3')), 'utf8'), v3Before, 'the record of attempt 3 is intact');
    assert.equal(await readFile(join(runDir, replay.artifact), 'utf8'), replayRecord, 'the replay record is intact');
    // The fold of the whole log agrees with what the driver saw.
    assert.equal(foldEvents(events)!.tasks.t1!.attempts, 4);
  });

  it('replaying a step of a vscode-lm model uses the host models (inside VS Code)', async () => {
    const ws = await hostileWorkspace();
    const transcript = await loadTranscript(CALCULATOR_TRANSCRIPT);
    const ports = await makePorts(ws);
    const engine = new Engine({
      ports,
      runsDir: join(ws, '.software-maker', 'runs'),
      recordsDir: await tempDir('sm-records-'),
      hostModels: async () => new ScriptedModel('copilot', transcript),
    });
    const config = resolveRunConfig({ models: [{ id: 'copilot', provider: 'vscode-lm', vendor: 'copilot' }], autoApprove: true });
    const handle = await engine.startRun(GOAL, config);
    assert.equal((await handle.finished).status, 'completed');
    const replay = await engine.replayStep(handle.runId, 't1:implement@v1');
    assert.equal(replay.ok, true, replay.summary);
    assert.equal(replay.record.model, 'copilot');
  });
});
