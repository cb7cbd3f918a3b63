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
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { FrameLocator, Page } from 'playwright-core';
import { CodeServer, makeTempDir, removeTempDir, repoRoot, startBrowser, type BrowserSession } from '../harness/codeServer';
import {
  ExpectationError,
  SELECTORS,
  Screenshots,
  answerInputBox,
  captureFailure,
  expectVisible,
  openWorkbench,
  pickQuickInputRow,
  runCommand,
  runContextMenuItem,
  showViewContainer,
  sidebarTreeRow,
  statusBarItem,
  terminalNames,
  toastTexts,
  treeRowDescription,
  waitUntil,
  webviewFrame,
} from '../harness/workbench';

const GOAL = 'Fix the failing calculator tests';
const TASK_ROW = 't1: Fix add()';
const FAILING_TEST = 'multiply returns the product';
const vsixPath = path.resolve(process.env.SM_E2E_VSIX ?? path.join(repoRoot, 'dist', 'software-maker.vsix'));
const samplePath = path.join(repoRoot, 'samples', 'calculator');
const transcripts = path.join(repoRoot, 'test', 'fixtures', 'transcripts');
const artifactsDir = path.join(repoRoot, 'test-results', 'e2e-triage');
const STEP_TIMEOUT = 120_000;
const RUN_TIMEOUT = 5 * 60_000;

interface LoggedEvent {
  seq: number;
  type: string;
  [key: string]: unknown;
}

function nodeTest(cwd: string): { status: number | null; output: string } {
  const result = spawnSync(process.execPath, ['--test'], { cwd, encoding: 'utf8', timeout: 120_000, env: { ...process.env, NODE_OPTIONS: '', NO_COLOR: '1' } });
  return { status: result.status, output: `${result.stdout ?? ''}${result.stderr ?? ''}` };
}

/** A fresh copy of the calculator sample with these workspace settings. */
async function workspaceWith(parent: string, name: string, settings: Record<string, unknown>): Promise<string> {
  const workspace = path.join(parent, name);
  await cp(samplePath, workspace, { recursive: true, filter: (src) => !/[/\\](node_modules|\.software-maker)$/.test(src) });
  await mkdir(path.join(workspace, '.vscode'), { recursive: true });
  await writeFile(path.join(workspace, '.vscode', 'settings.json'), JSON.stringify(settings, null, 2));
  return workspace;
}

/** The one run's directory and its events.jsonl (the run's truth, written by the extension). */
async function runLog(workspace: string): Promise<{ runDir: string; events: LoggedEvent[] }> {
  const runsDir = path.join(workspace, '.software-maker', 'runs');
  const runs = existsSync(runsDir) ? (await readdir(runsDir)).filter((run) => existsSync(path.join(runsDir, run, 'events.jsonl'))) : [];
  if (runs.length !== 1) throw new ExpectationError(`Expected one run in ${runsDir}, found ${JSON.stringify(runs)}`);
  const runDir = path.join(runsDir, runs[0]!);
  const events = (await readFile(path.join(runDir, 'events.jsonl'), 'utf8'))
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as LoggedEvent);
  return { runDir, events };
}

async function statusText(page: Page): Promise<string> {
  return (await statusBarItem(page, 'softwareMaker.status').first().innerText().catch(() => '(no status item)')).replace(/\s+/g, ' ');
}

/** Waits until the Software Maker status bar item names `status`; meanwhile records the test terminals shown. */
async function waitForRunStatus(page: Page, status: string, terminals: Set<string>, timeout = RUN_TIMEOUT): Promise<void> {
  await waitUntil(
    async () => {
      for (const name of await terminalNames(page)) if (name.startsWith('Software Maker')) terminals.add(name);
      return (await statusText(page)).toLowerCase().includes(status) ? true : undefined;
    },
    `the status bar item softwareMaker.status to say "${status}"`,
    { timeout, interval: 400, observe: async () => `status "${await statusText(page)}"; terminals ${JSON.stringify([...terminals])}; notifications ${JSON.stringify(await toastTexts(page))}` },
  );
}

/** The text of the panel's task details history rows of one kind. */
async function historyTexts(frame: FrameLocator, kind: string): Promise<string[]> {
  return frame.locator(`#task-history li[data-kind="${kind}"]`).allInnerTexts().catch(() => []);
}

describe('Software Maker end to end: fix loop and dead-letter triage', function () {
  this.timeout(20 * 60_000);

  let server: CodeServer | undefined;
  let browser: BrowserSession | undefined;
  let page: Page;
  let shots: Screenshots;
  let parent: string;
  let fixWorkspace: string;
  let triageWorkspace: string;
  let failedEarlier = false;
  const fixTerminals = new Set<string>();
  const triageTerminals = new Set<string>();

  before(async function () {
    this.timeout(5 * 60_000);
    for (const [what, file, hint] of [
      ['the packaged extension', vsixPath, 'npm run package'],
      ['the calculator sample', samplePath, 'samples/calculator'],
      ['the triage transcripts', path.join(transcripts, 'triage-fix.json'), 'test/fixtures/transcripts'],
    ] as const) {
      if (!existsSync(file)) throw new ExpectationError(`Expected ${what} at ${file} (${hint}).`);
    }
    await rm(artifactsDir, { recursive: true, force: true });
    await mkdir(artifactsDir, { recursive: true });
    parent = await makeTempDir('sm-ws-');
    const common = { 'softwareMaker.autoApprove': true, 'softwareMaker.reviewGate': false };
    fixWorkspace = await workspaceWith(parent, 'fix-loop', {
      ...common,
      'softwareMaker.models': [{ id: 'scripted', provider: 'scripted', transcript: path.join(transcripts, 'triage-fix.json') }],
      'softwareMaker.maxFixAttempts': 2,
    });
    triageWorkspace = await workspaceWith(parent, 'dead-letter', {
      ...common,
      'softwareMaker.models': [
        { id: 'scripted', provider: 'scripted', transcript: path.join(transcripts, 'triage-dead-letter.json') },
        { id: 'strong', provider: 'scripted', transcript: path.join(transcripts, 'triage-strong.json') },
      ],
      'softwareMaker.maxFixAttempts': 0,
    });
    server = await CodeServer.start({ vsix: [vsixPath], artifactsDir });
    browser = await startBrowser();
    page = browser.page;
    shots = new Screenshots(page, artifactsDir);
  });

  beforeEach(function () {
    if (failedEarlier) this.skip();
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') {
      failedEarlier = true;
      if (shots) console.log(`    screenshot: ${path.relative(repoRoot, await captureFailure(page, shots, this.currentTest.title, webviewFrame(page)))}`);
    }
  });

  after(async function () {
    this.timeout(2 * 60_000);
    await browser?.close();
    await server?.stop();
    if (parent) await removeTempDir(parent);
  });

  describe('(a) failing → fixed → green', () => {
    it('starts the goal; the first edit fails the tests, the fixer fixes it, the run completes', async () => {
      assert.notEqual(nodeTest(fixWorkspace).status, 0, 'the sample starts with failing tests');
      await openWorkbench(page, server!.workbenchUrl(fixWorkspace));
      await expectVisible(page.locator(`${SELECTORS.activityBar} [aria-label^="Software Maker"]`), 'the Software Maker activity-bar entry', STEP_TIMEOUT);
      await shots.take('a-workbench');
      await runCommand(page, 'Software Maker: New Goal');
      await answerInputBox(page, GOAL, 'the goal');
      await shots.take('a-goal-started');
      await waitForRunStatus(page, 'completed', fixTerminals);
      await shots.take('a-run-completed');
    });

    it('ran the tests as a VS Code task after each attempt: failed with the new failure, then passed', async () => {
      const { runDir, events } = await runLog(fixWorkspace);
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
      await showViewContainer(page, 'Software Maker');
      const row = await sidebarTreeRow(page, TASK_ROW);
      await row.click();
      const frame = webviewFrame(page);
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
      await openWorkbench(page, server!.workbenchUrl(triageWorkspace));
      await expectVisible(page.locator(`${SELECTORS.activityBar} [aria-label^="Software Maker"]`), 'the Software Maker activity-bar entry', STEP_TIMEOUT);
      await runCommand(page, 'Software Maker: New Goal');
      await answerInputBox(page, GOAL, 'the goal');
      await waitForRunStatus(page, 'paused', triageTerminals);
      await showViewContainer(page, 'Software Maker');
      const row = await sidebarTreeRow(page, TASK_ROW);
      await waitUntil(async () => ((await treeRowDescription(row)).includes('dead_letter') ? true : undefined), 'the tree row of t1 to say dead_letter', {
        timeout: 30_000,
        observe: async () => `description "${await treeRowDescription(row)}"`,
      });
      await shots.take('b-tree-dead-letter');
      const { events } = await runLog(triageWorkspace);
      const paused = events.filter((event) => event.type === 'run.status').at(-1) as LoggedEvent & { status: string; reason?: string };
      assert.equal(paused.status, 'paused');
      assert.match(paused.reason ?? '', /^needs triage: t1/);
    });

    it('the panel shows "needs triage" in the header and the triage actions for t1', async () => {
      await runCommand(page, 'Software Maker: Open Panel');
      const frame = webviewFrame(page);
      const banner = frame.locator('#run-paused[data-reason="triage"]');
      await expectVisible(banner, 'the paused-run banner (#run-paused, reason triage) in the panel header', STEP_TIMEOUT);
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
      await shots.take('b-panel-history');
      await frame.locator('#triage').scrollIntoViewIfNeeded().catch(() => undefined);
      await frame.locator('#triage-skip').click();
      await expectVisible(frame.locator('#triage-confirm'), 'the skip confirmation', 10_000);
      assert.match(await frame.locator('#triage-confirm').innerText(), /No other task depends on it/);
      await shots.take('b-panel-triage');
    });

    it('"Retry with Another Model…" from the tree, choosing the second model, completes the run', async () => {
      await showViewContainer(page, 'Software Maker');
      const row = await sidebarTreeRow(page, TASK_ROW);
      await runContextMenuItem(page, row, 'Software Maker: Retry Task with Another Model…');
      await shots.take('b-model-pick');
      await pickQuickInputRow(page, 'strong', 'the retry model');
      await waitForRunStatus(page, 'completed', triageTerminals);
      await shots.take('b-run-completed');
      const { events } = await runLog(triageWorkspace);
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
      await runCommand(page, 'Software Maker: Open Panel');
      await expectVisible(webviewFrame(page).locator('#run-status[data-status="completed"]'), 'the panel run status completed', STEP_TIMEOUT);
      await shots.take('b-panel-completed');
    });
  });
});
