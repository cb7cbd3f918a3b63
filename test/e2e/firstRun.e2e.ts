// End to end, a new user's first run in a real VS Code (code-server 4.117.0) with no model configured:
// the Runs view's welcome offers Configure Models and the walkthrough; the walkthrough's first step
// points at Configure Models; the panel shows a setup banner; "New Goal" without a model keeps the
// typed goal (the error offers Configure Models, the panel keeps a banner with the goal), and once a
// model is configured (the scripted model, written to the user settings as a user would) the goal
// starts by itself and completes. Screenshots in the dark and the light theme.
//
//   npx mocha --import=tsx --timeout 900000 test/e2e/firstRun.e2e.ts
//
// Screenshots: test-results/e2e-first-run/NN-step.png.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { repoRoot } from '../harness/codeServer';
import {
  CALCULATOR_SAMPLE,
  CALCULATOR_TRANSCRIPT,
  DARK_THEME,
  LIGHT_THEME,
  chatFrame,
  RUN_TIMEOUT,
  STEP_TIMEOUT,
  expectExtensionLoaded,
  openPanel,
  readRunLog,
  scriptedModel,
  updateUserSettings,
  useScenario,
  useTheme,
} from '../harness/scenario';
import {
  SELECTORS,
  answerInputBox,
  closeQuickInput,
  expectVisible,
  pickQuickInputRow,
  newestRunId,
  openWorkbench,
  pageRunProgress,
  runCommand,
  runEndedOtherwise,
  showViewContainer,
  toastTexts,
  waitUntil,
} from '../harness/workbench';

const GOAL = 'Fix the failing calculator tests';

describe('Software Maker end to end: first run (welcome, walkthrough, a goal kept until a model works)', function () {
  this.timeout(15 * 60_000);

  const e2e = useScenario({
    artifactsDir: path.join(repoRoot, 'test-results', 'e2e-first-run'),
    inputs: [
      ['the calculator sample', CALCULATOR_SAMPLE, 'samples/calculator'],
      ['the recorded transcript', CALCULATOR_TRANSCRIPT, 'samples/transcripts/calculator.json'],
    ],
    workspaces: { calculator: { from: CALCULATOR_SAMPLE } },
    // No softwareMaker.models: a new user.
    settings: { 'workbench.colorTheme': DARK_THEME },
    captureWebview: true,
  });

  it('the Runs view welcome offers Configure Models (dark and light)', async () => {
    const { page, shots, server } = e2e;
    await openWorkbench(page, server.workbenchUrl(e2e.workspaces.calculator));
    await expectExtensionLoaded(page);
    await showViewContainer(page, 'Software Maker');
    const welcome = page.locator('.part.sidebar .welcome-view-content');
    const configure = welcome.locator('.monaco-button', { hasText: 'Configure Models' });
    await expectVisible(configure, 'the "Configure Models" button of the Runs view welcome', STEP_TIMEOUT);
    await expectVisible(welcome.locator('.monaco-button', { hasText: 'New Goal' }), 'the "New Goal" button of the Runs view welcome');
    await shots.take('welcome-dark');
    await useTheme(page, LIGHT_THEME);
    await shots.take('welcome-light');
  });

  it('the Runs view welcome\'s "Open the walkthrough" link opens the walkthrough', async () => {
    const { page, shots } = e2e;
    const link = page.locator('.part.sidebar .welcome-view-content a', { hasText: 'Open the walkthrough' });
    await expectVisible(link, 'the "Open the walkthrough" link of the Runs view welcome', STEP_TIMEOUT);
    await link.first().click();
    const walkthrough = page.locator('.part.editor .gettingStartedContainer');
    await expectVisible(walkthrough.getByText('Pick a model').first(), 'the walkthrough step "Pick a model", opened from the Runs view welcome link', STEP_TIMEOUT);
    await shots.take('walkthrough-from-welcome-link');
    await runCommand(page, 'View: Close All Editors');
  });

  it('the walkthrough (Welcome: Open Walkthrough…) has a first step pointing at Configure Models', async () => {
    const { page, shots } = e2e;
    await runCommand(page, 'Welcome: Open Walkthrough...');
    await pickQuickInputRow(page, 'Get started with Software Maker', 'the Software Maker walkthrough');
    const walkthrough = page.locator('.part.editor .gettingStartedContainer');
    await expectVisible(walkthrough.getByText('Get started with Software Maker').first(), 'the walkthrough "Get started with Software Maker"', STEP_TIMEOUT);
    await expectVisible(walkthrough.getByText('Pick a model').first(), 'its first step "Pick a model"');
    await expectVisible(walkthrough.locator('.button-link, a.monaco-button, .monaco-button', { hasText: 'Configure Models' }).first(), 'the step\'s "Configure Models" button');
    await shots.take('walkthrough-light');
    await useTheme(page, DARK_THEME);
    await shots.take('walkthrough-dark');
    await runCommand(page, 'View: Close All Editors');
  });

  it('the panel shows a setup banner with Configure Models', async () => {
    const { page, shots } = e2e;
    await openPanel(page, '#goal-input', 'the panel with its composer');
    // The side bar Chat view is a webview too: pick the panel's by its page.
    const frame = await chatFrame(page, 'panel');
    await expectVisible(frame.locator('.notice[data-notice-id="setup"] .notice-action[data-action="Configure Models"]'), 'the panel\'s setup banner with "Configure Models"', STEP_TIMEOUT);
    await shots.take('panel-setup-dark');
    await useTheme(page, LIGHT_THEME);
    await shots.take('panel-setup-light');
    // The banner's Open Walkthrough opens the same walkthrough as the Runs view's welcome link.
    await frame.locator('.notice[data-notice-id="setup"] .notice-action[data-action="Open Walkthrough"]').click();
    await expectVisible(page.locator('.part.editor .gettingStartedContainer').getByText('Pick a model').first(), 'the walkthrough step "Pick a model", opened from the banner', STEP_TIMEOUT);
    await shots.take('walkthrough-from-banner-light');
    await runCommand(page, 'View: Close All Editors');
    await openPanel(page, '#goal-input', 'the panel again');
    await chatFrame(page, 'panel');
  });

  it('New Goal without a model keeps the goal: the error offers Configure Models, the panel keeps a banner', async () => {
    const { page, shots } = e2e;
    const frame = await chatFrame(page, 'panel');
    await runCommand(page, 'Software Maker: New Goal');
    await answerInputBox(page, GOAL, 'the goal');
    const toast = page.locator('.notifications-toasts .notification-toast').filter({ hasText: 'Your goal is kept' }).first();
    await expectVisible(toast, 'an error notification saying the goal is kept', STEP_TIMEOUT, { observe: async () => `notifications ${JSON.stringify(await toastTexts(page))}` });
    const buttons = (await toast.locator('.monaco-button').allInnerTexts()).map((text) => text.trim());
    assert.ok(buttons.includes('Configure Models'), `Expected the error to offer "Configure Models", saw ${JSON.stringify(buttons)}`);
    const banner = frame.locator('.notice[data-notice-id="pending-goal"]');
    await expectVisible(banner, 'the panel banner of the goal waiting for a model', STEP_TIMEOUT);
    assert.match(await banner.innerText(), /Fix the failing calculator tests/);
    assert.equal(await newestRunId(e2e.workspaces.calculator), undefined, 'Expected no run before a model works');
    await shots.take('goal-kept-light');
    await useTheme(page, DARK_THEME);
    await shots.take('goal-kept-dark');
  });

  it('the banner\'s Configure Models opens Configure Models and the banner stays', async () => {
    const { page } = e2e;
    const frame = await chatFrame(page, 'panel');
    await frame.locator('.notice[data-notice-id="pending-goal"] .notice-action[data-action="Configure Models"]').click();
    await expectVisible(page.locator(SELECTORS.quickInput), 'the Configure Models picker', STEP_TIMEOUT);
    await e2e.shots.take('configure-models-picker');
    await closeQuickInput(page);
    await expectVisible(frame.locator('.notice[data-notice-id="pending-goal"]'), 'the pending-goal banner, still there');
  });

  it('once a model is configured the kept goal starts by itself and completes', async () => {
    const { page, shots, server } = e2e;
    await updateUserSettings(page, server, { 'softwareMaker.models': [scriptedModel(CALCULATOR_TRANSCRIPT)], 'softwareMaker.autoApprove': true });
    await waitUntil(async () => newestRunId(e2e.workspaces.calculator), 'a run to start once the model is configured', { timeout: STEP_TIMEOUT, observe: async () => `notifications ${JSON.stringify(await toastTexts(page))}` });
    // Saving settings.json from its editor may leave another editor active: show the panel again.
    await openPanel(page, '#goal-input', 'the panel again');
    const frame = await chatFrame(page, 'panel');
    const status = frame.locator('#run-status');
    await waitUntil(
      async () => ((await status.first().getAttribute('data-status').catch(() => null)) === 'completed' ? true : undefined),
      'the panel to show the started run completed',
      { timeout: RUN_TIMEOUT, progress: pageRunProgress(page), hopeless: runEndedOtherwise(page, 'completed'), observe: async () => `status ${await status.first().getAttribute('data-status').catch(() => 'none')}` },
    );
    const { events } = await readRunLog(e2e.workspaces.calculator);
    assert.equal(events[0]?.type, 'run.created');
    assert.equal(events[0]?.goal, GOAL, 'Expected the run to carry the goal typed before a model worked');
    assert.equal(await frame.locator('.notice[data-notice-id="pending-goal"]').count(), 0, 'Expected the pending-goal banner gone');
    assert.equal(await frame.locator('.notice[data-notice-id="setup"]').count(), 0, 'Expected the setup banner gone');
    await shots.take('kept-goal-completed-dark');
    await useTheme(page, LIGHT_THEME);
    await shots.take('kept-goal-completed-light');
  });
});
