// Entry point of the extension: wires the engine to VS Code (ports, Runs view, status bar, panel,
// commands) for the first workspace folder, and offers to resume runs a closed window left behind.
import * as vscode from 'vscode';
import { ConfigError, resolveRunConfig } from '../core/config';
import { Engine, ForeignRunError } from '../core/engine';
import type { EngineApi, RunHandle } from '../core/engineApi';
import { trustDigest, TrustRecords, trustSurfaceOf } from '../core/trust';
import { systemClock, type HostPorts } from '../core/ports';
import { defaultRunsDir, userStateDir } from '../core/runsDir';
import type { EngineEvent } from '../shared/events';
import { isTerminalRun } from '../shared/lifecycle';
import type { RunStatus } from '../shared/model';
import { summarizeRun, type RunState, type RunSummary } from '../shared/runState';
import { ACCEPT_ALL_EDITS_COMMAND, ACCEPT_EDIT_COMMAND, DiffReviewer, REJECT_EDIT_COMMAND } from './diffReviewer';
import { VscodeEditApplier } from './editApplier';
import { confirmWithModal, diffSinceOf, registerCheckpointCommands, ROLL_BACK_COMMAND } from './checkpointCommands';
import { ACCEPT_HUNK_COMMAND, HunkReviewUi, REJECT_HUNK_COMMAND } from './review/hunkReviewUi';
import { SoftwareMakerPanel, type PanelHost } from './panel';
import { RUNS_VIEW_ID, RunsTreeProvider, SHOW_TASK_COMMAND, truncate } from './runsTree';
import { createSecretLookup, promptAndStoreSecret } from './secrets';
import { apiKeyNames, readSettings, resolveRunsDirectory, SETTINGS_SECTION, workspaceScopedSettings } from './settings';
import { createHostModels } from './models/hostModels';
import { MODEL_COMMANDS, ModelFeatures } from './models/modelCommands';
import { RunStatusBar } from './statusBar';
import { TaskTestRunner } from './taskTestRunner';
import { TRIAGE_COMMAND_IDS, TriageCommands } from './triage/triageCommands';
import { trustGatedEngine } from './trustGate';
import { VscodeWorkspace } from './vscodeWorkspace';

const COMMANDS = {
  newGoal: 'softwareMaker.newGoal',
  openPanel: 'softwareMaker.openPanel',
  cancelRun: 'softwareMaker.cancelRun',
  resumeRun: 'softwareMaker.resumeRun',
  adoptRun: 'softwareMaker.adoptRun',
  showTask: SHOW_TASK_COMMAND,
  refreshRuns: 'softwareMaker.refreshRuns',
  setApiKey: 'softwareMaker.setApiKey',
} as const;

/** Statuses a run that no window drives can be resumed from. */
const RESUMABLE: readonly RunStatus[] = ['queued', 'planning', 'running', 'paused'];
/** Statuses that mean the window closed mid-run (paused runs wait for the user on purpose). */
const INTERRUPTED: readonly RunStatus[] = ['planning', 'running'];
const PROGRESS_DEBOUNCE_MS = 200;

let current: SoftwareMakerHost | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel('Software Maker', { log: true });
  context.subscriptions.push(output);
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder || folder.uri.scheme !== 'file') {
    activateWithoutEngine(context, 'Software Maker needs a folder on disk: open a folder (File > Open Folder) and try again.');
    return;
  }
  try {
    current = await SoftwareMakerHost.create(context, folder, output);
  } catch (error) {
    const message = `Software Maker could not start for ${folder.uri.fsPath}: ${messageOf(error)}`;
    output.error(message);
    activateWithoutEngine(context, `${message}. See the "Software Maker" output, fix the cause and reload the window.`);
    void vscode.window.showErrorMessage(message, 'Show Output').then((choice) => choice && output.show());
    return;
  }
  void current.offerResume();
}

export async function deactivate(): Promise<void> {
  const host = current;
  current = undefined;
  // Awaited here (not only in subscriptions): the engine flushes its logs and releases run locks.
  await host?.dispose();
}

/** Keeps every command answering (with the reason) when there is no engine, and the view empty. */
function activateWithoutEngine(context: vscode.ExtensionContext, reason: string): void {
  const explain = async (): Promise<void> => {
    const choice = await vscode.window.showErrorMessage(reason, 'Open Folder');
    if (choice) await vscode.commands.executeCommand('vscode.openFolder');
  };
  const ids = [...Object.values(COMMANDS), ...Object.values(MODEL_COMMANDS), ACCEPT_EDIT_COMMAND, REJECT_EDIT_COMMAND, ACCEPT_ALL_EDITS_COMMAND, ...TRIAGE_COMMAND_IDS, ACCEPT_HUNK_COMMAND, REJECT_HUNK_COMMAND, ROLL_BACK_COMMAND];
  for (const id of ids) context.subscriptions.push(vscode.commands.registerCommand(id, explain));
  // An empty tree lets the view show its welcome content instead of "no data provider".
  context.subscriptions.push(vscode.window.registerTreeDataProvider(RUNS_VIEW_ID, { getChildren: () => [], getTreeItem: (item: vscode.TreeItem) => item }));
}

/** Everything the extension runs for one workspace folder. */
class SoftwareMakerHost {
  private readonly panelHost: PanelHost;
  private readonly triage: TriageCommands;
  private disposed = false;
  /** Model commands, budget notifications and model-event logging (models/modelCommands.ts). */
  private models: ModelFeatures | undefined;

  private constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly engine: EngineApi,
    private readonly reviewer: DiffReviewer,
    private readonly tree: RunsTreeProvider,
    private readonly statusBar: RunStatusBar,
    private readonly output: vscode.LogOutputChannel,
    runsDir: string,
    /** This machine's record of the workspace settings the user trusted (the extension's storage). */
    private readonly records: TrustRecords,
    private readonly workspaceRoot: string,
  ) {
    this.triage = new TriageCommands({
      engine,
      runsDir,
      follow: (handle, goal) => this.follow(handle, goal),
      canRun: () => this.canStartGoals(),
      currentRunId: () => SoftwareMakerPanel.shownRunId(),
    });
    this.panelHost = {
      engine,
      startGoal: (goal) => this.startGoal(goal),
      openTaskDiff: (runId, taskId) => this.reviewer.openReview(runId, taskId),
      canStartGoals: () => this.canStartGoals(),
      triageTask: async (runId, taskId, action) => (await this.triage.decideOrThrow({ runId, taskId }, action)) !== undefined,
      replayStep: async (runId, stepId, model) => {
        const { result } = await this.triage.replay(runId, stepId, model);
        return { replayId: result.replayId, ok: result.ok, summary: result.summary };
      },
      setBudgets: (runId, budgets, resume) => this.triage.setBudgets(runId, budgets, resume),
    };
  }

  static async create(context: vscode.ExtensionContext, folder: vscode.WorkspaceFolder, output: vscode.LogOutputChannel): Promise<SoftwareMakerHost> {
    // The fallible steps come first, so a failure leaves no command registered twice.
    const workspace = await VscodeWorkspace.open(folder.uri.fsPath);
    const runsDir = resolveRunsDirectory(readSettings(), workspace.root, defaultRunsDir(workspace.root));
    output.info(`Workspace ${workspace.root}; runs in ${runsDir}`);
    const reviewer = new DiffReviewer();
    context.subscriptions.push(reviewer, reviewer.registerCommands(), new HunkReviewUi(reviewer, context.globalState));
    const ports: HostPorts = {
      workspace,
      applier: new VscodeEditApplier(workspace.root),
      reviewer,
      testRunner: new TaskTestRunner(),
      clock: systemClock,
      secret: createSecretLookup(context.secrets),
      confirm: confirmWithModal(),
    };
    // Checkpoints live in the extension's storage for this workspace, never in the workspace or its .git.
    const storageDir = (context.storageUri ?? context.globalStorageUri).fsPath;
    // vscode.lm chat models for `vscode-lm` specs; consent is asked at the first request of a run the user started.
    const hostModels = createHostModels(vscode, vscode.lm);
    // Every command, the panel and the model features get this engine: what calls models, runs
    // processes or changes runs refuses in an untrusted workspace (trustGate.ts).
    const engine = trustGatedEngine(new Engine({ ports, runsDir, storageDir, recordsDir: userStateDir(), warn: (message) => output.warn(message), hostModels }), () => vscode.workspace.isTrusted);
    const tree = new RunsTreeProvider(engine, reviewer);
    const statusBar = new RunStatusBar(engine);
    const host = new SoftwareMakerHost(context, engine, reviewer, tree, statusBar, output, runsDir, new TrustRecords(storageDir), workspace.root);
    context.subscriptions.push(tree, statusBar, { dispose: () => void host.dispose() });
    host.models = new ModelFeatures({ context, engine, output, workspaceRoot: workspace.root, hostModels, resume: (runId) => host.resume(runId), confirmWorkspaceSettings: () => host.confirmWorkspaceSettings() });
    context.subscriptions.push(...host.models.register());
    host.register();
    return host;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.engine.dispose();
  }

  /** Offers to resume runs that were planning or running when the window closed (never unasked). */
  async offerResume(): Promise<void> {
    if (!vscode.workspace.isTrusted) return;
    let runs: RunSummary[];
    try {
      runs = await this.engine.listRuns();
    } catch (error) {
      this.output.error(`Could not list the runs: ${messageOf(error)}`);
      return;
    }
    const driven = new Set(this.engine.activeRunIds());
    const stopped = runs.filter((run) => INTERRUPTED.includes(run.status) && !driven.has(run.id));
    // A run that came with the workspace is never resumed on an offer: it is shown, and adopting it is offered.
    const foreign = stopped.filter((run) => run.foreign);
    if (foreign.length) void this.offerAdoption(foreign);
    const interrupted = stopped.filter((run) => !run.foreign);
    if (interrupted.length === 0) return;
    const what = interrupted.length === 1 ? `The run "${truncate(interrupted[0].goal, 80)}" was` : `${interrupted.length} runs were`;
    const choice = await vscode.window.showInformationMessage(`Software Maker: ${what} interrupted when the window closed. Resume?`, 'Resume', 'Show Runs');
    if (choice === 'Resume') {
      for (const run of interrupted) await this.resume(run.id);
    } else if (choice === 'Show Runs') {
      await vscode.commands.executeCommand(`${RUNS_VIEW_ID}.focus`);
    }
  }

  private async offerAdoption(runs: RunSummary[]): Promise<void> {
    const what = runs.length === 1 ? `The run "${truncate(runs[0].goal, 80)}" was` : `${runs.length} interrupted runs were`;
    const choice = await vscode.window.showWarningMessage(
      `Software Maker: ${what} not created on this machine (it came with the workspace), so it is not resumed. Adopt it only if you trust the models, keys and commands it names.`,
      'Adopt Run…',
      'Show Runs',
    );
    if (choice === 'Adopt Run…') await this.adoptRun(runs.length === 1 ? runs[0].id : undefined);
    else if (choice === 'Show Runs') await vscode.commands.executeCommand(`${RUNS_VIEW_ID}.focus`);
  }

  /**
   * "Adopt Run…": shows what a run that was not created here would use (models with endpoints and
   * key names, transcripts, the test command or task) and, when the user accepts exactly that, makes
   * it this machine's own; then offers to resume it. Resolves true when the run was adopted.
   */
  async adoptRun(runId?: string): Promise<boolean> {
    const check = this.canStartGoals();
    if (!check.ok) {
      void vscode.window.showErrorMessage(check.reason ?? 'Runs cannot be adopted here.');
      return false;
    }
    const chosen = runId ?? (await this.pickRun((run) => run.foreign === true, 'Which run? (runs not created on this machine)', 'Software Maker: every run here was created (or adopted) on this machine.'));
    if (!chosen) return false;
    try {
      const origin = await this.engine.describeRunOrigin(chosen);
      if (origin.own) {
        void vscode.window.showInformationMessage(`Software Maker: run ${chosen} was created (or adopted) on this machine already.`);
        return false;
      }
      const adopt = 'Adopt';
      const detail =
        `Driving it would use:\n${(origin.uses.length ? origin.uses : ['nothing that needs trust']).map((line) => `• ${line}`).join('\n')}\n\n` +
        'It came with the workspace (or from another machine). Once adopted, resume, triage, replay and budget changes drive it with exactly this.';
      const choice = await vscode.window.showWarningMessage(`Adopt run ${chosen}?`, { modal: true, detail }, adopt);
      if (choice !== adopt) return false;
      await this.engine.adoptRun(chosen, origin.digest);
      this.output.info(`Run ${chosen} adopted: ${origin.uses.join('; ') || 'nothing that needs trust'}.`);
      this.tree.scheduleRefresh();
      const state = await this.engine.getRun(chosen);
      if (state && RESUMABLE.includes(state.status)) {
        const resume = await vscode.window.showInformationMessage(`Software Maker: run ${chosen} is adopted. Resume it?`, 'Resume');
        if (resume) await this.resume(chosen);
      }
      return true;
    } catch (error) {
      void vscode.window.showErrorMessage(`Software Maker could not adopt run ${chosen}: ${messageOf(error)}`);
      return false;
    }
  }

  private register(): void {
    const { context } = this;
    context.subscriptions.push(
      vscode.commands.registerCommand(COMMANDS.newGoal, (goal?: unknown) => this.newGoal(typeof goal === 'string' ? goal : undefined)),
      vscode.commands.registerCommand(COMMANDS.openPanel, () => SoftwareMakerPanel.show(context, this.panelHost)),
      vscode.commands.registerCommand(COMMANDS.showTask, (runOrNode?: unknown, taskId?: unknown) => this.showTask(runOrNode, taskId)),
      vscode.commands.registerCommand(COMMANDS.cancelRun, (arg?: unknown) => this.cancelRun(runIdOf(arg))),
      vscode.commands.registerCommand(COMMANDS.resumeRun, (arg?: unknown) => this.resumeRun(runIdOf(arg))),
      vscode.commands.registerCommand(COMMANDS.adoptRun, (arg?: unknown) => this.adoptRun(runIdOf(arg))),
      vscode.commands.registerCommand(COMMANDS.refreshRuns, () => this.tree.refresh()),
      vscode.commands.registerCommand(COMMANDS.setApiKey, () => promptAndStoreSecret(context.secrets, apiKeyNames(readSettings()))),
      SoftwareMakerPanel.registerSerializer(context, this.panelHost),
      ...this.triage.register(),
      registerCheckpointCommands({ engine: this.engine, diffSince: diffSinceOf(this.engine), cancelRunCommand: COMMANDS.cancelRun, canRun: () => this.canStartGoals() }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => void this.offerResume()),
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration(`${SETTINGS_SECTION}.runsDirectory`)) void this.askReload();
      }),
      { dispose: this.engine.onEvent((runId, event) => this.logEvent(runId, event)) },
    );
  }

  canStartGoals(): { ok: boolean; reason?: string } {
    if (!vscode.workspace.isTrusted) {
      return {
        ok: false,
        reason:
          'This workspace is not trusted. Software Maker applies edits and runs your tests as tasks, which needs a trusted workspace: ' +
          'trust the folder (command "Workspaces: Manage Workspace Trust") to start goals.',
      };
    }
    return { ok: true };
  }

  /** Starts a run and follows it with a progress notification. Throws a user-facing Error. */
  async startGoal(goal: string): Promise<string> {
    const check = this.canStartGoals();
    if (!check.ok) throw new Error(check.reason);
    const config = resolveRunConfig(readSettings().run);
    await this.confirmWorkspaceSettings();
    const handle = await this.engine.startRun(goal.trim(), config);
    this.output.info(`Run ${handle.runId} started: ${truncate(goal, 200)}`);
    this.follow(handle, goal);
    return handle.runId;
  }

  /**
   * Workspace or folder settings (.vscode/settings.json) that name endpoints, key names, transcripts,
   * the test command or task, or auto-approval came with the repository: the first goal shows them
   * verbatim and asks. The answer is kept in the extension's storage, bound to exactly what was shown.
   */
  async confirmWorkspaceSettings(): Promise<void> {
    const lines = trustSurfaceOf(workspaceScopedSettings().run);
    if (lines.length === 0) return;
    const digest = trustDigest(lines);
    if (await this.records.has('workspace-config', this.workspaceRoot, digest)) return;
    const trust = 'Trust and Start';
    const choice = await vscode.window.showWarningMessage(
      "This workspace's settings choose what Software Maker sends your API keys to and what it runs. Trust them?",
      {
        modal: true,
        detail:
          `${lines.map((line) => `• ${line}`).join('\n')}\n\n` +
          'They are set in the workspace (.vscode/settings.json or a folder\'s settings), so they came with it, not from your user settings. You are asked again when they change.',
      },
      trust,
    );
    if (choice !== trust) {
      throw new Error('The workspace settings were not trusted, so nothing was sent or started. Put the models and the test command in your user settings, or start the goal again and trust them.');
    }
    await this.records.remember('workspace-config', this.workspaceRoot, digest);
  }

  private async newGoal(preset?: string): Promise<void> {
    const check = this.canStartGoals();
    if (!check.ok) {
      const choice = await vscode.window.showErrorMessage(check.reason ?? 'Goals cannot start here.', 'Manage Workspace Trust');
      if (choice) await vscode.commands.executeCommand('workbench.trust.manage');
      return;
    }
    const goal =
      preset?.trim() ||
      (await vscode.window.showInputBox({
        title: 'Software Maker: New Goal',
        prompt: 'What should the team build or change in this workspace?',
        placeHolder: 'e.g. Add a --json flag to the CLI, with tests',
        ignoreFocusOut: true,
        validateInput: (value) => (value.trim() ? undefined : 'Describe the goal in a sentence or two.'),
      }));
    if (!goal?.trim()) return;
    try {
      await this.startGoal(goal);
    } catch (error) {
      if (error instanceof ConfigError) {
        const choice = await vscode.window.showErrorMessage(error.message, 'Open Settings');
        if (choice) await vscode.commands.executeCommand('workbench.action.openSettings', SETTINGS_SECTION);
        return;
      }
      void vscode.window.showErrorMessage(`Software Maker could not start the goal: ${messageOf(error)}`);
    }
  }

  private async resume(runId: string): Promise<void> {
    const check = this.canStartGoals();
    if (!check.ok) {
      void vscode.window.showErrorMessage(check.reason ?? 'Runs cannot resume here.');
      return;
    }
    try {
      const handle = await this.engine.resumeRun(runId);
      const state = await this.engine.getRun(runId);
      this.output.info(`Run ${runId} resumed.`);
      this.follow(handle, state?.goal ?? runId);
    } catch (error) {
      if (error instanceof ForeignRunError) {
        const choice = await vscode.window.showErrorMessage(`Software Maker: run ${runId} was not created on this machine, so it is read-only until you adopt it.`, 'Adopt Run…');
        if (choice) await this.adoptRun(runId);
        return;
      }
      void vscode.window.showErrorMessage(`Software Maker could not resume run ${runId}: ${messageOf(error)}`);
    }
  }

  private async resumeRun(runId?: string): Promise<void> {
    const chosen =
      runId ??
      (await this.pickRun(
        (run, driven) => RESUMABLE.includes(run.status) && !driven,
        'Which run? (interrupted or paused runs)',
        'Software Maker: there is no interrupted or paused run to resume.',
      ));
    if (chosen) await this.resume(chosen);
  }

  private async cancelRun(runId?: string): Promise<void> {
    const chosen = runId ?? (await this.pickRun((run) => !isTerminalRun(run.status), 'Which run to cancel?', 'Software Maker: no run is in progress.'));
    if (!chosen) return;
    try {
      const cancelled = await this.engine.cancelRun(chosen, 'Cancelled by the user.');
      if (!cancelled) void vscode.window.showInformationMessage('Software Maker: that run had already ended.');
    } catch (error) {
      void vscode.window.showErrorMessage(`Software Maker could not cancel run ${chosen}: ${messageOf(error)}`);
    }
    this.tree.scheduleRefresh();
  }

  private showTask(runOrNode: unknown, taskId: unknown): void {
    // From a tree click: (runId, taskId); from a context menu: the task node.
    const runId = runIdOf(runOrNode);
    const task = typeof taskId === 'string' ? taskId : isRecord(runOrNode) && typeof runOrNode.taskId === 'string' ? runOrNode.taskId : undefined;
    SoftwareMakerPanel.show(this.context, this.panelHost, runId ? { runId, taskId: task } : undefined);
  }

  private async pickRun(filter: (run: RunSummary, driven: boolean) => boolean, placeHolder: string, none: string): Promise<string | undefined> {
    const driven = new Set(this.engine.activeRunIds());
    const runs = (await this.engine.listRuns()).filter((run) => filter(run, driven.has(run.id)));
    if (runs.length === 0) {
      void vscode.window.showInformationMessage(none);
      return undefined;
    }
    const picked = await vscode.window.showQuickPick(
      runs.map((run) => ({
        label: truncate(run.goal.replace(/\s+/g, ' '), 80),
        description: `${run.status} · ${run.tasksDone}/${run.tasksTotal}`,
        detail: `${run.id} · started ${new Date(run.createdAt).toLocaleString()}`,
        runId: run.id,
      })),
      { title: 'Software Maker', placeHolder },
    );
    return picked?.runId;
  }

  /** A cancellable progress notification until the run ends or pauses, then its outcome. */
  private follow(handle: RunHandle, goal: string): void {
    const { runId } = handle;
    this.statusBar.show(runId);
    this.tree.scheduleRefresh();
    void vscode.window
      .withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Software Maker: ${truncate(goal.replace(/\s+/g, ' '), 60)}`, cancellable: true },
        async (progress, token) => {
          const cancellation = token.onCancellationRequested(() => {
            void this.engine.cancelRun(runId, 'Cancelled from the progress notification.').catch((error: unknown) => {
              void vscode.window.showErrorMessage(`Software Maker could not cancel the run: ${messageOf(error)}`);
            });
          });
          let timer: NodeJS.Timeout | undefined;
          let last = '';
          const report = async (): Promise<void> => {
            timer = undefined;
            const state = await this.engine.getRun(runId);
            const message = state ? progressText(summarizeRun(state)) : '';
            if (message && message !== last) progress.report({ message: (last = message) });
          };
          const unsubscribe = this.engine.onEvent((id) => {
            if (id === runId) timer ??= setTimeout(() => void report().catch(() => undefined), PROGRESS_DEBOUNCE_MS);
          });
          void report().catch(() => undefined);
          try {
            return await handle.finished;
          } finally {
            if (timer) clearTimeout(timer);
            unsubscribe();
            cancellation.dispose();
          }
        },
      )
      .then((state) => this.announceEnd(state));
  }

  private async announceEnd(state: RunState): Promise<void> {
    const summary = summarizeRun(state);
    this.tree.scheduleRefresh();
    const tasks = `${summary.tasksDone}/${summary.tasksTotal} tasks done`;
    const reason = summary.statusReason ? `: ${summary.statusReason}` : '';
    this.output.info(`Run ${summary.id} ${summary.status}${reason} (${tasks}).`);
    let choice: string | undefined;
    switch (summary.status) {
      case 'completed':
        choice = await vscode.window.showInformationMessage(`Software Maker: run completed (${tasks}).`, 'Open Panel');
        break;
      case 'failed':
        choice = await vscode.window.showErrorMessage(`Software Maker: run failed${reason} (${tasks}).`, 'Open Panel');
        break;
      case 'stopped_budget':
        choice = await vscode.window.showErrorMessage(`Software Maker: run stopped by its budget${reason} (${tasks}).`, 'Open Panel');
        break;
      case 'paused':
        // A budget pause gets its own "Budget reached: Raise Budget… / Stop" notification.
        if (await this.models?.onRunPaused(summary.id)) return;
        choice = await vscode.window.showWarningMessage(`Software Maker: run paused${reason} (${tasks}).`, 'Resume', 'Open Panel');
        break;
      case 'awaiting-approval':
        choice = await vscode.window.showInformationMessage('Software Maker: the plan is ready. Approve it in the panel to start the work.', 'Open Panel');
        break;
      default:
        choice = await vscode.window.showInformationMessage(`Software Maker: run ${summary.status}${reason} (${tasks}).`, 'Open Panel');
    }
    if (choice === 'Resume') await this.resume(summary.id);
    else if (choice === 'Open Panel') SoftwareMakerPanel.show(this.context, this.panelHost, { runId: summary.id });
  }

  private async askReload(): Promise<void> {
    const choice = await vscode.window.showInformationMessage('Software Maker uses the new runs folder after a window reload.', 'Reload Window');
    if (choice) await vscode.commands.executeCommand('workbench.action.reloadWindow');
  }

  private logEvent(runId: string, event: EngineEvent): void {
    if (event.type === 'run.status') {
      this.output.info(`[${runId}] run ${event.status}${event.reason ? `: ${event.reason}` : ''}`);
    } else if (event.type === 'log') {
      const line = `[${runId}]${event.taskId ? ` ${event.taskId}:` : ''} ${event.message}`;
      if (event.level === 'error') this.output.error(line);
      else if (event.level === 'warn') this.output.warn(line);
      else this.output.info(line);
    }
  }
}

function progressText(summary: RunSummary): string {
  if (summary.tasksTotal === 0) return summary.status;
  return `${summary.status} · ${summary.tasksDone}/${summary.tasksTotal} tasks done`;
}

/** A run id from a command argument: the id itself or a Runs view node. */
function runIdOf(arg: unknown): string | undefined {
  if (typeof arg === 'string' && arg) return arg;
  if (isRecord(arg) && typeof arg.runId === 'string') return arg.runId;
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
