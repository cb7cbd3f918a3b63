// Entry point of the extension: wires the engine to VS Code (ports, Runs view, status bar, panel,
// commands) for the first workspace folder, and offers to resume runs a closed window left behind.
import * as vscode from 'vscode';
import {
  applyTemplate,
  availableTemplates,
  ConfigError,
  defaultRunsDir,
  Engine,
  ForeignRunError,
  ModelConfigError,
  resolveRunConfig,
  systemClock,
  trustDigest,
  TrustRecords,
  trustSurfaceOf,
  userStateDir,
  type EngineApi,
  type HostPorts,
  type RunHandle,
} from '../core';
import type { EngineEvent } from '../shared/events';
import { isTerminalRun } from '../shared/lifecycle';
import { ROLES, type RunConfig, type RunStatus } from '../shared/model';
import type { GoalOptions } from '../shared/protocol';
import { summarizeRun, type RunState, type RunSummary } from '../shared/runState';
import { PlaywrightBrowser } from '../core/node';
import { COMMAND_IDS, COMMANDS } from './commands';
import { DiffReviewer } from './diffReviewer';
import { VscodeEditApplier } from './editApplier';
import { confirmWithModal, diffSinceOf, registerCheckpointCommands } from './checkpointCommands';
import { ModalApprover } from './approver';
import { TaskCommandRunner } from './commandRunner';
import { HunkReviewUi } from './review/hunkReviewUi';
import { NoticeBoard } from './notices';
import { SoftwareMakerPanel, type PanelHost } from './panel';
import { RunDiffs } from './runDiffs';
import { CODELENS_NOTICE_ID } from './review/hunkReviewUi';
import { apiKeyNoticeId } from './models/modelCommands';
import { RUNS_VIEW_ID, RunsTreeProvider, truncate } from './runsTree';
import { createSecretLookup, promptAndStoreSecret } from './secrets';
import { apiKeyNames, readSettings, resolveRunsDirectory, SETTINGS_SECTION, warnIgnoredWorkspaceSettings, workspaceScopedSettings } from './settings';
import { createHostModels } from './models/hostModels';
import { ModelFeatures } from './models/modelCommands';
import { RunStatusBar } from './statusBar';
import { TaskTestRunner } from './taskTestRunner';
import { TriageCommands } from './triage/triageCommands';
import { trustGatedEngine } from './trustGate';
import { VscodeWorkspace } from './vscodeWorkspace';
import { messageOf } from '../shared/wording';

/** Statuses a run that no window drives can be resumed from. */
const RESUMABLE: readonly RunStatus[] = ['queued', 'planning', 'running', 'paused'];
/** Statuses that mean the window closed mid-run (paused runs wait for the user on purpose). */
const INTERRUPTED: readonly RunStatus[] = ['planning', 'running'];
const PROGRESS_DEBOUNCE_MS = 200;
/** workspaceState key of a goal typed before any model worked: it survives a reload. */
const PENDING_GOAL_KEY = 'softwareMaker.pendingGoal';
const PENDING_GOAL_NOTICE = 'pending-goal';
const SETUP_NOTICE = 'setup';
const RESUME_NOTICE = 'resume';
/** Settings whose change may make a model work (or change what the composer offers). */
const MODEL_SETTINGS = ['models', 'roles', 'autoApprove'].map((key) => `${SETTINGS_SECTION}.${key}`);
const WALKTHROUGH_ID = 'software-maker.software-maker#softwareMaker.firstRun';

/**
 * The first Getting Started page a fresh VS Code for the Web profile opens shows the product's own
 * featured walkthrough whatever category was asked for; a second open, once that page exists, honours
 * the category. Opening twice is invisible to the user and lands on our walkthrough in either case.
 */
async function openOurWalkthrough(): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.openWalkthrough', WALKTHROUGH_ID);
  await new Promise((resolve) => setTimeout(resolve, 300));
  await vscode.commands.executeCommand('workbench.action.openWalkthrough', WALKTHROUGH_ID);
}

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
  for (const id of COMMAND_IDS) context.subscriptions.push(vscode.commands.registerCommand(id, explain));
  // An empty tree lets the view show its welcome content instead of "no data provider".
  context.subscriptions.push(vscode.window.registerTreeDataProvider(RUNS_VIEW_ID, { getChildren: () => [], getTreeItem: (item: vscode.TreeItem) => item }));
}

/** Everything the extension runs for one workspace folder. */
class SoftwareMakerHost {
  private readonly panelHost: PanelHost;
  private readonly runDiffs: RunDiffs;
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
    /** Prompts kept reachable as chat-view banners (notices.ts). */
    private readonly notices: NoticeBoard,
  ) {
    this.runDiffs = new RunDiffs(engine, workspaceRoot, runsDir);
    context.subscriptions.push(this.runDiffs);
    this.triage = new TriageCommands({
      engine,
      runsDir,
      follow: (handle, goal) => this.follow(handle, goal),
      canRun: () => this.canStartGoals(),
      currentRunId: () => SoftwareMakerPanel.shownRunId(),
    });
    this.panelHost = {
      engine,
      startGoal: (goal, options) => this.startGoalFromView(goal, options),
      openTaskDiff: (runId, taskId) => this.reviewer.openReview(runId, taskId),
      canStartGoals: () => this.canStartGoals(),
      triageTask: async (runId, taskId, action) => (await this.triage.decideOrThrow({ runId, taskId }, action)) !== undefined,
      replayStep: async (runId, stepId, model) => {
        const { result } = await this.triage.replay(runId, stepId, model);
        return { replayId: result.replayId, ok: result.ok, summary: result.summary };
      },
      setBudgets: (runId, budgets, resume) => this.triage.setBudgets(runId, budgets, resume),
      viewState: () => ({ notices: this.notices.list(), composer: composerDefaults() }),
      actOnNotice: (id, action) => this.notices.act(id, action),
      runDiffs: this.runDiffs,
      runsDir,
    };
  }

  static async create(context: vscode.ExtensionContext, folder: vscode.WorkspaceFolder, output: vscode.LogOutputChannel): Promise<SoftwareMakerHost> {
    // The fallible steps come first, so a failure leaves no command registered twice.
    const workspace = await VscodeWorkspace.open(folder.uri.fsPath);
    const runsDir = resolveRunsDirectory(readSettings(), workspace.root, defaultRunsDir(workspace.root));
    output.info(`Workspace ${workspace.root}; runs in ${runsDir}`);
    const reviewer = new DiffReviewer();
    const notices = new NoticeBoard();
    context.subscriptions.push(reviewer, reviewer.registerCommands(), new HunkReviewUi(reviewer, context.globalState, notices));
    const ports: HostPorts = {
      workspace,
      applier: new VscodeEditApplier(workspace.root),
      reviewer,
      testRunner: new TaskTestRunner(),
      // Approved commands run as tasks the user sees; the approvals are modals with the command verbatim.
      commandRunner: new TaskCommandRunner(workspace.root),
      approver: new ModalApprover(),
      // The web tester's headless browser (an installed Chrome/Chromium; playwright-core loads on first use).
      browser: new PlaywrightBrowser(),
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
    const host = new SoftwareMakerHost(context, engine, reviewer, tree, statusBar, output, runsDir, new TrustRecords(storageDir), workspace.root, notices);
    context.subscriptions.push(tree, statusBar, { dispose: () => void host.dispose() });
    host.models = new ModelFeatures({ context, engine, output, workspaceRoot: workspace.root, hostModels, resume: (runId) => host.resume(runId), confirmWorkspaceSettings: () => host.confirmWorkspaceSettings(), notices });
    context.subscriptions.push(...host.models.register());
    host.register();
    host.restorePendingGoal();
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
    const message = `${what} interrupted when the window closed. Resume?`;
    const act = async (choice: string | undefined): Promise<void> => {
      if (choice) this.notices.remove(RESUME_NOTICE);
      if (choice === 'Resume') {
        for (const run of interrupted) await this.resume(run.id);
      } else if (choice === 'Show Runs') {
        await vscode.commands.executeCommand(`${RUNS_VIEW_ID}.focus`);
      }
    };
    // The notification goes by itself after a while; the banner stays until acted on.
    this.notices.set({ id: RESUME_NOTICE, message, actions: [{ label: 'Resume', run: () => act('Resume') }, { label: 'Show Runs', run: () => act('Show Runs') }] });
    await act(await vscode.window.showInformationMessage(`Software Maker: ${message}`, 'Resume', 'Show Runs'));
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
    // A cloned repository's settings that would loosen the user's are said at once, not at the first goal.
    warnIgnoredWorkspaceSettings(readSettings());
    context.subscriptions.push(
      vscode.commands.registerCommand(COMMANDS.newGoal.id, (goal?: unknown) => this.newGoal(typeof goal === 'string' ? goal : undefined)),
      vscode.commands.registerCommand(COMMANDS.newGoalFromTemplate.id, (goal?: unknown) => this.newGoal(typeof goal === 'string' ? goal : undefined, true)),
      vscode.commands.registerCommand(COMMANDS.openPanel.id, () => SoftwareMakerPanel.show(context, this.panelHost)),
      vscode.commands.registerCommand(COMMANDS.showTask.id, (runOrNode?: unknown, taskId?: unknown) => this.showTask(runOrNode, taskId)),
      vscode.commands.registerCommand(COMMANDS.cancelRun.id, (arg?: unknown) => this.cancelRun(runIdOf(arg))),
      vscode.commands.registerCommand(COMMANDS.resumeRun.id, (arg?: unknown) => this.resumeRun(runIdOf(arg))),
      vscode.commands.registerCommand(COMMANDS.adoptRun.id, (arg?: unknown) => this.adoptRun(runIdOf(arg))),
      vscode.commands.registerCommand(COMMANDS.refreshRuns.id, () => this.tree.refresh()),
      vscode.commands.registerCommand(COMMANDS.openWalkthrough.id, () => openOurWalkthrough()),
      vscode.commands.registerCommand(COMMANDS.setApiKey.id, () => promptAndStoreSecret(context.secrets, apiKeyNames(readSettings()))),
      SoftwareMakerPanel.registerSerializer(context, this.panelHost),
      SoftwareMakerPanel.registerChatView(context, this.panelHost),
      this.notices.onDidChange(() => SoftwareMakerPanel.refreshHostState()),
      ...this.triage.register(),
      registerCheckpointCommands({ engine: this.engine, diffSince: diffSinceOf(this.engine), cancelRunCommand: COMMANDS.cancelRun.id, canRun: () => this.canStartGoals() }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => {
        // Open chat views were drawn disabled: they get the new state without a reload.
        SoftwareMakerPanel.refreshHostState();
        void this.offerResume();
      }),
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration(SETTINGS_SECTION)) warnIgnoredWorkspaceSettings(readSettings());
        if (event.affectsConfiguration(`${SETTINGS_SECTION}.runsDirectory`)) void this.askReload();
        if (event.affectsConfiguration('diffEditor.codeLens') && vscode.workspace.getConfiguration().get<boolean>('diffEditor.codeLens')) this.notices.remove(CODELENS_NOTICE_ID);
        if (MODEL_SETTINGS.some((key) => event.affectsConfiguration(key))) {
          this.updateSetupNotice();
          SoftwareMakerPanel.refreshHostState();
          void this.startPendingGoal();
        }
      }),
      context.secrets.onDidChange(() => {
        for (const name of apiKeyNames(readSettings())) {
          void createSecretLookup(context.secrets)(name).then((key) => key && this.notices.remove(apiKeyNoticeId(name)));
        }
        void this.startPendingGoal();
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
  async startGoal(goal: string, options: GoalOptions = {}, template?: string): Promise<string> {
    const check = this.canStartGoals();
    if (!check.ok) throw new Error(check.reason);
    const settings = readSettings();
    warnIgnoredWorkspaceSettings(settings);
    // Settings, then the team template, then the composer's choices; the result is the run's snapshot.
    const name = template ?? settings.template;
    let run = settings.run;
    try {
      if (name) run = applyTemplate(settings.run, name, availableTemplates(settings.templates)) as Partial<RunConfig>;
    } catch (error) {
      // Not a model problem: the goal is not kept waiting for a model (isModelSetupError), it is refused with the reason.
      throw new Error(`${messageOf(error)} (setting softwareMaker.template or softwareMaker.templates)`);
    }
    const config = resolveRunConfig(withGoalOptions(run, options));
    await this.confirmWorkspaceSettings();
    const handle = await this.engine.startRun(goal.trim(), config, { files: options.files, images: options.images, followUpOf: options.followUpOf });
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
    const scoped = workspaceScopedSettings();
    const lines = trustSurfaceOf({ ...scoped.run, templates: scoped.templates });
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

  /**
   * A goal from a chat view. With no working model yet the goal is kept (a banner offering Configure
   * Models) and starts by itself once a model works; the view is told so instead of an error.
   */
  private async startGoalFromView(goal: string, options: GoalOptions): Promise<{ runId?: string; waitingForModel?: boolean }> {
    try {
      return { runId: await this.startGoal(goal, options) };
    } catch (error) {
      if (!isModelSetupError(error)) throw error;
      this.keepPendingGoal(goal, options, error);
      return { waitingForModel: true };
    }
  }

  /** Reloads the goal a closed window kept waiting for a model (it starts once one works). */
  restorePendingGoal(): void {
    this.updateSetupNotice();
    const kept = this.context.workspaceState.get<{ goal?: unknown; options?: GoalOptions }>(PENDING_GOAL_KEY);
    if (kept && typeof kept.goal === 'string' && kept.goal.trim()) this.keepPendingGoal(kept.goal, kept.options ?? {}, undefined);
  }

  private pendingGoal: { goal: string; options: GoalOptions } | undefined;
  private startingPending = false;

  private keepPendingGoal(goal: string, options: GoalOptions, error: Error | undefined): void {
    this.pendingGoal = { goal, options };
    void this.context.workspaceState.update(PENDING_GOAL_KEY, this.pendingGoal);
    const keyName = error ? /needs the API key "([^"]+)"/.exec(error.message)?.[1] : undefined;
    const why = error ? ` ${error.message}` : '';
    this.notices.set({
      id: PENDING_GOAL_NOTICE,
      tone: 'warning',
      message: `Your goal "${truncate(goal.replace(/\s+/g, ' '), 120)}" is kept: it starts as soon as a model works.${why}`,
      actions: [
        ...(keyName ? [{ label: 'Set API Key', run: runCommandKeepingNotice(COMMANDS.setApiKey.id) }] : []),
        { label: 'Configure Models', run: runCommandKeepingNotice(COMMANDS.configureModels.id) },
        { label: 'Start Now', run: () => this.startPendingGoal(true) },
        { label: 'Discard', run: () => this.clearPendingGoal() },
      ],
    });
  }

  private clearPendingGoal(): void {
    this.pendingGoal = undefined;
    void this.context.workspaceState.update(PENDING_GOAL_KEY, undefined);
    this.notices.remove(PENDING_GOAL_NOTICE);
  }

  /**
   * Starts the kept goal if a model works now (after a settings or key change, or "Start Now").
   * Resolves true when it started; a model still missing keeps it waiting (quietly unless asked).
   */
  private async startPendingGoal(asked = false): Promise<boolean> {
    const pending = this.pendingGoal;
    if (!pending || this.startingPending || !this.canStartGoals().ok) return false;
    this.startingPending = true;
    try {
      await this.startGoal(pending.goal, pending.options);
      if (this.pendingGoal === pending) this.clearPendingGoal();
      return true;
    } catch (error) {
      if (isModelSetupError(error)) {
        this.keepPendingGoal(pending.goal, pending.options, error);
        if (asked) void vscode.window.showWarningMessage(`Software Maker: the goal is still waiting for a model. ${error.message}`, 'Configure Models').then((choice) => choice && vscode.commands.executeCommand(COMMANDS.configureModels.id));
      } else {
        void vscode.window.showErrorMessage(`Software Maker could not start the goal: ${messageOf(error)}`);
      }
      return false;
    } finally {
      this.startingPending = false;
    }
  }

  /** A banner pointing at Configure Models while no model is configured (first run). */
  private updateSetupNotice(): void {
    const models: readonly unknown[] = readSettings().run.models ?? [];
    if (models.length > 0) {
      this.notices.remove(SETUP_NOTICE);
      return;
    }
    if (this.notices.has(SETUP_NOTICE)) return;
    this.notices.set({
      id: SETUP_NOTICE,
      message: 'No model is configured yet. Pick one (a VS Code chat model such as Copilot, OpenAI, Anthropic, or a local server) to start goals.',
      actions: [
        { label: 'Configure Models', run: runCommandKeepingNotice(COMMANDS.configureModels.id) },
        { label: 'Open Walkthrough', run: runCommandKeepingNotice(COMMANDS.openWalkthrough.id) },
      ],
    });
  }

  /**
   * The team template a goal starts with: the setting's, else a pick when the user has templates of
   * their own (or asked for one: New Goal from Template…). Undefined: none; null: the pick was cancelled.
   */
  private async pickTemplate(ask: boolean): Promise<string | undefined | null> {
    const settings = readSettings();
    if (!ask && settings.template) return settings.template;
    let templates;
    try {
      templates = availableTemplates(settings.templates);
    } catch (error) {
      void vscode.window.showErrorMessage(messageOf(error), 'Open Settings').then((choice) => choice && vscode.commands.executeCommand('workbench.action.openSettings', `${SETTINGS_SECTION}.templates`));
      return null;
    }
    const own = typeof settings.templates === 'object' && settings.templates !== null ? Object.keys(settings.templates) : [];
    if (!ask && own.length === 0) return undefined;
    const none = { label: 'No template', description: 'your settings as they are', name: undefined as string | undefined };
    const items = [none, ...Object.entries(templates).map(([name, template]) => ({ label: name, description: own.includes(name) ? 'yours' : 'built in', detail: template.description, name }))];
    // The default comes first, so Enter takes it.
    const first = items.findIndex((item) => item.name === settings.template);
    if (first > 0) items.unshift(...items.splice(first, 1));
    const picked = await vscode.window.showQuickPick(items, { title: 'Software Maker: Team Template', placeHolder: 'The team preset this run starts with (the run keeps it, whatever changes later)', ignoreFocusOut: true });
    return picked ? picked.name : null;
  }

  private async newGoal(preset?: string, askTemplate = false): Promise<void> {
    const check = this.canStartGoals();
    if (!check.ok) {
      const choice = await vscode.window.showErrorMessage(check.reason ?? 'Goals cannot start here.', 'Manage Workspace Trust');
      if (choice) await vscode.commands.executeCommand('workbench.trust.manage');
      return;
    }
    const template = await this.pickTemplate(askTemplate);
    if (template === null) return;
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
      await this.startGoal(goal, {}, template);
    } catch (error) {
      if (isModelSetupError(error)) {
        // The goal is not lost: it waits (a banner in the chat views) and starts once a model works.
        this.keepPendingGoal(goal, {}, error);
        const setKey = /needs the API key "/.test(error.message) ? ['Set API Key'] : [];
        const choice = await vscode.window.showErrorMessage(`${error.message} Your goal is kept and starts once a model works.`, ...setKey, 'Configure Models', 'Open Settings');
        if (choice === 'Configure Models') await vscode.commands.executeCommand(COMMANDS.configureModels.id);
        else if (choice === 'Set API Key') await vscode.commands.executeCommand(COMMANDS.setApiKey.id);
        else if (choice === 'Open Settings') await vscode.commands.executeCommand('workbench.action.openSettings', SETTINGS_SECTION);
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
    SoftwareMakerPanel.followRun(runId);
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

/** A notice action that opens a command and keeps the notice: it goes only once what it asks for is done. */
function runCommandKeepingNotice(command: string, ...args: unknown[]): () => Promise<boolean> {
  return async () => {
    await vscode.commands.executeCommand(command, ...args);
    return false;
  };
}

/** No model works yet: none configured, a role naming an unknown one, a key not stored… */
function isModelSetupError(error: unknown): error is Error {
  return error instanceof ConfigError || error instanceof ModelConfigError;
}

/** The settings' run config with the composer's choices: one model for every role, auto-approval. */
function withGoalOptions(run: Partial<RunConfig>, options: GoalOptions): Partial<RunConfig> {
  const next = { ...run };
  if (options.model) next.roles = Object.fromEntries(ROLES.map((role) => [role, [options.model]])) as RunConfig['roles'];
  if (options.autoApprove !== undefined) next.autoApprove = options.autoApprove;
  return next;
}

/** What the composer offers: the configured model ids (unvalidated settings) and the auto-approve setting. */
function composerDefaults(): { models: string[]; autoApprove: boolean } {
  const run = readSettings().run;
  const models: readonly unknown[] = run.models ?? [];
  const ids = models.flatMap((model) => (isRecord(model) && typeof model.id === 'string' && model.id ? [model.id] : []));
  return { models: [...new Set(ids)], autoApprove: run.autoApprove === true };
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

