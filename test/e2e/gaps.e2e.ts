// End to end, four user-facing features that no other e2e file drives, in a real VS Code (code-server
// 4.117.0) driven by Playwright in Debian's Chromium, with the packaged VSIX, scripted models and
// auto-approved edits, on copies of samples/calculator (one code-server, one window per copy):
//
//  (a) Replay from the panel: after the calculator run completes, t1's details in the panel → the
//      Replay button of its implement step → the new record steps/t1.implement@v2.json is written and
//      opened with the output diff, the log has step.replayed, and the workspace is not touched.
//  (b) Raise budget from the panel: a priced scripted model under a run cap of $0.0001 pauses on its
//      first model call; the header names the breach; "Raise budget and resume" completes the run.
//  (c) Triage from the Runs tree: t1 (t2 depends on it) lands in dead-letter. In one copy the user
//      fixes src/calc.js on disk and runs "Mark Task Done": t2 runs, the run completes. In another,
//      "Skip Task": t2 is skipped with it and the run ends failed (the tests still fail).
//  (d) Git mode over uncommitted changes: the modal "Switch to a new branch…?" answered Cancel → the
//      run goes on without a branch or commits (HEAD unchanged, a "declined" warning in the log);
//      answered "Switch branch" → the run's branch has one commit per task with exactly its files.
//
// The scenarios are independent: a failed step skips only the rest of its own scenario.
//
//   npx mocha --import=tsx --timeout 900000 test/e2e/gaps.e2e.ts
//
// Transcripts: samples/transcripts/calculator.json, test/fixtures/transcripts/gaps-triage-skip.json.
// Screenshots: test-results/e2e-gaps/NN-<scenario>-step.png.
import * as assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { repoRoot } from '../harness/codeServer';
import {
  CALCULATOR_SAMPLE,
  CALCULATOR_TRANSCRIPT,
  STEP_TIMEOUT,
  TRANSCRIPTS,
  expectExtensionLoaded,
  git,
  initGitRepo,
  loggedTaskStatuses,
  nodeTest,
  openPanel,
  readRunLog,
  reportFailure,
  scriptedModel,
  selectPanelTask,
  startGoal,
  stepGuard,
  useScenario,
  waitForLoggedEvent,
  waitForRunStatus,
  type LoggedEvent,
} from '../harness/scenario';
import {
  SELECTORS,
  answerModalDialog,
  editorTab,
  expectVisible,
  openWorkbench,
  runContextMenuItem,
  showViewContainer,
  sidebarTreeRow,
  toastTexts,
  treeRowDescription,
  waitUntil,
  webviewFrame,
} from '../harness/workbench';

const GOAL = 'Fix the failing calculator tests';
const TRIAGE_TRANSCRIPT = path.join(TRANSCRIPTS, 'gaps-triage-skip.json');
/** What the dead-lettered t1 wrote to src/calc.js: add() fixed, multiply() broken. */
const BROKEN_MULTIPLY = 'return a * b + 1;';

describe('Software Maker end to end: replay, budget, tree triage and git mode', function () {
  this.timeout(25 * 60_000);

  const common = { 'softwareMaker.autoApprove': true, 'softwareMaker.reviewGate': false };
  const calculatorModel = scriptedModel(CALCULATOR_TRANSCRIPT);
  const triageSettings = { ...common, 'softwareMaker.models': [scriptedModel(TRIAGE_TRANSCRIPT)], 'softwareMaker.maxFixAttempts': 0 };
  const gitSettings = { ...common, 'softwareMaker.models': [calculatorModel], 'softwareMaker.gitMode': true };
  const e2e = useScenario({
    artifactsDir: path.join(repoRoot, 'test-results', 'e2e-gaps'),
    inputs: [
      ['the calculator sample', CALCULATOR_SAMPLE, 'samples/calculator'],
      ['the calculator transcript', CALCULATOR_TRANSCRIPT, 'samples/transcripts/calculator.json'],
      ['the tree-triage transcript', TRIAGE_TRANSCRIPT, 'test/fixtures/transcripts'],
    ],
    workspaces: {
      replay: { from: CALCULATOR_SAMPLE, settings: { ...common, 'softwareMaker.models': [calculatorModel] } },
      budget: {
        from: CALCULATOR_SAMPLE,
        settings: {
          ...common,
          'softwareMaker.models': [{ ...calculatorModel, prices: { inputPerMTok: 1000, outputPerMTok: 1000 } }],
          'softwareMaker.budgets': { run: { usd: 0.0001 }, onExceed: 'pause' },
        },
      },
      'mark-done': { from: CALCULATOR_SAMPLE, settings: triageSettings },
      skip: { from: CALCULATOR_SAMPLE, settings: triageSettings },
      'git-cancel': { from: CALCULATOR_SAMPLE, settings: gitSettings },
      'git-switch': { from: CALCULATOR_SAMPLE, settings: gitSettings },
    },
    captureWebview: true,
    // Each scenario below has its own guard: a failure skips the rest of that scenario only.
    stepGuard: false,
  });
  const guard = (): void => stepGuard(async (title) => reportFailure(e2e.page, e2e.shots, title, webviewFrame(e2e.page)));

  /** Opens the window of workspace `name` and starts the goal there. */
  async function startIn(name: keyof typeof e2e.workspaces, shot: string): Promise<string> {
    const workspace = e2e.workspaces[name];
    await openWorkbench(e2e.page, e2e.server.workbenchUrl(workspace));
    await expectExtensionLoaded(e2e.page);
    await startGoal(e2e.page, GOAL);
    await e2e.shots.take(shot);
    return workspace;
  }

  /** Waits until the Runs tree row of the task labelled `label…` says `status` (its description). */
  async function expectTreeStatus(label: string, status: string): Promise<void> {
    await showViewContainer(e2e.page, 'Software Maker');
    const row = await sidebarTreeRow(e2e.page, label);
    await waitUntil(async () => ((await treeRowDescription(row)).startsWith(status) ? true : undefined), `the Runs tree row "${label}…" to say ${status}`, {
      timeout: 30_000,
      observe: async () => `description "${await treeRowDescription(row)}"`,
    });
  }

  describe('(a) Replay a step from the panel', () => {
    guard();
    let stepId = '';
    let calcBefore = '';

    it('the calculator run completes', async () => {
      const workspace = await startIn('replay', 'replay-goal-started');
      await waitForRunStatus(e2e.page, 'completed');
      const { events } = await readRunLog(workspace);
      const implement = events.find((event) => event.type === 'step.started' && event.taskId === 't1' && event.role === 'implementer');
      assert.ok(implement, `an implementer step of t1 in the log: ${JSON.stringify(events.filter((event) => event.type === 'step.started'))}`);
      stepId = String(implement.stepId);
      assert.match(stepId, /^t1:implement@v1$/);
      calcBefore = await readFile(path.join(workspace, 'src', 'calc.js'), 'utf8');
      await e2e.shots.take('replay-run-completed');
    });

    it("the Replay button of t1's implement step writes and opens implement@v2 and logs step.replayed", async () => {
      const { page, shots } = e2e;
      const workspace = e2e.workspaces.replay;
      const frame = await openPanel(page, '#run-status[data-status="completed"]', 'the panel run status completed');
      await selectPanelTask(frame, 't1');
      const button = frame.locator(`#task-history li[data-step-id="${stepId}"] .replay-step`);
      await expectVisible(button, `the Replay button of ${stepId} in t1's history`, 30_000);
      await shots.take('replay-task-details');
      await button.first().click();

      const { runDir } = await readRunLog(workspace);
      const record = path.join(runDir, 'steps', 't1.implement@v2.json');
      await waitUntil(async () => (existsSync(record) ? true : undefined), `the replay record ${path.relative(workspace, record)}`, { timeout: STEP_TIMEOUT });
      const replayed = await waitForLoggedEvent(workspace, (event) => event.type === 'step.replayed' && event.stepId === stepId, `a step.replayed event of ${stepId}`);
      assert.equal(replayed.artifact, path.join('steps', 't1.implement@v2.json'));
      assert.equal(replayed.ok, true, `the replay finished: ${String(replayed.summary)}`);
      const saved = JSON.parse(await readFile(record, 'utf8')) as { stepId: string; replayOf?: string; diffFromOriginal?: string };
      assert.equal(saved.stepId, 't1:implement@v2');
      assert.equal(saved.replayOf, stepId);
      await expectVisible(editorTab(page, 't1.implement@v2.json'), 'an editor tab with the replay record t1.implement@v2.json', STEP_TIMEOUT);
      await expectVisible(editorTab(page, `${stepId} (scripted) ↔ t1:implement@v2 (scripted): output`), 'the diff tab of the original and the replayed output', 30_000);
      await expectVisible(page.locator(SELECTORS.diffEditor), 'the diff editor of the original and the replayed output', 30_000);
      // The summary already ends with a period: the message must not say "..".
      await waitUntil(
        async () => ((await toastTexts(page)).some((text) => text.includes(`replay t1:implement@v2 of ${stepId} (scripted) finished: add() now returns a + b instead of a - b. It proposed edits to 1 file(s); they were not applied.`)) ? true : undefined),
        'the notification "replay t1:implement@v2 of t1:implement@v1 (scripted) finished: … It proposed edits to 1 file(s); they were not applied."',
        { timeout: 30_000, observe: async () => `notifications ${JSON.stringify(await toastTexts(page))}` },
      );
      await shots.take('replay-opened');
      assert.equal(await readFile(path.join(workspace, 'src', 'calc.js'), 'utf8'), calcBefore, "the replay's edits were not applied to src/calc.js");
    });
  });

  describe('(b) Raise the budget from the panel', () => {
    guard();

    it('a run cap of $0.0001 pauses the run on its first model call; the header names the breach', async () => {
      const workspace = await startIn('budget', 'budget-goal-started');
      await waitForRunStatus(e2e.page, 'paused');
      const { events } = await readRunLog(workspace);
      const breach = events.find((event) => event.type === 'budget.exceeded') as (LoggedEvent & { scope: string; metric: string; limit: number; role: string }) | undefined;
      assert.ok(breach, `a budget.exceeded event: ${JSON.stringify(events.map((event) => event.type))}`);
      assert.deepEqual([breach.scope, breach.metric, breach.limit, breach.role], ['run', 'usd', 0.0001, 'planner']);
      assert.equal(events.filter((event) => event.type === 'llm.call').length, 0, 'no model call was made before the pause');
      const frame = await openPanel(e2e.page, '#run-paused[data-reason="budget"]', 'the budget banner (#run-paused, reason budget) in the panel header');
      const banner = (await frame.locator('#run-paused').innerText()).replace(/\s+/g, ' ');
      assert.match(banner, /Paused by its budget\./);
      assert.match(banner, /cost cap of the run \(\$0\.0001\d*\) would be exceeded/);
      await expectVisible(frame.locator('#raise-budget'), 'the "Raise budget and resume" button', 10_000);
      await e2e.shots.take('budget-paused-banner');
    });

    it('"Raise budget and resume" with a big cap completes the run', async () => {
      const workspace = e2e.workspaces.budget;
      const frame = e2e.webview;
      await frame.locator('#budget-limit').fill('1000000');
      await frame.locator('#raise-budget').click();
      await waitForLoggedEvent(workspace, (event) => event.type === 'run.budgetsChanged', 'a run.budgetsChanged event');
      await waitForRunStatus(e2e.page, 'completed');
      await expectVisible(frame.locator('#run-status[data-status="completed"]'), 'the panel run status completed', 30_000);
      assert.equal(await frame.locator('#run-paused').count(), 0, 'the budget banner is gone');
      await e2e.shots.take('budget-completed');
      const { events } = await readRunLog(workspace);
      const changed = events.find((event) => event.type === 'run.budgetsChanged') as LoggedEvent & { budgets: { run?: { usd?: number } } };
      assert.equal(changed.budgets.run?.usd, 1000000, 'the run cap was raised to what was typed');
      assert.ok(events.filter((event) => event.type === 'llm.call').length > 0, 'model calls were made after the raise');
      const result = nodeTest(workspace);
      assert.equal(result.status, 0, `node --test passes after the run:\n${result.output}`);
    });
  });

  describe('(c) Triage from the Runs tree: Mark Done, Skip', () => {
    guard();

    it('t1 lands in dead-letter; the user fixes src/calc.js; "Mark Task Done" lets t2 run and the run completes', async () => {
      const { page, shots } = e2e;
      const workspace = await startIn('mark-done', 'mark-done-goal-started');
      await waitForRunStatus(page, 'paused');
      await expectTreeStatus('t1: Fix add()', 'dead_letter');
      const calc = path.join(workspace, 'src', 'calc.js');
      const broken = await readFile(calc, 'utf8');
      assert.ok(broken.includes(BROKEN_MULTIPLY), `t1's edit (with the broken multiply) is in src/calc.js:\n${broken}`);
      await writeFile(calc, broken.replace(BROKEN_MULTIPLY, 'return a * b;'));
      await shots.take('mark-done-dead-letter');
      const row = await sidebarTreeRow(page, 't1: Fix add()');
      await runContextMenuItem(page, row, 'Software Maker: Mark Task Done');
      const question = await answerModalDialog(page, 'Mark Done', 'marking t1 done');
      assert.match(question, /Mark t1 done by hand\?/);
      await waitForRunStatus(page, 'completed');
      await expectTreeStatus('t2: Document the API', 'done');
      await shots.take('mark-done-completed');
      const { events } = await readRunLog(workspace);
      assert.deepEqual(loggedTaskStatuses(events), { t1: 'done', t2: 'done' });
      const final = events.filter((event) => event.type === 'test.finished').at(-1) as LoggedEvent & { phase: string; report: { ok: boolean } };
      assert.deepEqual([final.phase, final.report.ok], ['final', true], 'the final test run passes');
      assert.match(await readFile(path.join(workspace, 'README.md'), 'utf8'), /`add\(a, b\)` returns the sum/, "t2's docs edit landed");
    });

    it('in another copy, "Skip Task" on the dead-lettered t1 skips t2 too and the run ends failed', async () => {
      const { page, shots } = e2e;
      const workspace = await startIn('skip', 'skip-goal-started');
      await waitForRunStatus(page, 'paused');
      await expectTreeStatus('t1: Fix add()', 'dead_letter');
      const row = await sidebarTreeRow(page, 't1: Fix add()');
      await runContextMenuItem(page, row, 'Software Maker: Skip Task');
      await shots.take('skip-confirm');
      const question = await answerModalDialog(page, 'Skip', 'skipping t1');
      assert.match(question, /Skip t1/);
      assert.match(question, /skipped too: t2/, `the confirmation names the dependent task t2: ${question}`);
      await waitForRunStatus(page, 'failed');
      await expectTreeStatus('t2: Document the API', 'skipped');
      await shots.take('skip-failed');
      const { events } = await readRunLog(workspace);
      assert.deepEqual(loggedTaskStatuses(events), { t1: 'skipped', t2: 'skipped' });
      assert.ok(!events.some((event) => event.type === 'step.started' && event.taskId === 't2'), 'no step of t2 ran');
      const final = events.filter((event) => event.type === 'test.finished').at(-1) as LoggedEvent & { phase: string; report: { ok: boolean } };
      assert.deepEqual([final.phase, final.report.ok], ['final', false], 'the final test run fails');
      assert.equal(events.filter((event) => event.type === 'run.status').at(-1)?.status, 'failed');
    });
  });

  describe('(d) Git mode over uncommitted changes', () => {
    guard();

    /** A git repository of the workspace copy with one commit, then an untracked file; returns the commit. */
    async function dirtyRepo(workspace: string): Promise<string> {
      const head = initGitRepo(workspace);
      await writeFile(path.join(workspace, 'notes.txt'), 'my own notes, not committed\n');
      return head;
    }

    it('answering Cancel to "Switch to a new branch…?" runs without a branch: HEAD unchanged, no commits', async () => {
      const { page, shots } = e2e;
      const workspace = e2e.workspaces['git-cancel'];
      const head = await dirtyRepo(workspace);
      await startIn('git-cancel', 'git-cancel-goal-started');
      const question = await answerModalDialog(page, 'Cancel', 'the git-mode branch switch');
      assert.match(question, /Switch to a new branch for this run although the working tree has uncommitted changes\?/);
      assert.match(question, /notes\.txt/, `the dialog names the uncommitted change notes.txt: ${question}`);
      await waitForRunStatus(page, 'completed');
      await shots.take('git-cancel-completed');
      const { events } = await readRunLog(workspace);
      assert.ok(
        events.some((event) => event.type === 'log' && event.level === 'warn' && /switching branches was declined/.test(String(event.message))),
        `a "declined" warning in the log: ${JSON.stringify(events.filter((event) => event.type === 'log'))}`,
      );
      assert.ok(!events.some((event) => event.type === 'git.branch' || event.type === 'git.committed'), 'no git.branch or git.committed event');
      assert.equal(git(workspace, 'rev-parse', 'HEAD'), head, 'HEAD is the commit it was');
      assert.equal(git(workspace, 'symbolic-ref', '--short', 'HEAD'), 'main', 'still on main');
      assert.equal(git(workspace, 'branch', '--format=%(refname:short)'), 'main', 'no other branch');
      assert.match(git(workspace, 'status', '--porcelain'), /src\/calc\.js/, "the run's edits are in the working tree, uncommitted");
    });

    it('answering "Switch branch" puts the run on its own branch with one commit per task', async () => {
      const { page, shots } = e2e;
      const workspace = e2e.workspaces['git-switch'];
      const head = await dirtyRepo(workspace);
      await startIn('git-switch', 'git-switch-goal-started');
      await answerModalDialog(page, 'Switch branch', 'the git-mode branch switch');
      await waitForRunStatus(page, 'completed');
      await shots.take('git-switch-completed');
      const { events } = await readRunLog(workspace);
      const branch = events.find((event) => event.type === 'git.branch') as (LoggedEvent & { branch: string; base: string }) | undefined;
      assert.ok(branch, 'a git.branch event');
      assert.equal(branch.base, head, 'the branch starts from the commit HEAD was on');
      assert.equal(git(workspace, 'symbolic-ref', '--short', 'HEAD'), branch.branch, "the workspace is on the run's branch");
      assert.equal(git(workspace, 'rev-parse', 'main'), head, 'main did not move');
      const commits = git(workspace, 'log', '--reverse', '--format=%s', `${head}..${branch.branch}`).split('\n');
      assert.deepEqual([...commits.map((subject) => subject.split(':')[0])].sort(), ['t1', 't2', 't3'], `one commit per task on ${branch.branch}: ${JSON.stringify(commits)}`);
      const filesOf = (taskId: string): string[] => {
        const committed = events.find((event) => event.type === 'git.committed' && event.taskId === taskId) as (LoggedEvent & { sha: string }) | undefined;
        assert.ok(committed, `a git.committed event of ${taskId}`);
        return git(workspace, 'show', '--name-only', '--format=', committed.sha).split('\n');
      };
      assert.deepEqual(filesOf('t1'), ['src/calc.js']);
      assert.deepEqual(filesOf('t2'), ['test/multiply.test.js']);
      assert.deepEqual(filesOf('t3'), ['README.md']);
      assert.equal(git(workspace, 'status', '--porcelain', '--', 'notes.txt'), '?? notes.txt', 'the untracked notes.txt came along, uncommitted');
    });
  });
});
