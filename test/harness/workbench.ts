// Playwright helpers for the code-server workbench. Selectors come from /work/shared/e2e/README.md and
// were checked on VS Code 1.117 (code-server 4.117.0). Every wait is for a condition, with a message
// that says what was expected.
import { mkdir } from 'node:fs/promises';
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

/** Waits for `locator` to be visible, failing with `expected` in the message. */
export async function expectVisible(locator: Locator, expected: string, timeout = 60_000): Promise<void> {
  try {
    await locator.first().waitFor({ state: 'visible', timeout });
  } catch (error) {
    throw new ExpectationError(`Expected ${expected} within ${timeout / 1000} s (${locator.toString()}).\n${(error as Error).message.split('\n')[0]}`);
  }
}

/** Polls `probe` until it returns a value that is not undefined; fails with `expected` and the last observation. */
export async function waitUntil<T>(
  probe: () => Promise<T | undefined>,
  expected: string,
  options: { timeout?: number; interval?: number; observe?: () => Promise<string> } = {},
): Promise<T> {
  const timeout = options.timeout ?? 60_000;
  const deadline = Date.now() + timeout;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const seen = options.observe ? await options.observe().catch((e: unknown) => `(could not observe: ${String(e)})`) : '';
      const why = lastError instanceof Error ? `\nLast error: ${lastError.message.split('\n')[0]}` : '';
      throw new ExpectationError(`Expected ${expected} within ${timeout / 1000} s.${seen ? `\nObserved: ${seen}` : ''}${why}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.interval ?? 250));
  }
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

/**
 * Runs a command by its palette title: F1, type `>title`, wait for the row, Enter.
 * The row must match the title exactly (case-insensitive), so a missing command fails loudly.
 */
export async function runCommand(page: Page, title: string): Promise<void> {
  await closeQuickInput(page);
  await page.locator(SELECTORS.workbench).first().click({ position: { x: 600, y: 10 }, force: true }).catch(() => undefined);
  await page.keyboard.press('F1');
  const input = page.locator(SELECTORS.quickInputBox);
  await expectVisible(input, 'the command palette input after F1', 30_000);
  await input.fill(`>${title}`);
  const row = page.locator(SELECTORS.quickInputRows).filter({ hasText: title }).first();
  try {
    await row.waitFor({ state: 'visible', timeout: 30_000 });
  } catch {
    const rows = await page.locator(SELECTORS.quickInputRows).allInnerTexts().catch(() => []);
    throw new ExpectationError(`Expected the command palette to offer "${title}" (is the extension installed and its command contributed?). Rows shown: ${JSON.stringify(rows.slice(0, 8))}`);
  }
  await input.press('Enter');
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
    `an input box for ${what} (the quick input without the ">" command prefix)`,
    { timeout: 60_000, observe: async () => `quick input visible=${await input.isVisible()}, value=${JSON.stringify(await input.inputValue().catch(() => ''))}` },
  );
  await input.fill(text);
  await input.press('Enter');
  await page.locator(SELECTORS.quickInput).waitFor({ state: 'hidden', timeout: 30_000 }).catch(() => undefined);
}

/** Texts of the visible notification toasts. */
export async function toastTexts(page: Page): Promise<string[]> {
  return page.locator(SELECTORS.toasts).allInnerTexts().catch(() => []);
}

/** The status bar item contributed with `id` (DOM id is `<extension id>.<item id>`). */
export function statusBarItem(page: Page, id: string): Locator {
  return page.locator(`.part.statusbar .statusbar-item[id$="${id}"]`);
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

/** The content frame of the first ready webview. */
export function webviewFrame(page: Page): FrameLocator {
  return page.frameLocator('iframe.webview.ready').first().frameLocator('#active-frame');
}
