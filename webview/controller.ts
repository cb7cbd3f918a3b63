// The panel's actions: what the views ask for, turned into protocol requests whose answers (or
// errors) land in the store. No DOM, so the whole request/notification flow is tested in Node.
import type { Budgets } from '../src/shared/model';
import { describeTriageDecision, type GoalOptions, type ImageInput, type Snapshot, type TriageDecision } from '../src/shared/protocol';
import type { RpcClient } from './rpc';
import type { Store } from './store';
import { messageOf } from '../src/shared/wording';

export interface PanelControllerOptions {
  /**
   * Runs `load` once the frame drawn from a snapshot or a run/open is painted; the run's older
   * events are asked for then, so taking them in does not hold that frame. Without it, at once.
   */
  afterPaint?: (load: () => void) => void;
}

export class PanelController {
  private readonly disposers: (() => void)[] = [];
  /** run:lastSeq of the last resync, so a log that cannot be folded is not reloaded in a loop. */
  private lastResync?: string;

  constructor(
    private readonly rpc: RpcClient,
    private readonly store: Store,
    private readonly options: PanelControllerOptions = {},
  ) {}

  /**
   * Subscribes to notifications, then loads the snapshot: the answer to app/ready (the host posts
   * nothing before it), asked for here unless the caller already has (the page's first script does, early).
   */
  async start(snapshot?: Promise<Snapshot>): Promise<void> {
    this.disposers.push(
      this.rpc.on('run/event', ({ runId, event }) => this.store.receiveEvent(runId, event)),
      this.rpc.on('runs/changed', ({ runs }) => this.store.setRuns(runs)),
      this.rpc.on('view/focus', ({ runId, taskId }) => void this.focus(runId, taskId)),
      this.rpc.on('host/state', (state) => this.store.setHostState(state)),
      this.store.subscribe((state) => {
        if (!state.needsResync || state.openingRunId || !state.activeRunId) return;
        const key = `${state.activeRunId}:${state.run?.lastSeq ?? 0}`;
        if (key === this.lastResync) return;
        this.lastResync = key;
        void this.openRun(state.activeRunId, true);
      }),
    );
    try {
      this.store.loadSnapshot(await (snapshot ?? this.rpc.request('app/ready', {})));
    } catch (error) {
      this.store.reportError(`The panel could not load its state: ${messageOf(error)} Close and reopen the panel to try again.`);
      return;
    }
    this.loadOlderEvents();
  }

  /** Shows a run; `reload` fetches the log even if the run is already shown. */
  async openRun(runId: string, reload = false): Promise<void> {
    const state = this.store.state;
    if (!reload && state.activeRunId === runId && !state.openingRunId) return;
    this.store.beginOpen(runId);
    try {
      const result = await this.rpc.request('run/open', { runId });
      this.store.finishOpen(result.runId, result.log, result.state);
    } catch (error) {
      this.store.failOpen(runId, `Could not open run ${runId}: ${messageOf(error)}`);
      return;
    }
    this.loadOlderEvents();
  }

  /** The events the shown run's log left for later (see Snapshot.activeLog), after the frame drawn without them. */
  private loadOlderEvents(): void {
    const { activeRunId: runId, olderEvents } = this.store.state;
    if (!runId || olderEvents === 0) return;
    const load = async (): Promise<void> => {
      // Another run may be shown by now, or this one reloaded: then there is nothing to add here.
      if (this.store.state.activeRunId !== runId || this.store.state.olderEvents !== olderEvents) return;
      try {
        const { events } = await this.rpc.request('run/log', { runId, beforeSeq: olderEvents + 1 });
        this.store.prependOlder(runId, events);
      } catch (error) {
        this.store.reportError(`The older events of run ${runId} could not be loaded: ${messageOf(error)} The log and the chat show its latest events only.`);
      }
    };
    const afterPaint = this.options.afterPaint ?? ((run: () => void) => run());
    afterPaint(() => void load());
  }

  async focus(runId: string, taskId?: string): Promise<void> {
    await this.openRun(runId);
    if (taskId && this.store.state.activeRunId === runId) this.store.selectTask(taskId);
  }

  /**
   * Starts a goal and shows its run. Resolves true when it started, or when the host kept it until a
   * model works (a notice shows it): the view then clears the input.
   */
  async startGoal(goal: string, options: GoalOptions = {}): Promise<boolean> {
    let started: { runId?: string; waitingForModel?: boolean };
    try {
      started = await this.rpc.request('goal/start', { goal, ...options });
    } catch (error) {
      this.store.reportError(`The goal did not start: ${messageOf(error)}`);
      return false;
    }
    if (started.runId) await this.openRun(started.runId);
    return started.runId !== undefined || started.waitingForModel === true;
  }

  /** A chat message to an active run (guidance for a task, or for the agents at work). Resolves true when it was logged. */
  async sendMessage(runId: string, text: string, extras: { taskId?: string; files?: string[]; images?: ImageInput[] } = {}): Promise<boolean> {
    try {
      await this.rpc.request('run/message', { runId, text, ...(extras.taskId ? { taskId: extras.taskId } : {}), ...(extras.files?.length ? { files: extras.files } : {}), ...(extras.images?.length ? { images: extras.images } : {}) });
      return true;
    } catch (error) {
      this.store.reportError(`The message did not reach the run: ${messageOf(error)}`);
      return false;
    }
  }

  /** Workspace files for @-mention completion; none when the host cannot list them. */
  async findFiles(query: string): Promise<string[]> {
    try {
      return (await this.rpc.request('workspace/files', { query })).files;
    } catch {
      return [];
    }
  }

  /** Opens a file the run changed as a diff against the run's start checkpoint. */
  async openFileDiff(runId: string, path: string): Promise<void> {
    try {
      await this.rpc.request('run/openFileDiff', { runId, path });
    } catch (error) {
      this.store.reportError(`Could not open the diff of ${path}: ${messageOf(error)}`);
    }
  }

  async openReport(runId: string): Promise<void> {
    try {
      await this.rpc.request('run/openReport', { runId });
    } catch (error) {
      this.store.reportError(`Could not open the report: ${messageOf(error)}`);
    }
  }

  /** Pins the view on a run (no runId: unpins it); the host answers with host/state too. */
  async pin(runId: string | undefined): Promise<void> {
    try {
      const { pinnedRunId } = await this.rpc.request('run/pin', runId ? { runId } : {});
      this.store.setHostState({ ...this.store.state, pinnedRunId });
    } catch (error) {
      this.store.reportError(`Could not ${runId ? 'pin' : 'unpin'} the run: ${messageOf(error)}`);
    }
  }

  /** Runs a notice's action (or dismisses it); the host removes it and says so with host/state. */
  async actOnNotice(id: string, action?: string): Promise<void> {
    try {
      const { done } = await this.rpc.request('notice/act', action ? { id, action } : { id });
      if (!done) this.store.reportError('That prompt is no longer current.');
    } catch (error) {
      this.store.reportError(`The action did not run: ${messageOf(error)}`);
    }
  }

  async cancelRun(runId: string): Promise<void> {
    try {
      const { cancelled } = await this.rpc.request('run/cancel', { runId });
      if (!cancelled) this.store.reportError(`Run ${runId} was not cancelled: it has already finished or is not running in this window.`);
    } catch (error) {
      this.store.reportError(`Could not cancel run ${runId}: ${messageOf(error)}`);
    }
  }

  async approvePlan(runId: string): Promise<void> {
    try {
      const { approved } = await this.rpc.request('plan/approve', { runId });
      if (!approved) this.store.reportError(`The plan of run ${runId} was not approved: it is no longer waiting for approval.`);
    } catch (error) {
      this.store.reportError(`Could not approve the plan: ${messageOf(error)}`);
    }
  }

  async openDiff(runId: string, taskId: string): Promise<void> {
    try {
      const { opened } = await this.rpc.request('task/openDiff', { runId, taskId });
      if (opened === 0) this.store.reportError(`Task ${taskId} has no pending edits to show.`);
    } catch (error) {
      this.store.reportError(`Could not open the diff of ${taskId}: ${messageOf(error)}`);
    }
  }

  /** A triage decision about a task; resolves true when the host accepted it. */
  async triage(runId: string, taskId: string, action: TriageDecision): Promise<boolean> {
    try {
      await this.rpc.request('task/triage', { runId, taskId, action });
      return true;
    } catch (error) {
      this.store.reportError(`Could not ${describeTriageDecision(action)} ${taskId}: ${messageOf(error)}`);
      return false;
    }
  }

  /** Replays a recorded step (the host opens the result in editors); resolves with the replay, if it ran. */
  async replayStep(runId: string, stepId: string, model?: string): Promise<{ replayId: string; ok: boolean; summary: string } | undefined> {
    try {
      return await this.rpc.request('step/replay', model ? { runId, stepId, model } : { runId, stepId });
    } catch (error) {
      this.store.reportError(`Could not replay ${stepId}: ${messageOf(error)}`);
      return undefined;
    }
  }

  /** New caps for the run, and resume it when it is paused by its budget. */
  async setBudgets(runId: string, budgets: Budgets, resume: boolean): Promise<boolean> {
    try {
      await this.rpc.request('run/setBudgets', { runId, budgets, resume });
      return true;
    } catch (error) {
      this.store.reportError(`Could not change the budget of run ${runId}: ${messageOf(error)}`);
      return false;
    }
  }

  /** Webview URIs of web tester screenshots (the host serves only those); {} when they cannot be had. */
  async screenshotUris(runId: string, artifacts: string[]): Promise<Record<string, string>> {
    if (artifacts.length === 0) return {};
    try {
      return (await this.rpc.request('run/screenshots', { runId, artifacts })).uris;
    } catch (error) {
      this.store.reportError(`Could not load the screenshots of run ${runId}: ${messageOf(error)}`);
      return {};
    }
  }

  dispose(): void {
    for (const dispose of this.disposers.splice(0)) dispose();
  }
}

