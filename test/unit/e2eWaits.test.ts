// The e2e harness's waits (test/harness/workbench.ts): they go on while what they watch progresses
// (a busy machine is slow, not stuck), give up when it stalls, and then say which step waited for
// what, how long, and what it last saw. Plain Node: these helpers need no browser.
import * as assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { runEndedOtherwise, runLogProgress, setCurrentStep, waitUntil } from '../harness/workbench';
import { tempDir } from './helpers';

/** Writes a run log of `events` into `workspace` (runs are named by their start, so the last name is the newest run). */
async function writeRun(workspace: string, run: string, events: readonly object[]): Promise<void> {
  await mkdir(path.join(workspace, '.software-maker', 'runs', run), { recursive: true });
  await writeFile(path.join(workspace, '.software-maker', 'runs', run, 'events.jsonl'), events.map((event) => `${JSON.stringify(event)}\n`).join(''));
}

/** Just enough of a Playwright page for the helpers that read the workbench's folder from its URL. */
function pageOn(workspace: string): Page {
  return { url: () => `http://127.0.0.1:1234/?folder=${encodeURIComponent(workspace)}` } as unknown as Page;
}

describe('e2e harness waits', () => {
  afterEach(() => setCurrentStep('(outside a step)'));

  it('goes on past its timeout while its progress signal keeps changing, and returns what the probe found', async () => {
    const started = Date.now();
    let ticks = 0;
    const value = await waitUntil(async () => (Date.now() - started > 700 ? 'done' : undefined), 'the slow condition', {
      timeout: 200,
      interval: 20,
      progress: async () => String((ticks += 1)),
    });
    assert.equal(value, 'done');
    assert.ok(Date.now() - started >= 700);
  });

  it('gives up when its progress signal stops changing for the timeout, naming the step, what it waited for and what it last saw', async () => {
    setCurrentStep('the panel shows the run completed');
    const started = Date.now();
    await assert.rejects(
      waitUntil(async () => undefined, 'the panel run status "completed"', {
        timeout: 200,
        limit: 60_000,
        interval: 20,
        progress: async () => 'run r1: 12 events, last "task.status t2 testing"',
        observe: async () => 'run status "running"',
      }),
      (error: Error) => {
        assert.equal(error.name, 'ExpectationError');
        assert.match(error.message, /^Step "the panel shows the run completed" gave up waiting for the panel run status "completed" after \d+ s: nothing progressed for 0\.2 s\./);
        assert.match(error.message, /\nLast seen: run status "running"/);
        assert.match(error.message, /\nLast progress: run r1: 12 events, last "task\.status t2 testing"/);
        return true;
      },
    );
    assert.ok(Date.now() - started < 5_000, 'gave up soon after the stall, far before its limit');
  });

  it('gives up at its limit even while it progresses, saying so', async () => {
    let ticks = 0;
    await assert.rejects(
      waitUntil(async () => undefined, 'a run that never ends', { timeout: 200, limit: 400, interval: 20, progress: async () => String((ticks += 1)) }),
      /gave up waiting for a run that never ends after \d+ s: it reached its limit of 0\.4 s\./,
    );
  });

  it('reports the last error the probe threw', async () => {
    await assert.rejects(
      waitUntil(
        async () => {
          throw new Error('Expected one run log (events.jsonl) in /ws, found runs []');
        },
        'the run log',
        { timeout: 100, interval: 20 },
      ),
      /its timeout of 0\.1 s passed\.\nLast error: Expected one run log/,
    );
  });

  it("reads a run's progress from the newest events.jsonl of the workspace", async () => {
    const workspace = await tempDir('sm-waits-');
    try {
      assert.equal(await runLogProgress(workspace), '(no run log yet)');
      await writeRun(workspace, '20260101-000000Z-aaaaaa', [{ seq: 1, type: 'run.created' }]);
      await writeRun(workspace, '20260101-000100Z-bbbbbb', [{ seq: 1, type: 'run.created' }, { seq: 2, type: 'task.status', taskId: 't1', status: 'running' }]);
      assert.equal(await runLogProgress(workspace), 'run 20260101-000100Z-bbbbbb: 2 events, last "task.status t1 running"');
    } finally {
      await rm(workspace, { recursive: true, force: true });
    }
  });

  it('a wait for "completed" stops early once the run has ended "failed", with the reason the run logged', async () => {
    const workspace = await tempDir('sm-waits-');
    try {
      await writeRun(workspace, '20260101-000000Z-aaaaaa', [
        { seq: 1, type: 'run.status', status: 'running' },
        { seq: 2, type: 'run.status', status: 'failed', reason: 'The edit of src/calc.js could not be saved' },
      ]);
      const started = Date.now();
      await assert.rejects(
        waitUntil(async () => undefined, 'the status bar to say "completed"', { timeout: 60_000, interval: 20, hopeless: runEndedOtherwise(pageOn(workspace), 'completed', 100) }),
        /stopped waiting for the status bar to say "completed" after \d+ s: the run ended "failed" \(The edit of src\/calc\.js could not be saved\), not "completed"\./,
      );
      assert.ok(Date.now() - started < 5_000, 'far before the timeout');
    } finally {
      await rm(workspace, { recursive: true, force: true });
    }
  });

  it('a run that is still going, or ended as wanted, is not hopeless', async () => {
    const workspace = await tempDir('sm-waits-');
    try {
      const hopeless = runEndedOtherwise(pageOn(workspace), 'completed', 0);
      assert.equal(await hopeless(), undefined, 'no run yet');
      await writeRun(workspace, '20260101-000000Z-aaaaaa', [{ seq: 1, type: 'run.status', status: 'paused', reason: 'needs triage: t1' }]);
      assert.equal(await hopeless(), undefined, 'paused: a resume may follow');
      assert.equal(await hopeless(), undefined);
      await writeRun(workspace, '20260101-000000Z-aaaaaa', [{ seq: 1, type: 'run.status', status: 'completed' }]);
      assert.equal(await hopeless(), undefined);
      assert.equal(await hopeless(), undefined);
    } finally {
      await rm(workspace, { recursive: true, force: true });
    }
  });
});
