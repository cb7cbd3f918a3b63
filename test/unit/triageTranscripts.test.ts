// The e2e transcripts of test/e2e/triage.e2e.ts, run through the real engine on a copy of the
// calculator sample (real `node --test`): quick to fail here when a transcript or the engine changes,
// instead of minutes into the browser test.
import { strict as assert } from 'node:assert';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { calculatorWorkspace, makeEngine, ofType, REPO, scriptedConfig } from './helpers';

const GOAL = 'Fix the failing calculator tests';
const transcript = (name: string): string => join(REPO, 'test/fixtures/transcripts', `${name}.json`);

describe('e2e triage transcripts through the engine', function () {
  this.timeout(60_000);

  it('triage-fix: the first edit fails the tests, the fixer is told the failing test by name, the run completes', async () => {
    const ws = await calculatorWorkspace();
    const { engine, events, runsDir } = await makeEngine(ws);
    const final = await (await engine.startRun(GOAL, scriptedConfig(transcript('triage-fix'), { autoApprove: true, reviewGate: false }))).finished;
    assert.equal(final.status, 'completed', final.statusReason);
    assert.equal(final.tasks.t1!.attempts, 2);
    assert.deepEqual(final.tasks.t1!.failureSignatures.length, 1);
    const taskTests = ofType(events, 'test.finished').filter((event) => event.phase === 'task');
    assert.ok(taskTests.length >= 2, 'tests ran after each attempt');
    assert.ok(taskTests[0]!.report.failures.some((failure) => failure.name === 'multiply returns the product'));
    const fix = ofType(events, 'step.started').find((event) => event.role === 'fixer');
    assert.ok(fix, 'a fixer step ran');
    const record = JSON.parse(await readFile(join(runsDir, final.id, 'steps', `${fix.stepId.replace(':', '.')}.json`), 'utf8')) as { prompt: string };
    assert.match(record.prompt, /multiply returns the product/);
  });

  it('triage-dead-letter + triage-strong: dead-letter, then a retry with the second model completes', async () => {
    const ws = await calculatorWorkspace();
    const { engine } = await makeEngine(ws);
    const base = scriptedConfig(transcript('triage-dead-letter'), { autoApprove: true, reviewGate: false, maxFixAttempts: 0 });
    const config = { ...base, models: [...base.models, { id: 'strong', provider: 'scripted' as const, transcript: transcript('triage-strong') }] };
    const handle = await engine.startRun(GOAL, config);
    const paused = await handle.finished;
    assert.equal(paused.status, 'paused');
    assert.match(paused.statusReason ?? '', /^needs triage: t1/);
    assert.equal(paused.tasks.t1!.status, 'dead_letter');
    const final = await (await engine.triageTask(handle.runId, 't1', { kind: 'retry', model: 'strong' })).finished;
    assert.equal(final.status, 'completed', final.statusReason);
    assert.equal(final.tasks.t1!.modelOverride, 'strong');
  });
});
