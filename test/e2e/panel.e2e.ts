// End to end, the Software Maker panel (webview) in a real VS Code (code-server 4.117.0) driven by
// Playwright in Debian's Chromium: with the packaged VSIX, the scripted model and auto-approved edits,
// start "Fix the failing calculator tests" from the panel's composer, watch the run complete in the
// plan DAG, then pick tasks from the Runs tree and from the DAG and check the task details, and filter
// the event log by role.
//
//   npx mocha --import=tsx --timeout 900000 test/e2e/panel.e2e.ts
//
// Env (for development): SM_E2E_VSIX, SM_E2E_SAMPLE, SM_E2E_TRANSCRIPT as in newGoal.e2e.ts.
// Screenshots: test-results/e2e-panel/NN-step.png.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import type { FrameLocator } from 'playwright-core';
import { repoRoot } from '../harness/codeServer';
import {
  CALCULATOR_SAMPLE,
  CALCULATOR_TRANSCRIPT,
  RUN_TIMEOUT,
  STEP_TIMEOUT,
  expectDagDone,
  expectExtensionLoaded,
  openPanel,
  readRunLog,
  scriptedModel,
  useScenario,
} from '../harness/scenario';
import { chooseSelectOption, expectVisible, openWorkbench, pageRunProgress, runEndedOtherwise, showViewContainer, sidebarTreeRow, toastTexts, waitUntil } from '../harness/workbench';

const GOAL = 'Fix the failing calculator tests';
const EXPECTED_TASKS = 3;

/** What #task-details shows. */
interface Details {
  taskId: string | null;
  role: string;
  attempts: string;
  acceptance: string[];
}

async function detailsShown(frame: FrameLocator): Promise<Details | undefined> {
  const details = frame.locator('#task-details');
  if ((await details.count()) === 0) return undefined;
  return details.first().evaluate((el) => ({
    taskId: el.getAttribute('data-task-id'),
    role: el.querySelector('[data-field="role"]')?.textContent?.trim() ?? '',
    attempts: el.querySelector('[data-field="attempts"]')?.textContent?.trim() ?? '',
    acceptance: Array.from(el.querySelectorAll('[data-field="acceptance"] li')).map((li) => (li.textContent ?? '').replace(/\s+/g, ' ').trim()),
  }));
}

/** Waits until the panel's task details show `taskId` with `role` (and the rest of `expected`). */
async function expectDetails(frame: FrameLocator, expected: { taskId: string; role: string; attempts?: string; acceptance?: string }, why: string): Promise<Details> {
  return waitUntil(
    async () => {
      const seen = await detailsShown(frame);
      if (!seen || seen.taskId !== expected.taskId || seen.role !== expected.role) return undefined;
      if (expected.attempts !== undefined && seen.attempts !== expected.attempts) return undefined;
      if (expected.acceptance !== undefined && !seen.acceptance.includes(expected.acceptance)) return undefined;
      return seen;
    },
    `the panel's task details (#task-details) ${why} to show task ${expected.taskId} with role "${expected.role}"` +
      `${expected.attempts !== undefined ? `, attempts ${expected.attempts}` : ''}${expected.acceptance !== undefined ? `, acceptance criterion "${expected.acceptance}"` : ''}`,
    { timeout: 30_000, observe: async () => `details ${JSON.stringify((await detailsShown(frame)) ?? '(none shown)')}` },
  );
}

interface LogRow {
  seq: number;
  type: string;
  role: string;
  text: string;
}

/**
 * Every row of the (windowed) event log under the current filters: scrolls from the top down,
 * collecting the rendered rows, until as many as the log's aria-rowcount were seen.
 */
async function allLogRows(frame: FrameLocator): Promise<{ rows: LogRow[]; rowCount: number }> {
  const viewport = frame.locator('#event-log');
  await viewport.evaluate((el) => {
    el.scrollTop = 0;
  });
  const seen = new Map<number, LogRow>();
  let rowCount = -1;
  await waitUntil(
    async () => {
      rowCount = Number(await viewport.getAttribute('aria-rowcount'));
      const rendered = await viewport.locator('.log-row').evaluateAll((rows) =>
        rows.map((row) => ({
          seq: Number(row.getAttribute('data-seq')),
          type: row.getAttribute('data-type') ?? '',
          role: row.getAttribute('data-role') ?? '',
          text: (row.querySelector('.log-text')?.textContent ?? '').trim(),
        })),
      );
      for (const row of rendered) seen.set(row.seq, row);
      if (seen.size >= rowCount) return true;
      await viewport.evaluate((el) => {
        el.scrollTop += Math.max(20, el.clientHeight / 2);
      });
      return undefined;
    },
    'to scroll through every row of the event log (as many as its aria-rowcount)',
    { timeout: 30_000, observe: async () => `aria-rowcount ${rowCount}, rows seen ${seen.size}` },
  );
  return { rows: [...seen.values()].sort((a, b) => a.seq - b.seq), rowCount };
}

describe('Software Maker end to end: the panel (goal, task details, event log role filter)', function () {
  this.timeout(15 * 60_000);

  const e2e = useScenario({
    artifactsDir: path.join(repoRoot, 'test-results', 'e2e-panel'),
    inputs: [
      ['the calculator sample', CALCULATOR_SAMPLE, 'samples/calculator'],
      ['the recorded transcript', CALCULATOR_TRANSCRIPT, 'samples/transcripts/calculator.json'],
    ],
    // No workspace settings: the model and auto-approve come from the user settings.
    workspaces: { calculator: { from: CALCULATOR_SAMPLE } },
    settings: { 'softwareMaker.models': [scriptedModel(CALCULATOR_TRANSCRIPT)], 'softwareMaker.autoApprove': true },
    captureWebview: true,
  });

  it('opens the workbench with the Software Maker activity-bar entry', async () => {
    await openWorkbench(e2e.page, e2e.server.workbenchUrl(e2e.workspaces.calculator));
    await expectExtensionLoaded(e2e.page);
    await e2e.shots.take('workbench-loaded');
  });

  it('opens the panel with "Software Maker: Open Panel"', async () => {
    const frame = await openPanel(e2e.page, '#goal-input', 'the panel webview with its goal composer (#goal-input)');
    await expectVisible(frame.locator('#goal-start'), 'the composer\'s Start button (#goal-start)', 30_000);
    await e2e.shots.take('panel-open');
  });

  it('starts the goal from the panel and shows the run completed with every DAG node done', async () => {
    const { page, shots, webview: frame } = e2e;
    const input = frame.locator('#goal-input');
    await input.click();
    await input.fill(GOAL);
    const start = frame.locator('#goal-start');
    await waitUntil(async () => ((await start.getAttribute('disabled')) === null ? true : undefined), 'the Start button (#goal-start) to be enabled once a goal is typed', {
      timeout: 10_000,
      observe: async () => `disabled=${JSON.stringify(await start.getAttribute('disabled'))}, goal ${JSON.stringify(await input.inputValue())}`,
    });
    await shots.take('goal-typed');
    await start.click();

    const status = frame.locator('#run-status');
    await waitUntil(async () => ((await status.count()) > 0 ? true : undefined), 'a run status badge (#run-status) after Start: the panel follows the run it started', {
      timeout: STEP_TIMEOUT,
      progress: pageRunProgress(page),
      observe: async () => `notifications ${JSON.stringify(await toastTexts(page))}`,
    });
    await shots.take('run-started');
    await waitUntil(
      async () => ((await status.first().getAttribute('data-status')) === 'completed' ? true : undefined),
      'the panel run status #run-status[data-status="completed"] (scripted model, edits auto-approved)',
      { timeout: RUN_TIMEOUT, progress: pageRunProgress(page), hopeless: runEndedOtherwise(page, 'completed'), observe: async () => `run status "${await status.first().getAttribute('data-status')}"; notifications ${JSON.stringify(await toastTexts(page))}` },
    );
    await expectDagDone(frame, EXPECTED_TASKS);
    assert.equal(await frame.locator('#plan-dag g.dag-node[data-status="done"]').count(), EXPECTED_TASKS);
    await shots.take('run-completed');
  });

  it('clicking task t1 in the Runs tree shows its details in the panel', async () => {
    const { page, shots, webview: frame } = e2e;
    const before = await detailsShown(frame);
    assert.notEqual(before?.taskId, 't1', `Expected no details of t1 before the tree click (so the click is what shows them), saw ${JSON.stringify(before)}`);
    await showViewContainer(page, 'Software Maker');
    const row = await sidebarTreeRow(page, 't1: ', STEP_TIMEOUT);
    await shots.take('tree-task-rows');
    await row.click();
    const details = await expectDetails(frame, { taskId: 't1', role: 'implementer', attempts: '1', acceptance: 'add(2, 3) returns 5' }, 'after clicking the tree row "t1: …"');
    assert.equal(details.attempts, '1');
    await shots.take('tree-click-t1-details');
  });

  it('clicking the DAG node of t3 switches the details to t3', async () => {
    const frame = e2e.webview;
    await frame.locator('#plan-dag g.dag-node[data-task-id="t3"]').click();
    await expectDetails(frame, { taskId: 't3', role: 'docs' }, 'after clicking the DAG node of t3');
    assert.equal(await frame.locator('#task-details[data-task-id="t1"]').count(), 0, 'Expected the details of t1 to be replaced by those of t3');
    await e2e.shots.take('dag-click-t3-details');
  });

  it('filters the event log by role "reviewer": only the reviewer\'s events', async () => {
    const frame = e2e.webview;
    const { events } = await readRunLog(e2e.workspaces.calculator);
    // The reviewer's events, from the log on disk: its steps and model calls (role field), the tool
    // traffic of those steps, and its verdicts.
    const reviewerSteps = new Set(events.filter((e) => e.type === 'step.started' && e.role === 'reviewer').map((e) => e.stepId));
    const expected = events.filter((e) => e.role === 'reviewer' || ((e.type === 'tool.call' || e.type === 'tool.result') && reviewerSteps.has(e.stepId)) || e.type === 'review.finished');
    assert.equal(reviewerSteps.size, EXPECTED_TASKS, `Expected one review step per task in the run log (review gate on), saw ${JSON.stringify([...reviewerSteps])}`);

    await chooseSelectOption(frame.locator('#log-filter-role'), 'reviewer', 'the event log role filter (#log-filter-role)');
    const count = frame.locator('.log-count');
    await waitUntil(
      async () => ((await count.innerText()).trim() === `${expected.length} of ${events.length}` ? true : undefined),
      `the event log to count "${expected.length} of ${events.length}" events under the reviewer filter`,
      { timeout: 10_000, observe: async () => `count "${await count.innerText()}"` },
    );
    await e2e.shots.take('event-log-reviewer');

    const { rows, rowCount } = await allLogRows(frame);
    assert.equal(rowCount, expected.length, `Expected the filtered log's aria-rowcount to be ${expected.length}, saw ${rowCount}`);
    const notReviewer = rows.filter((row) => row.role !== 'reviewer');
    assert.deepEqual(notReviewer, [], 'Expected every row under the reviewer filter to have data-role="reviewer"');
    assert.deepEqual(
      rows.map((row) => `${row.seq}:${row.type}`),
      expected.map((e) => `${e.seq}:${e.type}`),
      'Expected the rows under the reviewer filter to be exactly the reviewer\'s events of the run log',
    );
    const verdicts = rows.filter((row) => row.type === 'review.finished');
    assert.ok(verdicts.length >= EXPECTED_TASKS, `Expected at least ${EXPECTED_TASKS} review.finished rows (one per task), saw ${verdicts.length}`);
    assert.ok(verdicts.every((row) => row.text.startsWith('review ')), `Expected the verdict rows to read "review …", saw ${JSON.stringify(verdicts.map((row) => row.text))}`);
    const steps = rows.filter((row) => row.type === 'step.started' || row.type === 'step.finished' || row.type === 'llm.call');
    assert.ok(steps.length >= 2 * EXPECTED_TASKS, `Expected the reviewer's step rows, saw ${JSON.stringify(rows.map((row) => row.type))}`);
    const foreign = steps.filter((row) => !row.text.startsWith('reviewer '));
    assert.deepEqual(foreign, [], 'Expected every step/llm.call row under the reviewer filter to read "reviewer …"');
    const forbidden = rows.filter((row) => /^(task\.status|edit\.|test\.|run\.|plan\.)/.test(row.type));
    assert.deepEqual(forbidden, [], 'Expected no task, edit, test, run or plan events under the reviewer filter');
  });
});
