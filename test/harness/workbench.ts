// Playwright helpers for the code-server workbench. Selectors come from /work/shared/e2e/README.md and
// were checked on VS Code 1.117 (code-server 4.117.0). Every wait is for a condition, with a label
// that says what it waits for; a wait that gives up names the step, what it waited for, for how long,
// and what it last saw (the step guard in scenario.ts adds a screenshot).
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { FrameLocator, Locator, Page } from 'playwright-core';

export const SELECTORS = {
  workbench: '.monaco-workbench',
  statusbar: '.monaco-workbench .part.statusbar',
  activityBar: '.part.activitybar',
  quickInput: '.quick-input-widget',
  quickInputBox: '.quick-input-widget .quick-input-box input',
  quickInputRows: '.quick-input-widget .quick-input-list .monaco-list-row',
  sidebarRows: '.part.sidebar .monaco-list-row',
  diffEditor: '.part.editor .monaco-diff-editor',
  editorTabs: '.part.editor .tabs-container .tab',
  panel: '.part.panel',
  toasts: '.notifications-toasts .notification-toast .notification-list-item-message',
} as const;

/** Raised with what the test expected and what the workbench showed instead. */
export class ExpectationError extends Error {
  override name = 'ExpectationError';
}

/** Longest any wait may take, progress or not: below mocha's per-test timeout, so a wait's own message is what a hang reports. */
export const WAIT_LIMIT = 10 * 60_000;

let currentStep = '(outside a step)';
/** Names the mocha step now running (the step guard calls it), for the messages of waits that give up. */
export function setCurrentStep(title: string): void {
  currentStep = title;
}

export interface WaitOptions {
  /**
   * How long the wait may go on without progress (default 60 s). Without `progress`, how long it may go
   * on at all.
   */
  timeout?: number;
  /**
   * A progress signal, e.g. the run log's length: while its value keeps changing the wait goes on (up
   * to `limit`), because a busy machine is slow, not stuck.
   */
  progress?: () => Promise<string>;
  /** The longest the wait may take even with progress (default WAIT_LIMIT). */
  limit?: number;
  /** Between two probes (default 250 ms). */
  interval?: number;
  /** What the wait sees, for the message when it gives up. */
  observe?: () => Promise<string>;
  /** Why waiting longer is pointless (e.g. the run ended otherwise), or undefined: checked at every poll. */
  hopeless?: () => Promise<string | undefined>;
}

/** Waits for `locator` to be visible, failing with `expected` in the message. */
export async function expectVisible(locator: Locator, expected: string, timeout = 60_000, options: Omit<WaitOptions, 'timeout'> = {}): Promise<void> {
  await waitUntil(async () => ((await locator.first().isVisible()) ? true : undefined), `${expected} to be visible (${locator.toString()})`, { timeout, ...options });
}

/**
 * Polls `probe` until it returns a value that is not undefined. Gives up when `progress` (if given)
 * has not changed for `timeout`, or after `limit`, with an ExpectationError naming the step, `expected`,
 * the time waited and what `observe` and `progress` last returned.
 */
export async function waitUntil<T>(probe: () => Promise<T | undefined>, expected: string, options: WaitOptions = {}): Promise<T> {
  const timeout = options.timeout ?? 60_000;
  const limit = Math.max(options.limit ?? WAIT_LIMIT, timeout);
  const started = Date.now();
  let lastChange = started;
  let lastProgress: string | undefined;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    const hopeless = await options.hopeless?.().catch(() => undefined);
    if (hopeless) {
      throw new ExpectationError(`Step "${currentStep}" stopped waiting for ${expected} after ${((Date.now() - started) / 1000).toFixed(0)} s: ${hopeless}.`);
    }
    const now = Date.now();
    if (options.progress) {
      const signal = await options.progress().catch((error: unknown) => `(could not read progress: ${String(error)})`);
      if (signal !== lastProgress) {
        lastProgress = signal;
        lastChange = now;
      }
    }
    if (now - lastChange > timeout || now - started > limit) {
      const seen = options.observe ? await options.observe().catch((e: unknown) => `(could not observe: ${String(e)})`) : '';
      const why =
        now - started > limit
          ? `it reached its limit of ${limit / 1000} s`
          : options.progress
            ? `nothing progressed for ${timeout / 1000} s`
            : `its timeout of ${timeout / 1000} s passed`;
      throw new ExpectationError(
        `Step "${currentStep}" gave up waiting for ${expected} after ${((now - started) / 1000).toFixed(0)} s: ${why}.` +
          `${seen ? `\nLast seen: ${seen}` : ''}` +
          `${lastProgress !== undefined ? `\nLast progress: ${lastProgress}` : ''}` +
          `${lastError instanceof Error ? `\nLast error: ${lastError.message.split('\n')[0]}` : ''}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, options.interval ?? 250));
  }
}

/** The folder the workbench on `page` has open (its ?folder= query), if any. */
export function workspaceOf(page: Page): string | undefined {
  try {
    return new URL(page.url()).searchParams.get('folder') ?? undefined;
  } catch {
    return undefined;
  }
}

interface LogLine {
  type?: string;
  status?: string;
  taskId?: string;
  reason?: string;
}

/** The newest run of `workspace` (run ids start with their time) and the lines of its events.jsonl; a torn last line reads as undefined. */
async function newestRunLog(workspace: string | undefined): Promise<{ run: string; events: (LogLine | undefined)[] } | undefined> {
  if (!workspace) return undefined;
  const runsDir = path.join(workspace, '.software-maker', 'runs');
  const run = existsSync(runsDir) ? (await readdir(runsDir)).sort().at(-1) : undefined;
  const log = run ? path.join(runsDir, run, 'events.jsonl') : undefined;
  if (!run || !log || !existsSync(log)) return undefined;
  const events = (await readFile(log, 'utf8'))
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => {
      try {
        return JSON.parse(line) as LogLine;
      } catch {
        return undefined; // a torn last line while the run writes
      }
    });
  return { run, events };
}

/** The id of the newest run of `workspace`, undefined before its first run. */
export async function newestRunId(workspace: string | undefined): Promise<string | undefined> {
  if (!workspace) return undefined;
  const runsDir = path.join(workspace, '.software-maker', 'runs');
  return existsSync(runsDir) ? (await readdir(runsDir)).sort().at(-1) : undefined;
}

/**
 * Progress of the newest run in `workspace`: how many events its events.jsonl holds and the last one.
 * Every step of a run appends events, so this changes for as long as the run is moving.
 */
export async function runLogProgress(workspace: string | undefined): Promise<string> {
  if (!workspace) return '(no workspace)';
  const log = await newestRunLog(workspace);
  if (!log) return '(no run log yet)';
  const lastEvent = log.events.at(-1);
  const last = lastEvent ? [lastEvent.type, lastEvent.taskId, lastEvent.status].filter(Boolean).join(' ') : '(torn last line)';
  return `run ${log.run}: ${log.events.length} events, last "${last}"`;
}

const TERMINAL_RUN_STATUSES = ['completed', 'failed', 'cancelled', 'stopped_budget'];
/** How long a run must have stayed ended before a wait for another status gives up (a resume may be on its way). */
const ENDED_FOR_MS = 10_000;

/**
 * For `hopeless`: the newest run in the workspace open on `page` ended with a status other than
 * `wanted` (its last run.status is terminal, and stayed so for ENDED_FOR_MS), with the reason it logged.
 */
export function runEndedOtherwise(page: Page, wanted: string, endedForMs = ENDED_FOR_MS): () => Promise<string | undefined> {
  let endedSince: number | undefined;
  let endedAs = '';
  return async () => {
    const ended = await lastRunStatus(workspaceOf(page));
    const other = ended && TERMINAL_RUN_STATUSES.includes(ended.status) && !ended.status.toLowerCase().includes(wanted.toLowerCase()) ? ended : undefined;
    const key = other ? `${other.status} ${other.reason ?? ''}` : '';
    if (!other || key !== endedAs) {
      endedAs = key;
      endedSince = other ? Date.now() : undefined;
      return undefined;
    }
    if (endedSince === undefined || Date.now() - endedSince < endedForMs) return undefined;
    return `the run ended "${other.status}"${other.reason ? ` (${other.reason})` : ''}, not "${wanted}"`;
  };
}

/** The last run.status event of the newest run in `workspace`. */
async function lastRunStatus(workspace: string | undefined): Promise<{ status: string; reason?: string } | undefined> {
  const last = (await newestRunLog(workspace))?.events.filter((event) => event?.type === 'run.status' && event.status).at(-1);
  return last?.status ? { status: last.status, reason: last.reason } : undefined;
}

/** runLogProgress of the workspace open on `page`, plus the Software Maker status bar text: what a run's progress looks like from outside. */
export function pageRunProgress(page: Page): () => Promise<string> {
  return async () => `${await runLogProgress(workspaceOf(page))}; status "${await statusBarText(page, 'softwareMaker.status')}"`;
}

/** Numbered screenshots: test-results/e2e/01-step.png, 02-... */
export class Screenshots {
  private counter = 0;
  readonly taken: string[] = [];
  constructor(private readonly page: Page, readonly dir: string) {}

  async take(step: string): Promise<string> {
    this.counter += 1;
    const file = path.join(this.dir, `${String(this.counter).padStart(2, '0')}-${step.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}.png`);
    await mkdir(this.dir, { recursive: true });
    await this.page.screenshot({ path: file, timeout: 30_000 }).catch(() => undefined);
    this.taken.push(file);
    return file;
  }
}

/** Opens the workbench on `url` and waits until the status bar is shown. */
export async function openWorkbench(page: Page, url: string): Promise<void> {
  await page.goto(url, { timeout: 120_000 });
  await expectVisible(page.locator(SELECTORS.statusbar), 'the workbench status bar (workbench loaded)', 120_000);
}

/** How long a window may take to register an extension's commands (its extension host starts first). */
export const COMMAND_TIMEOUT = 180_000;

/**
 * Opens the command palette on `>title` and waits until it offers that command, leaving the palette
 * open on it. The palette computes its rows when it opens, so a command registered after that (the
 * window's extension host still starting; an earlier window's cached activity-bar entry makes the
 * extension look loaded before it is) only shows when it opens again: it is reopened until it does.
 */
export async function waitForCommand(page: Page, title: string, timeout = COMMAND_TIMEOUT): Promise<void> {
  const input = page.locator(SELECTORS.quickInputBox);
  const row = page.locator(SELECTORS.quickInputRows).filter({ hasText: title }).first();
  let openings = 0;
  let rows: string[] = [];
  await waitUntil(
    async () => {
      openings += 1;
      await closeQuickInput(page);
      await page.locator(SELECTORS.workbench).first().click({ position: { x: 600, y: 10 }, force: true }).catch(() => undefined);
      await page.keyboard.press('F1');
      if (!(await input.waitFor({ state: 'visible', timeout: 10_000 }).then(() => true, () => false))) return undefined;
      await input.fill(`>${title}`);
      if (await row.waitFor({ state: 'visible', timeout: 3_000 }).then(() => true, () => false)) return true;
      rows = await page.locator(SELECTORS.quickInputRows).allInnerTexts().catch(() => []);
      return undefined;
    },
    `the command palette to offer "${title}" (the extension installed and its commands registered in this window)`,
    { timeout, interval: 1_000, observe: async () => `opened the palette ${openings} times; rows shown ${JSON.stringify(rows.slice(0, 8))}` },
  );
}

/** Runs a command by its palette title (waitForCommand, then Enter): a command that is missing fails loudly. */
export async function runCommand(page: Page, title: string, timeout = COMMAND_TIMEOUT): Promise<void> {
  await waitForCommand(page, title, timeout);
  await page.locator(SELECTORS.quickInputBox).press('Enter');
}

/** Presses Escape until no quick input is shown. */
export async function closeQuickInput(page: Page): Promise<void> {
  for (let i = 0; i < 3 && (await page.locator(SELECTORS.quickInput).isVisible().catch(() => false)); i++) {
    await page.keyboard.press('Escape');
    await page.locator(SELECTORS.quickInput).waitFor({ state: 'hidden', timeout: 5_000 }).catch(() => undefined);
  }
}

/**
 * Answers an input box that a command opened (after the palette closed): waits until the quick input
 * is an empty non-command box, types `text`, Enter, waits until it closes.
 */
export async function answerInputBox(page: Page, text: string, what: string): Promise<void> {
  const input = page.locator(SELECTORS.quickInputBox);
  await waitUntil(
    async () => ((await input.isVisible()) && !(await input.inputValue()).startsWith('>') ? true : undefined),
    `an input box for ${what} (the quick input without the ">" command prefix; it shows once the command's extension has activated)`,
    { timeout: 120_000, observe: async () => `quick input visible=${await input.isVisible()}, value=${JSON.stringify(await input.inputValue().catch(() => ''))}` },
  );
  await input.fill(text);
  await input.press('Enter');
  await page.locator(SELECTORS.quickInput).waitFor({ state: 'hidden', timeout: 30_000 }).catch(() => undefined);
}

/** Texts of the visible notification toasts. */
export async function toastTexts(page: Page): Promise<string[]> {
  return page.locator(SELECTORS.toasts).allInnerTexts().catch(() => []);
}

/**
 * The notification saying `text`, as a toast or, since a toast that is not an error hides after a
 * few seconds (an offer made at startup can be gone before the test looks), in the notification
 * center, which this opens when the toast is not there. The locator holds the notification's buttons.
 */
export async function shownNotification(page: Page, text: string): Promise<Locator | undefined> {
  const toast = page.locator('.notifications-toasts .notification-toast').filter({ hasText: text }).first();
  if (await toast.isVisible().catch(() => false)) return toast;
  const center = page.locator('.notifications-center .notification-list-item').filter({ hasText: text }).first();
  if (await center.isVisible().catch(() => false)) return center;
  if (!(await page.locator('.notifications-center.visible').isVisible().catch(() => false))) {
    await runCommand(page, 'Notifications: Show Notifications').catch(() => undefined);
  }
  return (await center.isVisible().catch(() => false)) ? center : undefined;
}

/** The status bar item contributed with `id` (DOM id is `<extension id>.<item id>`). */
export function statusBarItem(page: Page, id: string): Locator {
  return page.locator(`.part.statusbar .statusbar-item[id$="${id}"]`);
}

/** The text of the status bar item `id`, whitespace collapsed; "(no status item)" when it is not shown. */
export async function statusBarText(page: Page, id: string): Promise<string> {
  return (await statusBarItem(page, id).first().innerText().catch(() => '(no status item)')).replace(/\s+/g, ' ');
}

/**
 * Waits until the status bar item `id` says `text` (case-insensitive). It goes on while the run of the
 * page's workspace makes progress (its events.jsonl grows, the item's text changes), and gives up after
 * `timeout` without any. `whilePolling` runs at every poll (e.g. to record the terminals shown
 * meanwhile); `observe` adds to what a timeout reports.
 */
export async function waitForStatusBarText(
  page: Page,
  id: string,
  text: string,
  options: { timeout?: number; interval?: number; whilePolling?: () => Promise<void>; observe?: () => Promise<string> } = {},
): Promise<void> {
  await waitUntil(
    async () => {
      await options.whilePolling?.();
      return (await statusBarText(page, id)).toLowerCase().includes(text.toLowerCase()) ? true : undefined;
    },
    `the status bar item ${id} to say "${text}"`,
    {
      timeout: options.timeout,
      interval: options.interval,
      progress: async () => `${await runLogProgress(workspaceOf(page))}; item "${await statusBarText(page, id)}"`,
      hopeless: runEndedOtherwise(page, text),
      observe: async () =>
        `status "${await statusBarText(page, id)}"; ${options.observe ? `${await options.observe()}; ` : ''}notifications ${JSON.stringify(await toastTexts(page))}`,
    },
  );
}

/**
 * Names of the terminals in the panel: the single-terminal title, or the entries of the tabs list when
 * there are several (a task's terminal is named after the task's label).
 */
export async function terminalNames(page: Page): Promise<string[]> {
  const texts = await page
    .locator(`${SELECTORS.panel} .single-terminal-tab, ${SELECTORS.panel} .terminal-tabs-entry`)
    .allInnerTexts()
    .catch(() => []);
  return texts.map((text) => text.replace(/\s+/g, ' ').trim()).filter(Boolean);
}

/**
 * The outer iframe of the Software Maker editor panel. The side bar's Chat view is a webview too, and it
 * can come first in the DOM: VS Code marks a view's iframe `purpose=webviewView`, a panel's not at all.
 */
export const PANEL_WEBVIEW = 'iframe.webview.ready[src*="extensionId=software-maker.software-maker"]:not([src*="purpose="])';

/** The content frame of the Software Maker editor panel's webview (never the side bar's Chat view). */
export function webviewFrame(page: Page): FrameLocator {
  return page.frameLocator(PANEL_WEBVIEW).first().frameLocator('#active-frame');
}

/** Runs `command`, which shows a webview, and waits for `readySelector` in it (`expected` says what it is); returns the webview frame. */
export async function openWebview(page: Page, command: string, readySelector: string, expected: string, timeout = 60_000): Promise<FrameLocator> {
  await runCommand(page, command);
  const frame = webviewFrame(page);
  await expectVisible(frame.locator(readySelector), expected, timeout);
  return frame;
}

/**
 * Shows the view container of the activity-bar entry whose label starts with `label` (the entry's
 * "checked" state says whether it is shown: a second click would hide the side bar).
 */
export async function showViewContainer(page: Page, label: string): Promise<void> {
  const entry = page.locator(`${SELECTORS.activityBar} .action-item`).filter({ has: page.locator(`[aria-label^="${label}"]`) }).first();
  await expectVisible(entry, `the "${label}" activity-bar entry`);
  const checked = async (): Promise<boolean> => ((await entry.getAttribute('class')) ?? '').split(/\s+/).includes('checked');
  if (!(await checked())) await entry.click();
  await waitUntil(async () => ((await checked()) && (await page.locator('.part.sidebar').isVisible()) ? true : undefined), `the side bar to show "${label}"`, {
    timeout: 30_000,
    observe: async () => `entry class "${await entry.getAttribute('class')}", side bar visible=${await page.locator('.part.sidebar').isVisible()}`,
  });
}

/**
 * The side-bar tree row whose label starts with `labelPrefix`, expanding collapsed rows until it is
 * rendered (a run row holds its task rows).
 */
export async function sidebarTreeRow(page: Page, labelPrefix: string, timeout = 60_000): Promise<Locator> {
  const rows = page.locator(SELECTORS.sidebarRows);
  // A run's row reads "<start time> · <goal, cut short…>": it is found by the part of the goal it shows.
  const row = rows.filter({ has: page.locator('.label-name', { hasText: labelPrefix.slice(0, 18) }) }).first();
  await waitUntil(
    async () => {
      if (await row.isVisible()) {
        const name = (await row.locator('.label-name').first().innerText()).trim();
        if (labelStartsWith(name, labelPrefix)) return true;
      }
      const collapsed = page.locator('.part.sidebar .monaco-list-row[aria-expanded="false"]');
      if ((await collapsed.count()) > 0) await collapsed.first().click();
      return undefined;
    },
    `a side-bar tree row labelled "${labelPrefix}…"`,
    { timeout, observe: async () => `rows ${JSON.stringify(await rows.allInnerTexts())}` },
  );
  return row;
}

/** Whether a tree label starts with `prefix`, past a run's start time and allowing the label's "…" cut. */
function labelStartsWith(name: string, prefix: string): boolean {
  const rest = name.replace(/^[^·]*\d:\d{2}[^·]* · /, '');
  if (rest.startsWith(prefix)) return true;
  return rest.endsWith('…') && rest.length > 1 && prefix.startsWith(rest.slice(0, -1));
}

/**
 * Picks the option labelled `label` in a native <select> (the run picker, the event log's filters)
 * as Playwright picks one for a user: by its label, with the input and change events a pick fires;
 * waits until the select's value is `value` (the option's value attribute; its label by default).
 */
export async function chooseSelectOption(select: Locator, label: string, what: string, value = label): Promise<void> {
  await expectVisible(select, what, 30_000);
  const escaped = label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const option = select.first().locator('option').filter({ hasText: new RegExp(`^\\s*${escaped}\\s*$`) }).first();
  await waitUntil(async () => ((await option.count()) > 0 ? true : undefined), `the option "${label}" in ${what}`, {
    timeout: 10_000,
    observe: async () => `options ${JSON.stringify(await select.first().locator('option').allTextContents())}`,
  });
  await select.first().selectOption({ label });
  await waitUntil(
    async () => ((await select.first().inputValue()) === value ? true : undefined),
    `${what} to have the value "${value}" after picking "${label}"`,
    { timeout: 10_000, observe: async () => `value "${await select.first().inputValue()}"` },
  );
}

/**
 * After a failed step: a `NN-failure-<title>.png` screenshot with the page's DOM beside it (`.html`,
 * to find out why a selector did not match; `.webview.html` for `webview`'s document), and the
 * notifications shown. Returns the screenshot path.
 */
export async function captureFailure(page: Page, shots: Screenshots, title: string, webview?: FrameLocator): Promise<string> {
  const shot = await shots.take(`failure-${title}`);
  const html = await page.content().catch(() => '');
  if (html) await writeFile(shot.replace(/\.png$/, '.html'), html).catch(() => undefined);
  // A webview's document is another frame: not in page.content().
  const inner = webview ? await webview.locator('body').evaluate((body) => body.outerHTML, undefined, { timeout: 5_000 }).catch(() => '') : '';
  if (inner) await writeFile(shot.replace(/\.png$/, '.webview.html'), inner).catch(() => undefined);
  const toasts = await toastTexts(page);
  if (toasts.length) console.log(`    notifications shown: ${JSON.stringify(toasts)}`);
  return shot;
}

/** CodeLens links on the proposed (modified) side of the visible diff editor whose text matches `text`. */
export function diffCodeLenses(page: Page, text: string | RegExp): Locator {
  // A lens with a command is a link; one that only informs (no command) is a plain span.
  return page.locator(`${SELECTORS.diffEditor} .editor.modified .codelens-decoration :is(a, span)`).filter({ hasText: text });
}

/** Clicks the button labelled `label` of the modal dialog (showWarningMessage with modal: true); returns the dialog's text. */
export async function answerModalDialog(page: Page, label: string, what: string): Promise<string> {
  const dialog = page.locator('.monaco-dialog-box');
  await expectVisible(dialog, `a modal dialog for ${what}`, 60_000);
  const text = (await dialog.first().innerText()).trim();
  const button = dialog.locator('.dialog-buttons .monaco-button').filter({ hasText: new RegExp(`^\\s*${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`) });
  await expectVisible(button, `the "${label}" button of the dialog for ${what}`, 10_000);
  await button.first().click();
  await dialog.first().waitFor({ state: 'hidden', timeout: 30_000 }).catch(() => undefined);
  return text;
}

/** Picks the row containing `text` in a quick pick a command opened (not the command palette itself). */
export async function pickQuickInputRow(page: Page, text: string, what: string): Promise<void> {
  const rows = page.locator(SELECTORS.quickInputRows);
  const row = rows.filter({ hasText: text }).first();
  await waitUntil(async () => ((await row.isVisible()) ? true : undefined), `a quick-pick row containing "${text}" for ${what}`, {
    timeout: 60_000,
    observe: async () => `rows ${JSON.stringify(await rows.allInnerTexts())}`,
  });
  await row.click();
  await page.locator(SELECTORS.quickInput).waitFor({ state: 'hidden', timeout: 30_000 }).catch(() => undefined);
}

/** Opens a workspace file through Quick Open (F1, then the file name without the ">" command prefix). */
export async function quickOpenFile(page: Page, name: string): Promise<void> {
  await closeQuickInput(page);
  await page.locator(SELECTORS.workbench).first().click({ position: { x: 600, y: 10 }, force: true }).catch(() => undefined);
  await page.keyboard.press('F1');
  const input = page.locator(SELECTORS.quickInputBox);
  await expectVisible(input, 'the quick input after F1', 30_000);
  await input.fill(name);
  const row = page.locator(SELECTORS.quickInputRows).filter({ hasText: name }).first();
  await expectVisible(row, `Quick Open to offer the file "${name}"`, 30_000);
  await input.press('Enter');
  await page.locator(SELECTORS.quickInput).waitFor({ state: 'hidden', timeout: 30_000 }).catch(() => undefined);
}

/** Clicks the button `button` of the notification toast whose message matches `message`; false when none showed within `timeout`. */
export async function clickToastButton(page: Page, message: RegExp, button: string, timeout = 60_000): Promise<boolean> {
  const toast = page.locator('.notifications-toasts .notification-toast').filter({ has: page.locator('.notification-list-item-message', { hasText: message }) }).first();
  const shown = await toast.waitFor({ state: 'visible', timeout }).then(
    () => true,
    () => false,
  );
  if (!shown) return false;
  await toast.locator('.monaco-button').filter({ hasText: button }).first().click();
  return true;
}

/** The editor tab whose label contains `label`. */
export function editorTab(page: Page, label: string): Locator {
  return page.locator(SELECTORS.editorTabs).filter({ hasText: label }).first();
}

/**
 * Right-clicks `row` (a tree row) and runs the context-menu entry whose label starts with `item`
 * (VS Code renders the menu in a shadow root, which Playwright's CSS locators pierce).
 */
export async function runContextMenuItem(page: Page, row: Locator, item: string): Promise<void> {
  await row.click({ button: 'right' });
  const entry = page.locator('.context-view .monaco-menu .action-item .action-label').filter({ hasText: new RegExp(`^\\s*${item.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`) }).first();
  try {
    await entry.waitFor({ state: 'visible', timeout: 15_000 });
  } catch {
    const labels = await page.locator('.context-view .monaco-menu .action-item .action-label').allInnerTexts().catch(() => []);
    await page.keyboard.press('Escape');
    throw new ExpectationError(`Expected the context menu of the tree row to offer "${item}". Entries shown: ${JSON.stringify(labels)}`);
  }
  // The menu ignores a click that comes too soon after it opened (and a busy machine can lose one):
  // click, and when the menu is still open, activate the hovered entry with Enter.
  const menu = page.locator('.context-view .monaco-menu').first();
  for (let attempt = 0; attempt < 3; attempt++) {
    if (attempt === 0) await entry.click();
    else {
      await entry.hover().catch(() => undefined);
      await page.keyboard.press('Enter');
    }
    const closed = await menu.waitFor({ state: 'hidden', timeout: 3_000 }).then(
      () => true,
      () => false,
    );
    if (closed) return;
  }
  throw new ExpectationError(`Expected the context-menu entry "${item}" to run (the menu closes), but the menu stayed open after a click and two Enter presses.`);
}

/** The description (greyed text after the label) of a tree row, e.g. a task's status. */
export async function treeRowDescription(row: Locator): Promise<string> {
  return ((await row.locator('.label-description').first().innerText().catch(() => '')) ?? '').trim();
}
