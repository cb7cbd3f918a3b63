import { strict as assert } from 'node:assert';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StepRecord } from '../../src/core/run/replay';
import type { TranscriptTurn } from '../../src/core/models/scripted';
import { foldEvents } from '../../src/shared/runState';
import { CALCULATOR_TRANSCRIPT, calculatorWorkspace, makeEngine, ofType, scriptedConfig, tempDir, writeTranscript } from './helpers';

const GOAL = 'Fix the failing calculator tests';

describe('step replay', function () {
  this.timeout(60_000);

  async function completedRun(extraModels: { id: string; turns: TranscriptTurn[] }[] = []) {
    const ws = await calculatorWorkspace();
    const base = scriptedConfig(CALCULATOR_TRANSCRIPT);
    const models = [...base.models];
    for (const extra of extraModels) models.push({ id: extra.id, provider: 'scripted', transcript: await writeTranscript(await tempDir(), extra.turns) });
    const { engine, events, runsDir } = await makeEngine(ws);
    const handle = await engine.startRun(GOAL, { ...base, models });
    assert.equal((await handle.finished).status, 'completed');
    return { ws, engine, events, runsDir, runId: handle.runId };
  }

  it('re-runs a step from its record as the next version, seeing the files as the step saw them, without touching the workspace', async () => {
    const { ws, engine, events, runsDir, runId } = await completedRun();
    const before = await readFile(join(ws, 'src/calc.js'), 'utf8');
    const result = await engine.replayStep(runId, 't1:implement@v1');
    assert.equal(result.replayId, 't1:implement@v2');
    assert.equal(result.ok, true, result.summary);
    assert.equal(result.artifact, 'steps/t1.implement@v2.json');
    const record = JSON.parse(await readFile(join(runsDir, runId, result.artifact), 'utf8')) as StepRecord;
    assert.equal(record.replayOf, 't1:implement@v1');
    // The file is already fixed on disk; the replay still sees add() as it was and proposes the same fix.
    assert.equal(record.edits?.length, 1);
    assert.match(record.edits![0]!.diff, /-  return a - b;\n\+  return a \+ b;/);
    assert.equal(record.diffFromOriginal?.includes('@@'), false, 'same model, same transcript: same output');
    assert.equal(await readFile(join(ws, 'src/calc.js'), 'utf8'), before, 'a replay never edits the workspace');
    await access(join(runsDir, runId, 'steps/t1.implement@v1.json'));
    const replayed = ofType(events, 'step.replayed');
    assert.deepEqual(replayed.map((e) => [e.stepId, e.artifact, e.ok]), [['t1:implement@v1', 'steps/t1.implement@v2.json', true]]);
    const log = foldEvents(await engine.readEvents(runId))!;
    assert.equal(log.status, 'completed', 'a replay adds to the log without changing the run');
    const again = await engine.replayStep(runId, 't1:implement@v1');
    assert.equal(again.replayId, 't1:implement@v3');
  });

  it('replays with another model and shows how its output differs', async () => {
    const { engine, runsDir, runId } = await completedRun([
      { id: 'other', turns: [{ role: 'reviewer', task: 't2', toolCalls: [{ tool: 'finish', input: { approved: false, summary: 'Needs a test for multiply(0, 0).', issues: ['cover 0 x 0'] } }] }] },
    ]);
    const result = await engine.replayStep(runId, 't2:review@v1', { model: 'other' });
    assert.equal(result.replayId, 't2:review@v2');
    const record = JSON.parse(await readFile(join(runsDir, runId, result.artifact), 'utf8')) as StepRecord;
    assert.equal(record.model, 'other');
    assert.match(record.diffFromOriginal!, /^-  "approved": true,$/m);
    assert.match(record.diffFromOriginal!, /^\+  "approved": false,$/m);
    assert.match(record.diffFromOriginal!, /^\+  "summary": "Needs a test for multiply\(0, 0\)\.",$/m);
  });

  it('explains an unknown step or model', async () => {
    const { engine, runId } = await completedRun();
    await assert.rejects(engine.replayStep(runId, 't9:implement@v1'), /Step t9:implement@v1 has no record in this run. Recorded steps: .*t1:implement@v1/);
    await assert.rejects(engine.replayStep(runId, 'nonsense'), /is not a step id/);
    await assert.rejects(engine.replayStep(runId, 't1:implement@v1', { model: 'gpt-x' }), /Model "gpt-x" is not configured/);
  });
});
