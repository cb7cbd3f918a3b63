// End to end in a real VS Code (code-server 4.117.0, the packaged VSIX): prompts whose notification
// goes by itself stay reachable as banners in the chat panel (src/host/notices.ts) until acted on.
//
//   (a) a run interrupted when the window closed (the editor killed mid-run, as in review.e2e.ts (d)):
//       after a restart the notification is cleared, the panel keeps a "Resume" banner, and the
//       banner's Resume drives the run to its end;
//   (b) a review opens while diffEditor.codeLens is off: the panel keeps the offer as a banner after
//       the notification is cleared; its "Turn On" writes the setting and the hunk CodeLens show.
// Screenshots in the dark and the light theme for every banner.
//
//   npx mocha --import=tsx --timeout 900000 test/e2e/banners.e2e.ts
//
// Screenshots: test-results/e2e-banners/<scenario>/NN-step.png.
import * as assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { FrameLocator, Page } from 'playwright-core';
import { CodeServer, makeTempDir, removeTempDir, repoRoot, startBrowser, type BrowserSession } from '../harness/codeServer';
import {
  CALCULATOR_SAMPLE,
  DARK_THEME,
  LIGHT_THEME,
  RUN_TIMEOUT,
  STEP_TIMEOUT,
  TRANSCRIPTS,
  VSIX,
  chatFrame,
  copyWorkspace,
  expectExtensionLoaded,
  openPanel,
  reportFailure,
  scriptedModel,
  startGoal,
  stepGuard,
  useScenario,
  useTheme,
} from '../harness/scenario';
import {
  SELECTORS,
  Screenshots,
  diffCodeLenses,
  editorTab,
  expectVisible,
  openWorkbench,
  pickQuickInputRow,
  runCommand,
  runLogProgress,
  toastTexts,
  waitUntil,
  webviewFrame,
} from '../harness/workbench';

const REVIEW_WORKSPACE = path.join(repoRoot, 'test', 'fixtures', 'review-workspace');
const CRASH_TRANSCRIPT = path.join(TRANSCRIPTS, 'review-crash.json');
const artifactsRoot = path.join(repoRoot, 'test-results', 'e2e-banners');
const GOAL = 'Switch to oat milk';
const RUN_SETTINGS = { 'softwareMaker.testCommand': 'none', 'softwareMaker.reviewGate': false, 'softwareMaker.maxFixAttempts': 0 };

function banner(frame: FrameLocator, id: string) {
  return frame.locator(`.notice[data-notice-id="${id}"]`);
}

function bannerAction(frame: FrameLocator, id: string, action: string) {
  return frame.locator(`.notice[data-notice-id="${id}"] .notice-action[data-action="${action}"]`);
}

/** The last run.status of the workspace's newest run (events.jsonl). */
function runStatus(workspace: string): string | undefined {
  const runsDir = path.join(workspace, '.software-maker', 'runs');
  const run = existsSync(runsDir) ? readdirSync(runsDir).sort().at(-1) : undefined;
  const log = run ? path.join(runsDir, run, 'events.jsonl') : undefined;
  if (!log || !existsSync(log)) return undefined;
  let status: string | undefined;
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    try {
      const event = JSON.parse(line) as { type?: string; status?: string };
      if (event.type === 'run.status') status = event.status;
    } catch {
      // a torn last line while the run writes
    }
  }
  return status;
}

async function waitForRunEnd(page: Page, workspace: string, wanted: string): Promise<void> {
  await waitUntil(async () => (runStatus(workspace) === wanted ? true : undefined), `the run to end ${wanted} (events.jsonl)`, {
    timeout: RUN_TIMEOUT,
    progress: () => runLogProgress(workspace),
    observe: async () => `run status ${runStatus(workspace)}; notifications ${JSON.stringify(await toastTexts(page))}`,
  });
}

/**
 * Clears the notifications (a toast that is not an error goes by itself after a while: this is that,
 * at once) and waits until the one saying `text` is gone. A run's progress notification stays.
 */
async function clearNotifications(page: Page, text: string): Promise<void> {
  await runCommand(page, 'Notifications: Clear All Notifications');
  const toast = page.locator('.notifications-toasts .notification-toast').filter({ hasText: text });
  await waitUntil(async () => ((await toast.count()) === 0 ? true : undefined), `the notification saying "${text}" to be gone`, {
    timeout: 30_000,
    observe: async () => JSON.stringify(await toastTexts(page)),
  });
}

/** Answers the input box whose title contains `title` (a chain of boxes reuses one widget: the title tells them apart). */
async function answerTitledBox(page: Page, title: string, text: string): Promise<void> {
  const widget = page.locator(SELECTORS.quickInput).filter({ has: page.locator('.quick-input-title', { hasText: title }) });
  await expectVisible(widget, `the input box "${title}"`, STEP_TIMEOUT);
  const input = widget.locator('.quick-input-box input').first();
  await input.fill(text);
  await input.press('Enter');
  await waitUntil(async () => ((await widget.isVisible().catch(() => false)) ? undefined : true), `the input box "${title}" to close after Enter`, { timeout: 30_000 });
}

/** Both themes of the current view, dark first; leaves the window in the dark theme. */
async function shootBothThemes(page: Page, shots: Screenshots, step: string): Promise<void> {
  await useTheme(page, DARK_THEME);
  await shots.take(`${step}-dark`);
  await useTheme(page, LIGHT_THEME);
  await shots.take(`${step}-light`);
  await useTheme(page, DARK_THEME);
}

describe('Software Maker end to end: prompts stay reachable as panel banners', function () {
  this.timeout(15 * 60_000);

  describe('(a) Resume an interrupted run from the panel banner', () => {
    let parent: string | undefined;
    let workspace: string;
    let marker: string;
    let server: CodeServer | undefined;
    let browser: BrowserSession | undefined;
    let shots: Screenshots | undefined;
    const page = (): Page => {
      if (!browser) throw new Error('The browser of scenario (a) is not started.');
      return browser.page;
    };
    before(async () => {
      parent = await makeTempDir('sm-banners-');
      workspace = await copyWorkspace(REVIEW_WORKSPACE, path.join(parent, 'crash'), {
        'softwareMaker.models': [scriptedModel(CRASH_TRANSCRIPT)],
        'softwareMaker.autoApprove': true,
        ...RUN_SETTINGS,
      });
      marker = path.join(parent, 'applied-then-hung.json');
    });
    stepGuard(async (title) => (browser && shots ? reportFailure(browser.page, shots, title, webviewFrame(browser.page)) : undefined));
    after(async function () {
      this.timeout(2 * 60_000);
      await browser?.close();
      await server?.stop();
      if (parent) await removeTempDir(parent);
    });

    it('a run is interrupted: the editor dies while the run is running', async () => {
      server = await CodeServer.start({ vsix: [VSIX], artifactsDir: path.join(artifactsRoot, 'a-server-crash'), env: { SOFTWARE_MAKER_TEST_HANG_AFTER_APPLY: marker } });
      browser = await startBrowser();
      shots = new Screenshots(browser.page, path.join(artifactsRoot, 'a-resume'));
      await openWorkbench(page(), server.workbenchUrl(workspace));
      await expectExtensionLoaded(page());
      await startGoal(page(), GOAL);
      await waitUntil(async () => (existsSync(marker) ? true : undefined), `the run to reach its hang point (marker ${marker})`, {
        timeout: STEP_TIMEOUT,
        progress: () => runLogProgress(workspace),
        observe: async () => `run status ${runStatus(workspace)}`,
      });
      await browser.close();
      await server.stop();
      browser = undefined;
      server = undefined;
      assert.equal(runStatus(workspace), 'running', 'the run was interrupted while running');
    });

    it('after a restart the notification may go: the panel keeps a Resume banner (dark and light)', async () => {
      server = await CodeServer.start({ vsix: [VSIX], artifactsDir: path.join(artifactsRoot, 'a-server-restart') });
      browser = await startBrowser();
      shots = new Screenshots(browser.page, path.join(artifactsRoot, 'a-resume-restarted'));
      await openWorkbench(page(), server.workbenchUrl(workspace));
      const toast = page().locator('.notifications-toasts .notification-toast').filter({ hasText: 'interrupted when the window closed' }).first();
      await expectVisible(toast, 'the "interrupted when the window closed. Resume?" notification', STEP_TIMEOUT, { observe: async () => JSON.stringify(await toastTexts(page())) });
      await shots.take('resume-notification');
      await clearNotifications(page(), 'interrupted when the window closed');
      await openPanel(page(), '#goal-input', 'the panel with its composer');
      const frame = await chatFrame(page(), 'panel');
      await expectVisible(bannerAction(frame, 'resume', 'Resume'), 'the panel\'s Resume banner', STEP_TIMEOUT);
      assert.match(await banner(frame, 'resume').innerText(), /interrupted when the window closed/);
      assert.equal(runStatus(workspace), 'running', 'nothing resumed the run unasked');
      await shootBothThemes(page(), shots, 'resume-banner');
    });

    it('the banner\'s Resume resumes the run to its end and the banner goes', async () => {
      const frame = await chatFrame(page(), 'panel');
      await bannerAction(frame, 'resume', 'Resume').click();
      await waitForRunEnd(page(), workspace, 'completed');
      await waitUntil(async () => ((await banner(frame, 'resume').count()) === 0 ? true : undefined), 'the Resume banner to go', { timeout: 30_000 });
      await shots?.take('resumed-completed');
    });
  });

  describe('(b) the diffEditor.codeLens offer and (c) Set API Key', () => {
    const userSettingsFile = (): string => path.join(e2e.server.runDir, 'user-data', 'User', 'settings.json');
    const userSettings = async (): Promise<Record<string, unknown>> => JSON.parse(await readFile(userSettingsFile(), 'utf8').catch(() => '{}')) as Record<string, unknown>;
    const e2e = useScenario({
      artifactsDir: path.join(artifactsRoot, 'b-codelens'),
      workspaces: { review: { from: REVIEW_WORKSPACE, settings: { 'softwareMaker.autoApprove': false, ...RUN_SETTINGS } } },
      settings: { 'workbench.colorTheme': DARK_THEME, 'softwareMaker.models': [scriptedModel(CRASH_TRANSCRIPT)], 'files.autoSave': 'off' },
      captureWebview: true,
    });

    it('(b) a review opens with diffEditor.codeLens off: the offer stays as a panel banner (dark and light)', async () => {
      const { page, shots, server } = e2e;
      await openWorkbench(page, server.workbenchUrl(e2e.workspaces.review));
      await expectExtensionLoaded(page);
      assert.notEqual((await userSettings())['diffEditor.codeLens'], true, 'diffEditor.codeLens starts off');
      await startGoal(page, GOAL);
      await expectVisible(page.locator(`${SELECTORS.diffEditor} .editor.modified`), 'the proposal\'s diff editor', STEP_TIMEOUT, { progress: () => runLogProgress(e2e.workspaces.review) });
      const toast = page.locator('.notifications-toasts .notification-toast').filter({ hasText: 'diffEditor.codeLens' }).first();
      await expectVisible(toast, 'the notification offering to turn on diffEditor.codeLens', STEP_TIMEOUT, { observe: async () => JSON.stringify(await toastTexts(page)) });
      await shots.take('codelens-notification');
      await clearNotifications(page, 'diffEditor.codeLens');
      await openPanel(page, '#goal-input', 'the panel with its composer');
      const frame = await chatFrame(page, 'panel');
      await expectVisible(bannerAction(frame, 'diff-codelens', 'Turn On'), 'the panel\'s diffEditor.codeLens banner with "Turn On"', STEP_TIMEOUT);
      assert.match(await banner(frame, 'diff-codelens').innerText(), /diffEditor\.codeLens/);
      await shootBothThemes(page, shots, 'codelens-banner');
    });

    it('(b) the banner\'s Turn On writes diffEditor.codeLens and the hunk CodeLens show', async () => {
      const { page, shots } = e2e;
      const frame = await chatFrame(page, 'panel');
      await bannerAction(frame, 'diff-codelens', 'Turn On').click();
      await waitUntil(async () => ((await userSettings())['diffEditor.codeLens'] === true ? true : undefined), 'the user settings to have "diffEditor.codeLens": true', {
        timeout: 30_000,
        observe: async () => JSON.stringify(await userSettings()),
      });
      await waitUntil(async () => ((await banner(frame, 'diff-codelens').count()) === 0 ? true : undefined), 'the diffEditor.codeLens banner to go', { timeout: 30_000 });
      await editorTab(page, 'list.js').click();
      await expectVisible(diffCodeLenses(page, /Accept/), 'an "Accept" CodeLens in the proposal\'s diff editor', STEP_TIMEOUT);
      await shots.take('codelens-on');
    });

    it('(c) a model saved without its API key: the Set API Key banner stays after the notification is gone (dark and light)', async () => {
      const { page, shots } = e2e;
      await runCommand(page, 'Software Maker: Configure Models');
      await pickQuickInputRow(page, 'Add a model', 'Configure Models: add a model');
      // The provider list is longer than the picker shows (rows out of view are not rendered): filter it.
      const providers = page.locator(SELECTORS.quickInput).filter({ has: page.locator('.quick-input-title', { hasText: 'provider' }) });
      await expectVisible(providers, 'the provider picker', STEP_TIMEOUT);
      await providers.locator('.quick-input-box input').first().fill('Other OpenAI-compatible');
      await pickQuickInputRow(page, 'Other OpenAI-compatible endpoint', 'the provider');
      await answerTitledBox(page, 'endpoint model', 'banner-test-model');
      await answerTitledBox(page, 'base URL', 'http://127.0.0.1:9/v1');
      await answerTitledBox(page, 'API key name', 'BANNER_TEST_KEY');
      // The price box comes only for a model Software Maker has no price for (not for this one).
      const next = page.locator(SELECTORS.quickInput).filter({ has: page.locator('.quick-input-title', { hasText: /price|model id/ }) });
      await expectVisible(next, 'the price or the model id input box', STEP_TIMEOUT);
      if ((await next.locator('.quick-input-title').first().innerText()).includes('price')) await answerTitledBox(page, 'price', '');
      await answerTitledBox(page, 'model id', 'needs-key');
      const toast = page.locator('.notifications-toasts .notification-toast').filter({ hasText: 'BANNER_TEST_KEY' }).first();
      await expectVisible(toast, 'the "model is saved… needs the API key" notification', STEP_TIMEOUT, { observe: async () => JSON.stringify(await toastTexts(page)) });
      assert.ok((await toast.locator('.monaco-button').allInnerTexts()).some((text) => text.trim() === 'Set API Key'), 'the notification offers Set API Key');
      await shots.take('api-key-notification');
      await clearNotifications(page, 'BANNER_TEST_KEY');
      await runCommand(page, 'View: Close All Editors');
      await openPanel(page, '#goal-input', 'the panel, reopened');
      const frame = await chatFrame(page, 'panel');
      await expectVisible(bannerAction(frame, 'api-key:BANNER_TEST_KEY', 'Set API Key'), 'the panel\'s Set API Key banner, after the notification went and the panel was reopened', STEP_TIMEOUT);
      assert.match(await banner(frame, 'api-key:BANNER_TEST_KEY').innerText(), /needs-key.*BANNER_TEST_KEY/s);
      await shootBothThemes(page, shots, 'api-key-banner');
    });

    it('(c) the banner\'s Set API Key stores the key and the banner goes', async () => {
      const { page, shots } = e2e;
      const frame = await chatFrame(page, 'panel');
      await bannerAction(frame, 'api-key:BANNER_TEST_KEY', 'Set API Key').click();
      await answerTitledBox(page, 'API key "BANNER_TEST_KEY"', 'not-a-real-key');
      await waitUntil(async () => ((await banner(frame, 'api-key:BANNER_TEST_KEY').count()) === 0 ? true : undefined), 'the Set API Key banner to go once the key is stored', {
        timeout: STEP_TIMEOUT,
        observe: async () => JSON.stringify(await toastTexts(page)),
      });
      await shots.take('api-key-stored');
      assert.doesNotMatch(await readFile(userSettingsFile(), 'utf8'), /not-a-real-key/, 'the key is not in the settings');
    });
  });

  describe('(d) an untrusted window\'s panel turns usable when trust is granted', () => {
    let parent: string | undefined;
    let workspace: string;
    let server: CodeServer | undefined;
    let browser: BrowserSession | undefined;
    const e2e = {
      get page(): Page {
        if (!browser) throw new Error('The browser of scenario (d) is not started.');
        return browser.page;
      },
      shots: undefined as unknown as Screenshots,
      get server(): CodeServer {
        if (!server) throw new Error('The server of scenario (d) is not started.');
        return server;
      },
    };
    before(async function () {
      this.timeout(5 * 60_000);
      parent = await makeTempDir('sm-banners-trust-');
      workspace = await copyWorkspace(CALCULATOR_SAMPLE, path.join(parent, 'calculator'));
      // Workspace trust on (the harness turns it off by default): the folder opens in Restricted Mode.
      server = await CodeServer.start({
        vsix: [VSIX],
        artifactsDir: path.join(artifactsRoot, 'd-server'),
        workspaceTrust: true,
        settings: { 'workbench.colorTheme': DARK_THEME, 'security.workspace.trust.enabled': true, 'security.workspace.trust.startupPrompt': 'always', 'softwareMaker.models': [scriptedModel(CRASH_TRANSCRIPT)] },
      });
      browser = await startBrowser();
      e2e.shots = new Screenshots(browser.page, path.join(artifactsRoot, 'd-trust'));
    });
    stepGuard(async (title) => (browser && e2e.shots ? reportFailure(browser.page, e2e.shots, title, webviewFrame(browser.page)) : undefined));
    after(async function () {
      this.timeout(2 * 60_000);
      await browser?.close();
      await server?.stop();
      if (parent) await removeTempDir(parent);
    });

    it('in restricted mode the panel\'s composer is disabled (dark and light)', async () => {
      const { page, shots, server } = e2e;
      await openWorkbench(page, server.workbenchUrl(workspace));
      // The startup prompt asks whether to trust the folder: not trusted, the window is in Restricted Mode.
      const ask = page.locator('.monaco-dialog-box').filter({ hasText: 'trust the authors' });
      const restricted = page.locator('.part.statusbar, .part.banner').getByText('Restricted Mode');
      // The status bar says Restricted Mode before the prompt even shows: the prompt must be answered first.
      let answered = false;
      await waitUntil(
        async () => {
          if (await ask.first().isVisible()) {
            // Its buttons carry descriptions (not plain .monaco-button): find the button by its role and name.
            await ask.getByRole('button', { name: /don.t trust/i }).first().click();
            answered = true;
            return undefined;
          }
          return answered && (await restricted.first().isVisible()) ? true : undefined;
        },
        'the window in Restricted Mode (the trust prompt answered "No, I don\'t trust the authors")',
        { timeout: STEP_TIMEOUT, observe: async () => `dialog ${await ask.count()}; status bar ${JSON.stringify(await page.locator(`${SELECTORS.statusbar} .statusbar-item`).allInnerTexts())}` },
      );
      await expectExtensionLoaded(page);
      await openPanel(page, '#goal-input', 'the panel with its composer');
      const frame = await chatFrame(page, 'panel');
      await waitUntil(async () => ((await frame.locator('#goal-input').isDisabled()) ? true : undefined), 'the composer to be disabled in the untrusted window', { timeout: 30_000 });
      await expectVisible(frame.locator('.cannot-start'), 'the reason goals cannot start');
      await shootBothThemes(page, shots, 'untrusted-panel');
      await page.evaluate(() => {
        (window as unknown as { smSameWindow?: string }).smSameWindow = 'not reloaded';
      });
    });

    it('trust granted from Manage Workspace Trust enables the composer in the same window', async () => {
      const { page, shots } = e2e;
      await runCommand(page, 'Workspaces: Manage Workspace Trust');
      const trust = page.locator('.part.editor .workspace-trust-editor .monaco-button').filter({ hasText: /^\s*Trust(\s+Folder)?\s*$/ }).first();
      await expectVisible(trust, 'the "Trust" button of the workspace trust editor', STEP_TIMEOUT);
      await trust.click();
      await shots.take('trust-granted');
      await openPanel(page, '#goal-input', 'the panel again');
      const frame = await chatFrame(page, 'panel');
      await waitUntil(async () => ((await frame.locator('#goal-input').isEnabled()) ? true : undefined), 'the composer to be enabled once trust is granted', { timeout: STEP_TIMEOUT });
      assert.equal(await frame.locator('.cannot-start').count(), 0, 'no "cannot start" reason once trusted');
      assert.equal(await page.evaluate(() => (window as unknown as { smSameWindow?: string }).smSameWindow), 'not reloaded', 'the window was not reloaded');
      await shootBothThemes(page, shots, 'trusted-panel');
    });
  });
});
