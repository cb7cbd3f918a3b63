// The engine reaches the editor (or the terminal) only through these ports. src/host implements them
// with the VS Code API, src/cli with Node; tests use the Node implementations or fakes.
import type { ApprovalSubject, Role } from '../shared/model';

/** Read access to the workspace. Paths are workspace-relative with forward slashes. */
export interface Workspace {
  /** Absolute path of the workspace folder (symlinks resolved). */
  readonly root: string;
  /**
   * Current text of a file as the user sees it: in VS Code an open document's unsaved text wins over
   * the disk. Undefined when the file does not exist. Throws WorkspaceError for binary or oversized files.
   */
  readText(relPath: string): Promise<string | undefined>;
  /** Files under a folder (recursively), skipping .git, node_modules and .software-maker; at most `limit`. */
  listFiles(relDir: string, limit: number): Promise<string[]>;
  /** Lines containing `query` (plain text, case-sensitive), at most `limit`. */
  searchText(query: string, limit: number): Promise<SearchHit[]>;
}

export interface SearchHit {
  path: string;
  line: number;
  text: string;
}

/**
 * One file of an accepted edit set, ready to write. `path` is where the file ends up; every kind
 * carries the hash of the text the proposal was made against, so the writer can refuse when the
 * file moved on.
 */
export type FileWrite = ContentWrite | DeleteWrite | RenameWrite;

/** Creates a file (baseHash is the hash of '') or replaces the text of an existing one. */
export interface ContentWrite {
  path: string;
  kind: 'create' | 'modify';
  /** Hash of the text the proposal was made against; the writer refuses if the file moved on. */
  baseHash: string;
  newText: string;
  newHash: string;
}

/** Deletes `path`. */
export interface DeleteWrite {
  path: string;
  kind: 'delete';
  /** Hash of the text being deleted: a file the user changed since is not deleted. */
  baseHash: string;
  newText: '';
  /** The hash of ''. */
  newHash: string;
}

/** Moves `from` to `path`, whose text becomes newText (the same as the source's, or changed). */
export interface RenameWrite {
  path: string;
  kind: 'rename';
  from: string;
  /** Hash of the source's text; the writer refuses if the source moved on or `path` exists. */
  baseHash: string;
  newText: string;
  newHash: string;
}

export type WriteOutcome =
  | { path: string; status: 'written' }
  /** The file already holds newText (e.g. applied before a crash, not yet logged); for a delete: the file is gone; for a rename: the source is gone and `path` holds newText. */
  | { path: string; status: 'already-applied' }
  /**
   * Nothing was written for this file: the user changed it since the proposal (or, for a rename, the
   * target exists), it is read-only, or the disk refused the write. `detail` says which.
   */
  | {
      path: string;
      status: 'conflict';
      detail: string;
      /** The user has unsaved changes to the file in an editor: never rebased onto, never saved for them. */
      unsaved?: boolean;
    };

/** Writes accepted edits. VS Code: one WorkspaceEdit per set, then save; CLI: fs writes. */
export interface EditApplier {
  apply(files: FileWrite[]): Promise<WriteOutcome[]>;
  /**
   * Every file appears whole or not at all (written aside, then renamed into place): a one-file
   * landing may then go on while other tasks' tests run (RunContext.landing).
   */
  readonly atomicFiles?: boolean;
}

/** A proposed edit set as the human reviewer sees it. */
export interface ReviewRequest {
  runId: string;
  taskId: string;
  taskTitle: string;
  proposalId: string;
  /** `before` is '' for a new file, `after` is '' for a deleted one; a rename shows its source in `from`. */
  files: ReviewFile[];
}

export interface ReviewFile {
  path: string;
  kind: FileWrite['kind'];
  from?: string;
  before: string;
  after: string;
  /**
   * Why accepting this file changes what will be executed (a package script, a git hook, an editor
   * task…; core/edits/executionRisk.ts), one reason each. Hosts show it before the diff, where it
   * cannot be missed. Absent or empty: it does not.
   */
  changesWhatRuns?: string[];
}

export interface ReviewDecision {
  /** Paths the user accepted (whole or in part); every other path of the request is rejected. */
  accepted: string[];
  /**
   * Per-hunk decisions for modified files the user reviewed hunk by hunk: the indexes of the accepted
   * hunks of `diffHunks(before, after)` (core/edits/review.ts, default context). An accepted path that
   * is not listed here is accepted whole.
   */
  partial?: Record<string, number[]>;
  /** Why the user rejected, for the agent's next attempt. */
  reason?: string;
}

/** Asks the human to accept or reject proposed edits (diff editor in VS Code, y/n in the CLI). */
export interface EditReviewer {
  review(request: ReviewRequest, signal: AbortSignal): Promise<ReviewDecision>;
}

export interface ProcessResult {
  exitCode: number | null;
  output: string;
  timedOut: boolean;
  durationMs: number;
}

/** Runs a test command. VS Code: a task with a pseudoterminal; CLI: child_process. */
export interface TestRunner {
  run(request: TestRunRequest, signal: AbortSignal): Promise<ProcessResult>;
}

export interface TestRunRequest {
  command: string;
  cwd: string;
  timeoutMs: number;
  /** Shown to the user (the VS Code task's name). */
  label: string;
  /** Run the workspace's own task with this label (tasks.json) instead of `command`; hosts without tasks ignore it. */
  taskLabel?: string;
  /** The run's baseline: failures are expected (they were there before any change), so a host shows them as a note, not as a failed task. */
  baseline?: boolean;
}

/** A shell command an agent (or a gate) wants to run in the workspace. */
export interface CommandRequest {
  /** Exactly what the shell runs, shown verbatim to whoever approves it. */
  command: string;
  /** Workspace-relative, '' = root. */
  cwd: string;
  reason: string;
  role: Role;
  taskId?: string;
  timeoutMs: number;
  purpose: 'agent' | 'dev-server' | 'deploy' | 'audit';
}

export interface CommandResult {
  exitCode: number | null;
  signal?: string;
  /** Bounded: head + tail with a marker between them when the middle was dropped. */
  output: string;
  truncated: boolean;
  durationMs: number;
  timedOut: boolean;
}

/** A command left running (a dev server) until stopped. */
export interface BackgroundCommand {
  /** Output so far, bounded. */
  output(): string;
  /** Settles when the command ended (stopped included); never rejects. */
  readonly exited: Promise<CommandResult>;
  /** Ends the command's whole process group and waits for it. */
  stop(): Promise<void>;
}

/**
 * Runs approved commands in the workspace, in a process group of their own, with childEnvironment()
 * (no provider keys). VS Code: a task the user sees; CLI: child_process. Callers approve first
 * (approveAction in core/commands): a runner never asks.
 */
export interface CommandRunner {
  /** Resolves for every exit, timeouts and cancels included; rejects only when the command cannot start. */
  run(request: CommandRequest, signal: AbortSignal): Promise<CommandResult>;
  start(request: CommandRequest): Promise<BackgroundCommand>;
  /**
   * The command line and folder (absolute) of the workspace's tasks.json task of this label, so it
   * can be approved verbatim and run like any command. Hosts without tasks leave it out.
   */
  resolveTask?(label: string): Promise<{ command: string; cwd: string }>;
}

/** What is being approved, as the user is shown it (defined in shared: events carry it). */
export type { ApprovalSubject } from '../shared/model';

export interface ApprovalRequest {
  subject: ApprovalSubject;
  role: Role;
  taskId?: string;
}

export type ApprovalDecision =
  | { approved: true; by: 'user' | 'rule'; rule?: string }
  | { approved: false; by: 'user' | 'rule'; rule?: string; reason?: string };

/** Asks the human (VS Code: a modal with the subject verbatim; CLI: a prompt). Never decides by itself. */
export interface Approver {
  approve(request: ApprovalRequest, signal: AbortSignal): Promise<ApprovalDecision>;
}

/**
 * A headless browser the web tester drives (core/web/playwrightBrowser.ts: playwright-core over an
 * installed Chrome/Chromium, never a downloaded one). Tests use fakes.
 */
export interface Browser {
  /** Throws BrowserNotFoundError (naming the webTester.browserPath setting) when no executable is found. */
  launch(options: BrowserLaunchOptions): Promise<BrowserSession>;
}

export interface BrowserLaunchOptions {
  /** The webTester.browserPath setting; absent: installed Chrome/Edge, then well-known Chromium paths. */
  executablePath?: string;
  /** Requests to any other origin are refused (a flow cannot carry the page elsewhere). */
  allowedOrigin: string;
}

export interface BrowserSession {
  newPage(): Promise<BrowserPage>;
  close(): Promise<void>;
}

/** One page. Selectors are Playwright selectors; every wait ends after `timeoutMs` with an error saying what it waited for. */
export interface BrowserPage {
  goto(url: string, timeoutMs: number): Promise<void>;
  fill(selector: string, value: string, timeoutMs: number): Promise<void>;
  click(selector: string, timeoutMs: number): Promise<void>;
  /** Waits until the element (the body when no selector) shows `text`. */
  waitForText(text: string, selector: string | undefined, timeoutMs: number): Promise<void>;
  /** The element's visible text (the body when no selector), '' when it is not there. */
  readText(selector: string | undefined): Promise<string>;
  /** A PNG of the viewport. */
  screenshot(): Promise<Uint8Array>;
  url(): string;
}

/** Wall clock, replaceable in tests. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** Everything a host provides to the engine. */
export interface HostPorts {
  workspace: Workspace;
  applier: EditApplier;
  /**
   * Absent when nobody can be asked (CLI without a terminal): what auto-approval does not cover is
   * then rejected, with the reason going back to the agent.
   */
  reviewer?: EditReviewer;
  testRunner: TestRunner;
  /** Runs approved commands (run_command, dev servers, audits, deploys). Absent: no command can run. */
  commandRunner?: CommandRunner;
  /** Asks the user about commands, MCP calls and deploys. Absent: whatever no rule allows is denied. */
  approver?: Approver;
  /** The web tester's browser. Absent: web tester tasks fail, saying the host has none. */
  browser?: Browser;
  clock: Clock;
  /** Looks up a secret (API key) by name: SecretStorage in VS Code, environment in the CLI. */
  secret(name: string): Promise<string | undefined>;
  /**
   * Asks the user a yes/no question the engine must not decide alone (switching branches over a dirty
   * tree in git mode, starting a run while another run of the workspace is in progress). VS Code: a
   * modal dialog; CLI: a prompt, or --yes. Absent: the answer is no.
   */
  confirm?(question: string, detail: string): Promise<boolean>;
}
