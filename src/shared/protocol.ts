// The one protocol between the extension host and the webview panel.
// Requests go webview -> host and always get a response (a result or an error reply);
// notifications go host -> webview. Nothing is posted to the webview before it sends `app/ready`,
// whose result is a full snapshot. Host-to-webview messages cross as their JSON's bytes
// (jsonBytes.ts), which the page's first script decodes (panelHtml.ts). The host validates every
// incoming message with the zod schemas of protocolSchemas.ts; this module is types only (and
// zod-free), so the webview bundle carries no zod.
import type { EngineEvent, TaskChanges } from './events';
import type { Budgets } from './model';
import type { RunState, RunSummary } from './runState';

/**
 * A prompt that must stay reachable until acted on (turn on diff CodeLens, set a model's key, resume
 * an interrupted run, a goal waiting for a model): a banner in the chat views. `actions` are labels;
 * `notice/act` names one (or none, to dismiss).
 */
export interface Notice {
  id: string;
  message: string;
  tone: 'info' | 'warning';
  actions: string[];
}

/** What the composer offers, from the settings: the configured model ids and auto-approval. */
export interface ComposerDefaults {
  models: string[];
  autoApprove: boolean;
}

/** The window's side of a chat view, sent in the snapshot and again (`host/state`) when it changes. */
export interface HostState {
  /** False in an untrusted or folder-less window: goals cannot start there. */
  canStartGoals: boolean;
  /** Why goals cannot start, shown in place of the input. */
  cannotStartReason?: string;
  /** The run this view is pinned to: it does not follow newly started runs. */
  pinnedRunId?: string;
  notices?: Notice[];
  composer?: ComposerDefaults;
}

/** Everything the webview needs to draw itself from nothing. */
export interface Snapshot extends HostState {
  runs: RunSummary[];
  /** The run the panel shows; undefined when there is none yet. */
  activeRunId?: string;
  /**
   * The active run's log, for the log view and the chat: with `activeState`, its newest events (at
   * least those after the state's `lastSeq`; the whole log when it is short), the older ones come
   * with run/log; without it, the whole log.
   */
  activeLog: EngineEvent[];
  /**
   * The active run as the engine already has it folded (its snapshot plus the log's tail), so the
   * webview folds only the events after `lastSeq` instead of the whole log. Absent, or not covered by
   * the log, the webview folds the log itself.
   */
  activeState?: RunState;
}

/** A pasted image: base64 data of a PNG, JPEG, GIF or WebP. */
export interface ImageInput {
  mediaType: 'image/png' | 'image/jpeg' | 'image/gif' | 'image/webp';
  data: string;
}

/** Per-run choices of the composer, over the settings: one model for every role, auto-approval. */
export interface GoalOptions {
  model?: string;
  autoApprove?: boolean;
  /** Workspace files the user @-mentioned: the planner and every task see their text. */
  files?: string[];
  /** Pasted images, for models whose spec takes images (refused otherwise). */
  images?: ImageInput[];
  /** The ended run this goal follows up: its summary goes to the new run's planner. */
  followUpOf?: string;
}

/**
 * A user decision about a task, as the panel sends it and the engine's triageTask takes it: retry
 * (optionally pinning another configured model), skip (its dependents are skipped too), take over
 * (mark it done by hand), or edit its definition.
 */
export type TriageDecision =
  | { kind: 'retry'; model?: string }
  | { kind: 'skip' }
  | { kind: 'takeOver' }
  | { kind: 'edit'; changes: TaskChanges };

/** A triage decision in a few words, for messages ("retry with strong", "mark done"). */
export function describeTriageDecision(action: TriageDecision): string {
  switch (action.kind) {
    case 'retry':
      return action.model ? `retry with ${action.model}` : 'retry';
    case 'skip':
      return 'skip';
    case 'takeOver':
      return 'mark done';
    case 'edit':
      return 'edit';
  }
}

/** Webview -> host requests with their result types. */
export interface Requests {
  'app/ready': { params: Record<string, never>; result: Snapshot };
  /** `waitingForModel`: no model works yet; the host keeps the goal (a notice) and starts it once one does. */
  'goal/start': { params: { goal: string } & GoalOptions; result: { runId?: string; waitingForModel?: boolean } };
  /** Pin the view on a run (it stops following new runs), or unpin it (no runId). */
  'run/pin': { params: { runId?: string }; result: { pinnedRunId?: string } };
  /** Act on a notice (an action label of it), or dismiss it (no action). */
  'notice/act': { params: { id: string; action?: string }; result: { done: boolean } };
  /** Switch the panel to another run; returns its log and its folded state, as the snapshot does (`activeLog`, `activeState`). */
  'run/open': { params: { runId: string }; result: { runId: string; log: EngineEvent[]; state?: RunState } };
  /** The run's events before `beforeSeq` (those the snapshot or run/open left for later). */
  'run/log': { params: { runId: string; beforeSeq: number }; result: { runId: string; events: EngineEvent[] } };
  'run/cancel': { params: { runId: string }; result: { cancelled: boolean } };
  'plan/approve': { params: { runId: string }; result: { approved: boolean } };
  /** Open the pending diff(s) of a task in the editor. */
  'task/openDiff': { params: { runId: string; taskId: string }; result: { opened: number } };
  /**
   * Triage a task (dead-letter, or edit before it runs). A run paused for triage resumes with the
   * decision; `resumed` is false when the decision only changed the task (an edit of a paused run).
   */
  'task/triage': { params: { runId: string; taskId: string; action: TriageDecision }; result: { resumed: boolean } };
  /**
   * Run a recorded step again (optionally with another configured model). The host opens the new
   * record, the diff of its output against the original's and its proposed edits (never applied).
   */
  'step/replay': { params: { runId: string; stepId: string; model?: string }; result: { replayId: string; ok: boolean; summary: string } };
  /** New caps for a run; `resume` also resumes it (a run paused by its budget). */
  'run/setBudgets': { params: { runId: string; budgets: Budgets; resume: boolean }; result: { resumed: boolean } };
  /** A chat message to an active run: guidance for a task (`taskId`) or for every agent at work. Returns its event's seq. */
  'run/message': { params: { runId: string; text: string; taskId?: string; files?: string[]; images?: ImageInput[] }; result: { seq: number } };
  /** Workspace files whose path contains `query`, for @-mention completion. */
  'workspace/files': { params: { query: string }; result: { files: string[] } };
  /** Open a file the run changed as a diff against the run's start checkpoint. */
  'run/openFileDiff': { params: { runId: string; path: string }; result: { opened: boolean } };
  /** Open the run's report.md. */
  'run/openReport': { params: { runId: string }; result: { opened: boolean } };
  /** Webview URIs of a run's web tester screenshots (artifact names as the webtest.flow events give them); missing files are left out. */
  'run/screenshots': { params: { runId: string; artifacts: string[] }; result: { uris: Record<string, string> } };
}

/** Host -> webview notifications. */
export interface Notifications {
  /** One new event of a run (the webview folds it if it is showing that run). */
  'run/event': { runId: string; event: EngineEvent };
  'runs/changed': { runs: RunSummary[] };
  /** The host asks the panel to show a run and select a task (tree selection). */
  'view/focus': { runId: string; taskId?: string };
  /** Trust granted, a notice added or gone, the settings changed, the pin moved. */
  'host/state': HostState;
}

export type RequestMethod = keyof Requests;
export type NotificationMethod = keyof Notifications;

export interface RequestMessage<M extends RequestMethod = RequestMethod> {
  kind: 'request';
  /** Unique per webview session; the response carries it back. */
  id: number;
  method: M;
  params: Requests[M]['params'];
}

export type ResponseMessage<M extends RequestMethod = RequestMethod> =
  | { kind: 'response'; id: number; ok: true; result: Requests[M]['result'] }
  | { kind: 'response'; id: number; ok: false; error: { message: string } };

export interface NotificationMessage<M extends NotificationMethod = NotificationMethod> {
  kind: 'notification';
  method: M;
  params: Notifications[M];
}

export type HostToWebviewMessage = ResponseMessage | NotificationMessage;

/** Only the web tester's PNGs, by the names it gives them: nothing else of the run folder is served to the webview. */
export const SCREENSHOT_ARTIFACT = /^artifacts\/webtest\/[A-Za-z0-9_.-]{1,40}\/[A-Za-z0-9_-]{1,120}\.png$/;
