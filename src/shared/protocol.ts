// The one protocol between the extension host and the webview panel.
// Requests go webview -> host and always get a response (a result or an error reply);
// notifications go host -> webview. Nothing is posted to the webview before it sends `app/ready`,
// whose result is a full snapshot. The host validates every incoming message with the schemas here.
import { z } from 'zod';
import type { EngineEvent } from './events';
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

const runIdParam = z.object({ runId: z.string().min(1).max(200) }).strict();

/** Runtime schemas for every request's params; the host rejects anything else with an error reply. */
export const REQUEST_PARAM_SCHEMAS: { [M in RequestMethod]: z.ZodType<Requests[M]['params']> } = {
  'app/ready': z.object({}).strict() as z.ZodType<Record<string, never>>,
  'goal/start': z.object({ goal: z.string().trim().min(1, 'The goal is empty.').max(20_000) }).strict(),
  'run/open': runIdParam,
  'run/cancel': runIdParam,
  'plan/approve': runIdParam,
  'task/openDiff': z.object({ runId: z.string().min(1).max(200), taskId: z.string().min(1).max(200) }).strict(),
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
