// End to end, the fix loop and dead-letter triage in a real VS Code (code-server 4.117.0) driven by
// Playwright in Debian's Chromium, with the packaged VSIX, scripted models and auto-approved edits,
// on two copies of samples/calculator (one code-server, one window per copy):
//
//  (a) failing → fixed → green: t1's first edit fixes add() but breaks multiply(); the tests (a VS
//      Code task in the terminal) fail; the fixer, whose prompt must name the failing test (the
//      transcript's `expect`), fixes it; the tests pass; the run completes.
//  (b) dead-letter → triage: with no fix attempts allowed, t1 lands in dead-letter and the run pauses
//      ("needs triage"); the Runs tree and the panel show it with the triage actions; "Retry with
//      Another Model…" from the tree's context menu picks the second scripted model, whose fixer fixes
//      it, and the run completes.
//
//   npx mocha --import=tsx --timeout 900000 test/e2e/triage.e2e.ts
//
// Transcripts: test/fixtures/transcripts/triage-*.json. Screenshots: test-results/e2e-triage/NN-step.png.
import * as assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { FrameLocator, Page } from 'playwright-core';
import { repoRoot } from '../harness/codeServer';
import {
  RUN_TIMEOUT,
  STATUS_ITEM,
  STEP_TIMEOUT,
  TRANSCRIPTS,
  expectExtensionLoaded,
  nodeTest,
  openPanel,
  readRunLog,
  scriptedModel,
  startGoal,
  useScenario,
  type LoggedEvent,
} from '../harness/scenario';
import {
  expectVisible,
  openWorkbench,
  pickQuickInputRow,
  runContextMenuItem,
  showViewContainer,
  sidebarTreeRow,
  terminalNames,
  treeRowDescription,
  waitForStatusBarText,
  waitUntil,
} from '../harness/workbench';

const GOAL = 'Fix the failing calculator tests';
const TASK_ROW = 't1: Fix add()';
const FAILING_TEST = 'multiply returns the product';
const samplePath = path.join(repoRoot, 'samples', 'calculator');

/** Waits until the Software Maker status bar item names `status`; meanwhile records the test terminals shown. */
async function waitForRunStatus(page: Page, status: string, terminals: Set<string>): Promise<void> {
  await waitForStatusBarText(page, STATUS_ITEM, status, {
    timeout: RUN_TIMEOUT,
    interval: 400,
    whilePolling: async () => {
      for (const name of await terminalNames(page)) if (name.startsWith('Software Maker')) terminals.add(name);
    },
    observe: async () => `terminals ${JSON.stringify([...terminals])}`,
  });
}

/** The text of the panel's task details history rows of one kind. */
async function historyTexts(frame: FrameLocator, kind: string): Promise<string[]> {
  return frame.locator(`#task-history li[data-kind="${kind}"]`).allInnerTexts().catch(() => []);
}

describe('Software Maker end to end: fix loop and dead-letter triage', function () {
  this.timeout(20 * 60_000);

  const common = { 'softwareMaker.autoApprove': true, 'softwareMaker.reviewGate': false };
  const e2e = useScenario({
    artifactsDir: path.join(repoRoot, 'test-results', 'e2e-triage'),
    inputs: [
      ['the calculator sample', samplePath, 'samples/calculator'],
      ['the triage transcripts', path.join(TRANSCRIPTS, 'triage-fix.json'), 'test/fixtures/transcripts'],
    ],
    workspaces: {
      'fix-loop': {
        from: samplePath,
        settings: { ...common, 'softwareMaker.models': [scriptedModel(path.join(TRANSCRIPTS, 'triage-fix.json'))], 'softwareMaker.maxFixAttempts': 2 },
      },
      'dead-letter': {
        from: samplePath,
        settings: {
          ...common,
          'softwareMaker.models': [scriptedModel(path.join(TRANSCRIPTS, 'triage-dead-letter.json')), scriptedModel(path.join(TRANSCRIPTS, 'triage-strong.json'), 'strong')],
          'softwareMaker.maxFixAttempts': 0,
        },
      },
    },
    captureWebview: true,
  });
  const fixTerminals = new Set<string>();
  const triageTerminals = new Set<string>();

  describe('(a) failing → fixed → green', () => {
    it('starts the goal; the first edit fails the tests, the fixer fixes it, the run completes', async () => {
      const { page, shots } = e2e;
      const fixWorkspace = e2e.workspaces['fix-loop'];
      assert.notEqual(nodeTest(fixWorkspace).status, 0, 'the sample starts with failing tests');
      await openWorkbench(page, e2e.server.workbenchUrl(fixWorkspace));
      await expectExtensionLoaded(page);
      await shots.take('a-workbench');
      await startGoal(page, GOAL);
      await shots.take('a-goal-started');
      await waitForRunStatus(page, 'completed', fixTerminals);
      await shots.take('a-run-completed');
    });

    it('ran the tests as a VS Code task after each attempt: failed with the new failure, then passed', async () => {
      const fixWorkspace = e2e.workspaces['fix-loop'];
      const { runDir, events } = await readRunLog(fixWorkspace);
      const tests = events.filter((event) => event.type === 'test.finished') as (LoggedEvent & { phase: string; report: { ok: boolean; failures: { name: string }[] } })[];
      const taskTests = tests.filter((event) => event.phase === 'task');
      assert.ok(taskTests.length >= 2, `at least two task test runs (one per attempt), got ${taskTests.length}`);
      assert.ok(taskTests[0]!.report.failures.some((failure) => failure.name === FAILING_TEST), `the first task run fails "${FAILING_TEST}": ${JSON.stringify(taskTests[0]!.report.failures)}`);
      assert.equal(taskTests.at(-1)!.report.ok, true, 'the last task run passes');
      assert.equal(tests.at(-1)!.phase, 'final');
      assert.equal(tests.at(-1)!.report.ok, true, 'the final whole-suite run passes');
      const started = events.filter((event) => event.type === 'test.started').length;
      assert.equal(started, tests.length, 'every test run that started finished with a report');
      assert.ok(fixTerminals.size > 0, 'a "Software Maker …" test task terminal was shown in the panel');
      console.log(`      test runs: ${tests.map((event) => `${event.phase}:${event.report.ok ? 'ok' : 'failed'}`).join(', ')}; terminals seen: ${JSON.stringify([...fixTerminals])}`);

      // The fixer was given the parsed failure: its transcript's `expect` held, and its record shows it.
      const fix = events.find((event) => event.type === 'step.started' && event.role === 'fixer');
      assert.ok(fix, 'a fixer step ran');
      const record = JSON.parse(await readFile(path.join(runDir, 'steps', `${String(fix.stepId).replace(':', '.')}.json`), 'utf8')) as { prompt: string };
      assert.match(record.prompt, new RegExp(FAILING_TEST));
      const result = nodeTest(fixWorkspace);
      assert.equal(result.status, 0, `node --test passes after the run:\n${result.output}`);
    });

    it('the panel shows the history of t1 (the failure, the fix) and no review request under auto-approve', async () => {
      const { page, shots } = e2e;
      await showViewContainer(page, 'Software Maker');
      const row = await sidebarTreeRow(page, TASK_ROW);
      await row.click();
      const frame = e2e.webview;
      await expectVisible(frame.locator('#task-details[data-task-id="t1"]'), 'the task details of t1 in the panel', STEP_TIMEOUT);
      const failures = await waitUntil(async () => {
        const texts = await historyTexts(frame, 'failure');
        return texts.length ? texts : undefined;
      }, 'a failure in the history of t1');
      assert.match(failures.join('\n'), new RegExp(FAILING_TEST));
      const steps = await historyTexts(frame, 'step');
      assert.ok(steps.some((text) => /fixer · attempt 2/.test(text)), `a fixer step in the history: ${JSON.stringify(steps)}`);
      const chat = await frame.locator('.chat-column .message').allInnerTexts();
      assert.ok(!chat.some((text) => /await your review/.test(text)), `no "await your review" in the chat with auto-approve: ${JSON.stringify(chat)}`);
      await frame.locator('#task-history').scrollIntoViewIfNeeded().catch(() => undefined);
      await shots.take('a-panel-history');
    });
  });

  describe('(b) dead-letter → Retry with Another Model… → green', () => {
    it('starts the goal in the second workspace; t1 lands in dead-letter and the run pauses for triage', async () => {
      const { page, shots } = e2e;
      const triageWorkspace = e2e.workspaces['dead-letter'];
      await openWorkbench(page, e2e.server.workbenchUrl(triageWorkspace));
      await expectExtensionLoaded(page);
      await startGoal(page, GOAL);
      await waitForRunStatus(page, 'paused', triageTerminals);
      await showViewContainer(page, 'Software Maker');
      const row = await sidebarTreeRow(page, TASK_ROW);
      await waitUntil(async () => ((await treeRowDescription(row)).includes('dead_letter') ? true : undefined), 'the tree row of t1 to say dead_letter', {
        timeout: 30_000,
        observe: async () => `description "${await treeRowDescription(row)}"`,
      });
      await shots.take('b-tree-dead-letter');
      const { events } = await readRunLog(triageWorkspace);
      const paused = events.filter((event) => event.type === 'run.status').at(-1) as LoggedEvent & { status: string; reason?: string };
      assert.equal(paused.status, 'paused');
      assert.match(paused.reason ?? '', /^needs triage: t1/);
    });

    it('the panel shows "needs triage" in the header and the triage actions for t1', async () => {
      const frame = await openPanel(e2e.page, '#run-paused[data-reason="triage"]', 'the paused-run banner (#run-paused, reason triage) in the panel header');
      const banner = frame.locator('#run-paused[data-reason="triage"]');
      assert.match(await banner.innerText(), /needs triage: t1/);
      await frame.locator('#run-paused .triage-task[data-task-id="t1"]').click();
      await expectVisible(frame.locator('#triage[data-task-id="t1"]'), 'the triage section of t1 in the task details', 30_000);
      for (const id of ['triage-retry', 'triage-retry-model', 'triage-edit', 'triage-skip', 'triage-done']) {
        await expectVisible(frame.locator(`#${id}`), `the triage button #${id}`, 10_000);
      }
      const models = await frame.locator('#triage-model option').evaluateAll((options) => options.map((option) => (option as HTMLOptionElement).value));
      assert.deepEqual(models, ['strong', 'scripted'], 'the model that failed is offered last');
      const failures = await historyTexts(frame, 'failure');
      assert.match(failures.join('\n'), new RegExp(FAILING_TEST));
      assert.ok((await historyTexts(frame, 'status')).some((text) => /Dead-lettered/.test(text)));
      await frame.locator('#task-history').scrollIntoViewIfNeeded().catch(() => undefined);
      await e2e.shots.take('b-panel-history');
      await frame.locator('#triage').scrollIntoViewIfNeeded().catch(() => undefined);
      await frame.locator('#triage-skip').click();
      await expectVisible(frame.locator('#triage-confirm'), 'the skip confirmation', 10_000);
      assert.match(await frame.locator('#triage-confirm').innerText(), /No other task depends on it/);
      await e2e.shots.take('b-panel-triage');
    });

    it('"Retry with Another Model…" from the tree, choosing the second model, completes the run', async () => {
      const { page, shots } = e2e;
      const triageWorkspace = e2e.workspaces['dead-letter'];
      await showViewContainer(page, 'Software Maker');
      const row = await sidebarTreeRow(page, TASK_ROW);
      await runContextMenuItem(page, row, 'Software Maker: Retry Task with Another Model…');
      await shots.take('b-model-pick');
      await pickQuickInputRow(page, 'strong', 'the retry model');
      await waitForRunStatus(page, 'completed', triageTerminals);
      await shots.take('b-run-completed');
      const { events } = await readRunLog(triageWorkspace);
      assert.ok(events.some((event) => event.type === 'task.updated' && (event.changes as { model?: string }).model === 'strong'), 'the task was pinned to the second model');
      const retried = events.filter((event) => event.type === 'step.started' && event.taskId === 't1').at(-1);
      assert.equal(retried?.model, 'strong', 'the retry ran on the second model');
      assert.equal(retried?.role, 'fixer');
      const result = nodeTest(triageWorkspace);
      assert.equal(result.status, 0, `node --test passes after the run:\n${result.output}`);
      const done = await sidebarTreeRow(page, TASK_ROW);
      await waitUntil(async () => ((await treeRowDescription(done)).startsWith('done') ? true : undefined), 'the tree row of t1 to say done', {
        timeout: 30_000,
        observe: async () => `description "${await treeRowDescription(done)}"`,
      });
      await openPanel(page, '#run-status[data-status="completed"]', 'the panel run status completed');
      await shots.take('b-panel-completed');
    });
  });
});
