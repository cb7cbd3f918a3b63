// End to end in a real VS Code (code-server 4.117.0, the packaged VSIX) driven by Playwright: the
// promise "edits never destroy code", scenario by scenario, each on a fresh copy of
// test/fixtures/review-workspace with a scripted transcript from test/fixtures/transcripts/.
//
//   (a) per-hunk review: accept one hunk (CodeLens) and reject the other (Alt+Backspace on it, with a
//       reason) → the file on disk has exactly the accepted hunk.
//   (b) the user types into a file (unsaved) while a proposal for it waits, then accepts it
//       (Ctrl+Alt+Enter) → nothing typed is overwritten, the text is still there, unsaved.
//   (c) roll back to the checkpoint before the first task → files restored, the file created since
//       removed, and the workspace's own git repository (commit, staged change, stash) untouched.
//   (d) the editor is killed after the applier wrote an edit and before the engine logged it
//       (SOFTWARE_MAKER_TEST_HANG_AFTER_APPLY) → after a restart and resume the change is in the file
//       once and the log records it as already applied.
//
//   npx mocha --import=tsx --timeout 900000 test/e2e/review.e2e.ts
//
// Screenshots: test-results/e2e-review/<scenario>/NN-step.png.
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import type { EngineEvent } from '../../src/shared/events';
import { CodeServer, repoRoot, startBrowser, type BrowserSession } from '../harness/codeServer';
import { RUN_TIMEOUT, STEP_TIMEOUT, TRANSCRIPTS, VSIX, copyWorkspace, expectExtensionLoaded, reportFailure, scriptedModel, startGoal as startGoalFromPalette, stepGuard, useScenario } from '../harness/scenario';
import {
  SELECTORS,
  Screenshots,
  answerInputBox,
  answerModalDialog,
  clickToastButton,
  diffCodeLenses,
  editorTab,
  expectVisible,
  openWorkbench,
  pickQuickInputRow,
  quickOpenFile,
  runCommand,
  runLogProgress,
  showViewContainer,
  sidebarTreeRow,
  toastTexts,
  waitUntil,
  workspaceOf,
} from '../harness/workbench';

const fixture = path.join(repoRoot, 'test', 'fixtures', 'review-workspace');
const artifactsRoot = path.join(repoRoot, 'test-results', 'e2e-review');
/**
 * Per-hunk CodeLens in diff editors needs diffEditor.codeLens (the extension offers to turn it on).
 * VS Code for the web saves after a delay by default; desktop VS Code does not, and scenario (b) needs
 * text that stays unsaved.
 */
const SERVER_SETTINGS = { 'diffEditor.codeLens': true, 'files.autoSave': 'off' };

const ORIGINAL_LIST = readFileSync(path.join(fixture, 'src', 'list.js'), 'utf8');

/** Every event of every run in the workspace, in order. */
function readEvents(workspace: string): EngineEvent[] {
  const runsDir = path.join(workspace, '.software-maker', 'runs');
  if (!existsSync(runsDir)) return [];
  return readdirSync(runsDir)
    .sort()
    .flatMap((run) => {
      const file = path.join(runsDir, run, 'events.jsonl');
      if (!existsSync(file)) return [];
      return readFileSync(file, 'utf8')
        .split('\n')
        .filter((line) => line.trim())
        .flatMap((line) => {
          try {
            return [JSON.parse(line) as EngineEvent];
          } catch {
            return []; // a torn last line while the run writes
          }
        });
    });
}

function eventsOf<T extends EngineEvent['type']>(events: EngineEvent[], type: T): Extract<EngineEvent, { type: T }>[] {
  return events.filter((event): event is Extract<EngineEvent, { type: T }> => event.type === type);
}

function runStatus(workspace: string): string | undefined {
  return eventsOf(readEvents(workspace), 'run.status').at(-1)?.status;
}

/** A fresh copy of the review workspace, in `parent`, with the run settings of one scenario. */
async function makeWorkspace(parent: string, name: string, transcript: string, settings: Record<string, unknown>): Promise<string> {
  return copyWorkspace(fixture, path.join(parent, name), {
    'softwareMaker.models': [scriptedModel(path.join(TRANSCRIPTS, transcript))],
    'softwareMaker.testCommand': 'none',
    'softwareMaker.reviewGate': false,
    'softwareMaker.autoApprove': false,
    'softwareMaker.maxFixAttempts': 0,
    ...settings,
  });
}

async function startGoal(page: Page, shots: Screenshots, goal: string): Promise<void> {
  // The palette lists the extension's commands once its contributions are in (the activity-bar entry shows it).
  await expectExtensionLoaded(page);
  await startGoalFromPalette(page, goal);
  await shots.take('goal-entered');
}

/** Waits, while the run progresses (its events.jsonl grows), until its last run.status is one of `wanted`. */
async function waitForRunStatus(page: Page, workspace: string, wanted: string[], timeout = RUN_TIMEOUT): Promise<string> {
  return waitUntil(
    async () => {
      const status = runStatus(workspace);
      return status && wanted.includes(status) ? status : undefined;
    },
    `the run to end ${wanted.join(' or ')} (events.jsonl)`,
    { timeout, progress: () => runLogProgress(workspace), observe: async () => `run status ${runStatus(workspace)}; notifications ${JSON.stringify(await toastTexts(page))}` },
  );
}

/** The visible diff editor of a proposal for `file`, with its lines rendered. */
async function proposalDiff(page: Page, file: string): Promise<void> {
  await waitUntil(
    async () => {
      const uris = await page.locator(`${SELECTORS.diffEditor} .editor.modified .monaco-editor`).evaluateAll((editors) => editors.map((editor) => editor.getAttribute('data-uri') ?? ''));
      return uris.some((uri) => uri.startsWith('software-maker-proposal:') && decodeURIComponent(uri).includes(file)) ? true : undefined;
    },
    `a proposal diff editor for ${file}`,
    {
      timeout: STEP_TIMEOUT,
      progress: () => runLogProgress(workspaceOf(page)),
      observe: async () => `tabs ${JSON.stringify(await page.locator(SELECTORS.editorTabs).allInnerTexts())}; notifications ${JSON.stringify(await toastTexts(page))}`,
    },
  );
  await page.locator(`${SELECTORS.diffEditor} .editor.modified .view-line`).first().waitFor({ state: 'visible', timeout: 10_000 }).catch(() => undefined);
}

function git(cwd: string, args: string[]): string {
  // --no-optional-locks: reading the status must not refresh (rewrite) the index we compare.
  return execFileSync('git', ['--no-optional-locks', ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_AUTHOR_NAME: 'E2E', GIT_AUTHOR_EMAIL: 'e2e@example.invalid', GIT_COMMITTER_NAME: 'E2E', GIT_COMMITTER_EMAIL: 'e2e@example.invalid' },
  });
}

interface GitState {
  status: string;
  stash: string;
  head: string;
  indexHash: string;
  stagedFiles: string;
}

function gitState(workspace: string): GitState {
  return {
    status: git(workspace, ['status', '--porcelain', '--untracked-files=all']),
    stash: git(workspace, ['stash', 'list', '--format=%H %s']),
    head: git(workspace, ['rev-parse', 'HEAD']).trim(),
    indexHash: createHash('sha256').update(readFileSync(path.join(workspace, '.git', 'index'))).digest('hex'),
    stagedFiles: git(workspace, ['ls-files', '--stage']),
  };
}

/**
 * In the current describe(): one scenario's plumbing. before() runs `prepare` (its workspace) and, unless
 * `openPage: false`, opens the scenario's page in `browser()`; after() closes that page; the step guard
 * skips the rest after a failure, with a capture in test-results/e2e-review/<name>/.
 */
function scenario(
  name: string,
  browser: () => BrowserSession,
  prepare: () => Promise<void>,
  options: { openPage?: boolean } = {},
): { shots: () => Screenshots; page: () => Page; open: (browser: BrowserSession, phase?: string) => Promise<void> } {
  let page: Page | undefined;
  let shots: Screenshots | undefined;
  const open = async (session: BrowserSession, phase?: string): Promise<void> => {
    // A page of its own: closing the previous one never waits on a "leave with unsaved changes?" prompt.
    page = await session.context.newPage();
    shots = new Screenshots(page, path.join(artifactsRoot, name, ...(phase ? [phase] : [])));
  };
  before(async () => {
    await prepare();
    if (options.openPage !== false) await open(browser());
  });
  stepGuard(async (title) => (page && shots ? reportFailure(page, shots, title) : undefined));
  if (options.openPage !== false) after(async () => page?.close().catch(() => undefined));
  return { shots: () => shots!, page: () => page!, open };
}

describe('Software Maker end to end: review, unsaved edits, rollback, crash recovery', function () {
  this.timeout(15 * 60_000);

  // One server and browser for (a)–(c); every scenario has its own workspace copy and page.
  const e2e = useScenario({ artifactsDir: artifactsRoot, tempPrefix: 'sm-rv-', settings: SERVER_SETTINGS, serverArtifactsDir: path.join(artifactsRoot, 'server'), stepGuard: false });
  const browser = (): BrowserSession => e2e.browser;

  describe('(a) per-hunk review', () => {
    let workspace: string;
    const s = scenario('a-hunks', browser, async () => {
      // A rejection with a reason sends the task back: one fix attempt hears it (the transcript's fixer turn).
      workspace = await makeWorkspace(e2e.parent, 'hunks', 'review-hunks.json', { 'softwareMaker.maxFixAttempts': 1 });
    });

    it('shows Accept hunk / Reject hunk CodeLens above both hunks of the proposal', async () => {
      const page = s.page();
      await openWorkbench(page, e2e.server.workbenchUrl(workspace));
      await startGoal(page, s.shots(), 'Make apples and tea green');
      await proposalDiff(page, 'src/list.js');
      await waitUntil(async () => ((await diffCodeLenses(page, 'Accept hunk').count()) === 2 ? true : undefined), 'two "Accept hunk" CodeLens links (one per hunk) in the diff', {
        timeout: 60_000,
        observe: async () => `lenses ${JSON.stringify(await page.locator(`${SELECTORS.diffEditor} .codelens-decoration`).allInnerTexts())}`,
      });
      assert.equal(await diffCodeLenses(page, 'Reject hunk').count(), 2);
      await s.shots().take('hunk-lenses');
    });

    it('accepts the first hunk from its CodeLens; the lens and the Runs view show the state', async () => {
      const page = s.page();
      const lenses = async () => `lenses ${JSON.stringify(await page.locator(`${SELECTORS.diffEditor} .codelens-decoration`).allInnerTexts())}`;
      // Both lenses first: while the editor lays them out, one may be missing or still moving.
      await waitUntil(async () => ((await diffCodeLenses(page, 'Accept hunk').count()) === 2 ? true : undefined), 'both hunks’ "Accept hunk" lenses', { timeout: 30_000, observe: lenses });
      const lineOf = (text: string) => page.locator(`${SELECTORS.diffEditor} .editor.modified .view-line`).filter({ hasText: text }).first().boundingBox();
      // The lens right above the first hunk's line, clicked where it is once it stays put: the
      // topmost lens taken by its index named the second hunk's lens when the editor drew the lenses
      // again before the click (once, the second hunk was accepted).
      const lensAboveApples = async () => {
        const apples = await lineOf('green apples');
        const all = diffCodeLenses(page, 'Accept hunk');
        for (let index = 0; index < (await all.count()); index++) {
          const box = await all.nth(index).boundingBox();
          if (apples && box && box.y < apples.y && apples.y - box.y < 40) return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
        }
        return undefined;
      };
      let seen: { x: number; y: number } | undefined;
      const target = await waitUntil(
        async () => {
          const now = await lensAboveApples();
          const still = now && seen && now.x === seen.x && now.y === seen.y;
          seen = now;
          return still ? now : undefined;
        },
        'the first hunk’s "Accept hunk" lens, right above "green apples", in the same place on two looks',
        { timeout: 30_000, interval: 250, observe: lenses },
      );
      await page.mouse.click(target.x, target.y);
      await waitUntil(async () => ((await diffCodeLenses(page, '✓ accepted').count()) === 1 ? true : undefined), 'the first hunk’s lens to say "✓ accepted"', { timeout: 30_000, observe: lenses });
      // The lens that says so sits above the first hunk ("green apples"), not above the second ("green tea").
      const [accepted, apples, tea] = [await diffCodeLenses(page, '✓ accepted').first().boundingBox(), await lineOf('green apples'), await lineOf('green tea')];
      assert.ok(accepted && apples && tea && accepted.y < apples.y && apples.y < tea.y && apples.y - accepted.y < 40, `the "✓ accepted" lens is the first hunk's: ${JSON.stringify({ accepted, apples, tea })}`);
      await s.shots().take('first-hunk-accepted');
      await showViewContainer(page, 'Software Maker');
      const row = await sidebarTreeRow(page, 'src/list.js');
      await waitUntil(async () => ((await row.innerText()).includes('1 accepted, 1 pending') ? true : undefined), 'the tree row of src/list.js to say "2 hunks · 1 accepted, 1 pending"', {
        timeout: 30_000,
        observe: async () => `row "${await row.innerText()}"`,
      });
      await s.shots().take('tree-hunk-counts');
    });

    it('rejects the second hunk with Alt+Backspace on it, with a reason', async () => {
      const page = s.page();
      await page.locator(`${SELECTORS.diffEditor} .editor.modified .view-line`).filter({ hasText: 'green tea' }).first().click();
      await page.keyboard.press('Alt+Backspace');
      await answerInputBox(page, 'keep plain tea', 'the reason for rejecting the hunk');
      await s.shots().take('second-hunk-rejected');
      const status = await waitForRunStatus(page, workspace, ['completed', 'failed', 'paused']);
      assert.equal(status, 'completed');
      await s.shots().take('run-completed');
    });

    it('wrote exactly the accepted hunk to disk and logged the partial decision with the reason', async () => {
      const onDisk = await readFile(path.join(workspace, 'src', 'list.js'), 'utf8');
      assert.equal(onDisk, ORIGINAL_LIST.replace("  'apples',", "  'green apples',"), 'src/list.js holds the first hunk and not the second');
      const [decided] = eventsOf(readEvents(workspace), 'edit.decided');
      assert.deepEqual(decided.partial, { 'src/list.js': { accepted: [0], total: 2 } });
      assert.match(decided.reason ?? '', /hunk 2 .*keep plain tea/);
    });
  });

  describe('(c) rollback to a checkpoint', () => {
    let workspace: string;
    let beforeRun: GitState;
    const s = scenario('c-rollback', browser, async () => {
      workspace = await makeWorkspace(e2e.parent, 'rollback', 'review-rollback.json', { 'softwareMaker.autoApprove': true, 'softwareMaker.checkpoints': true });
      // The workspace's own repository: a commit, a stash, a staged change and an unstaged one.
      git(workspace, ['init', '--quiet', '--initial-branch=main']);
      git(workspace, ['add', '--all']);
      git(workspace, ['commit', '--quiet', '-m', 'initial']);
      await writeFile(path.join(workspace, 'notes.txt'), 'Meeting notes\n\n- stashed idea\n');
      git(workspace, ['stash', 'push', '--quiet', '-m', 'an idea for later']);
      await writeFile(path.join(workspace, 'README.md'), '# Review workspace\n\nStaged, not committed.\n');
      git(workspace, ['add', 'README.md']);
      await writeFile(path.join(workspace, 'notes.txt'), 'Meeting notes\n\n- unstaged change\n');
      beforeRun = gitState(workspace);
      assert.match(beforeRun.status, /^M  README\.md$/m);
      assert.match(beforeRun.stash, /an idea for later/);
    });

    it('runs two auto-approved tasks that change src/list.js and create docs/shopping.md', async () => {
      const page = s.page();
      await openWorkbench(page, e2e.server.workbenchUrl(workspace));
      await startGoal(page, s.shots(), 'Add coffee and document the list');
      assert.equal(await waitForRunStatus(page, workspace, ['completed', 'failed', 'paused']), 'completed');
      assert.match(await readFile(path.join(workspace, 'src', 'list.js'), 'utf8'), /'coffee'/);
      assert.ok(existsSync(path.join(workspace, 'docs', 'shopping.md')));
      const labels = eventsOf(readEvents(workspace), 'checkpoint.created').map((event) => event.label);
      assert.ok(labels.some((label) => label.startsWith('before t1')), `a checkpoint before t1 among ${JSON.stringify(labels)}`);
      await s.shots().take('run-completed');
    });

    it('rolls back to the checkpoint before t1 after a modal confirmation that says what happens', async () => {
      const page = s.page();
      const beforeRollback = gitState(workspace);
      await runCommand(page, 'Software Maker: Roll Back…');
      await s.shots().take('checkpoint-pick');
      await pickQuickInputRow(page, 'before t1', 'the checkpoint to roll back to');
      const dialog = await answerModalDialog(page, 'Roll Back', 'the rollback');
      assert.match(dialog, /safety checkpoint/i);
      assert.match(dialog, /git repository/i);
      assert.match(dialog, /src\/list\.js/, 'the dialog lists the files that differ');
      await waitUntil(async () => ((await toastTexts(page)).some((text) => /rolled back to/i.test(text)) ? true : undefined), 'a "rolled back to …" summary notification', {
        timeout: 60_000,
        observe: async () => `notifications ${JSON.stringify(await toastTexts(page))}`,
      });
      await s.shots().take('rolled-back');
      // The run and the rollback never touched the user's repository.
      assert.equal(beforeRollback.head, beforeRun.head);
      assert.equal(beforeRollback.stash, beforeRun.stash);
      assert.equal(beforeRollback.indexHash, beforeRun.indexHash);
    });

    it('restored the files, removed the file created since, and left the git repository exactly as it was', async () => {
      assert.equal(await readFile(path.join(workspace, 'src', 'list.js'), 'utf8'), ORIGINAL_LIST);
      assert.equal(existsSync(path.join(workspace, 'docs', 'shopping.md')), false, 'docs/shopping.md (created by t2) is removed');
      assert.equal(existsSync(path.join(workspace, 'docs')), false, 'the folder it left empty is removed');
      assert.equal(await readFile(path.join(workspace, 'notes.txt'), 'utf8'), 'Meeting notes\n\n- unstaged change\n', 'the unstaged change is still there');
      const after = gitState(workspace);
      assert.deepEqual(after, beforeRun, 'git status, stash list, HEAD and the index are as before the run');
      assert.equal(eventsOf(readEvents(workspace), 'checkpoint.restored').length, 1, 'the run log records the rollback');
    });
  });

  describe('(b) unsaved typing while a proposal waits', () => {
    let workspace: string;
    const originalNotes = readFileSync(path.join(fixture, 'notes.txt'), 'utf8');
    const s = scenario('b-unsaved', browser, async () => {
      workspace = await makeWorkspace(e2e.parent, 'unsaved', 'review-unsaved.json', {});
    });

    it('types into notes.txt without saving while its proposal waits for review', async () => {
      const page = s.page();
      await openWorkbench(page, e2e.server.workbenchUrl(workspace));
      await startGoal(page, s.shots(), 'Add the dentist to the notes');
      await proposalDiff(page, 'notes.txt');
      await s.shots().take('proposal-shown');
      await quickOpenFile(page, 'notes.txt');
      await expectVisible(page.locator('.part.editor .monaco-editor .view-line').filter({ hasText: 'Meeting notes' }), 'notes.txt open in an editor');
      await page.locator('.part.editor .monaco-editor .view-line').filter({ hasText: 'Meeting notes' }).first().click();
      await page.keyboard.press('Control+Home');
      await page.keyboard.type('USER TYPED THIS\n');
      await expectVisible(page.locator(`${SELECTORS.editorTabs}.dirty`).filter({ hasText: 'notes.txt' }), 'the notes.txt tab marked dirty (unsaved)', 10_000);
      await s.shots().take('typed-unsaved');
    });

    it('accepts the proposal with Ctrl+Alt+Enter in its diff: the edit is refused as an unsaved conflict', async () => {
      const page = s.page();
      await editorTab(page, '(proposed by').click();
      await proposalDiff(page, 'notes.txt');
      await page.locator(`${SELECTORS.diffEditor} .editor.modified .view-line`).filter({ hasText: 'dentist' }).first().click();
      await page.keyboard.press('Control+Alt+Enter');
      const failure = await waitUntil(
        async () => eventsOf(readEvents(workspace), 'task.status').find((event) => (event.status === 'failed' || event.status === 'dead_letter') && /unsaved/.test(event.reason ?? '')),
        'the task to fail with an "unsaved changes" conflict (events.jsonl)',
        { timeout: STEP_TIMEOUT, progress: () => runLogProgress(workspace), observe: async () => `task events ${JSON.stringify(eventsOf(readEvents(workspace), 'task.status').map((event) => `${event.status}: ${event.reason ?? ''}`))}` },
      );
      assert.match(failure.reason ?? '', /notes\.txt/);
      assert.deepEqual(eventsOf(readEvents(workspace), 'edit.applied'), [], 'nothing was applied');
      await s.shots().take('conflict-reported');
    });

    it('kept the typed text in the editor, unsaved, and the disk as it was', async () => {
      const page = s.page();
      assert.equal(await readFile(path.join(workspace, 'notes.txt'), 'utf8'), originalNotes, 'the disk still holds the original notes');
      await editorTab(page, 'notes.txt').click();
      const tab = page.locator(`${SELECTORS.editorTabs}.dirty`).filter({ hasText: 'notes.txt' });
      await expectVisible(tab, 'the notes.txt tab still dirty', 10_000);
      // The editor renders spaces as no-break spaces.
      const text = (await page.locator('.part.editor .monaco-editor .view-lines').first().innerText()).replace(/\u00a0/g, ' ');
      assert.match(text, /USER TYPED THIS/);
      assert.doesNotMatch(text, /dentist/, 'the proposal did not land in the editor either');
      await s.shots().take('typing-kept');
    });
  });

  describe('(d) crash between applying an edit and logging it', () => {
    let workspace: string;
    let marker: string;
    let crashServer: CodeServer | undefined;
    let crashBrowser: BrowserSession | undefined;
    const expected = ORIGINAL_LIST.replace("  'milk',", "  'oat milk',");
    // Its own editors (started in the steps, killed in the first one): no page from the shared browser.
    const s = scenario(
      'd-crash',
      browser,
      async () => {
        workspace = await makeWorkspace(e2e.parent, 'crash', 'review-crash.json', { 'softwareMaker.autoApprove': true });
        marker = path.join(e2e.parent, 'applied-then-hung.json');
      },
      { openPage: false },
    );
    after(async function () {
      this.timeout(2 * 60_000);
      await crashBrowser?.close();
      await crashServer?.stop();
    });

    it('applies the edit, then the editor dies before edit.applied is logged', async () => {
      crashServer = await CodeServer.start({
        vsix: [VSIX],
        artifactsDir: path.join(artifactsRoot, 'server-crash'),
        settings: SERVER_SETTINGS,
        env: { SOFTWARE_MAKER_TEST_HANG_AFTER_APPLY: marker },
      });
      crashBrowser = await startBrowser();
      await s.open(crashBrowser);
      const page = s.page();
      await openWorkbench(page, crashServer.workbenchUrl(workspace));
      await startGoal(page, s.shots(), 'Switch to oat milk');
      await waitUntil(async () => (existsSync(marker) ? true : undefined), `the applier to write the edit and stop (marker ${marker})`, {
        timeout: STEP_TIMEOUT,
        progress: () => runLogProgress(workspace),
        observe: async () => `run status ${runStatus(workspace)}; notifications ${JSON.stringify(await toastTexts(page))}`,
      });
      await s.shots().take('applied-not-logged');
      assert.equal(await readFile(path.join(workspace, 'src', 'list.js'), 'utf8'), expected, 'the edit reached the disk');
      assert.deepEqual(eventsOf(readEvents(workspace), 'edit.applied'), [], 'the log has no edit.applied yet');
      // The crash: the whole editor (server, extension host, browser) is killed.
      await crashBrowser.close();
      await crashServer.stop();
      crashBrowser = undefined;
      crashServer = undefined;
      assert.equal(runStatus(workspace), 'running', 'the run was interrupted mid-way');
    });

    it('resumes in a restarted editor and does not apply the edit twice', async () => {
      crashServer = await CodeServer.start({ vsix: [VSIX], artifactsDir: path.join(artifactsRoot, 'server-resume'), settings: SERVER_SETTINGS });
      crashBrowser = await startBrowser();
      await s.open(crashBrowser, 'after-restart');
      const page = s.page();
      await openWorkbench(page, crashServer.workbenchUrl(workspace));
      await s.shots().take('restarted');
      if (!(await clickToastButton(page, /interrupted/, 'Resume', 30_000))) {
        await runCommand(page, 'Software Maker: Resume Run');
        await pickQuickInputRow(page, 'Switch to oat milk', 'the run to resume');
      }
      assert.equal(await waitForRunStatus(page, workspace, ['completed', 'failed', 'paused']), 'completed');
      await s.shots().take('resumed-completed');
      assert.equal(await readFile(path.join(workspace, 'src', 'list.js'), 'utf8'), expected, 'the change is in the file exactly once');
      const applied = eventsOf(readEvents(workspace), 'edit.applied');
      assert.equal(applied.length, 1, 'one edit.applied');
      assert.deepEqual(applied[0].alreadyApplied, ['src/list.js'], 'logged as already applied');
    });
  });
});
