// The plumbing every e2e file shares: the inputs it needs, a fresh artifacts folder, workspace copies
// with their .vscode/settings.json, one code-server with the packaged VSIX, one browser, screenshots,
// the teardown, and the "skip the remaining steps after a failure" guard; plus the Software Maker
// steps several scenarios repeat (extension loaded, New Goal, Open Panel, a run's log on disk).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { FrameLocator, Page } from 'playwright-core';
import { CodeServer, makeTempDir, removeTempDir, repoRoot, startBrowser, type BrowserSession } from './codeServer';
import {
  ExpectationError,
  SELECTORS,
  Screenshots,
  answerInputBox,
  answerModalDialog,
  captureFailure,
  closeQuickInput,
  expectVisible,
  openWebview,
  pickQuickInputRow,
  runCommand,
  newestRunId,
  runLogProgress,
  setCurrentStep,
  waitForCommand,
  waitForStatusBarText,
  waitUntil,
  webviewFrame,
  workspaceOf,
} from './workbench';

/** The packaged extension (`npm run package`); SM_E2E_VSIX overrides it. */
export const VSIX = path.resolve(process.env.SM_E2E_VSIX ?? path.join(repoRoot, 'dist', 'software-maker.vsix'));
/** The calculator sample (one failing test); SM_E2E_SAMPLE overrides it. */
export const CALCULATOR_SAMPLE = path.resolve(process.env.SM_E2E_SAMPLE ?? path.join(repoRoot, 'samples', 'calculator'));
/** The calculator sample's recorded transcript; SM_E2E_TRANSCRIPT overrides it. */
export const CALCULATOR_TRANSCRIPT = path.resolve(process.env.SM_E2E_TRANSCRIPT ?? path.join(repoRoot, 'samples', 'transcripts', 'calculator.json'));
/** Scripted transcripts of the e2e scenarios. */
export const TRANSCRIPTS = path.join(repoRoot, 'test', 'fixtures', 'transcripts');
/** How long one UI step may go without progress on 2 busy cores (a scripted model, test runs as tasks). */
export const STEP_TIMEOUT = 120_000;
/**
 * How long a wait for a run's end may go without the run making progress (a new event in its
 * events.jsonl, a new status bar text); while it progresses the wait goes on (up to WAIT_LIMIT).
 */
export const RUN_TIMEOUT = 3 * 60_000;
/** The status bar item of the extension (its DOM id ends with it). */
export const STATUS_ITEM = 'softwareMaker.status';

/** A `softwareMaker.models` entry for a scripted model replaying `transcript`. */
export function scriptedModel(transcript: string, id = 'scripted'): { id: string; provider: 'scripted'; transcript: string } {
  return { id, provider: 'scripted', transcript };
}

/** [what, file, hint]: an input the scenario needs, and how to get it when it is missing. */
export type ScenarioInput = readonly [what: string, file: string, hint: string];

export interface WorkspaceSpec {
  /** The folder copied (without node_modules and .software-maker). */
  from: string;
  /** Written to the copy's .vscode/settings.json, over the settings it already has. */
  settings?: Record<string, unknown>;
}

export interface ScenarioOptions<W extends string = string> {
  /** Emptied first; the screenshots and (unless serverArtifactsDir) the server logs go here. */
  artifactsDir: string;
  /** What must exist besides the packaged VSIX (checked first, before anything starts). */
  inputs?: readonly ScenarioInput[];
  /** Workspace copies, by folder name, in one temp folder (`workspaces.<name>`, `parent`). */
  workspaces?: Record<W, WorkspaceSpec>;
  /** Prefix of the temp folder that holds the workspace copies. */
  tempPrefix?: string;
  /** User settings of the code-server (merged over its quiet settings). */
  settings?: Record<string, unknown>;
  /** Where the server's logs are copied when it stops (default: artifactsDir). */
  serverArtifactsDir?: string;
  /** On a failed step also save the webview's document (`NN-failure-*.webview.html`). */
  captureWebview?: boolean;
  /** Skip the remaining steps after a failure, with a capture of it (default true). */
  stepGuard?: boolean;
}

/** What setUpScenario started; every field is set once the mocha before() hook has run. */
export interface Scenario<W extends string = string> {
  server: CodeServer;
  browser: BrowserSession;
  /** The browser's page. */
  page: Page;
  /** Numbered screenshots of `page` in the artifacts folder. */
  shots: Screenshots;
  /** The temp folder holding the workspace copies. */
  parent: string;
  /** The workspace copies by name. */
  workspaces: Record<W, string>;
}

/** Throws "Expected <what> at <file> (<hint>)." for the first input that does not exist. */
export function requireInputs(inputs: readonly ScenarioInput[]): void {
  for (const [what, file, hint] of inputs) {
    if (!existsSync(file)) throw new ExpectationError(`Expected ${what} at ${file} (${hint}).`);
  }
}

/** Copies `from` to `dest` (without node_modules and .software-maker), then merges `settings` into its .vscode/settings.json. */
export async function copyWorkspace(from: string, dest: string, settings?: Record<string, unknown>): Promise<string> {
  await cp(from, dest, { recursive: true, filter: (src) => !/[/\\](node_modules|\.software-maker)$/.test(src) });
  if (settings) {
    await mkdir(path.join(dest, '.vscode'), { recursive: true });
    const settingsFile = path.join(dest, '.vscode', 'settings.json');
    const existing = existsSync(settingsFile) ? (JSON.parse(await readFile(settingsFile, 'utf8')) as Record<string, unknown>) : {};
    await writeFile(settingsFile, JSON.stringify({ ...existing, ...settings }, null, 2));
  }
  return dest;
}

/**
 * Checks the inputs, empties the artifacts folder, copies the workspaces, starts code-server with the
 * packaged VSIX and the browser. Fills `into` as it goes, so tearDown(into) stops whatever started
 * when a later step fails.
 */
export async function setUpScenario<W extends string>(options: ScenarioOptions<W>, into: Partial<Scenario<W>> = {}): Promise<Scenario<W>> {
  requireInputs([['the packaged extension', VSIX, 'npm run package'], ...(options.inputs ?? [])]);
  await rm(options.artifactsDir, { recursive: true, force: true });
  await mkdir(options.artifactsDir, { recursive: true });

  into.parent = await makeTempDir(options.tempPrefix ?? 'sm-ws-');
  const workspaces = {} as Record<W, string>;
  for (const [name, spec] of Object.entries(options.workspaces ?? {}) as [W, WorkspaceSpec][]) {
    workspaces[name] = await copyWorkspace(spec.from, path.join(into.parent, name), spec.settings);
  }
  into.workspaces = workspaces;

  into.server = await CodeServer.start({ vsix: [VSIX], artifactsDir: options.serverArtifactsDir ?? options.artifactsDir, settings: options.settings });
  into.browser = await startBrowser();
  into.page = into.browser.page;
  into.shots = new Screenshots(into.page, options.artifactsDir);
  return into as Scenario<W>;
}

/** Closes the browser, stops the server (copying its logs) and removes the workspace copies; for a partly set-up scenario too. */
export async function tearDown(scenario: Partial<Scenario>): Promise<void> {
  await scenario.browser?.close();
  await scenario.server?.stop();
  if (scenario.parent) await removeTempDir(scenario.parent);
}

/** The failure capture of a step (screenshot, DOM, notifications), with the screenshot's path in the output; returns that path. */
export async function reportFailure(page: Page, shots: Screenshots, title: string, webview?: FrameLocator): Promise<string> {
  const shot = path.relative(repoRoot, await captureFailure(page, shots, title, webview));
  console.log(`    screenshot: ${shot}`);
  return shot;
}

/**
 * In the current describe(): the steps build on each other, so after a failed one the rest are skipped
 * (they would only repeat it); `onFailure` captures the failure. Each step's title is what a wait that
 * gives up names; the screenshot `onFailure` returns is added to the failure's message, so the summary
 * at the end says where to look.
 */
export function stepGuard(onFailure: (title: string) => Promise<string | void>): void {
  let failedEarlier = false;
  beforeEach(function () {
    if (failedEarlier) this.skip();
    if (this.currentTest) setCurrentStep(this.currentTest.fullTitle());
  });
  afterEach(async function () {
    const test = this.currentTest;
    if (test?.state === 'failed') {
      failedEarlier = true;
      const shot = await onFailure(test.title);
      const error = (test as { err?: Error }).err;
      if (shot && error) {
        const original = error.message;
        error.message = `${original}\nScreenshot: ${shot}`;
        if (error.stack) error.stack = error.stack.replace(original, error.message);
      }
    }
  });
}

/**
 * In the current describe(): setUpScenario in before(), tearDown in after() and (unless
 * `stepGuard: false`) the step guard with a failure capture. The returned object's fields are set
 * once before() has run; reading one earlier (or after a failed set-up) throws.
 */
export function useScenario<W extends string>(options: ScenarioOptions<W>): Scenario<W> & { readonly webview: FrameLocator } {
  const state: Partial<Scenario<W>> = {};
  const get = <K extends keyof Scenario<W>>(key: K): Scenario<W>[K] => {
    const value = state[key];
    if (value === undefined) throw new Error(`The e2e scenario is not set up: ${String(key)} is missing (did before() fail?).`);
    return value as Scenario<W>[K];
  };
  before(async function () {
    this.timeout(5 * 60_000);
    await setUpScenario(options, state);
  });
  if (options.stepGuard !== false) {
    stepGuard(async (title) =>
      state.page && state.shots ? reportFailure(state.page, state.shots, title, options.captureWebview ? webviewFrame(state.page) : undefined) : undefined,
    );
  }
  after(async function () {
    this.timeout(2 * 60_000);
    await tearDown(state);
  });
  return {
    get server() {
      return get('server');
    },
    get browser() {
      return get('browser');
    },
    get page() {
      return get('page');
    },
    get shots() {
      return get('shots');
    },
    get parent() {
      return get('parent');
    },
    get workspaces() {
      return get('workspaces');
    },
    /** The content frame of the Software Maker editor panel's webview of `page`. */
    get webview() {
      return webviewFrame(get('page'));
    },
  };
}

/** `node --test` in `cwd` (the sample's own test suite). */
export function nodeTest(cwd: string): { status: number | null; output: string } {
  const result = spawnSync(process.execPath, ['--test'], { cwd, encoding: 'utf8', timeout: 120_000, env: { ...process.env, NODE_OPTIONS: '', NO_COLOR: '1' } });
  return { status: result.status, output: `${result.stdout ?? ''}${result.stderr ?? ''}` };
}

/**
 * Waits until the extension's contributions are registered in this window: its activity-bar entry,
 * and its commands in the palette (the entry alone proves nothing in a second window: the workbench
 * shows the entry cached from the first before this window's extension host has registered anything).
 */
export async function expectExtensionLoaded(page: Page): Promise<void> {
  await expectVisible(
    page.locator(`${SELECTORS.activityBar} [aria-label^="Software Maker"]`),
    'the "Software Maker" activity-bar entry (extension installed from the VSIX and its viewsContainer contributed)',
    STEP_TIMEOUT,
  );
  await waitForCommand(page, 'Software Maker: New Goal');
  await closeQuickInput(page);
}

/** "Software Maker: New Goal" from the command palette, answering its input box with `goal`. */
export async function startGoal(page: Page, goal: string): Promise<void> {
  const before = await newestRunId(workspaceOf(page));
  await runCommand(page, 'Software Maker: New Goal');
  await answerInputBox(page, goal, 'the goal');
  await trustWorkspaceSettingsIfAsked(page, before);
}

/** The modal that asks the first goal of a workspace to trust the models and commands its own settings name. */
export const WORKSPACE_SETTINGS_PROMPT = "This workspace's settings choose what Software Maker sends your API keys to";

/**
 * After a goal was entered: the first goal of a workspace whose .vscode/settings.json names models or
 * commands asks to trust them; answers "Trust and Start" and returns the dialog's text. Returns
 * undefined when the run started without asking (already trusted, or user settings only).
 * `before`: the newest run id before the goal, so a new run is told from an old one.
 */
export async function trustWorkspaceSettingsIfAsked(page: Page, before: string | undefined): Promise<string | undefined> {
  const dialog = page.locator('.monaco-dialog-box').filter({ hasText: WORKSPACE_SETTINGS_PROMPT });
  const outcome = await waitUntil(
    async () => {
      if (await dialog.first().isVisible()) return 'asked';
      const newest = await newestRunId(workspaceOf(page));
      return newest !== undefined && newest !== before ? 'started' : undefined;
    },
    'either the workspace-settings trust dialog or a new run in .software-maker/runs',
    { timeout: 60_000 },
  );
  return outcome === 'asked' ? answerModalDialog(page, 'Trust and Start', 'trusting the workspace settings') : undefined;
}

/** "Software Maker: Open Panel", waiting for `readySelector` in the panel webview (`expected` says what it is); returns the webview frame. */
export async function openPanel(page: Page, readySelector: string, expected: string, timeout = STEP_TIMEOUT): Promise<FrameLocator> {
  return openWebview(page, 'Software Maker: Open Panel', readySelector, expected, timeout);
}

/** Waits until the panel's plan DAG has `count` nodes, every one done; returns them as `id=status`. */
export async function expectDagDone(frame: FrameLocator, count: number): Promise<string[]> {
  const nodes = frame.locator('#plan-dag g.dag-node');
  const nodeStates = async (): Promise<string[]> => nodes.evaluateAll((elements) => elements.map((el) => `${el.getAttribute('data-task-id')}=${el.getAttribute('data-status')}`));
  return waitUntil(
    async () => {
      const seen = await nodeStates();
      return seen.length === count && seen.every((s) => s.endsWith('=done')) ? seen : undefined;
    },
    `${count} DAG nodes (g.dag-node), every one with data-status="done"`,
    { timeout: 30_000, observe: async () => JSON.stringify(await nodeStates()) },
  );
}

/** An event of a run's events.jsonl. */
export interface LoggedEvent {
  seq: number;
  type: string;
  [key: string]: unknown;
}

/** The workspace's one run: its directory and its events.jsonl (the run's truth, written by the extension). */
export async function readRunLog(workspace: string): Promise<{ runDir: string; events: LoggedEvent[] }> {
  const runsDir = path.join(workspace, '.software-maker', 'runs');
  const runs = existsSync(runsDir) ? (await readdir(runsDir)).filter((run) => existsSync(path.join(runsDir, run, 'events.jsonl'))) : [];
  if (runs.length !== 1) throw new ExpectationError(`Expected one run log (events.jsonl) in ${runsDir}, found runs ${JSON.stringify(runs)}`);
  const runDir = path.join(runsDir, runs[0]!);
  const events = (await readFile(path.join(runDir, 'events.jsonl'), 'utf8'))
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as LoggedEvent);
  return { runDir, events };
}

/** Waits, while the run progresses, until the Software Maker status bar item says `status` (e.g. "completed", "paused", "failed"). */
export async function waitForRunStatus(page: Page, status: string, timeout = RUN_TIMEOUT): Promise<void> {
  await waitForStatusBarText(page, STATUS_ITEM, status, { timeout, interval: 400 });
}

/** Waits until the workspace's one run has logged an event that `matches` (`expected` says which); returns it. */
export async function waitForLoggedEvent(workspace: string, matches: (event: LoggedEvent) => boolean, expected: string, timeout = STEP_TIMEOUT): Promise<LoggedEvent> {
  let seen: string[] = [];
  return waitUntil(
    async () => {
      const { events } = await readRunLog(workspace);
      seen = events.slice(-8).map((event) => event.type);
      return events.find(matches);
    },
    `the run log (events.jsonl) to have ${expected}`,
    { timeout, interval: 500, progress: () => runLogProgress(workspace), observe: async () => `last events ${JSON.stringify(seen)}` },
  );
}

/** The statuses of a run's tasks as its log last set them (`task.status` events), by task id. */
export function loggedTaskStatuses(events: readonly LoggedEvent[]): Record<string, string> {
  const statuses: Record<string, string> = {};
  for (const event of events) if (event.type === 'task.status') statuses[String(event.taskId)] = String(event.status);
  return statuses;
}

/** Selects a task in the panel by clicking its plan DAG node; waits for its details (#task-details). */
export async function selectPanelTask(frame: FrameLocator, taskId: string): Promise<void> {
  const node = frame.locator(`#plan-dag g.dag-node[data-task-id="${taskId}"]`);
  await expectVisible(node, `the plan DAG node of ${taskId} in the panel`, STEP_TIMEOUT);
  await node.first().click();
  await expectVisible(frame.locator(`#task-details[data-task-id="${taskId}"]`), `the task details of ${taskId} in the panel after clicking its DAG node`, 30_000);
}

/** `git <args>` in `cwd`; throws with git's output when it fails; returns its trimmed stdout. */
export function git(cwd: string, ...args: string[]): string {
  const result = spawnSync('git', args, { cwd, encoding: 'utf8', timeout: 60_000 });
  if (result.status !== 0) throw new Error(`git ${args.join(' ')} in ${cwd} exited ${result.status}: ${result.stderr || result.stdout}`);
  return result.stdout.trim();
}

/** Makes `dir` a git repository with one commit of everything in it (local identity, branch "main"); returns the commit. */
export function initGitRepo(dir: string): string {
  git(dir, 'init', '--quiet', '--initial-branch=main');
  git(dir, 'config', 'user.name', 'Software Maker e2e');
  git(dir, 'config', 'user.email', 'e2e@software-maker.invalid');
  git(dir, 'config', 'commit.gpgsign', 'false');
  git(dir, 'add', '--all');
  git(dir, 'commit', '--quiet', '--message', 'initial');
  return git(dir, 'rev-parse', 'HEAD');
}

/**
 * Changes user settings the way a user does: "Preferences: Open User Settings (JSON)", the whole file
 * replaced by its current content with `values` merged over it, saved. (code-server does not pick up
 * a change written to the file behind its back.)
 */
export async function updateUserSettings(page: Page, server: CodeServer, values: Record<string, unknown>): Promise<void> {
  const file = path.join(server.runDir, 'user-data', 'User', 'settings.json');
  const current = existsSync(file) ? (JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>) : {};
  const wanted = { ...current, ...values };
  await runCommand(page, 'Preferences: Open User Settings (JSON)');
  const editor = page.locator('.part.editor .monaco-editor').first();
  await expectVisible(editor, 'the user settings.json editor');
  await editor.click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  // One line (no auto-indent); the editor may still auto-close the first brace: whatever follows
  // the inserted text is removed.
  await page.keyboard.insertText(JSON.stringify(wanted));
  await page.keyboard.press('ControlOrMeta+Shift+End');
  await page.keyboard.press('Delete');
  await page.keyboard.press('ControlOrMeta+S');
  await waitUntil(
    async () => {
      const saved = JSON.parse(await readFile(file, 'utf8').catch(() => '{}')) as Record<string, unknown>;
      return Object.entries(values).every(([key, value]) => JSON.stringify(saved[key]) === JSON.stringify(value)) ? true : undefined;
    },
    'the user settings.json to be saved with the new values',
    { timeout: 30_000, observe: async () => (await readFile(file, 'utf8').catch(() => '(unreadable)')).slice(0, 400) },
  );
  await runCommand(page, 'View: Close Editor');
}

export const DARK_THEME = 'Default Dark Modern';
export const LIGHT_THEME = 'Default Light Modern';

/** Switches the color theme from "Preferences: Color Theme" and waits until the workbench shows it. */
export async function useTheme(page: Page, theme: typeof DARK_THEME | typeof LIGHT_THEME): Promise<void> {
  const wanted = theme === DARK_THEME ? 'vs-dark' : 'vs';
  const workbench = page.locator('.monaco-workbench').first();
  const current = async (): Promise<boolean> => ((await workbench.getAttribute('class')) ?? '').split(/\s+/).includes(wanted);
  if (await current()) return;
  // Clicked, not Enter: the palette may rank "Browse Color Themes in Marketplace" first.
  await waitForCommand(page, 'Preferences: Color Theme');
  await page.locator(SELECTORS.quickInputRows).filter({ has: page.locator('.label-name', { hasText: /^\s*Preferences: Color Theme\s*$/ }) }).first().click();
  // Not typed into the box: a filter text also searches the (offline) marketplace.
  // The picker labels the themes without "Default " ("Dark Modern").
  await pickQuickInputRow(page, theme.replace(/^Default /, ''), `the theme "${theme}"`);
  await waitUntil(async () => ((await current()) ? true : undefined), `the workbench to switch to the theme "${theme}" (class ${wanted})`, {
    timeout: 60_000,
    observe: async () => `workbench class "${await workbench.getAttribute('class')}"`,
  });
  // Webviews repaint on their own: a screenshot right away may still show the old theme in them.
  const bodyClass = theme === DARK_THEME ? 'vscode-dark' : 'vscode-light';
  const frames = page.locator('iframe.webview.ready');
  await waitUntil(
    async () => {
      const count = await frames.count();
      for (let index = 0; index < count; index++) {
        const body = page.frameLocator('iframe.webview.ready').nth(index).frameLocator('#active-frame').locator('body');
        if (!((await body.getAttribute('class', { timeout: 2_000 }).catch(() => '')) ?? '').split(/\s+/).includes(bodyClass)) return undefined;
      }
      return true;
    },
    `every open webview to take the theme "${theme}" (body.${bodyClass})`,
    { timeout: 30_000, observe: async () => `${await frames.count()} webview(s)` },
  );
}

/**
 * The Software Maker chat webview on `surface` ('panel': the editor panel, 'sidebar': the Chat view):
 * the content frame whose page says so (`body[data-surface]`), when several webviews are open.
 */
export async function chatFrame(page: Page, surface: 'panel' | 'sidebar', timeout = STEP_TIMEOUT): Promise<FrameLocator> {
  const outer = page.locator('iframe.webview.ready');
  return waitUntil(
    async () => {
      const count = await outer.count();
      for (let index = 0; index < count; index++) {
        const frame = page.frameLocator('iframe.webview.ready').nth(index).frameLocator('#active-frame');
        if ((await frame.locator(`body[data-surface="${surface}"] #goal-input`).count().catch(() => 0)) > 0) return frame;
      }
      return undefined;
    },
    `the Software Maker chat webview of the ${surface} (body[data-surface="${surface}"] with its composer)`,
    { timeout, observe: async () => `${await outer.count()} ready webview iframe(s)` },
  );
}
