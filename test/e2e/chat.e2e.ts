// End to end in a real VS Code (code-server, the packaged VSIX, Playwright in Chromium): the chat is
// a conversation. On a copy of the calculator sample with a scripted transcript
// (test/fixtures/transcripts/chat-conversation.json) and edits reviewed by the user:
//
//   1. the goal is typed (Shift+Enter is a new line) and sent with Enter; the planner's and the
//      implementer's words appear in the chat while the run is still going (it waits for review),
//      and the baseline's failures read as a note, not as a failure;
//   2. a message typed while the run is active is logged and reaches the task's next turn (the
//      fixer's prompt holds it; the chat says where it reached);
//   3. Escape on the reject-reason box cancels; a reason for README.md with src/calc.js accepted
//      sends the task back ("Sent back to the agent"), and the fixer and the reviewer hear it;
//   4. the end-of-run summary lists the changed file, the rejection, tests before/after, the cost and
//      report.md; a click on the file opens its diff against the run's start checkpoint;
//   5. a follow-up run starts from the composer (it carries the first run's summary) and the Stop
//      button cancels it: its task ends as cancelled, not "running".
//
// Screenshots in the dark and the light theme: test-results/e2e-chat/NN-step.png.
//
//   npx mocha --import=tsx --timeout 900000 test/e2e/chat.e2e.ts
import * as assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { FrameLocator, Page } from 'playwright-core';
import { repoRoot } from '../harness/codeServer';
import { CALCULATOR_SAMPLE, DARK_THEME, LIGHT_THEME, RUN_TIMEOUT, STEP_TIMEOUT, TRANSCRIPTS, chatFrame, expectExtensionLoaded, openPanel, scriptedModel, useScenario, useTheme, type LoggedEvent } from '../harness/scenario';
import { SELECTORS, answerInputBox, editorTab, expectVisible, openWorkbench, PANEL_WEBVIEW, runCommand, runLogProgress, showViewContainer, waitUntil, webviewFrame } from '../harness/workbench';

const TRANSCRIPT = path.join(TRANSCRIPTS, 'chat-conversation.json');
/** The same turns for a model that takes images; its implementer's prompt must carry the pasted image. */
const IMAGES_TRANSCRIPT = path.join(TRANSCRIPTS, 'chat-images.json');
const GOAL_FIRST_LINE = 'Fix the failing calculator tests.';
const GOAL_SECOND_LINE = 'Keep the change small.';
const STEER = 'Please keep the public API exactly as it is.';
const REASON = 'the README is not part of this fix';
const FOLLOW_UP = 'Now describe the API in the README too';

/** Every run of the workspace, oldest first, with its events. */
async function runs(workspace: string): Promise<{ runId: string; events: LoggedEvent[] }[]> {
  const runsDir = path.join(workspace, '.software-maker', 'runs');
  if (!existsSync(runsDir)) return [];
  const ids = (await readdir(runsDir)).filter((id) => existsSync(path.join(runsDir, id, 'events.jsonl'))).sort();
  return Promise.all(
    ids.map(async (runId) => ({
      runId,
      events: (await readFile(path.join(runsDir, runId, 'events.jsonl'), 'utf8'))
        .split('\n')
        .filter((line) => line.trim())
        .flatMap((line) => {
          try {
            return [JSON.parse(line) as LoggedEvent];
          } catch {
            return []; // a line being written
          }
        }),
    })),
  );
}

async function waitForEvent(workspace: string, runIndex: number, matches: (event: LoggedEvent) => boolean, expected: string, timeout = STEP_TIMEOUT): Promise<LoggedEvent> {
  let seen: string[] = [];
  return waitUntil(
    async () => {
      const run = (await runs(workspace))[runIndex];
      seen = run?.events.slice(-8).map((event) => event.type) ?? ['(no such run yet)'];
      return run?.events.find(matches);
    },
    `run #${runIndex + 1}'s log (events.jsonl) to have ${expected}`,
    { timeout, interval: 400, progress: () => runLogProgress(workspace), observe: async () => `last events ${JSON.stringify(seen)}` },
  );
}

/** Both themes: a screenshot in the dark one, then in the light one, back to dark. */
async function shotsInBothThemes(page: Page, take: (name: string) => Promise<unknown>, name: string, ready?: () => Promise<unknown>): Promise<void> {
  await take(`${name}-dark`);
  await useTheme(page, LIGHT_THEME);
  await ready?.();
  await take(`${name}-light`);
  await useTheme(page, DARK_THEME);
}

/** Brings the panel's editor tab to the front (review diffs open over it; the page is rebuilt when shown). */
async function showPanel(page: Page): Promise<void> {
  const input = webviewFrame(page).locator('#goal-input');
  // A click while diff tabs are still opening can land on a tab strip being laid out: click again until it shows.
  await waitUntil(
    async () => {
      if (await input.isVisible().catch(() => false)) return true;
      await editorTab(page, 'Software Maker').click({ timeout: 5_000 }).catch(() => undefined);
      return (await input.isVisible().catch(() => false)) ? true : undefined;
    },
    'the panel in front again (its editor tab clicked; #goal-input visible)',
    { timeout: STEP_TIMEOUT, interval: 1_000, observe: async () => `tabs ${JSON.stringify(await page.locator(SELECTORS.editorTabs).allInnerTexts())}` },
  );
}

function messages(frame: FrameLocator, selector: string, text: string) {
  return frame.locator(`.chat-scroll ${selector}`).filter({ hasText: text });
}

describe('Software Maker end to end: the chat is a conversation', function () {
  this.timeout(15 * 60_000);

  const e2e = useScenario({
    artifactsDir: path.join(repoRoot, 'test-results', 'e2e-chat'),
    inputs: [
      ['the calculator sample', CALCULATOR_SAMPLE, 'samples/calculator'],
      ['the chat transcript', TRANSCRIPT, 'test/fixtures/transcripts/chat-conversation.json'],
      ['the chat transcript of a model that takes images', IMAGES_TRANSCRIPT, 'test/fixtures/transcripts/chat-images.json'],
    ],
    workspaces: { calculator: { from: CALCULATOR_SAMPLE } },
    settings: {
      // Roles use the first model ("scripted", no images); "seeing" is picked in the composer for the image.
      'softwareMaker.models': [scriptedModel(TRANSCRIPT), { ...scriptedModel(IMAGES_TRANSCRIPT, 'seeing'), images: true }],
      'softwareMaker.autoApprove': false,
      'softwareMaker.checkpoints': true,
      'workbench.colorTheme': DARK_THEME,
    },
    captureWebview: true,
  });
  const workspace = (): string => e2e.workspaces.calculator;

  it('sends the goal with Enter (Shift+Enter is a new line), and the agents\' words stream into the chat while the run is going', async () => {
    const { page, shots } = e2e;
    await openWorkbench(page, e2e.server.workbenchUrl(workspace()));
    await expectExtensionLoaded(page);
    const frame = await openPanel(page, '#goal-input', 'the panel with its composer (#goal-input)');
    const input = frame.locator('#goal-input');
    await input.click();
    await input.pressSequentially(GOAL_FIRST_LINE);
    await input.press('Shift+Enter');
    await input.pressSequentially(GOAL_SECOND_LINE);
    assert.equal(await input.inputValue(), `${GOAL_FIRST_LINE}\n${GOAL_SECOND_LINE}`, 'Shift+Enter made a new line and sent nothing');
    assert.equal((await runs(workspace())).length, 0, 'no run started on Shift+Enter');
    await input.press('Enter');

    // The run waits for the review of t1's edits: whatever the chat shows now came in while it ran.
    await waitForEvent(workspace(), 0, (event) => event.type === 'edit.proposed', 't1\'s proposal waiting for review', RUN_TIMEOUT);
    // The review opens a diff per file, the last one after the event: the panel comes forward once they are open.
    await expectVisible(page.locator('.tabs-container .tab', { hasText: 'README.md (proposed by' }), 'the diff of README.md, the proposal\'s last file', STEP_TIMEOUT);
    await showPanel(page);
    const plannerWords = messages(frame, '.message.agent', 'which is why two tests fail');
    await expectVisible(plannerWords, 'the planner\'s words in the chat (.message.agent)', STEP_TIMEOUT);
    const implementerWords = messages(frame, '.message.agent', 'add() subtracts instead of adding');
    await expectVisible(implementerWords, 'the implementer\'s words in the chat', STEP_TIMEOUT);
    assert.match(await implementerWords.first().innerText(), /implementer · t1/);
    assert.match(await implementerWords.first().innerText(), /propose_edit src\/calc\.js/, 'its tool calls are listed under its words');
    const baseline = messages(frame, '.message', 'Baseline tests');
    await expectVisible(baseline, 'the baseline note in the chat', 10_000);
    assert.match(await baseline.first().innerText(), /already failing before any change; not blamed on tasks/);
    assert.equal(await baseline.first().evaluate((el) => el.classList.contains('error')), false, 'the baseline is not shown as a failure');
    const [first] = await runs(workspace());
    assert.ok(first!.events.some((event) => event.type === 'agent.text' && event.taskId === 't1'), 'the words are stored as agent.text events');
    const goal = first!.events.find((event) => event.type === 'run.created');
    assert.equal(goal?.goal, `${GOAL_FIRST_LINE}\n${GOAL_SECOND_LINE}`);
    await shotsInBothThemes(page, (name) => shots.take(name), 'agents-speak');
  });

  it('a message typed while the run is active is logged and reaches the task\'s next turn', async () => {
    const { webview: frame, shots, page } = e2e;
    await showPanel(page);
    await expectVisible(frame.locator('#composer-stop'), 'the Stop button in the composer while the run is active', 10_000);
    const input = frame.locator('#goal-input');
    await input.click();
    await input.pressSequentially(STEER);
    await input.press('Enter');
    const message = await waitForEvent(workspace(), 0, (event) => event.type === 'user.message', 'the user.message');
    assert.equal(message.text, STEER);
    await expectVisible(messages(frame, '.message.user', STEER), 'the message in the chat', 10_000);
    await shots.take('steering-sent');
  });

  it('Escape on the reason box cancels; a reason for README.md (calc.js accepted) sends the task back, and the fixer hears it and the message', async () => {
    const { page, webview: frame, shots } = e2e;
    const acceptButton = page.locator('.part.editor .editor-actions .action-label[aria-label*="Accept Proposed Edit"]');
    const rejectButton = page.locator('.part.editor .editor-actions .action-label[aria-label*="Reject Proposed Edit"]');
    // The review diffs opened when the edits were proposed; the panel's "Open diff" brings them back
    // (the task's details, from its DAG node) whatever happened to their tabs since.
    await showPanel(page);
    await e2e.webview.locator('#plan-dag g.dag-node[data-task-id="t1"]').click();
    await expectVisible(e2e.webview.locator('#open-diff'), 'the "Open diff" button of t1\'s details', 30_000);
    await e2e.webview.locator('#open-diff').click();
    const readme = editorTab(page, 'README.md');
    await expectVisible(readme, 'the review diff of README.md', STEP_TIMEOUT);
    await readme.click();
    await rejectButton.first().click();
    const box = page.locator(SELECTORS.quickInputBox);
    await expectVisible(box, 'the reject-reason input box', 30_000);
    await shots.take('reject-reason-box');
    await box.press('Escape');
    await page.locator(SELECTORS.quickInput).waitFor({ state: 'hidden', timeout: 30_000 });
    await expectVisible(editorTab(page, 'README.md'), 'the README.md diff, still open after Escape (nothing rejected)', 10_000);

    await editorTab(page, 'calc.js').click();
    await acceptButton.first().click();
    await editorTab(page, 'README.md').click();
    await rejectButton.first().click();
    await answerInputBox(page, REASON, 'the reason for rejecting README.md');
    const decided = await waitForEvent(workspace(), 0, (event) => event.type === 'edit.decided', 'the decision');
    // Had Escape rejected README.md, the decision would have come without this reason.
    assert.deepEqual([decided.accepted, decided.rejected], [['src/calc.js'], ['README.md']]);
    assert.equal(decided.reason, `README.md: ${REASON}`);

    await showPanel(page);
    await expectVisible(messages(frame, '.message.warning', 'Sent back to the agent'), 'the "Sent back to the agent" message (not "Failed:")', STEP_TIMEOUT);
    await waitForEvent(workspace(), 0, (event) => event.type === 'run.status' && event.status === 'completed', 'the run completing (the fixer and the reviewer heard the reason: their turns expect it)', RUN_TIMEOUT);
    const [first] = await runs(workspace());
    const delivered = first!.events.filter((event) => event.type === 'user.delivered').map((event) => event.stepId);
    assert.ok(delivered.includes('t1:fix@v2'), `the message reached the fixer's turn: ${JSON.stringify(delivered)}`);
    const record = JSON.parse(await readFile(path.join(workspace(), '.software-maker', 'runs', first!.runId, 'steps', 't1.fix@v2.json'), 'utf8')) as { prompt: string };
    assert.ok(record.prompt.includes(STEER), 'the fixer\'s prompt holds the message');
    assert.ok(record.prompt.includes(REASON), 'the fixer\'s prompt holds the reason');
    await expectVisible(messages(frame, '.message.user', 'Reached t1:fix@v2'), 'the chat saying where the message reached', 10_000);
    assert.doesNotMatch(await readFile(path.join(workspace(), 'README.md'), 'utf8'), /multiply\(a, b\)\./);
    await shotsInBothThemes(page, (name) => shots.take(name), 'sent-back-and-completed');
  });

  it('ends with a summary in the chat; a click on the changed file opens its diff against the start checkpoint', async () => {
    const { page, webview: frame, shots } = e2e;
    await showPanel(page);
    const summary = frame.locator('#run-summary');
    await expectVisible(summary, 'the end-of-run summary (#run-summary)', STEP_TIMEOUT);
    const text = await summary.innerText();
    assert.match(text, /src\/calc\.js/);
    assert.match(text, /Rejected[\s\S]*README\.md[\s\S]*the README is not part of this fix/);
    assert.match(text, /before: 1 passed, 2 failed[\s\S]*after: 3 passed, 0 failed/);
    assert.match(text, /model calls?|calls? ·/);
    assert.match(text, /report\.md/);
    await shotsInBothThemes(page, (name) => shots.take(name), 'run-summary');
    await summary.locator('a.summary-file[data-path="src/calc.js"]').click();
    const tab = editorTab(page, 'since the start of run');
    await expectVisible(tab, 'a diff tab "src/calc.js (since the start of run …)"', 30_000);
    const original = page.locator(`${SELECTORS.diffEditor} .editor.original .view-lines`);
    // Monaco renders spaces as no-break spaces.
    await waitUntil(async () => ((await original.innerText().catch(() => '')).replace(/\u00a0/g, ' ').includes('return a - b;') ? true : undefined), 'the diff\'s left side to show the file as it was at the run\'s start (return a - b;)', {
      timeout: 30_000,
      observe: async () => JSON.stringify((await original.innerText().catch(() => '(none)')).slice(0, 200)),
    });
    await shotsInBothThemes(page, (name) => shots.take(name), 'diff-since-start');
  });

  it('filters the chat to one task\'s conversation (from the DAG\'s selection or the select), then shows all again', async () => {
    const { page, webview: frame, shots } = e2e;
    await showPanel(page);
    const plannerWords = messages(frame, '.message.agent', 'which is why two tests fail');
    const implementerWords = messages(frame, '.message.agent', 'add() subtracts instead of adding');
    const goal = messages(frame, '.message.user', GOAL_FIRST_LINE);
    await expectVisible(plannerWords, 'the planner\'s words with "All tasks" shown', 10_000);
    const allCount = await frame.locator('.chat-scroll .message').count();
    // The task selected in the DAG offers its conversation.
    await frame.locator('#plan-dag g.dag-node[data-task-id="t1"]').click();
    await expectVisible(frame.locator('#chat-filter-selected'), 'the "only t1" shortcut for the task selected in the DAG', 10_000);
    await frame.locator('#chat-filter-selected').click();
    await waitUntil(async () => ((await plannerWords.count()) === 0 ? true : undefined), 'the planner\'s words (no task) to leave the chat filtered to t1', { timeout: 10_000 });
    assert.equal(await frame.locator('#chat-filter').inputValue(), 't1');
    await expectVisible(implementerWords, 'the implementer\'s words of t1, still shown', 10_000);
    assert.equal(await goal.count(), 0, 'the goal (run-level) is not t1\'s conversation');
    // Each message shown is t1's, or a message to "the agents at work" that reached t1's steps.
    const shown = await frame.locator('.chat-scroll .message').evaluateAll((nodes) => nodes.map((node) => ({ task: node.getAttribute('data-task'), user: node.classList.contains('user'), text: (node as HTMLElement).innerText })));
    assert.ok(shown.length >= 3 && shown.length < allCount, `fewer messages than all ${allCount}: ${JSON.stringify(shown)}`);
    const foreign = shown.filter((message) => message.task !== 't1' && !(message.user && /Reached t1:/.test(message.text)));
    assert.deepEqual(foreign, [], 'every message shown is t1\'s conversation');
    assert.ok((await messages(frame, '.message.user', STEER).count()) === 1, 'the user\'s message to t1 is part of its conversation');
    await shotsInBothThemes(page, (name) => shots.take(name), 'chat-filtered-to-t1', () => expectVisible(implementerWords, 'the filtered chat after the theme change', 10_000));
    await frame.locator('#chat-filter').selectOption('');
    await expectVisible(plannerWords, 'the planner\'s words again with "All tasks"', 10_000);
    await expectVisible(goal, 'the goal again with "All tasks"', 10_000);
    assert.equal(await frame.locator('.chat-scroll .message').count(), allCount, 'every message is back');
    await shots.take('chat-all-tasks-again');
  });

  it('filters the side bar Chat view and a 472 px panel the same way, the filter on screen (dark and light)', async () => {
    const { page, shots } = e2e;
    const inside = async (what: string, inner: { x: number; y: number; width: number; height: number } | null, outer: { x: number; y: number; width: number; height: number } | null): Promise<void> => {
      assert.ok(inner && outer && inner.x >= outer.x - 1 && inner.x + inner.width <= outer.x + outer.width + 1, `${what} inside its view: ${JSON.stringify({ inner, outer })}`);
    };
    type Frame = Awaited<ReturnType<typeof chatFrame>>;
    // What a squeezed layout broke before: the messages shrank to nothing under a tall banner, "show
    // all" wrapped under the filter, and at 472 px the composer's button lay over the plan.
    const roomy = async (what: string, frame: Frame): Promise<void> => {
      const scroll = await frame.locator('.chat-scroll').boundingBox();
      assert.ok(scroll && scroll.height >= 72, `${what}: the messages keep at least 72 px: ${JSON.stringify(scroll)}`);
      const select = await frame.locator('#chat-filter').boundingBox();
      const all = await frame.locator('#chat-filter-all').boundingBox();
      assert.ok(select && all && Math.abs(select.y + select.height / 2 - (all.y + all.height / 2)) <= 8, `${what}: "show all" on the filter's line: ${JSON.stringify({ select, all })}`);
    };
    await showViewContainer(page, 'Software Maker');
    const header = page.locator('.part.sidebar .pane-header', { hasText: 'Chat' }).first();
    await expectVisible(header, 'the header of the side bar Chat view');
    if ((await header.getAttribute('aria-expanded')) !== 'true') await header.click();
    const side = await chatFrame(page, 'sidebar');
    const sidePlanner = messages(side, '.message.agent', 'which is why two tests fail');
    await expectVisible(sidePlanner, 'the planner\'s words in the side bar chat ("All tasks")', STEP_TIMEOUT);
    await side.locator('#chat-filter').selectOption('t1');
    await waitUntil(async () => ((await sidePlanner.count()) === 0 ? true : undefined), 'the side bar chat filtered to t1 (the planner\'s words gone)', { timeout: 10_000 });
    await expectVisible(messages(side, '.message.agent', 'add() subtracts instead of adding'), 'the implementer\'s words of t1 in the side bar chat', 10_000);
    await inside('the side bar\'s chat filter', await side.locator('#chat-filter').boundingBox(), await page.locator('.part.sidebar').boundingBox());
    await roomy('the side bar chat', side);
    await shotsInBothThemes(page, (name) => shots.take(name), 'sidebar-chat-filtered');
    await side.locator('#chat-filter').selectOption('');
    await expectVisible(sidePlanner, 'the planner\'s words again in the side bar chat', 10_000);

    await runCommand(page, 'View: Close Primary Side Bar');
    await showPanel(page);
    const activityBar = (await page.locator('.part.activitybar').boundingBox())?.width ?? 48;
    await page.setViewportSize({ width: Math.round(472 + activityBar), height: 820 });
    try {
      const frame = e2e.webview;
      const iframe = page.locator(PANEL_WEBVIEW).first();
      await waitUntil(async () => ((await iframe.boundingBox())?.width ?? 9999) <= 473 ? true : undefined, 'the panel to be at most 472 px wide', { timeout: 30_000, observe: async () => JSON.stringify(await iframe.boundingBox()) });
      await frame.locator('#chat-filter').selectOption('t1');
      const planner = messages(frame, '.message.agent', 'which is why two tests fail');
      await waitUntil(async () => ((await planner.count()) === 0 ? true : undefined), 'the 472 px panel\'s chat filtered to t1', { timeout: 10_000 });
      await inside('the 472 px panel\'s chat filter', await frame.locator('#chat-filter').boundingBox(), await iframe.boundingBox());
      await roomy('the 472 px panel', frame);
      const composer = await frame.locator('.chat-column .composer').boundingBox();
      const work = await frame.locator('.work-column').boundingBox();
      assert.ok(composer && work && composer.y + composer.height <= work.y + 1, `the 472 px panel's composer ends above the plan: ${JSON.stringify({ composer, work })}`);
      await shotsInBothThemes(page, (name) => shots.take(name), 'panel-472-chat-filtered');
      await frame.locator('#chat-filter').selectOption('');
      await expectVisible(planner, 'the planner\'s words again in the 472 px panel', 10_000);
    } finally {
      await page.setViewportSize({ width: 1440, height: 900 });
    }
  });

  it('a follow-up starts from the composer, carries the summary, and Stop cancels it: its task is cancelled, not running', async () => {
    const { page, webview: frame, shots } = e2e;
    await showPanel(page);
    await expectVisible(frame.locator('#follow-up-chip'), 'the "Follows up this run" chip of the composer', 10_000);
    const input = frame.locator('#goal-input');
    await input.click();
    await input.pressSequentially(`${FOLLOW_UP} `);
    // @-mention completion from the workspace: the picked file goes with the goal.
    await input.pressSequentially('@READ');
    const option = frame.locator('#mention-list .mention-option[data-path="README.md"]');
    await expectVisible(option, 'README.md among the @-mention completions (#mention-list)', 30_000);
    await shots.take('mention-completion-dark');
    await input.press('Enter');
    assert.equal(await input.inputValue(), `${FOLLOW_UP} @README.md `, 'Enter on a completion picks it (and sends nothing)');
    // A pasted image for models that do not take images is refused, saying why, and nothing starts.
    await input.evaluate((textarea) => {
      const data = new DataTransfer();
      data.items.add(new File([new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10])], 'shot.png', { type: 'image/png' }));
      textarea.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
    });
    await expectVisible(frame.locator('.composer-attachments .image-chip'), 'the pasted image\'s chip in the composer', 10_000);
    await input.press('Enter');
    const refusal = frame.locator('.error-bar .error-text').filter({ hasText: 'Images cannot be sent' });
    await expectVisible(refusal, 'the refusal of the image ("Images cannot be sent: … does not take images")', STEP_TIMEOUT);
    assert.match(await refusal.first().innerText(), /"scripted" does not take images/);
    assert.equal((await runs(workspace())).length, 1, 'no run started with the refused image');
    await shots.take('image-refused-dark');
    // A model that takes images gets it: the image stays attached and "seeing" is picked for the run.
    await expectVisible(frame.locator('.composer-attachments .image-chip'), 'the image, still attached after the refusal', 10_000);
    await frame.locator('#model-picker').selectOption('seeing');
    await input.click();
    await input.press('End');
    await input.press('Enter');
    const created = await waitForEvent(workspace(), 1, (event) => event.type === 'run.created', 'the follow-up run');
    assert.deepEqual(created.files, ['README.md'], 'the @-mentioned file went with the goal');
    const images = created.images as string[] | undefined;
    assert.equal(images?.length, 1, `the pasted image went with the goal: ${JSON.stringify(images)}`);
    const stored = await readFile(path.join(workspace(), '.software-maker', 'runs', String(created.runId), images[0]!));
    assert.deepEqual([...stored], [137, 80, 78, 71, 13, 10, 26, 10], 'the stored image holds the pasted bytes');
    await expectVisible(messages(frame, '.message.user', '1 image'), 'the goal in the chat with its "1 image" chip', STEP_TIMEOUT);
    const followUpOf = created.followUpOf as { runId: string; summary: string } | undefined;
    assert.equal(followUpOf?.runId, (await runs(workspace()))[0]!.runId);
    assert.match(followUpOf?.summary ?? '', /Changed files: src\/calc\.js/);
    // chat-images.json's implementer turn expects an image/png part in its prompt: the proposal comes only if the image reached the model.
    await waitForEvent(workspace(), 1, (event) => event.type === 'edit.proposed', 'the follow-up\'s proposal waiting for review (the implementer\'s prompt carried the image)', RUN_TIMEOUT);
    // The host opens the proposal's diff in front of the panel after the event is logged: the diff
    // first, then the panel in front again (brought before the diff opened, the panel was under it
    // by the time Stop was to be clicked).
    await expectVisible(editorTab(page, 'README.md (proposed by'), 'the diff of the follow-up\'s proposal (README.md)', STEP_TIMEOUT);
    await showPanel(page);
    const stop = frame.locator('#composer-stop');
    await expectVisible(stop, 'the Stop button', 30_000);
    await shots.take('follow-up-waiting-dark');
    await stop.click();
    await waitForEvent(workspace(), 1, (event) => event.type === 'run.status' && event.status === 'cancelled', 'the follow-up cancelled');
    const node = frame.locator('#plan-dag g.dag-node[data-task-id="t1"]');
    await waitUntil(async () => ((await node.getAttribute('data-status')) === 'cancelled' ? true : undefined), 'the DAG node of t1 to show "cancelled"', {
      timeout: 30_000,
      observe: async () => `data-status ${JSON.stringify(await node.getAttribute('data-status'))}`,
    });
    await expectVisible(frame.locator('#run-status[data-status="cancelled"]'), 'the run status "cancelled"', 10_000);
    await shotsInBothThemes(page, (name) => shots.take(name), 'stopped');
  });
});
