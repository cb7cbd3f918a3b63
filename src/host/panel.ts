// The Software Maker chat: the editor panel (one at a time) and the side bar view (`softwareMaker.chat`)
// run the same webview code against the same host side of src/shared/protocol.ts (one ChatSession per
// webview). Strict CSP with a nonce; every incoming message is validated with parseRequest; every
// request gets a response or an error reply; nothing is posted before `app/ready` has been answered.
// Each view follows the newest run this window drives unless the user pinned another (runList.ts).
import { randomBytes } from 'node:crypto';
import { access } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import * as vscode from 'vscode';
import { realPathInside, type EngineApi } from '../core';
import type { EngineEvent } from '../shared/events';
import { toJsonBytes } from '../shared/jsonBytes';
import { logToSend } from '../shared/logTail';
import type { Budgets } from '../shared/model';
import { parseRequest } from '../shared/protocolSchemas';
import {
  type GoalOptions,
  type HostState,
  type HostToWebviewMessage,
  type NotificationMethod,
  type Notifications,
  type RequestMethod,
  type Requests,
  type ResponseMessage,
  type Snapshot,
  type TriageDecision,
} from '../shared/protocol';
import { panelHtml } from '../shared/panelHtml';
import { followsStartedRun, runToShow } from '../shared/runList';
import { summarizeRun, type RunState, type RunSummary } from '../shared/runState';
import { DisposableStore } from './disposables';
import type { RunDiffs } from './runDiffs';
import { messageOf } from '../shared/wording';

/** What the panel needs from the rest of the extension. */
export interface PanelHost {
  engine: EngineApi;
  /**
   * Starts a run for the goal with the composer's choices; returns its id, or `waitingForModel` when
   * no model works yet (the host keeps the goal and starts it once one does). Throws a user-facing Error.
   */
  startGoal(goal: string, options: GoalOptions): Promise<{ runId?: string; waitingForModel?: boolean }>;
  /** Opens the pending diff(s) of a task; returns how many were opened. */
  openTaskDiff(runId: string, taskId: string): Promise<number>;
  /** False (with the reason) in an untrusted or folder-less window. */
  canStartGoals(): { ok: boolean; reason?: string };
  /** Applies a triage decision and follows the run it resumes; resolves true when a run was resumed. Throws a user-facing Error. */
  triageTask(runId: string, taskId: string, action: TriageDecision): Promise<boolean>;
  /** Replays a recorded step and opens its record, output diff and proposed edits. Throws a user-facing Error. */
  replayStep(runId: string, stepId: string, model?: string): Promise<{ replayId: string; ok: boolean; summary: string }>;
  /** New caps for a run; with `resume`, a budget-paused run resumes. Resolves true when it resumed. */
  setBudgets(runId: string, budgets: Budgets, resume: boolean): Promise<boolean>;
  /** The notices and the composer's defaults (the window's part of HostState). */
  viewState(): Pick<HostState, 'notices' | 'composer'>;
  /** Runs a notice's action (none: dismisses it); resolves false when there is no such notice. */
  actOnNotice(id: string, action: string | undefined): Promise<boolean>;
  /** A run's changed files and report, and @-mention completion (runDiffs.ts). */
  runDiffs: Pick<RunDiffs, 'openFileDiff' | 'openReport' | 'findFiles'>;
  /** Where runs live: the web tester's screenshots are served to the webview from there. */
  runsDir: string;
}

export const CHAT_VIEW_ID = 'softwareMaker.chat';
/** Every live chat webview (the panel and the side bar view). */
const sessions = new Set<ChatSession>();

type Handlers = { [M in RequestMethod]: (params: Requests[M]['params']) => Promise<Requests[M]['result']> };

// Events that can change a run's summary (status, task counts, usage); the rest never do.
const SUMMARY_EVENTS: ReadonlySet<EngineEvent['type']> = new Set(['run.created', 'run.status', 'plan.accepted', 'task.status', 'llm.call']);
const RUNS_CHANGED_DEBOUNCE_MS = 150;
/** How long the log read for a snapshot is kept for the webview's run/log that follows it. */
const OLDER_LOG_KEPT_MS = 60_000;

function nonce(): string {
  return randomBytes(18).toString('base64').replace(/[^A-Za-z0-9]/g, '');
}

function byNewest(a: RunSummary, b: RunSummary): number {
  return a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0;
}

export class SoftwareMakerPanel {
  static readonly viewType = 'softwareMaker.panel';
  private static current: SoftwareMakerPanel | undefined;

  /** Shows the panel (revealing the open one), optionally on a run and task. */
  static show(context: vscode.ExtensionContext, host: PanelHost, focus?: { runId: string; taskId?: string }): SoftwareMakerPanel {
    const existing = SoftwareMakerPanel.current;
    if (existing) {
      existing.panel.reveal(existing.panel.viewColumn);
      if (focus) existing.session.focus(focus);
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(SoftwareMakerPanel.viewType, 'Software Maker', vscode.ViewColumn.Active, webviewOptions(context, host));
    SoftwareMakerPanel.current = new SoftwareMakerPanel(panel, context, host, focus);
    return SoftwareMakerPanel.current;
  }

  /** The run the open panel shows (else the side bar view's), if one is open. */
  static shownRunId(): string | undefined {
    return SoftwareMakerPanel.current?.session.shownRunId() ?? [...sessions].map((session) => session.shownRunId()).find(Boolean);
  }

  /** A run started or resumed in this window: every chat view not pinned to another run switches to it. */
  static followRun(runId: string): void {
    for (const session of sessions) session.follow(runId);
  }

  /** Trust, notices or settings changed: every chat view gets the new HostState. */
  static refreshHostState(): void {
    for (const session of sessions) session.pushHostState();
  }

  /**
   * Restores the panel after a window reload. Call once from activate(); package.json needs the
   * `onWebviewPanel:softwareMaker.panel` activation event for VS Code to call it.
   */
  static registerSerializer(context: vscode.ExtensionContext, host: PanelHost): vscode.Disposable {
    return vscode.window.registerWebviewPanelSerializer(SoftwareMakerPanel.viewType, {
      deserializeWebviewPanel: async (panel: vscode.WebviewPanel) => {
        // The webview state is not used: app/ready rebuilds everything from the engine.
        panel.webview.options = webviewOptions(context, host);
        SoftwareMakerPanel.current?.dispose();
        SoftwareMakerPanel.current = new SoftwareMakerPanel(panel, context, host, undefined);
      },
    });
  }

  /** The chat as a side bar view (the `softwareMaker.chat` webview view of package.json). */
  static registerChatView(context: vscode.ExtensionContext, host: PanelHost): vscode.Disposable {
    return vscode.window.registerWebviewViewProvider(CHAT_VIEW_ID, {
      resolveWebviewView: (view) => {
        view.webview.options = webviewOptions(context, host);
        const session = new ChatSession(view.webview, context, host, undefined, 'sidebar');
        session.track(
          view.onDidDispose(() => session.dispose()),
          view.onDidChangeVisibility(() => {
            if (!view.visible) session.hidden();
          }),
        );
      },
    });
  }

  private readonly session: ChatSession;

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    context: vscode.ExtensionContext,
    host: PanelHost,
    focus: { runId: string; taskId?: string } | undefined,
  ) {
    this.session = new ChatSession(panel.webview, context, host, focus, 'panel');
    this.session.track(
      panel.onDidDispose(() => this.dispose()),
      panel.onDidChangeViewState(() => {
        // Without retainContextWhenHidden the page is destroyed when hidden; it sends app/ready again when shown.
        if (!panel.visible) this.session.hidden();
      }),
    );
  }

  private disposed = false;

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (SoftwareMakerPanel.current === this) SoftwareMakerPanel.current = undefined;
    this.session.dispose();
    this.panel.dispose();
  }
}

function webviewOptions(context: vscode.ExtensionContext, host: Pick<PanelHost, 'runsDir'>): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return {
    enableScripts: true,
    // The runs folder for the web tester's screenshots; run/screenshots only hands out URIs of those.
    localResourceRoots: [vscode.Uri.joinPath(context.extensionUri, 'dist'), vscode.Uri.file(host.runsDir)],
    // app/ready returns a full snapshot, so a hidden view can be rebuilt instead of kept in memory.
    retainContextWhenHidden: false,
  };
}

/** The host side of one chat webview. */
class ChatSession {
  private readonly disposables = new DisposableStore();
  /** The webview has had its app/ready answered; notifications may flow. Reset when it is torn down. */
  private ready = false;
  /** Events that arrive while app/ready is being answered: the snapshot may or may not contain them. */
  private readyBuffer: { runId: string; event: EngineEvent }[] | undefined;
  private pendingFocus: { runId: string; taskId?: string } | undefined;
  /** The run the webview shows (for choosing the snapshot's run when it reloads). */
  private activeRunId: string | undefined;
  /** A run the user opened (picker, history, tree): kept over an active run until a new run starts. */
  private chosenRunId: string | undefined;
  /** The pinned run: newly started runs do not take this view over. */
  private pinnedRunId: string | undefined;
  private runs: RunSummary[] = [];
  private lastPostedRuns = '';
  private readonly dirtyRuns = new Set<string>();
  private runsTimer: ReturnType<typeof setTimeout> | undefined;
  /** The whole log behind the last tail sent, until the webview's run/log takes it (or it is dropped). */
  private olderLog: { runId: string; events: EngineEvent[]; timer: ReturnType<typeof setTimeout> } | undefined;
  private disposed = false;

  private readonly handlers: Handlers = {
    'app/ready': () => this.snapshot(),
    'goal/start': async ({ goal, ...options }) => {
      const can = this.host.canStartGoals();
      if (!can.ok) throw new Error(can.reason ?? 'Goals cannot start in this window.');
      const started = await this.host.startGoal(goal, options);
      if (started.runId) {
        // The user started it here: this view shows it even when pinned elsewhere.
        this.activeRunId = started.runId;
        this.chosenRunId = undefined;
        if (this.pinnedRunId && this.pinnedRunId !== started.runId) this.setPin(undefined);
      }
      return started;
    },
    'run/pin': async ({ runId }) => {
      this.setPin(runId);
      return { pinnedRunId: this.pinnedRunId };
    },
    'notice/act': async ({ id, action }) => ({ done: await this.host.actOnNotice(id, action) }),
    'run/open': async ({ runId }) => {
      const { events, state } = await this.readRun(runId).catch((error: unknown) => {
        throw new Error(`Run ${runId} could not be read (${messageOf(error)}). It may have been deleted; pick another run.`);
      });
      if (events.length === 0) throw new Error(`Run ${runId} has no events. It may have been deleted; pick another run.`);
      this.activeRunId = runId;
      this.chosenRunId = runId;
      // A pinned view that opens another run stays pinned, on the run it now shows.
      if (this.pinnedRunId && this.pinnedRunId !== runId) this.setPin(runId);
      return { runId, log: this.sendLog(runId, events, state), ...(state ? { state } : {}) };
    },
    'run/log': async ({ runId, beforeSeq }) => {
      const kept = this.olderLog?.runId === runId ? this.olderLog.events : undefined;
      this.dropOlderLog();
      const events = kept ?? (await this.host.engine.readEvents(runId));
      return { runId, events: events.filter((event) => event.seq < beforeSeq) };
    },
    'run/cancel': async ({ runId }) => ({ cancelled: await this.host.engine.cancelRun(runId, 'Cancelled from the Software Maker panel.') }),
    'plan/approve': async ({ runId }) => ({ approved: await this.host.engine.approvePlan(runId) }),
    'task/openDiff': async ({ runId, taskId }) => ({ opened: await this.host.openTaskDiff(runId, taskId) }),
    'task/triage': async ({ runId, taskId, action }) => ({ resumed: await this.host.triageTask(runId, taskId, action) }),
    'step/replay': async ({ runId, stepId, model }) => this.host.replayStep(runId, stepId, model),
    'run/setBudgets': async ({ runId, budgets, resume }) => ({ resumed: await this.host.setBudgets(runId, budgets, resume) }),
    'run/message': async ({ runId, ...message }) => ({ seq: await this.host.engine.sendMessage(runId, message) }),
    'workspace/files': async ({ query }) => ({ files: await this.host.runDiffs.findFiles(query) }),
    'run/openFileDiff': async ({ runId, path }) => ({ opened: await this.host.runDiffs.openFileDiff(runId, path) }),
    'run/openReport': async ({ runId }) => ({ opened: await this.host.runDiffs.openReport(runId) }),
    'run/screenshots': ({ runId, artifacts }) => this.screenshotUris(runId, artifacts),
  };

  constructor(
    private readonly webview: vscode.Webview,
    private readonly context: vscode.ExtensionContext,
    private readonly host: PanelHost,
    focus: { runId: string; taskId?: string } | undefined,
    /** Where it lives; the webview reads it from the page (narrow layout in the side bar). */
    private readonly surface: 'panel' | 'sidebar',
  ) {
    this.pendingFocus = focus;
    this.activeRunId = focus?.runId;
    webview.html = this.html();

    const unsubscribe = host.engine.onEvent((runId, event) => this.onEngineEvent(runId, event));
    this.disposables.add({ dispose: unsubscribe }, webview.onDidReceiveMessage((raw: unknown) => void this.receive(raw)));
    sessions.add(this);
  }

  /** Disposed with the session (the panel's or view's own events). */
  track(...disposables: vscode.Disposable[]): void {
    this.disposables.add(...disposables);
  }

  /** The page was torn down (hidden); it sends app/ready again when shown. */
  hidden(): void {
    this.ready = false;
  }

  shownRunId(): string | undefined {
    return this.activeRunId;
  }

  /** Shows a run (and a task): the user asked for it (a tree click, a notification's Open Panel). */
  focus(focus: { runId: string; taskId?: string }): void {
    this.activeRunId = focus.runId;
    this.chosenRunId = focus.runId;
    if (this.pinnedRunId && this.pinnedRunId !== focus.runId) this.setPin(focus.runId);
    if (this.ready) this.notify('view/focus', focus);
    else this.pendingFocus = focus;
  }

  /** A run started or resumed in this window: shown unless the view is pinned to another run. */
  follow(runId: string): void {
    if (!followsStartedRun(runId, this.pinnedRunId)) return;
    this.chosenRunId = undefined;
    if (this.activeRunId === runId && this.ready) return;
    this.activeRunId = runId;
    if (this.ready) this.notify('view/focus', { runId });
    else this.pendingFocus = { runId };
  }

  pushHostState(): void {
    this.notify('host/state', this.hostState());
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    sessions.delete(this);
    if (this.runsTimer) clearTimeout(this.runsTimer);
    this.dropOlderLog();
    try {
      this.disposables.dispose();
    } catch (error) {
      console.error('Software Maker: disposing the chat view failed', error);
    }
  }

  private setPin(runId: string | undefined): void {
    this.pinnedRunId = runId;
    if (runId) this.chosenRunId = runId;
    this.pushHostState();
  }

  private hostState(): HostState {
    const can = this.host.canStartGoals();
    return { canStartGoals: can.ok, cannotStartReason: can.ok ? undefined : can.reason, pinnedRunId: this.pinnedRunId, ...this.host.viewState() };
  }

  private async receive(raw: unknown): Promise<void> {
    let parsed: ReturnType<typeof parseRequest>;
    try {
      parsed = parseRequest(raw);
    } catch (error) {
      // parseRequest throws for a method named like an Object.prototype key ("toString"); answer it anyway.
      const id = (raw as { id?: unknown } | null)?.id;
      parsed = { ok: false, id: typeof id === 'number' ? id : undefined, error: `Invalid message from the webview: ${messageOf(error)}` };
    }
    if (!parsed.ok) {
      // Without an id there is nobody to answer; a message that is not ours at all is just dropped.
      if (parsed.id !== undefined) this.post({ kind: 'response', id: parsed.id, ok: false, error: { message: parsed.error } });
      else console.warn(`Software Maker: ${parsed.error}`);
      return;
    }
    const { id, method, params } = parsed.message;
    if (method === 'app/ready') {
      this.ready = false;
      this.readyBuffer = [];
    }
    let reply: ResponseMessage;
    try {
      // The map pairs each method with its handler; the cast only forgets that pairing for the call.
      const handler = this.handlers[method] as (params: unknown) => Promise<unknown>;
      const result = await handler(params);
      reply = { kind: 'response', id, ok: true, result } as ResponseMessage;
    } catch (error) {
      reply = { kind: 'response', id, ok: false, error: { message: messageOf(error) } };
    }
    this.post(reply);
    if (method === 'app/ready') this.afterReady(reply.ok);
  }

  private afterReady(ok: boolean): void {
    const buffered = this.readyBuffer ?? [];
    this.readyBuffer = undefined;
    if (!ok) return;
    this.ready = true;
    // The webview skips what its snapshot already had (by seq), so replaying the buffer is safe.
    for (const { runId, event } of buffered) this.notify('run/event', { runId, event });
    if (this.pendingFocus) {
      const focus = this.pendingFocus;
      this.pendingFocus = undefined;
      this.notify('view/focus', focus);
    }
  }

  private async snapshot(): Promise<Snapshot> {
    const runs = await this.host.engine.listRuns();
    this.runs = runs;
    this.lastPostedRuns = JSON.stringify(runs);
    if (this.pinnedRunId && !runs.some((run) => run.id === this.pinnedRunId)) this.pinnedRunId = undefined;
    const activeRunId = runToShow({ runs, driven: this.host.engine.activeRunIds(), pinned: this.pinnedRunId, requested: this.pendingFocus?.runId ?? this.chosenRunId, shown: this.activeRunId });
    this.activeRunId = activeRunId;
    const active = activeRunId ? await this.readRun(activeRunId) : { events: [], state: undefined };
    const activeLog = activeRunId ? this.sendLog(activeRunId, active.events, active.state) : active.events;
    return { runs, activeRunId, activeLog, ...(active.state ? { activeState: active.state } : {}), ...this.hostState() };
  }

  /** The part of a run's log to send now; what is left out is kept for the run/log that asks for it. */
  private sendLog(runId: string, events: EngineEvent[], state: RunState | undefined): EngineEvent[] {
    const sent = logToSend(events, state);
    this.dropOlderLog();
    if (sent.length < events.length) {
      const timer = setTimeout(() => this.dropOlderLog(), OLDER_LOG_KEPT_MS);
      timer.unref?.();
      this.olderLog = { runId, events, timer };
    }
    return sent;
  }

  private dropOlderLog(): void {
    if (this.olderLog) clearTimeout(this.olderLog.timer);
    this.olderLog = undefined;
  }

  /**
   * A run's log and its folded state, so the webview does not fold the whole log again. The state
   * is read first: the log is then at least as far on, and the webview folds the difference (a state
   * ahead of the log it could not use). A driven run's state is the driver's own, still changing,
   * so this takes a copy of it as it is now.
   */
  private async readRun(runId: string): Promise<{ events: EngineEvent[]; state: RunState | undefined }> {
    // A state that cannot be read only costs the webview a fold; the log's own error is the one to show.
    const state = await this.host.engine.getRun(runId).catch(() => undefined);
    const asOfNow = state && this.host.engine.activeRunIds().includes(runId) ? structuredClone(state) : state;
    return { state: asOfNow, events: await this.host.engine.readEvents(runId) };
  }

  private onEngineEvent(runId: string, event: EngineEvent): void {
    if (this.readyBuffer) this.readyBuffer.push({ runId, event });
    else if (this.ready) this.notify('run/event', { runId, event });
    if (SUMMARY_EVENTS.has(event.type)) {
      this.dirtyRuns.add(runId);
      this.runsTimer ??= setTimeout(() => void this.flushRuns(), RUNS_CHANGED_DEBOUNCE_MS);
    }
  }

  private async flushRuns(): Promise<void> {
    this.runsTimer = undefined;
    const dirty = [...this.dirtyRuns];
    this.dirtyRuns.clear();
    if (this.disposed) return;
    try {
      // Fold only the runs that changed instead of rebuilding every run's summary from its log.
      const runs = [...this.runs];
      for (const runId of dirty) {
        const state = await this.host.engine.getRun(runId);
        if (!state) continue;
        const summary = summarizeRun(state);
        const index = runs.findIndex((run) => run.id === runId);
        if (index >= 0) runs[index] = summary;
        else runs.push(summary);
      }
      runs.sort(byNewest);
      this.runs = runs;
      const json = JSON.stringify(runs);
      if (this.ready && json !== this.lastPostedRuns) {
        this.lastPostedRuns = json;
        this.notify('runs/changed', { runs });
      }
    } catch (error) {
      console.error('Software Maker: refreshing the run list failed', error);
    }
  }

  private notify<M extends NotificationMethod>(method: M, params: Notifications[M]): void {
    if (!this.ready) return;
    this.post({ kind: 'notification', method, params } as HostToWebviewMessage);
  }

  private post(message: HostToWebviewMessage): void {
    if (this.disposed) return;
    // postMessage rejects when the webview is gone (hidden and torn down); the next app/ready resyncs it.
    // As JSON bytes, which VS Code transfers into the webview's frame (see shared/jsonBytes.ts).
    this.webview.postMessage(toJsonBytes(message)).then(undefined, () => undefined);
  }

  /** Webview URIs of screenshots that exist in the run's folder (the names were checked by parseRequest). */
  private async screenshotUris(runId: string, artifacts: string[]): Promise<{ uris: Record<string, string> }> {
    const runDir = resolve(this.host.runsDir, runId);
    if (dirname(runDir) !== resolve(this.host.runsDir)) throw new Error(`Not a run id: ${runId}`);
    const uris: Record<string, string> = {};
    for (const artifact of artifacts) {
      const file = resolve(runDir, artifact);
      if (!file.startsWith(runDir + sep)) continue;
      // A run folder may come with the repository: a symlinked .png must not show a file outside it.
      const real = await realPathInside(runDir, artifact);
      if (!real) {
        if (await access(file).then(() => true, () => false)) void vscode.window.showWarningMessage(`Software Maker: not showing the screenshot ${artifact} of run ${runId}: it links outside the run's folder.`);
        continue;
      }
      uris[artifact] = this.webview.asWebviewUri(vscode.Uri.file(file)).toString();
    }
    return { uris };
  }

  private html(): string {
    const webview = this.webview;
    const dist = vscode.Uri.joinPath(this.context.extensionUri, 'dist');
    const script = webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview.js'));
    const style = webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview.css'));
    return panelHtml({ cspSource: webview.cspSource, nonce: nonce(), scriptUri: script.toString(), styleUri: style.toString(), surface: this.surface });
  }
}
