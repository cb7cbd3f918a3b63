import { strict as assert } from 'node:assert';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ConcurrentRunError, Engine, ForeignRunError, RollbackRefusedError } from '../../src/core/engine';
import { RunLock } from '../../src/core/log/eventLog';
import { trustDigest, TrustRecords, trustSurfaceOf } from '../../src/core/trust';
import type { HostPorts } from '../../src/core/ports';
import { CALCULATOR_TRANSCRIPT, calculatorWorkspace, makePorts, scriptedConfig, tempDir } from './helpers';

const GOAL = 'Fix the failing calculator tests';

describe('what needs trust (core/trust.ts)', () => {
  it('lists every endpoint with its key variable, transcript, command and auto-approval verbatim; harmless settings need none', () => {
    const lines = trustSurfaceOf({
      models: [
        { id: 'team', provider: 'openai-compatible', model: 'm', baseURL: 'https://evil.example/v1', apiKeyName: 'OPENAI_API_KEY' },
        { id: 'ds', provider: 'openai-compatible', model: 'deepseek-chat', preset: 'deepseek' },
        { id: 'oa', provider: 'openai', model: 'gpt-5.4' },
        { id: 's', provider: 'scripted', transcript: '/tmp/t.json' },
      ],
      testCommand: 'touch PWNED',
      testTaskLabel: 'test all',
      autoApprove: true,
      concurrency: 7,
      budgets: { onExceed: 'pause', run: { usd: 1 } },
    });
    assert.deepEqual(lines, [
      'model "team": openai-compatible "m" at https://evil.example/v1, key from OPENAI_API_KEY',
      'model "ds": openai-compatible "deepseek-chat" at https://api.deepseek.com/v1, key from DEEPSEEK_API_KEY',
      'model "oa": openai "gpt-5.4" at https://api.openai.com/v1, key from OPENAI_API_KEY',
      'model "s": scripted transcript /tmp/t.json',
      'test command: touch PWNED',
      'test task (tasks.json label): test all',
      'autoApprove: every proposed edit is applied without review',
    ]);
    assert.deepEqual(trustSurfaceOf({ concurrency: 2, maxFixAttempts: 1, budgets: { onExceed: 'stop' }, reviewGate: false }), []);
    assert.match(trustSurfaceOf({ models: [{ id: 'x', provider: 'wizard' } as never] })[0]!, /not valid.*"provider":"wizard"/);
  });

  it('remembers a decision on disk per subject and digest, so any change to what was shown is a new question', async () => {
    const dir = await tempDir('sm-records-');
    const digest = trustDigest(['model "a": openai "x" at https://api.openai.com/v1, key from OPENAI_API_KEY']);
    await new TrustRecords(dir).remember('workspace-config', '/ws', digest);
    const later = new TrustRecords(dir);
    assert.equal(await later.has('workspace-config', '/ws', digest), true, 'another process reads it');
    assert.equal(await later.has('workspace-config', '/ws', trustDigest(['something else'])), false);
    assert.equal(await later.has('workspace-config', '/other', digest), false, 'keyed by workspace');
    assert.equal(await later.has('run', '/ws', digest), false, 'and by kind');
    const memory = new TrustRecords(undefined);
    await memory.remember('run', 'r1', 'd');
    assert.equal(await memory.has('run', 'r1', 'd'), true);
    assert.equal(await new TrustRecords(undefined).has('run', 'r1', 'd'), false, 'without a folder it lasts as long as the object');
  });
});

describe('runs of this machine and runs from elsewhere (engine)', function () {
  this.timeout(120_000);

  async function engineFor(ws: string, recordsDir: string, overrides: Partial<HostPorts> = {}): Promise<Engine> {
    return new Engine({ ports: await makePorts(ws, overrides), runsDir: join(ws, '.software-maker', 'runs'), recordsDir });
  }

  it('a run is its own machine\'s: another machine sees it read-only until it adopts exactly what it was shown', async () => {
    const ws = await calculatorWorkspace();
    const here = await tempDir('sm-here-');
    const config = scriptedConfig(CALCULATOR_TRANSCRIPT, { maxAgentSteps: 1 });
    const first = await engineFor(ws, here);
    const handle = await first.startRun(GOAL, config);
    await handle.finished;
    const restarted = await engineFor(ws, here);
    assert.equal((await restarted.describeRunOrigin(handle.runId)).own, true, 'a restart on this machine finds its run');
    assert.equal((await restarted.listRuns())[0]!.foreign, undefined);

    const elsewhere = await engineFor(ws, await tempDir('sm-elsewhere-'));
    assert.equal((await elsewhere.listRuns())[0]!.foreign, true);
    assert.ok(await elsewhere.getRun(handle.runId), 'status still works');
    await assert.rejects(elsewhere.replayStep(handle.runId, 'plan@v1'), ForeignRunError);
    await assert.rejects(elsewhere.setBudgets(handle.runId, { onExceed: 'pause' }), ForeignRunError);
    await assert.rejects(elsewhere.triageTask(handle.runId, 't1', { kind: 'skip' }), ForeignRunError);
    const origin = await elsewhere.describeRunOrigin(handle.runId);
    assert.deepEqual(origin.uses, [`model "scripted": scripted transcript ${CALCULATOR_TRANSCRIPT}`, 'autoApprove: every proposed edit is applied without review']);
    await assert.rejects(elsewhere.adoptRun(handle.runId, 'not-what-was-shown'), /changed since it was shown/);
    await elsewhere.adoptRun(handle.runId, origin.digest);
    assert.equal((await elsewhere.describeRunOrigin(handle.runId)).own, true);
    assert.equal((await elsewhere.listRuns())[0]!.foreign, undefined);
  });

  it('starting a run while another run of the workspace holds a live lock asks first; no answer or "no" starts nothing', async () => {
    const ws = await calculatorWorkspace();
    const busy = join(ws, '.software-maker', 'runs', '20250101-000000Z-aaaaaa');
    await mkdir(busy, { recursive: true });
    const lock = await RunLock.acquire(busy);
    try {
      const questions: string[] = [];
      let answer = false;
      const engine = await engineFor(ws, await tempDir('sm-here-'), {
        confirm: async (question, detail) => {
          questions.push(`${question} ${detail}`);
          return answer;
        },
      });
      const config = scriptedConfig(CALCULATOR_TRANSCRIPT);
      await assert.rejects(engine.startRun(GOAL, config), (error: unknown) => error instanceof ConcurrentRunError && /20250101-000000Z-aaaaaa, pid \d+/.test(error.message));
      assert.match(questions[0] ?? '', /Another run of this workspace is in progress\. Start this one too\? run 20250101-000000Z-aaaaaa, pid/);
      assert.equal((await engine.listRuns()).length, 0, 'no run was created');
      const withCheckpoints = new Engine({ ports: await makePorts(ws), runsDir: join(ws, '.software-maker', 'runs'), storageDir: await tempDir('sm-storage-') });
      await assert.rejects(withCheckpoints.rollback('any'), (error: unknown) => error instanceof RollbackRefusedError && /in progress in another process \(run 20250101-000000Z-aaaaaa, pid \d+/.test(error.message));
      answer = true;
      const started = await engine.startRun(GOAL, config);
      await engine.cancelRun(started.runId);
      const silent = await engineFor(ws, await tempDir('sm-here-'));
      const allowed = await silent.startRun(GOAL, config, { allowConcurrent: true });
      await silent.cancelRun(allowed.runId);
      assert.equal(questions.length, 2, 'allowConcurrent does not ask');
    } finally {
      await lock.release();
    }
  });
});
