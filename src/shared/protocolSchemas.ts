// The host's runtime checks of the webview protocol (protocol.ts): every message from the webview is
// validated here before anything acts on it. Host side only: the webview imports protocol.ts, whose
// types these schemas check, and never zod.
import { z } from 'zod';
import { SCREENSHOT_ARTIFACT, type RequestMessage, type RequestMethod, type Requests, type TriageDecision } from './protocol';
import { budgetsSchema } from './runConfig';

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

const workspacePath = z.string().min(1).max(1_000).refine((path) => !path.startsWith('/') && !path.split(/[\\/]/).includes('..'), 'A path inside the workspace.');
const mentionedFiles = z.array(workspacePath).max(20, 'At most 20 files can be mentioned.').optional();
// 5 MB of image is about 6.7 million base64 characters; the engine checks the decoded size again.
const pastedImages = z
  .array(z.object({ mediaType: z.enum(['image/png', 'image/jpeg', 'image/gif', 'image/webp']), data: z.string().min(1).max(7_000_000).regex(/^[A-Za-z0-9+/]+=*$/, 'Not base64 image data.') }).strict())
  .max(4, 'At most 4 images go with one message.')
  .optional();

const screenshotArtifact = z
  .string()
  .max(300)
  .regex(SCREENSHOT_ARTIFACT, 'Not a web tester screenshot.')
  .refine((name) => !name.split('/').some((part) => part === '.' || part === '..'), 'Not a web tester screenshot.');

/** Runtime schemas for every request's params; the host rejects anything else with an error reply. */
export const REQUEST_PARAM_SCHEMAS: { [M in RequestMethod]: z.ZodType<Requests[M]['params']> } = {
  'app/ready': z.object({}).strict() as z.ZodType<Record<string, never>>,
  'goal/start': z
    .object({ goal: z.string().trim().min(1, 'The goal is empty.').max(20_000), model: idParam.optional(), autoApprove: z.boolean().optional(), files: mentionedFiles, images: pastedImages, followUpOf: idParam.optional() })
    .strict(),
  'run/pin': z.object({ runId: idParam.optional() }).strict(),
  'notice/act': z.object({ id: idParam, action: z.string().min(1).max(200).optional() }).strict(),
  'run/open': runIdParam,
  'run/log': z.object({ runId: idParam, beforeSeq: z.number().int().min(1) }).strict(),
  'run/cancel': runIdParam,
  'plan/approve': runIdParam,
  'task/openDiff': z.object({ runId: idParam, taskId: idParam }).strict(),
  'task/triage': z.object({ runId: idParam, taskId: idParam, action: triageDecisionSchema }).strict(),
  'step/replay': z.object({ runId: idParam, stepId: z.string().regex(/^[^\s]+@v\d+$/, 'Not a step id (like t1:implement@v1).').max(300), model: idParam.optional() }).strict(),
  // A request names what a breach does: the config's default (pause) is for config files, not for a change.
  'run/setBudgets': z.object({ runId: idParam, budgets: budgetsSchema.extend({ onExceed: z.enum(['pause', 'stop']) }), resume: z.boolean() }).strict(),
  'run/message': z.object({ runId: idParam, text: z.string().trim().min(1, 'The message is empty.').max(20_000), taskId: idParam.optional(), files: mentionedFiles, images: pastedImages }).strict(),
  'workspace/files': z.object({ query: z.string().max(500) }).strict(),
  'run/openFileDiff': z.object({ runId: idParam, path: workspacePath }).strict(),
  'run/openReport': runIdParam,
  'run/screenshots': z.object({ runId: idParam, artifacts: z.array(screenshotArtifact).max(200) }).strict(),
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
