// Markdown messages for the chat column and the event log's filter/windowing arithmetic (the log's
// one line per event is the shared wording, src/shared/wording.ts). Pure (no DOM) so it is tested in Node.
import type { EngineEvent, EventType } from '../src/shared/events';
import type { Role } from '../src/shared/model';
import { isTerminalRun } from '../src/shared/lifecycle';
import { baselineText, isUserRejection } from '../src/shared/wording';
import { securityFindingText, securityGateText } from '../src/shared/wording';

// A Record keyed by EventType makes the compiler flag a new event type that the filter forgets.
const EVENT_TYPE_FLAGS: Record<EventType, true> = {
  'run.created': true,
  'run.status': true,
  'plan.accepted': true,
  'plan.rejected': true,
  'task.status': true,
  'step.started': true,
  'step.finished': true,
  'llm.call': true,
  'tool.call': true,
  'tool.result': true,
  'edit.proposed': true,
  'edit.decided': true,
  'edit.applied': true,
  'test.started': true,
  'test.finished': true,
  'review.finished': true,
  'artifact.written': true,
  'task.updated': true,
  'model.fallback': true,
  'breaker.changed': true,
  'budget.exceeded': true,
  'run.budgetsChanged': true,
  'loop.detected': true,
  'checkpoint.created': true,
  'checkpoint.restored': true,
  'git.branch': true,
  'git.committed': true,
  'step.replayed': true,
  'agent.text': true,
  'mcp.server': true,
  'rules.loaded': true,
  'user.message': true,
  'user.delivered': true,
  'approval.requested': true,
  'approval.decided': true,
  'command.started': true,
  'command.finished': true,
  'webtest.planned': true,
  'webtest.flow': true,
  'security.scanned': true,
  'task.added': true,
  log: true,
};
export const EVENT_TYPES = Object.keys(EVENT_TYPE_FLAGS) as EventType[];

/** The task an event is about, if any. */
export function taskIdOf(event: EngineEvent): string | undefined {
  return 'taskId' in event ? event.taskId : undefined;
}

/** A message in the chat column. `markdown` may contain model output: render it sanitized. */
export interface ChatMessage {
  /** Stable key: the seq of the event it came from. */
  seq: number;
  from: 'user' | 'engine' | 'agent';
  tone: 'info' | 'success' | 'warning' | 'error';
  taskId?: string;
  markdown: string;
  /** A "review these edits" message: rewritten when the decision turns out to be automatic. */
  review?: true;
  /** An agent's turn: its step, who speaks ("implementer · t1"), its tool calls so far (bounded). */
  stepId?: string;
  speaker?: string;
  tools?: string[];
  /** Tool calls beyond those kept in `tools`. */
  moreTools?: number;
  /** A small line under the message: what the step's cap left out, where a user message reached. */
  note?: string;
  /** The steps a user message reached. */
  delivered?: string[];
  /** Files a user message pointed at, images it carried. */
  files?: string[];
  images?: number;
  /** The run ended: the view renders its end-of-run summary here (from the folded state). */
  summary?: true;
}

/** Tool calls an agent message lists; the rest are counted. */
const MAX_TOOLS_SHOWN = 12;

/** What the chat wording depends on besides the event. */
export interface ChatContext {
  /** The run's autoApprove setting: every proposal is decided automatically, nobody has to review. */
  autoApprove?: boolean;
}

// Titles in Markdown must not turn into markup of their own (a title like "# x" or "[a](b)").
function escapeMarkdown(text: string): string {
  return text.replace(/([\\`*_{}[\]()#+\-.!|<>~])/g, '\\$1');
}

/** The chat message an event produces, if it is one a person wants to read. */
export function chatMessageOf(event: EngineEvent, taskTitle: (taskId: string) => string | undefined, context: ChatContext = {}): ChatMessage | undefined {
  const task = (taskId: string): string => {
    const title = taskTitle(taskId);
    return title ? `**${escapeMarkdown(taskId)}** · ${escapeMarkdown(title)}` : `**${escapeMarkdown(taskId)}**`;
  };
  switch (event.type) {
    case 'run.created':
      return {
        seq: event.seq,
        from: 'user',
        tone: 'info',
        markdown: event.goal,
        ...(event.files?.length ? { files: event.files } : {}),
        ...(event.images?.length ? { images: event.images.length } : {}),
        ...(event.followUpOf ? { note: `Follows up run ${event.followUpOf.runId}` } : {}),
      };
    case 'user.message':
      return {
        seq: event.seq,
        from: 'user',
        tone: 'info',
        taskId: event.taskId,
        markdown: event.text,
        ...(event.files?.length ? { files: event.files } : {}),
        ...(event.images?.length ? { images: event.images.length } : {}),
        note: event.taskId ? `To ${event.taskId}, at its next model call` : 'To the agents at work, at their next model call',
      };
    case 'test.finished':
      // The baseline's failures were there before the run: a note, not a failure of the run.
      if (event.phase !== 'baseline') return undefined;
      return { seq: event.seq, from: 'engine', tone: 'info', markdown: `Baseline tests: ${baselineText(event.report)}.` };
    case 'plan.accepted': {
      const lines = event.plan.tasks.map(
        (t) => `- ${task(t.id)} (${t.role})${t.dependsOn.length ? ` after ${t.dependsOn.map(escapeMarkdown).join(', ')}` : ''}`,
      );
      return {
        seq: event.seq,
        from: 'engine',
        tone: 'info',
        markdown: `**Plan:** ${event.plan.summary}\n\n${lines.join('\n')}`,
      };
    }
    case 'plan.rejected':
      return {
        seq: event.seq,
        from: 'engine',
        tone: 'warning',
        markdown: `The plan was rejected (attempt ${event.attempt}):\n\n${event.errors.map((error) => `- ${error}`).join('\n')}`,
      };
    case 'task.status':
      if (isUserRejection(event)) return { seq: event.seq, from: 'engine', tone: 'warning', taskId: event.taskId, markdown: `Sent back to the agent: ${task(event.taskId)}${event.reason ? `\n\n${event.reason}` : ''}` };
      if (event.status === 'done') return { seq: event.seq, from: 'engine', tone: 'success', taskId: event.taskId, markdown: `Done: ${task(event.taskId)}${event.reason ? ` — ${event.reason}` : ''}` };
      if (event.status === 'failed' || event.status === 'dead_letter') {
        const what = event.status === 'failed' ? 'Failed' : 'Dead-lettered (needs you)';
        return { seq: event.seq, from: 'engine', tone: 'error', taskId: event.taskId, markdown: `${what}: ${task(event.taskId)}${event.reason ? `\n\n${event.reason}` : ''}` };
      }
      if (event.status === 'awaiting-review') {
        // With auto-approve the decision (edit.decided by "auto") follows at once: nobody is waited for.
        if (context.autoApprove) return { seq: event.seq, from: 'engine', tone: 'info', taskId: event.taskId, markdown: `Edits of ${task(event.taskId)} were proposed; auto-approve applies them.` };
        return { seq: event.seq, from: 'engine', tone: 'warning', taskId: event.taskId, review: true, markdown: `Edits of ${task(event.taskId)} await your review.` };
      }
      return undefined;
    case 'review.finished':
      if (event.verdict.approved) return undefined;
      return {
        seq: event.seq,
        from: 'engine',
        tone: 'warning',
        taskId: event.taskId,
        markdown: `Review of ${task(event.taskId)} asked for changes: ${event.verdict.summary}${event.verdict.issues.length ? `\n\n${event.verdict.issues.map((issue) => `- ${issue}`).join('\n')}` : ''}`,
      };
    case 'security.scanned': {
      // Findings are masked by the engine; escaped here so a path or title cannot become markup.
      const tone = event.blocking > 0 ? (event.mode === 'enforce' ? 'error' : 'warning') : event.findings.length || event.audit.status === 'failed' ? 'warning' : 'success';
      const rows = event.findings.slice(0, 20).map((finding) => `- ${escapeMarkdown(securityFindingText(finding))}`);
      const more = event.findings.length > rows.length ? [`- … and ${event.findings.length - rows.length} more (security.md)`] : [];
      return { seq: event.seq, from: 'engine', tone, markdown: [`**Security:** ${escapeMarkdown(securityGateText(event))}`, ...(rows.length ? ['', ...rows, ...more] : [])].join('\n') };
    }
    case 'task.added':
      return { seq: event.seq, from: 'engine', tone: 'warning', taskId: event.task.id, markdown: `Added ${task(event.task.id)} (${event.task.role}) for the ${event.by}: ${escapeMarkdown(event.reason)}` };
    case 'log':
      if (event.level === 'info') return undefined;
      return { seq: event.seq, from: 'engine', tone: event.level === 'error' ? 'error' : 'warning', taskId: event.taskId, markdown: event.message };
    case 'run.status': {
      if (event.status === 'awaiting-approval') {
        return { seq: event.seq, from: 'engine', tone: 'warning', markdown: 'The plan is waiting for your approval.' };
      }
      if (!isTerminalRun(event.status)) return undefined;
      const tone = event.status === 'completed' ? 'success' : event.status === 'cancelled' ? 'warning' : 'error';
      const words: Record<string, string> = {
        completed: 'Run completed.',
        failed: 'Run failed.',
        cancelled: 'Run cancelled.',
        stopped_budget: 'Run stopped: the budget is spent.',
      };
      return { seq: event.seq, from: 'engine', tone, markdown: `${words[event.status]}${event.reason ? ` ${event.reason}` : ''}`, summary: true };
    }
    default:
      return undefined;
  }
}

/**
 * Extends the chat with one event: appends its message, and when edits turn out to be decided
 * automatically (auto-approve rules), rewrites the task's "await your review" message, which was
 * true only for the instant before the decision.
 */
export function extendChat(messages: ChatMessage[], event: EngineEvent, taskTitle: (taskId: string) => string | undefined, context: ChatContext = {}): ChatMessage[] {
  if (event.type === 'agent.text' || event.type === 'tool.call') {
    extendAgentMessage(messages, event);
    return messages;
  }
  if (event.type === 'user.delivered') {
    const index = messages.findLastIndex((message) => message.from === 'user' && message.seq === event.messageSeq);
    const message = messages[index];
    if (message) {
      const delivered = [...(message.delivered ?? []), event.stepId];
      messages[index] = { ...message, delivered, note: `Reached ${delivered.join(', ')}` };
    }
    return messages;
  }
  if (event.type === 'edit.decided' && event.by === 'auto') {
    for (let i = messages.length - 1; i >= 0; i--) {
      const message = messages[i]!;
      if (message.taskId !== event.taskId || !message.review) continue;
      const title = taskTitle(event.taskId);
      const name = title ? `**${escapeMarkdown(event.taskId)}** · ${escapeMarkdown(title)}` : `**${escapeMarkdown(event.taskId)}**`;
      messages[i] = { seq: message.seq, from: 'engine', tone: 'info', taskId: event.taskId, markdown: `Edits of ${name} were approved automatically (auto-approve rules).` };
      break;
    }
  }
  const message = chatMessageOf(event, taskTitle, context);
  if (message) messages.push(message);
  return messages;
}

/**
 * The chat narrowed to one task's conversation: its agents' turns, the engine's words about it and
 * the user's messages to it or that reached it. Undefined shows every message (the filter is view state only).
 */
export function chatOfTask(messages: readonly ChatMessage[], taskId: string | undefined): readonly ChatMessage[] {
  if (taskId === undefined) return messages;
  // A message to "the agents at work" belongs to the tasks whose steps it reached.
  return messages.filter((message) => message.taskId === taskId || message.delivered?.some((stepId) => stepId.startsWith(`${taskId}:`)));
}

/** An agent's words and tool calls go into one message per step, extended as they stream in. */
function extendAgentMessage(messages: ChatMessage[], event: EngineEvent & { type: 'agent.text' | 'tool.call' }): void {
  // The step's message grows while it is the last one; once something else was said (another
  // task's step, a test run), the step speaks again in a message of its own below.
  const last = messages.at(-1);
  const current = last?.stepId === event.stepId ? last : undefined;
  const role = event.type === 'agent.text' ? event.role : roleOfStep(event.stepId);
  const base: ChatMessage = current ?? {
    seq: event.seq,
    from: 'agent',
    tone: 'info',
    taskId: event.taskId,
    stepId: event.stepId,
    speaker: [role, event.taskId].filter(Boolean).join(' · '),
    markdown: '',
  };
  const next: ChatMessage = { ...base };
  if (event.type === 'agent.text') {
    next.markdown = `${base.markdown}${event.text}`;
    if (event.truncated) next.note = `${event.truncated.toLocaleString('en-US')} more characters of this turn were not kept.`;
  } else {
    const tools = base.tools ?? [];
    if (tools.length < MAX_TOOLS_SHOWN) next.tools = [...tools, toolLine(event.tool, event.input)];
    else next.moreTools = (base.moreTools ?? 0) + 1;
  }
  if (current) messages[messages.length - 1] = next;
  else messages.push(next);
}

const ROLE_OF_STAGE: Record<string, string> = { plan: 'planner', design: 'architect', implement: 'implementer', test: 'tester', review: 'reviewer', fix: 'fixer', docs: 'docs', security: 'security' };

/** The role of a step from its id (`t1:fix@v2` → fixer, `plan@v1` → planner): a tool call names no role. */
function roleOfStep(stepId: string): string {
  const stage = /(?:^|:)([a-z_]+)@v\d+$/.exec(stepId)?.[1] ?? '';
  return ROLE_OF_STAGE[stage] ?? stage ?? 'agent';
}

/** "read_file src/calc.js", "propose_edit src/calc.js": the tool and its most telling argument. */
function toolLine(tool: string, input: string): string {
  let detail = '';
  try {
    const parsed = JSON.parse(input) as Record<string, unknown>;
    const value = parsed.path ?? parsed.dir ?? parsed.query ?? parsed.pattern ?? parsed.summary;
    if (typeof value === 'string') detail = value;
  } catch {
    detail = input;
  }
  detail = detail.replace(/\s+/g, ' ').trim();
  return detail ? `${tool} ${detail.length > 80 ? `${detail.slice(0, 79)}…` : detail}` : tool;
}

/** Event log filters; undefined means "all". `taskId` "" selects run-level events (no task). */
export interface EventFilter {
  taskId?: string;
  type?: EventType;
  /** Events of this role (see roleOf). */
  role?: Role;
}

/**
 * What the role of an event depends on besides the event: its task's role (from the run's plan) and
 * the role of each step, learned from the step's `step.started` (which precedes the step's other
 * events in the log). `extendFiltered` records the steps as it walks the log; a lookup belongs to one
 * log and is walked from its start.
 */
export interface RoleLookup {
  taskRole(taskId: string): Role | undefined;
  readonly stepRoles: Map<string, Role>;
}

/** A lookup over the run's tasks (read when asked, so tasks planned later are seen). */
export function roleLookup(tasks: () => Readonly<Record<string, { readonly role: Role } | undefined>> | undefined): RoleLookup {
  return { taskRole: (taskId) => tasks()?.[taskId]?.role, stepRoles: new Map() };
}

/**
 * The role an event belongs to: its own `role` (step.started/finished, llm.call); for a tool call or
 * result, the role of the step that made it (a fixer's or reviewer's tools are theirs, not the task
 * owner's); a review verdict is the reviewer's; else the role of its task; else none (run-level).
 */
export function roleOf(event: EngineEvent, lookup: RoleLookup | undefined): Role | undefined {
  if ('role' in event) return event.role;
  if (event.type === 'review.finished') return 'reviewer';
  if ((event.type === 'tool.call' || event.type === 'tool.result') && lookup?.stepRoles.has(event.stepId)) return lookup.stepRoles.get(event.stepId);
  const taskId = taskIdOf(event);
  return taskId === undefined || !lookup ? undefined : lookup.taskRole(taskId);
}

export function matchesFilter(event: EngineEvent, filter: EventFilter, roles?: RoleLookup): boolean {
  if (filter.type !== undefined && event.type !== filter.type) return false;
  if (filter.taskId !== undefined && (taskIdOf(event) ?? '') !== filter.taskId) return false;
  if (filter.role !== undefined && roleOf(event, roles) !== filter.role) return false;
  return true;
}

/**
 * Extends `indexes` (positions in `events` that pass the filter) with the events from `from` on.
 * The log grows by appending, so the view filters only what is new instead of 50k rows per event.
 * `roles` (needed for a role filter) must have walked `events` up to `from` (a fresh one with 0).
 */
export function extendFiltered(indexes: number[], events: readonly EngineEvent[], from: number, filter: EventFilter, roles?: RoleLookup): number[] {
  for (let i = from; i < events.length; i++) {
    const event = events[i];
    if (roles && event.type === 'step.started') roles.stepRoles.set(event.stepId, event.role);
    if (matchesFilter(event, filter, roles)) indexes.push(i);
  }
  return indexes;
}

/** Rows to render for a fixed-row-height list: [start, end) plus a little overscan either side. */
export function visibleRange(total: number, rowHeight: number, scrollTop: number, viewportHeight: number, overscan = 8): { start: number; end: number } {
  if (total === 0 || rowHeight <= 0) return { start: 0, end: 0 };
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const count = Math.ceil(Math.max(0, viewportHeight) / rowHeight) + 1;
  const start = Math.max(0, Math.min(total, first - overscan));
  const end = Math.min(total, first + count + overscan);
  return { start, end };
}
