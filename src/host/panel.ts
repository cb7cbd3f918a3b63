// The Software Maker webview panel: one at a time, strict CSP with a nonce, and the host side of
// src/shared/protocol.ts. Every incoming message is validated with parseRequest; every request gets a
// response or an error reply; nothing is posted before `app/ready` has been answered.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { EngineApi } from '../core/engineApi';
import type { EngineEvent } from '../shared/events';
import type { Budgets } from '../shared/model';
import {
  parseRequest,
  type HostToWebviewMessage,
  type NotificationMethod,
  type Notifications,
  type RequestMethod,
  type Requests,
  type ResponseMessage,
  type Snapshot,
  type TriageDecision,
} from '../shared/protocol';
import { summarizeRun, type RunSummary } from '../shared/runState';

/** What the panel needs from the rest of the extension. */
export interface PanelHost {
  engine: EngineApi;
  /** Starts a run for the goal; returns its id. Throws a user-facing Error if it cannot start. */
  startGoal(goal: string): Promise<string>;
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
}

type Handlers = { [M in RequestMethod]: (params: Requests[M]['params']) => Promise<Requests[M]['result']> };

// Events that can change a run's summary (status, task counts, usage); the rest never do.
const SUMMARY_EVENTS: ReadonlySet<EngineEvent['type']> = new Set(['run.created', 'run.status', 'plan.accepted', 'task.status', 'llm.call']);
const RUNS_CHANGED_DEBOUNCE_MS = 150;

function nonce(): string {
  return randomBytes(18).toString('base64').replace(/[^A-Za-z0-9]/g, '');
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
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
      if (focus) existing.focus(focus);
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(SoftwareMakerPanel.viewType, 'Software Maker', vscode.ViewColumn.Active, SoftwareMakerPanel.webviewOptions(context));
    SoftwareMakerPanel.current = new SoftwareMakerPanel(panel, context, host, focus);
    return SoftwareMakerPanel.current;
  }

  /** The run the open panel shows, if a panel is open. */
  static shownRunId(): string | undefined {
    return SoftwareMakerPanel.current?.activeRunId;
  }

  /**
   * Restores the panel after a window reload. Call once from activate(); package.json needs the
   * `onWebviewPanel:softwareMaker.panel` activation event for VS Code to call it.
   */
  static registerSerializer(context: vscode.ExtensionContext, host: PanelHost): vscode.Disposable {
    return vscode.window.registerWebviewPanelSerializer(SoftwareMakerPanel.viewType, {
      deserializeWebviewPanel: async (panel: vscode.WebviewPanel) => {
        // The webview state is not used: app/ready rebuilds everything from the engine.
        panel.webview.options = SoftwareMakerPanel.webviewOptions(context);
        SoftwareMakerPanel.current?.dispose();
        SoftwareMakerPanel.current = new SoftwareMakerPanel(panel, context, host, undefined);
      },
    });
  }

  private static webviewOptions(context: vscode.ExtensionContext): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(context.extensionUri, 'dist')],
      // app/ready returns a full snapshot, so a hidden panel can be rebuilt instead of kept in memory.
      retainContextWhenHidden: false,
    };
  }

  private readonly disposables: vscode.Disposable[] = [];
  /** The webview has had its app/ready answered; notifications may flow. Reset when it is torn down. */
  private ready = false;
  /** Events that arrive while app/ready is being answered: the snapshot may or may not contain them. */
  private readyBuffer: { runId: string; event: EngineEvent }[] | undefined;
  private pendingFocus: { runId: string; taskId?: string } | undefined;
  /** The run the webview shows (for choosing the snapshot's run when it reloads). */
  private activeRunId: string | undefined;
  private runs: RunSummary[] = [];
  private lastPostedRuns = '';
  private readonly dirtyRuns = new Set<string>();
  private runsTimer: ReturnType<typeof setTimeout> | undefined;
  private disposed = false;

  private readonly handlers: Handlers = {
    'app/ready': () => this.snapshot(),
    'goal/start': async ({ goal }) => {
      const can = this.host.canStartGoals();
      if (!can.ok) throw new Error(can.reason ?? 'Goals cannot start in this window.');
      const runId = await this.host.startGoal(goal);
      this.activeRunId = runId;
      return { runId };
    },
    'run/open': async ({ runId }) => {
      const events = await this.host.engine.readEvents(runId).catch((error: unknown) => {
        throw new Error(`Run ${runId} could not be read (${messageOf(error)}). It may have been deleted; pick another run.`);
      });
      if (events.length === 0) throw new Error(`Run ${runId} has no events. It may have been deleted; pick another run.`);
      this.activeRunId = runId;
      return { runId, events };
    },
    'run/cancel': async ({ runId }) => ({ cancelled: await this.host.engine.cancelRun(runId, 'Cancelled from the Software Maker panel.') }),
    'plan/approve': async ({ runId }) => ({ approved: await this.host.engine.approvePlan(runId) }),
    'task/openDiff': async ({ runId, taskId }) => ({ opened: await this.host.openTaskDiff(runId, taskId) }),
    'task/triage': async ({ runId, taskId, action }) => ({ resumed: await this.host.triageTask(runId, taskId, action) }),
    'step/replay': async ({ runId, stepId, model }) => this.host.replayStep(runId, stepId, model),
    'run/setBudgets': async ({ runId, budgets, resume }) => ({ resumed: await this.host.setBudgets(runId, budgets, resume) }),
  };

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    private readonly context: vscode.ExtensionContext,
    private readonly host: PanelHost,
    focus: { runId: string; taskId?: string } | undefined,
  ) {
    this.pendingFocus = focus;
    this.activeRunId = focus?.runId;
    panel.webview.html = this.html();

    const unsubscribe = host.engine.onEvent((runId, event) => this.onEngineEvent(runId, event));
    this.disposables.push(
      { dispose: unsubscribe },
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((raw: unknown) => void this.receive(raw)),
      panel.onDidChangeViewState(() => {
        // Without retainContextWhenHidden the page is destroyed when hidden; it sends app/ready again when shown.
        if (!panel.visible) this.ready = false;
      }),
    );
  }

  /** Shows a run (and a task) in the open panel. */
  focus(focus: { runId: string; taskId?: string }): void {
    this.activeRunId = focus.runId;
    if (this.ready) this.notify('view/focus', focus);
    else this.pendingFocus = focus;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (SoftwareMakerPanel.current === this) SoftwareMakerPanel.current = undefined;
    if (this.runsTimer) clearTimeout(this.runsTimer);
    this.panel.dispose();
    while (this.disposables.length) {
      try {
        this.disposables.pop()?.dispose();
      } catch (error) {
        console.error('Software Maker: disposing the panel failed', error);
      }
    }
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
    // Active run = the focused one, else the one the panel showed before, else the newest.
    const wanted = this.pendingFocus?.runId ?? this.activeRunId;
    const activeRunId = wanted && runs.some((run) => run.id === wanted) ? wanted : runs[0]?.id;
    this.activeRunId = activeRunId;
    const activeEvents = activeRunId ? await this.host.engine.readEvents(activeRunId) : [];
    const can = this.host.canStartGoals();
    return { runs, activeRunId, activeEvents, canStartGoals: can.ok, cannotStartReason: can.ok ? undefined : can.reason };
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
    this.panel.webview.postMessage(message).then(undefined, () => undefined);
  }

  private html(): string {
    const webview = this.panel.webview;
    const dist = vscode.Uri.joinPath(this.context.extensionUri, 'dist');
    const script = webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview.js'));
    const style = webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview.css'));
    const n = nonce();
    // Lit and @vscode-elements style through adoptedStyleSheets and CSSOM, which style-src does not
    // govern, so no 'unsafe-inline' is needed. The stylesheet link carries the id vscode-icon looks
    // for (it links the codicon CSS into its shadow roots).
    const csp = [
      "default-src 'none'",
      `script-src 'nonce-${n}'`,
      `style-src ${webview.cspSource} 'nonce-${n}'`,
      `font-src ${webview.cspSource}`,
      `img-src ${webview.cspSource} data:`,
    ].join('; ');
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" id="vscode-codicon-stylesheet" nonce="${n}" href="${style.toString()}">
<title>Software Maker</title>
</head>
<body>
<script nonce="${n}" src="${script.toString()}"></script>
</body>
</html>`;
  }
}
