// End to end, what Software Maker does with what it did not choose itself, in a real VS Code
// (code-server 4.117.0) driven by Playwright in Debian's Chromium, with the packaged VSIX and scripted
// models, on copies of samples/calculator (one code-server, one window per copy):
//
//  (a) A run that came with the workspace: the CLI (dist/cli.js) runs a goal in the copy with another
//      state folder (another machine) until t1 lands in dead-letter; the log is cut before its
//      "paused" event, as a kill -9 at that moment leaves it. The editor did not create it: the
//      startup offer offers adoption instead of Resume, the Runs tree says "not created here" and
//      offers no Resume; "Adopt Run…" shows what the run would use (the transcript) in a modal;
//      Cancel leaves it read-only (Resume is refused with the adoption hint, the log is untouched);
//      Adopt (from the tree) makes it resumable; it pauses for triage, Retry fixes t1, it completes.
//  (b) Workspace settings that name a model (.vscode/settings.json): the first New Goal shows the
//      model verbatim in a modal; Cancel starts nothing; "Trust and Start" runs the goal; the next
//      goal does not ask; a changed transcript path asks again.
//  (c) An edit that changes what runs: with autoApprove on in the user settings, t1 proposes
//      `"test": "node --test || true"` in package.json. The proposal still opens for review, with the
//      warning in the diff's title, a CodeLens and a notification; Accept asks in a modal ("Accept
//      Anyway") and backing out applies nothing; Reject with a reason sends it back to the agent,
//      whose fixer (its prompt must carry the reason) fixes add() instead, and the run completes.
//
// The scenarios are independent: a failed step skips only the rest of its own scenario.
//
//   npx mocha --import=tsx --timeout 900000 test/e2e/trust.e2e.ts
//
// Transcripts: test/fixtures/transcripts/trust-*.json, samples/transcripts/calculator.json.
// Screenshots: test-results/e2e-trust/NN-<scenario>-step.png.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { repoRoot } from '../harness/codeServer';
import {
  CALCULATOR_SAMPLE,
  CALCULATOR_TRANSCRIPT,
  STEP_TIMEOUT,
  TRANSCRIPTS,
  WORKSPACE_SETTINGS_PROMPT,
  expectExtensionLoaded,
  loggedTaskStatuses,
  nodeTest,
  readRunLog,
  reportFailure,
  scriptedModel,
  startGoal,
  stepGuard,
  trustWorkspaceSettingsIfAsked,
  useScenario,
  waitForLoggedEvent,
  waitForRunStatus,
  type LoggedEvent,
} from '../harness/scenario';
import {
  SELECTORS,
  answerInputBox,
  answerModalDialog,
  clickToastButton,
  diffCodeLenses,
  editorTab,
  expectVisible,
  newestRunId,
  openWorkbench,
  pageRunProgress,
  pickQuickInputRow,
  runCommand,
  runContextMenuItem,
  showViewContainer,
  sidebarTreeRow,
  shownNotification,
  toastTexts,
  treeRowDescription,
  waitUntil,
  webviewFrame,
} from '../harness/workbench';

const GOAL = 'Fix the failing calculator tests';
const CLI = path.join(repoRoot, 'dist', 'cli.js');
const FOREIGN_TRANSCRIPT = path.join(TRANSCRIPTS, 'trust-foreign.json');
const COMMAND_CHANGE_TRANSCRIPT = path.join(TRANSCRIPTS, 'trust-command-change.json');
/** What the user tells the agent when rejecting the test-script change (the fixer's transcript expects it). */
const REJECT_REASON = 'Fix add() in src/calc.js and leave the test script alone';
const ORIGINAL_PACKAGE_JSON = path.join(CALCULATOR_SAMPLE, 'package.json');

describe('Software Maker end to end: foreign runs, workspace settings and edits that change what runs', function () {
  this.timeout(25 * 60_000);

  const e2e = useScenario({
    artifactsDir: path.join(repoRoot, 'test-results', 'e2e-trust'),
    inputs: [
      ['the calculator sample', CALCULATOR_SAMPLE, 'samples/calculator'],
      ['the calculator transcript', CALCULATOR_TRANSCRIPT, 'samples/transcripts/calculator.json'],
      ['the CLI bundle', CLI, 'npm run package (or node esbuild.mjs)'],
      ['the foreign-run transcript', FOREIGN_TRANSCRIPT, 'test/fixtures/transcripts'],
      ['the command-change transcript', COMMAND_CHANGE_TRANSCRIPT, 'test/fixtures/transcripts'],
    ],
    // User settings: what (c) needs. (a) drives its run with the config it came with; (b)'s models
    // are in its workspace settings, which win over these.
    settings: {
      'softwareMaker.autoApprove': true,
      'softwareMaker.reviewGate': false,
      'softwareMaker.models': [scriptedModel(COMMAND_CHANGE_TRANSCRIPT)],
      'diffEditor.codeLens': true,
    },
    workspaces: {
      foreign: { from: CALCULATOR_SAMPLE },
      settings: { from: CALCULATOR_SAMPLE, settings: { 'softwareMaker.models': [scriptedModel(CALCULATOR_TRANSCRIPT)] } },
      'command-change': { from: CALCULATOR_SAMPLE },
    },
    tempPrefix: 'sm-trust-',
    captureWebview: true,
    // Each scenario below has its own guard: a failure skips the rest of that scenario only.
    stepGuard: false,
  });
  const guard = (): void => stepGuard(async (title) => reportFailure(e2e.page, e2e.shots, title, webviewFrame(e2e.page)));

  /** Waits until the Runs tree row labelled `label…` has a description that `matches`; returns the row. */
  async function expectTreeRow(label: string, matches: (description: string) => boolean, expected: string): Promise<Locator> {
    await showViewContainer(e2e.page, 'Software Maker');
    const row = await sidebarTreeRow(e2e.page, label);
    await waitUntil(async () => (matches(await treeRowDescription(row)) ? true : undefined), `the Runs tree row "${label}…" to say ${expected}`, {
      timeout: 30_000,
      observe: async () => `description "${await treeRowDescription(row)}"`,
    });
    return row;
  }

  /** The entries of the context menu of a tree row (opened with a right-click, closed again with Escape). */
  async function contextMenuEntries(row: Locator): Promise<string[]> {
    const page = e2e.page;
    const labels = page.locator('.context-view .monaco-menu .action-item .action-label');
    await row.click({ button: 'right' });
    await expectVisible(labels, 'the context menu of the tree row', 15_000);
    const entries = (await labels.allInnerTexts()).map((text) => text.trim()).filter(Boolean);
    await page.keyboard.press('Escape');
    await page.locator('.context-view .monaco-menu').first().waitFor({ state: 'hidden', timeout: 5_000 }).catch(() => undefined);
    return entries;
  }

  /** Waits for the visible modal dialog whose text contains `containing`, takes a screenshot and returns its text (without answering it). */
  async function shownDialog(containing: string, shot: string): Promise<string> {
    const dialog = e2e.page.locator('.monaco-dialog-box').filter({ hasText: containing });
    await expectVisible(dialog, `a modal dialog saying "${containing}"`, STEP_TIMEOUT, { progress: pageRunProgress(e2e.page) });
    await e2e.shots.take(shot);
    return (await dialog.first().innerText()).trim();
  }

  /** Waits for a notification whose text contains `text`; returns its text. */
  /** The text of the notification saying `text`, shown as a toast or (once the toast hid) in the notification center. */
  async function expectToast(text: string): Promise<string> {
    const shown = await waitUntil(() => shownNotification(e2e.page, text), `a notification saying "${text}"`, {
      timeout: STEP_TIMEOUT,
      progress: pageRunProgress(e2e.page),
      observe: async () => `notifications ${JSON.stringify(await toastTexts(e2e.page))}`,
    });
    const message = await shown.innerText();
    // Out of the way again: an open notification center covers part of the editor.
    if (!(await e2e.page.locator('.notifications-toasts .notification-toast').filter({ hasText: text }).first().isVisible().catch(() => false))) await e2e.page.keyboard.press('Escape');
    return message;
  }

  /** The run folders of a workspace (none before its first run). */
  async function runIds(workspace: string): Promise<string[]> {
    const runsDir = path.join(workspace, '.software-maker', 'runs');
    return existsSync(runsDir) ? (await readdir(runsDir)).sort() : [];
  }

  describe('(a) A run that came with the workspace: read-only until adopted', () => {
    guard();
    let runId = '';
    let logFile = '';
    /** The log as it came with the workspace (and must stay until the run is adopted). */
    let shipped = '';
    let shippedEvents = 0;

    it('the CLI on another machine leaves a run interrupted after t1 landed in dead-letter', async () => {
      const workspace = e2e.workspaces.foreign;
      // Another machine: its own state folder (where a machine records the runs it created) and config.
      const otherMachine = path.join(e2e.parent, 'other-machine');
      await mkdir(path.join(otherMachine, 'state'), { recursive: true });
      await mkdir(path.join(otherMachine, 'config'), { recursive: true });
      const cli = spawnSync(
        process.execPath,
        [CLI, 'run', GOAL, '--workspace', workspace, '--model', `scripted:${FOREIGN_TRANSCRIPT}`, '--yes', '--max-fix-attempts', '0', '--no-review-gate'],
        {
          encoding: 'utf8',
          timeout: 180_000,
          stdio: ['ignore', 'pipe', 'pipe'],
          env: { ...process.env, XDG_STATE_HOME: path.join(otherMachine, 'state'), XDG_CONFIG_HOME: path.join(otherMachine, 'config'), NO_COLOR: '1' },
        },
      );
      const output = `${cli.stdout ?? ''}${cli.stderr ?? ''}`;
      assert.match(output, /run paused — needs triage: t1/, `the CLI run pauses for triage of t1:\n${output}`);
      [runId] = await runIds(workspace);
      assert.ok(runId, `a run folder in ${workspace}/.software-maker/runs`);
      logFile = path.join(workspace, '.software-maker', 'runs', runId, 'events.jsonl');
      const lines = (await readFile(logFile, 'utf8')).split('\n').filter((line) => line.trim());
      const last = JSON.parse(lines.at(-1)!) as LoggedEvent;
      assert.deepEqual([last.type, last.status], ['run.status', 'paused'], `the CLI's log ends with the pause: ${lines.at(-1)}`);
      // Killed before the pause was logged: the run reads as interrupted while running.
      shipped = lines.slice(0, -1).map((line) => `${line}\n`).join('');
      await writeFile(logFile, shipped);
      shippedEvents = lines.length - 1;
      const { events } = await readRunLog(workspace);
      assert.equal(events.filter((event) => event.type === 'run.status').at(-1)?.status, 'running');
      assert.equal(loggedTaskStatuses(events).t1, 'dead_letter');
    });

    it('at startup the editor offers to adopt it, not to resume it; the Runs tree marks it "not created here" and offers no Resume', async () => {
      const { page, shots } = e2e;
      await openWorkbench(page, e2e.server.workbenchUrl(e2e.workspaces.foreign));
      await expectExtensionLoaded(page);
      const toast = await waitUntil(() => shownNotification(page, 'not created on this machine'), 'a notification saying "not created on this machine"', {
        timeout: STEP_TIMEOUT,
        observe: async () => `notifications ${JSON.stringify(await toastTexts(page))}`,
      });
      const offer = await toast.innerText();
      assert.match(offer, /The run "Fix the failing calculator tests" was not created on this machine \(it came with the workspace\), so it is not resumed\./);
      const buttons = (await toast.locator('.monaco-button').allInnerTexts()).map((text) => text.trim());
      assert.ok(buttons.includes('Adopt Run…'), `the offer has "Adopt Run…": ${JSON.stringify(buttons)}`);
      assert.ok(!buttons.some((text) => /resume/i.test(text)), `the offer has no Resume: ${JSON.stringify(buttons)}`);
      assert.ok(!(await toastTexts(page)).some((text) => /interrupted when the window closed/.test(text)), 'no "interrupted… Resume?" offer');
      await shots.take('foreign-startup-offer');

      const row = await expectTreeRow(GOAL, (description) => description.includes('not created here'), '"… · not created here"');
      const entries = await contextMenuEntries(row);
      assert.ok(entries.includes('Software Maker: Adopt Run…'), `the run's context menu offers "Adopt Run…": ${JSON.stringify(entries)}`);
      assert.ok(!entries.some((entry) => /Resume/.test(entry)), `the run's context menu offers no Resume: ${JSON.stringify(entries)}`);
      await shots.take('foreign-tree-row');
      assert.equal(await readFile(logFile, 'utf8'), shipped, 'opening the workspace did not touch the log');
    });

    it('"Adopt Run…" shows the transcript it would use in a modal; Cancel leaves it read-only: Resume is refused with the adoption hint', async () => {
      const { page, shots } = e2e;
      const offer = await shownNotification(page, 'not created on this machine');
      assert.ok(offer, 'the startup offer is still shown (as a toast or in the notification center)');
      await offer.locator('.monaco-button').filter({ hasText: 'Adopt Run…' }).first().click();
      const question = await shownDialog(`Adopt run ${runId}?`, 'foreign-adopt-modal');
      assert.ok(question.includes(`model "scripted": scripted transcript ${FOREIGN_TRANSCRIPT}`), `the modal names the transcript verbatim:\n${question}`);
      assert.match(question, /autoApprove: every proposed edit is applied without review/, `the modal names the auto-approval the run was started with:\n${question}`);
      await answerModalDialog(page, 'Cancel', 'adopting the foreign run');

      await runCommand(page, 'Software Maker: Resume Run');
      await pickQuickInputRow(page, runId, 'the run to resume');
      const refusal = await expectToast('read-only until you adopt it');
      assert.match(refusal, new RegExp(`run ${runId} was not created on this machine, so it is read-only until you adopt it\\.`));
      await shots.take('foreign-resume-refused');
      assert.equal(await readFile(logFile, 'utf8'), shipped, 'nothing was appended to the log of the run that was not adopted');
      assert.ok(!existsSync(path.join(path.dirname(logFile), 'run.lock')), 'the run was not locked (nothing drives it)');
    });

    it('Adopt from the Runs tree: it resumes, pauses for triage, Retry fixes t1 and the run completes', async () => {
      const { page, shots } = e2e;
      const workspace = e2e.workspaces.foreign;
      const row = await expectTreeRow(GOAL, (description) => description.includes('not created here'), '"… · not created here"');
      await runContextMenuItem(page, row, 'Software Maker: Adopt Run…');
      const question = await answerModalDialog(page, 'Adopt', 'adopting the foreign run');
      assert.ok(question.includes(FOREIGN_TRANSCRIPT), `the modal names the transcript:\n${question}`);
      const adopted = await waitForLoggedEvent(workspace, (event) => event.type === 'log' && /^Adopted on this machine/.test(String(event.message)), 'the adoption note');
      assert.equal(adopted.seq, shippedEvents + 1, 'the adoption is the first thing appended to the shipped log');
      assert.ok(await clickToastButton(page, new RegExp(`run ${runId} is adopted\\. Resume it\\?`), 'Resume', STEP_TIMEOUT), 'the "adopted. Resume it?" notification');

      await waitForLoggedEvent(workspace, (event) => event.type === 'run.status' && event.status === 'paused' && event.seq > adopted.seq, 'the resumed run pausing for triage');
      await expectTreeRow(GOAL, (description) => !description.includes('not created here'), 'no "not created here" any more');
      const task = await expectTreeRow('t1: Fix add()', (description) => description.startsWith('dead_letter'), 'dead_letter');
      await shots.take('foreign-adopted-needs-triage');
      await runContextMenuItem(page, task, 'Software Maker: Retry Task');
      await waitForRunStatus(page, 'completed');
      await shots.take('foreign-completed');

      const { events } = await readRunLog(workspace);
      assert.deepEqual(loggedTaskStatuses(events), { t1: 'done' });
      const fixer = events.find((event) => event.type === 'step.started' && event.taskId === 't1' && event.role === 'fixer');
      assert.ok(fixer, `the retry ran t1's fixer: ${JSON.stringify(events.filter((event) => event.type === 'step.started'))}`);
      const result = nodeTest(workspace);
      assert.equal(result.status, 0, `node --test passes after the adopted run:\n${result.output}`);
    });
  });

  describe('(b) Workspace settings that name a model: asked before the first goal, and again when they change', () => {
    guard();
    const transcriptLine = (transcript: string): string => `model "scripted": scripted transcript ${transcript}`;

    /** New Goal from the palette with GOAL typed in; returns the newest run id before it. */
    async function enterGoal(): Promise<string | undefined> {
      const before = await newestRunId(e2e.workspaces.settings);
      await runCommand(e2e.page, 'Software Maker: New Goal');
      await answerInputBox(e2e.page, GOAL, 'the goal');
      return before;
    }

    /** Puts the workspace copy's files back as the sample has them (the scripted calculator run expects them so). */
    async function resetToSample(workspace: string): Promise<void> {
      for (const entry of await readdir(workspace)) {
        if (entry === '.vscode' || entry === '.software-maker') continue;
        await rm(path.join(workspace, entry), { recursive: true, force: true });
      }
      await cp(CALCULATOR_SAMPLE, workspace, { recursive: true, filter: (src) => !/[/\\](node_modules|\.software-maker|\.vscode)$/.test(src) });
    }

    it('the first New Goal shows the model of .vscode/settings.json verbatim; Cancel starts nothing', async () => {
      const { page, shots } = e2e;
      const workspace = e2e.workspaces.settings;
      await openWorkbench(page, e2e.server.workbenchUrl(workspace));
      await expectExtensionLoaded(page);
      await enterGoal();
      const question = await shownDialog(WORKSPACE_SETTINGS_PROMPT, 'settings-trust-modal');
      assert.ok(question.includes(transcriptLine(CALCULATOR_TRANSCRIPT)), `the modal names the workspace's model verbatim:\n${question}`);
      assert.ok(!question.includes('autoApprove'), `the user's own autoApprove is not the workspace's to trust:\n${question}`);
      await answerModalDialog(page, 'Cancel', 'the workspace-settings trust question');
      const refusal = await expectToast('were not trusted, so nothing was sent or started');
      assert.match(refusal, /start the goal again and trust them/);
      await shots.take('settings-cancelled');
      assert.deepEqual(await runIds(workspace), [], 'no run folder after Cancel');
    });

    it('the second try with "Trust and Start" runs the goal to the end', async () => {
      const workspace = e2e.workspaces.settings;
      const before = await enterGoal();
      const question = await trustWorkspaceSettingsIfAsked(e2e.page, before);
      assert.ok(question?.includes(transcriptLine(CALCULATOR_TRANSCRIPT)), `asked again, naming the model: ${question}`);
      await waitForRunStatus(e2e.page, 'completed');
      await e2e.shots.take('settings-trusted-completed');
      assert.equal((await runIds(workspace)).length, 1);
      assert.equal(nodeTest(workspace).status, 0, 'node --test passes after the run');
    });

    it('a third goal starts without asking again', async () => {
      const workspace = e2e.workspaces.settings;
      await resetToSample(workspace);
      const before = await enterGoal();
      assert.equal(await trustWorkspaceSettingsIfAsked(e2e.page, before), undefined, 'the run started without the trust question');
      await waitForRunStatus(e2e.page, 'completed');
      await e2e.shots.take('settings-third-goal-completed');
      assert.equal((await runIds(workspace)).length, 2);
    });

    it("changing the model's transcript path in the workspace settings asks again, naming the new path", async () => {
      const { page, shots } = e2e;
      const workspace = e2e.workspaces.settings;
      const moved = path.join(e2e.parent, 'elsewhere', 'calculator.json');
      await mkdir(path.dirname(moved), { recursive: true });
      await copyFile(CALCULATOR_TRANSCRIPT, moved);
      // Edited in the editor and saved, as a user (or a pulled commit) changes it: the window's
      // configuration follows its own saves at once.
      const settingsFile = path.join(workspace, '.vscode', 'settings.json');
      const changed = { ...(JSON.parse(await readFile(settingsFile, 'utf8')) as Record<string, unknown>), 'softwareMaker.models': [scriptedModel(moved)] };
      await runCommand(page, 'Preferences: Open Workspace Settings (JSON)');
      // The workbench may open it as a tab or in a modal editor: find the editor by its text.
      const editor = page.locator('.monaco-editor .view-lines').filter({ hasText: 'softwareMaker.models' }).first();
      await expectVisible(editor, 'the editor of .vscode/settings.json', 30_000);
      await editor.click();
      await page.keyboard.press('ControlOrMeta+A');
      // One line: typed text with newlines gets the editor's auto-indent, which this test is not about.
      await page.keyboard.press('Delete');
      await page.keyboard.insertText(JSON.stringify(changed));
      await page.keyboard.press('ControlOrMeta+S');
      await waitUntil(
        async () => {
          try {
            const saved = JSON.parse(await readFile(settingsFile, 'utf8')) as { 'softwareMaker.models'?: { transcript?: string }[] };
            return saved['softwareMaker.models']?.[0]?.transcript === moved ? true : undefined;
          } catch {
            return undefined;
          }
        },
        '.vscode/settings.json saved with the moved transcript',
        { timeout: 30_000, observe: async () => readFile(settingsFile, 'utf8') },
      );
      await shots.take('settings-changed');

      const runsBefore = await runIds(workspace);
      await enterGoal();
      const question = await shownDialog(WORKSPACE_SETTINGS_PROMPT, 'settings-asked-again');
      assert.ok(question.includes(transcriptLine(moved)), `the modal names the new transcript path verbatim:\n${question}`);
      await answerModalDialog(page, 'Cancel', 'the workspace-settings trust question');
      await expectToast('were not trusted, so nothing was sent or started');
      assert.deepEqual(await runIds(workspace), runsBefore, 'no new run after Cancel');
    });
  });

  describe('(c) An edit that changes what runs is reviewed, even with autoApprove on', () => {
    guard();
    const acceptButton = (page: Page): Locator => page.locator('.part.editor .editor-actions .action-label[aria-label*="Accept Proposed Edit"]');
    const rejectButton = (page: Page): Locator => page.locator('.part.editor .editor-actions .action-label[aria-label*="Reject Proposed Edit"]');
    let originalPackageJson = '';

    it('the test-script change opens for review with the warning in the title, a CodeLens and a notification', async () => {
      const { page, shots } = e2e;
      const workspace = e2e.workspaces['command-change'];
      originalPackageJson = await readFile(ORIGINAL_PACKAGE_JSON, 'utf8');
      await openWorkbench(page, e2e.server.workbenchUrl(workspace));
      await expectExtensionLoaded(page);
      await startGoal(page, GOAL);
      const title = editorTab(page, '⚠ CHANGES WHAT RUNS: package.json');
      await expectVisible(title, 'the diff of package.json titled "⚠ CHANGES WHAT RUNS: package.json (proposed by …)"', STEP_TIMEOUT, { progress: pageRunProgress(page) });
      const lens = diffCodeLenses(page, /⚠ Changes what runs/);
      await expectVisible(lens, 'the "⚠ Changes what runs: …" CodeLens above the proposed package.json', 30_000);
      const lensText = (await lens.first().innerText()).trim();
      assert.match(lensText, /node --test/, `the CodeLens names the script change: ${lensText}`);
      assert.match(lensText, /node --test \|\| true/, `the CodeLens names the new script: ${lensText}`);
      const warning = await expectToast('proposes changes to what runs on this machine (package.json)');
      assert.match(warning, /Nothing of it is applied unless you accept it/);
      await page.locator(`${SELECTORS.diffEditor} .editor.modified .view-line`).first().waitFor({ state: 'visible', timeout: 10_000 }).catch(() => undefined);
      await shots.take('command-change-review');
      const { events } = await readRunLog(workspace);
      assert.ok(events.some((event) => event.type === 'edit.proposed' && event.taskId === 't1'), 'the proposal is logged');
      assert.ok(!events.some((event) => event.type === 'edit.decided'), `autoApprove did not decide it: ${JSON.stringify(events.filter((event) => event.type === 'edit.decided'))}`);
      assert.equal(await readFile(path.join(workspace, 'package.json'), 'utf8'), originalPackageJson, 'package.json is untouched while the review waits');
    });

    it('Accept asks in a modal first ("Accept Anyway"); backing out applies nothing', async () => {
      const { page } = e2e;
      const workspace = e2e.workspaces['command-change'];
      await expectVisible(acceptButton(page), 'the "Accept Proposed Edit" button in the diff title bar', 30_000);
      await acceptButton(page).first().click();
      const question = await shownDialog('changes what will be executed on this machine', 'command-change-accept-modal');
      assert.match(question, /Accepting package\.json changes what will be executed on this machine\./);
      assert.match(question, /node --test \|\| true/, `the modal names the new script:\n${question}`);
      const buttons = (await page.locator('.monaco-dialog-box .dialog-buttons .monaco-button').allInnerTexts()).map((text) => text.trim());
      assert.ok(buttons.includes('Accept Anyway'), `the modal's action is "Accept Anyway": ${JSON.stringify(buttons)}`);
      await answerModalDialog(page, 'Cancel', 'accepting a change of what runs');
      await expectVisible(editorTab(page, '⚠ CHANGES WHAT RUNS: package.json'), 'the package.json diff, still open after backing out', 10_000);
      const { events } = await readRunLog(workspace);
      assert.ok(!events.some((event) => event.type === 'edit.decided'), 'nothing was decided');
      assert.equal(await readFile(path.join(workspace, 'package.json'), 'utf8'), originalPackageJson, 'package.json is untouched after backing out');
    });

    it("Reject with a reason sends it back: the fixer hears the reason, fixes add() instead and the run completes", async () => {
      const { page, shots } = e2e;
      const workspace = e2e.workspaces['command-change'];
      await rejectButton(page).first().click();
      await answerInputBox(page, REJECT_REASON, 'the reason for rejecting package.json');
      const decided = (await waitForLoggedEvent(workspace, (event) => event.type === 'edit.decided', 'the decision on package.json')) as LoggedEvent & {
        accepted: string[];
        rejected: string[];
        by: string;
        reason?: string;
      };
      assert.deepEqual([decided.accepted, decided.rejected, decided.by], [[], ['package.json'], 'user']);
      assert.ok(String(decided.reason).includes(REJECT_REASON), `the decision carries the reason: ${String(decided.reason)}`);
      // The fixer's transcript turn `expect`s the reason in its prompt: a run that completes heard it.
      await waitForRunStatus(page, 'completed');
      await shots.take('command-change-completed');
      const { events } = await readRunLog(workspace);
      assert.deepEqual(loggedTaskStatuses(events), { t1: 'done' });
      assert.ok(events.some((event) => event.type === 'step.started' && event.taskId === 't1' && event.role === 'fixer'), 'a fixer attempt ran after the rejection');
      assert.equal(await readFile(path.join(workspace, 'package.json'), 'utf8'), originalPackageJson, 'the test script is unchanged');
      const result = nodeTest(workspace);
      assert.equal(result.status, 0, `node --test passes:\n${result.output}`);
    });
  });
});
