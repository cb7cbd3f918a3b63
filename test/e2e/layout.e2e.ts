// End to end, which run the chat shows and how it fits, in a real VS Code (code-server 4.117.0) with
// the scripted model and plan approval on (so a run stays active until approved or cancelled):
// a pinned panel stays on its run when a goal starts from the palette; the status bar opens the
// active run; at a 472 px panel Cancel and Start stay on screen; an unpinned panel follows a goal
// started from the palette, and its picker always names the run its content shows; the history
// searches runs; the Runs tree tells apart runs with the same goal (start time, status); the side
// bar Chat view follows the active run; the composer's auto-approve toggle and model picker reach
// the run's config. Screenshots in the dark and the light theme.
//
//   npx mocha --import=tsx --timeout 900000 test/e2e/layout.e2e.ts
//
// Screenshots: test-results/e2e-layout/NN-step.png.
import * as assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { FrameLocator, Locator, Page } from 'playwright-core';
import { repoRoot } from '../harness/codeServer';
import {
  CALCULATOR_SAMPLE,
  CALCULATOR_TRANSCRIPT,
  DARK_THEME,
  LIGHT_THEME,
  RUN_TIMEOUT,
  STATUS_ITEM,
  STEP_TIMEOUT,
  chatFrame,
  expectExtensionLoaded,
  openPanel,
  scriptedModel,
  useScenario,
  useTheme,
  type LoggedEvent,
} from '../harness/scenario';
import {
  PANEL_WEBVIEW,
  answerInputBox,
  expectVisible,
  openWorkbench,
  pageRunProgress,
  runCommand,
  showViewContainer,
  statusBarItem,
  toastTexts,
  treeRowDescription,
  waitUntil,
} from '../harness/workbench';

const GOAL = 'Fix the failing calculator tests';
const PANEL_WIDTH = 472;

async function runIds(workspace: string): Promise<string[]> {
  const dir = path.join(workspace, '.software-maker', 'runs');
  return existsSync(dir) ? (await readdir(dir)).filter((run) => existsSync(path.join(dir, run, 'events.jsonl'))).sort() : [];
}

async function runEvents(workspace: string, runId: string): Promise<LoggedEvent[]> {
  const text = await readFile(path.join(workspace, '.software-maker', 'runs', runId, 'events.jsonl'), 'utf8');
  return text
    .split('\n')
    .filter((line) => line.trim())
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as LoggedEvent];
      } catch {
        return []; // a line being written
      }
    });
}

async function lastStatus(workspace: string, runId: string): Promise<string | undefined> {
  const statuses = (await runEvents(workspace, runId)).filter((event) => event.type === 'run.status');
  return statuses.at(-1)?.status as string | undefined;
}

/** Waits for a new run (beyond `before`) to reach `status` in its log; returns its id. */
async function waitForNewRun(page: Page, workspace: string, before: readonly string[], status: string): Promise<string> {
  return waitUntil(
    async () => {
      const fresh = (await runIds(workspace)).filter((id) => !before.includes(id));
      const id = fresh.at(-1);
      return id && (await lastStatus(workspace, id)) === status ? id : undefined;
    },
    `a new run whose log reaches "${status}"`,
    { timeout: RUN_TIMEOUT, progress: pageRunProgress(page), observe: async () => `runs ${JSON.stringify(await runIds(workspace))}; notifications ${JSON.stringify(await toastTexts(page))}` },
  );
}

/** What the chat shows: the picker's run, the content's status badge, and the goal line. */
async function shown(frame: FrameLocator): Promise<{ picker: string; status: string | null; pinned: string | null }> {
  const picker = await frame.locator('#run-picker').first().evaluate((el) => (el as HTMLElement & { value: string }).value).catch(() => '');
  const status = await frame.locator('#run-status').first().getAttribute('data-status').catch(() => null);
  const pinned = await frame.locator('#pin-run').first().getAttribute('aria-pressed').catch(() => null);
  return { picker, status, pinned };
}

/** Waits until the chat shows run `runId` (picker) with content of `status`. */
async function expectShown(frame: FrameLocator, runId: string, status: string, why: string): Promise<void> {
  await waitUntil(async () => {
    const seen = await shown(frame);
    return seen.picker === runId && seen.status === status ? true : undefined;
  }, `the chat ${why} to show run ${runId} (picker) with status "${status}" (content)`, { timeout: STEP_TIMEOUT, observe: async () => JSON.stringify(await shown(frame)) });
}

async function startFromPalette(page: Page, goal: string): Promise<void> {
  await runCommand(page, 'Software Maker: New Goal');
  await answerInputBox(page, goal, 'the goal');
}

async function expectInside(inner: Locator, outer: { x: number; y: number; width: number; height: number }, what: string): Promise<void> {
  const box = await inner.boundingBox();
  assert.ok(box, `Expected ${what} to be rendered`);
  const inside = box.x >= outer.x - 0.5 && box.y >= outer.y - 0.5 && box.x + box.width <= outer.x + outer.width + 0.5 && box.y + box.height <= outer.y + outer.height + 0.5;
  assert.ok(inside, `Expected ${what} ${JSON.stringify(box)} inside ${JSON.stringify(outer)}`);
}

describe('Software Maker end to end: which run the chat shows, layout, history, tree labels, side bar chat, composer toggles', function () {
  this.timeout(20 * 60_000);

  const e2e = useScenario({
    artifactsDir: path.join(repoRoot, 'test-results', 'e2e-layout'),
    inputs: [
      ['the calculator sample', CALCULATOR_SAMPLE, 'samples/calculator'],
      ['the recorded transcript', CALCULATOR_TRANSCRIPT, 'samples/transcripts/calculator.json'],
    ],
    workspaces: { calculator: { from: CALCULATOR_SAMPLE } },
    settings: {
      'softwareMaker.models': [scriptedModel(CALCULATOR_TRANSCRIPT)],
      'softwareMaker.autoApprove': true,
      'softwareMaker.requirePlanApproval': true,
      'workbench.colorTheme': DARK_THEME,
    },
    captureWebview: true,
  });
  const ids: string[] = [];

  // Runs are cancelled, never approved: a run that fixed the tests would change the baseline the
  // recorded planner turns expect.
  it('a run started from the panel waits for plan approval, and is cancelled', async () => {
    const { page, server, shots } = e2e;
    await openWorkbench(page, server.workbenchUrl(e2e.workspaces.calculator));
    await expectExtensionLoaded(page);
    await openPanel(page, '#goal-input', 'the panel with its composer');
    const frame = await chatFrame(page, 'panel');
    await frame.locator('#goal-input').fill(GOAL);
    await frame.locator('#goal-start').click();
    const first = await waitForNewRun(page, e2e.workspaces.calculator, [], 'awaiting-approval');
    await expectShown(frame, first, 'awaiting-approval', 'after Start');
    await frame.locator('#cancel-run').click();
    await expectShown(frame, first, 'cancelled', 'after Cancel');
    ids.push(first);
    await shots.take('first-run-cancelled-dark');
  });

  it('a pinned panel stays on its run when a goal starts from the palette', async () => {
    const { page, shots } = e2e;
    const frame = await chatFrame(page, 'panel');
    await frame.locator('#pin-run').click();
    await waitUntil(async () => ((await shown(frame)).pinned === 'true' ? true : undefined), 'the pin button to be pressed', { timeout: 30_000, observe: async () => JSON.stringify(await shown(frame)) });
    await startFromPalette(page, GOAL);
    const second = await waitForNewRun(page, e2e.workspaces.calculator, ids, 'awaiting-approval');
    ids.push(second);
    // The new run is active and newest; the pinned panel still shows the cancelled one.
    await expectShown(frame, ids[0]!, 'cancelled', 'pinned on the first run');
    await shots.take('pinned-stays-dark');
  });

  it('the status bar opens the active run', async () => {
    const { page, shots } = e2e;
    const frame = await chatFrame(page, 'panel');
    await expectVisible(statusBarItem(page, STATUS_ITEM), 'the Software Maker status bar item');
    await statusBarItem(page, STATUS_ITEM).first().click();
    await expectShown(frame, ids[1]!, 'awaiting-approval', 'after clicking the status bar item');
    await shots.take('status-bar-opens-active-dark');
  });

  it('at a 472 px wide panel Cancel and Start stay on screen (dark and light)', async () => {
    const { page, shots } = e2e;
    const frame = await chatFrame(page, 'panel');
    await runCommand(page, 'View: Close Primary Side Bar');
    const activityBar = (await page.locator('.part.activitybar').boundingBox())?.width ?? 48;
    await page.setViewportSize({ width: Math.round(PANEL_WIDTH + activityBar), height: 820 });
    const iframe = page.locator(PANEL_WEBVIEW).first();
    await waitUntil(async () => {
      const box = await iframe.boundingBox();
      return box && box.width <= PANEL_WIDTH + 1 && box.width >= PANEL_WIDTH - 40 ? box : undefined;
    }, `the panel webview to be about ${PANEL_WIDTH} px wide`, { timeout: 30_000, observe: async () => JSON.stringify(await iframe.boundingBox()) });
    const area = (await iframe.boundingBox())!;
    const viewport = page.viewportSize()!;
    const visible = { x: Math.max(area.x, 0), y: Math.max(area.y, 0), width: Math.min(area.width, viewport.width - area.x), height: Math.min(area.height, viewport.height - area.y) };
    await expectVisible(frame.locator('#cancel-run'), 'the Cancel button');
    await expectInside(frame.locator('#cancel-run'), visible, 'the Cancel button');
    await expectInside(frame.locator('#approve-plan'), visible, 'the Approve plan button');
    await expectInside(frame.locator('#goal-start'), visible, 'the Start button');
    await expectInside(frame.locator('#pin-run'), visible, 'the pin button');
    await shots.take('panel-472-dark');
    await useTheme(page, LIGHT_THEME);
    await expectInside(frame.locator('#cancel-run'), visible, 'the Cancel button (light theme)');
    await shots.take('panel-472-light');
    await page.setViewportSize({ width: 1440, height: 900 });
    await useTheme(page, DARK_THEME);
  });

  it('an unpinned panel follows a goal started from the palette; picker and content agree', async () => {
    const { page, shots } = e2e;
    const frame = await chatFrame(page, 'panel');
    // The status bar click moved the pin to the run shown: unpin, then cancel that run.
    if ((await shown(frame)).pinned === 'true') await frame.locator('#pin-run').click();
    await waitUntil(async () => ((await shown(frame)).pinned === 'false' ? true : undefined), 'the pin button to be released', { timeout: 30_000, observe: async () => JSON.stringify(await shown(frame)) });
    await frame.locator('#cancel-run').click();
    await expectShown(frame, ids[1]!, 'cancelled', 'after Cancel');
    await startFromPalette(page, GOAL);
    const third = await waitForNewRun(page, e2e.workspaces.calculator, ids, 'awaiting-approval');
    ids.push(third);
    await expectShown(frame, third, 'awaiting-approval', 'after a goal started from the palette');
    await shots.take('palette-takes-over-dark');
  });

  it('the history lists every run with its time and status, and searches them', async () => {
    const { page, shots } = e2e;
    const frame = await chatFrame(page, 'panel');
    await frame.locator('.run-history summary').click();
    const items = frame.locator('.history-item');
    await waitUntil(async () => ((await items.count()) === 3 ? true : undefined), 'three runs in the history', { timeout: 30_000, observe: async () => `${await items.count()} items` });
    const metas = await frame.locator('.history-item .history-meta').allInnerTexts();
    assert.ok(metas.every((meta) => /^\d\d:\d\d:\d\d · /.test(meta.trim())), `Expected every history line to start with its time, saw ${JSON.stringify(metas)}`);
    await frame.locator('#history-search').fill('awaiting');
    await waitUntil(async () => {
      const found = await items.evaluateAll((rows) => rows.map((row) => row.getAttribute('data-run-id')));
      return found.length === 1 && found[0] === ids[2] ? true : undefined;
    }, 'the search "awaiting" to keep only the run waiting for approval', { timeout: 30_000, observe: async () => JSON.stringify(await items.allInnerTexts()) });
    await shots.take('history-search-dark');
    await useTheme(page, LIGHT_THEME);
    await shots.take('history-search-light');
    await frame.locator('#history-search').fill('');
    await useTheme(page, DARK_THEME);
  });

  it('the Runs tree tells apart runs with the same goal by start time and status', async () => {
    const { page, shots } = e2e;
    await showViewContainer(page, 'Software Maker');
    const rows = page.locator('.part.sidebar .monaco-list-row').filter({ has: page.locator('.label-name', { hasText: 'Fix the failing' }) });
    await waitUntil(async () => ((await rows.count()) === 3 ? true : undefined), 'three run rows with the same goal in the Runs tree', { timeout: STEP_TIMEOUT, observe: async () => JSON.stringify(await page.locator('.part.sidebar .monaco-list-row').allInnerTexts()) });
    const seen: string[] = [];
    for (let index = 0; index < 3; index++) {
      const label = (await rows.nth(index).locator('.label-name').first().innerText()).trim();
      const description = await treeRowDescription(rows.nth(index));
      assert.match(label, /^\d\d:\d\d:\d\d · Fix the failing/, `Expected the label to start with the start time, saw "${label}"`);
      assert.match(description, /^(completed|cancelled|awaiting-approval)/, `Expected the status first in the description, saw "${description}"`);
      seen.push(`${label} | ${description}`);
    }
    assert.equal(new Set(seen).size, 3, `Expected the three runs to read differently, saw ${JSON.stringify(seen)}`);
    // At the default side bar width the label (time and goal) is not cut.
    const name = await rows.first().locator('.label-name').first().boundingBox();
    const container = await rows.first().locator('.monaco-icon-label-container').first().boundingBox();
    assert.ok(name && container && name.x + name.width <= container.x + container.width + 1, `Expected the run label to fit the default side bar width, saw ${JSON.stringify({ name, container, seen })}`);
    await shots.take('tree-labels-dark');
  });

  it('the side bar Chat view shows the active run (dark and light)', async () => {
    const { page, shots } = e2e;
    const header = page.locator('.part.sidebar .pane-header', { hasText: 'Chat' }).first();
    await expectVisible(header, 'the header of the side bar Chat view');
    if ((await header.getAttribute('aria-expanded')) !== 'true') await header.click();
    const side = await chatFrame(page, 'sidebar');
    await expectShown(side, ids[2]!, 'awaiting-approval', '(side bar view)');
    await expectVisible(side.locator('#goal-start'), 'the side bar composer\'s Start button');
    assert.equal(await side.locator('.work-column').isVisible(), false, 'Expected the side bar chat without the plan and log columns');
    await shots.take('sidebar-chat-dark');
    await useTheme(page, LIGHT_THEME);
    await shots.take('sidebar-chat-light');
    await useTheme(page, DARK_THEME);
  });

  it('the composer\'s auto-approve toggle and model picker reach the run\'s config', async () => {
    const { page, shots } = e2e;
    const frame = await chatFrame(page, 'panel');
    await frame.locator('#cancel-run').click();
    await expectShown(frame, ids[2]!, 'cancelled', 'after Cancel');
    const toggle = frame.locator('#auto-approve');
    assert.equal(await toggle.isChecked(), true, 'Expected the toggle to start from the softwareMaker.autoApprove setting (on)');
    await toggle.uncheck();
    await frame.locator('#model-picker').selectOption('scripted');
    await frame.locator('#goal-input').fill('Fix the calculator, reviewing every edit');
    await shots.take('composer-toggles-dark');
    await frame.locator('#goal-start').click();
    const fourth = await waitForNewRun(page, e2e.workspaces.calculator, ids, 'awaiting-approval');
    ids.push(fourth);
    const created = (await runEvents(e2e.workspaces.calculator, fourth))[0] as LoggedEvent & { config?: { autoApprove?: boolean; roles?: Record<string, string[]> } };
    assert.equal(created.type, 'run.created');
    assert.equal(created.config?.autoApprove, false, 'Expected the run config to have auto-approval off, as toggled');
    const chains = Object.values(created.config?.roles ?? {});
    assert.ok(chains.length > 0 && chains.every((chain) => chain.length === 1 && chain[0] === 'scripted'), `Expected every role on the picked model, saw ${JSON.stringify(created.config?.roles)}`);
    await frame.locator('#cancel-run').click();
    await expectShown(frame, fourth, 'cancelled', 'after Cancel');
  });
});
