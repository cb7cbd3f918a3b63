// The one protocol between the extension host and the webview panel.
// Requests go webview -> host and always get a response (a result or an error reply);
// notifications go host -> webview. Nothing is posted to the webview before it sends `app/ready`,
// whose result is a full snapshot. The host validates every incoming message with the schemas here.
import { z } from 'zod';
import type { EngineEvent, TaskChanges } from './events';
import type { Budgets } from './model';
import type { RunSummary } from './runState';

/** Everything the webview needs to draw itself from nothing. */
export interface Snapshot {
  runs: RunSummary[];
  /** The run the panel shows; undefined when there is none yet. */
  activeRunId?: string;
  /** The whole event log of the active run: the webview folds it with applyEvent. */
  activeEvents: EngineEvent[];
  /** False in an untrusted or folder-less window: goals cannot start there. */
  canStartGoals: boolean;
  /** Why goals cannot start, shown in place of the input. */
  cannotStartReason?: string;
}

/**
 * A user decision about a task, as the panel sends it (the same shape as the engine's TriageAction):
 * retry (optionally pinning another configured model), skip (its dependents are skipped too), take
 * over (mark it done by hand), or edit its definition.
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
  'goal/start': { params: { goal: string }; result: { runId: string } };
  /** Switch the panel to another run; returns its whole log. */
  'run/open': { params: { runId: string }; result: { runId: string; events: EngineEvent[] } };
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
}

/** Host -> webview notifications. */
export interface Notifications {
  /** One new event of a run (the webview folds it if it is showing that run). */
  'run/event': { runId: string; event: EngineEvent };
  'runs/changed': { runs: RunSummary[] };
  /** The host asks the panel to show a run and select a task (tree selection). */
  'view/focus': { runId: string; taskId?: string };
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

const idParam = z.string().min(1).max(200);
const runIdParam = z.object({ runId: idParam }).strict();

const taskChangesSchema = z
  .object({
    title: z.string().trim().min(1, 'The title is empty.').max(500).optional(),
    description: z.string().max(20_000).optional(),
    acceptance: z.array(z.string().trim().min(1, 'An acceptance criterion is empty.').max(2_000)).max(100).optional(),
    files: z.array(z.string().trim().min(1).max(1_000)).max(500).optional(),
    model: idParam.optional(),
  })
  .strict()
  .refine((changes) => Object.values(changes).some((value) => value !== undefined), { message: 'The edit changes nothing.' });

/** Runtime schema of TriageDecision. */
export const triageDecisionSchema: z.ZodType<TriageDecision> = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('retry'), model: idParam.optional() }).strict(),
  z.object({ kind: z.literal('skip') }).strict(),
  z.object({ kind: z.literal('takeOver') }).strict(),
  z.object({ kind: z.literal('edit'), changes: taskChangesSchema }).strict(),
]);

// The shape only; the engine checks the caps again (setBudgets) before they reach the log.
const capParam = z.object({ usd: z.number().positive().finite().optional(), tokens: z.number().int().positive().optional() }).strict();
const budgetsParam: z.ZodType<Budgets> = z
  .object({
    run: capParam.optional(),
    task: capParam.optional(),
    roles: z.record(z.string().min(1).max(50), capParam).optional(),
    onExceed: z.enum(['pause', 'stop']),
  })
  .strict() as z.ZodType<Budgets>;

/** Runtime schemas for every request's params; the host rejects anything else with an error reply. */
export const REQUEST_PARAM_SCHEMAS: { [M in RequestMethod]: z.ZodType<Requests[M]['params']> } = {
  'app/ready': z.object({}).strict() as z.ZodType<Record<string, never>>,
  'goal/start': z.object({ goal: z.string().trim().min(1, 'The goal is empty.').max(20_000) }).strict(),
  'run/open': runIdParam,
  'run/cancel': runIdParam,
  'plan/approve': runIdParam,
  'task/openDiff': z.object({ runId: idParam, taskId: idParam }).strict(),
  'task/triage': z.object({ runId: idParam, taskId: idParam, action: triageDecisionSchema }).strict(),
  'step/replay': z.object({ runId: idParam, stepId: z.string().regex(/^[^\s]+@v\d+$/, 'Not a step id (like t1:implement@v1).').max(300), model: idParam.optional() }).strict(),
  'run/setBudgets': z.object({ runId: idParam, budgets: budgetsParam, resume: z.boolean() }).strict(),
};

const requestEnvelope = z.object({
  kind: z.literal('request'),
  id: z.number().int().nonnegative(),
  method: z.string(),
  params: z.unknown().optional(),
});

export type ParsedRequest =
  | { ok: true; message: RequestMessage }
  | { ok: false; id?: number; error: string };

/** Validates a message from the webview. Unknown methods and bad params are errors, never ignored. */
export function parseRequest(raw: unknown): ParsedRequest {
  const envelope = requestEnvelope.safeParse(raw);
  if (!envelope.success) return { ok: false, error: `Malformed message from the webview: ${envelope.error.issues[0]?.message ?? 'invalid'}` };
  const { id, method, params } = envelope.data;
  // hasOwn, not `in`: "toString" and friends are on every object's prototype.
  if (!Object.hasOwn(REQUEST_PARAM_SCHEMAS, method)) return { ok: false, id, error: `Unknown request "${method}".` };
  const schema = REQUEST_PARAM_SCHEMAS[method as RequestMethod];
  const parsed = schema.safeParse(params ?? {});
  if (!parsed.success) {
    return { ok: false, id, error: `Invalid params for ${method}: ${parsed.error.issues.map((issue) => issue.message).join('; ')}` };
  }
  return { ok: true, message: { kind: 'request', id, method: method as RequestMethod, params: parsed.data } };
}
