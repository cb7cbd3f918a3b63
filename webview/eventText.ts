// How events read to a human: one line per event for the log, Markdown messages for the chat
// column, and the event log's filter/windowing arithmetic. Pure (no DOM) so it is tested in Node.
import type { EngineEvent, EventType } from '../src/shared/events';
import type { Role } from '../src/shared/model';
import { isTerminalRun } from '../src/shared/lifecycle';

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
  log: true,
};
export const EVENT_TYPES = Object.keys(EVENT_TYPE_FLAGS) as EventType[];

/** The task an event is about, if any. */
export function taskIdOf(event: EngineEvent): string | undefined {
  return 'taskId' in event ? event.taskId : undefined;
}

function clip(text: string, max = 160): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function formatAmount(metric: 'usd' | 'tokens', amount: number): string {
  return metric === 'usd' ? `$${amount.toFixed(4)}` : `${Math.round(amount)} tokens`;
}

/** One line for the event log. */
export function describeEvent(event: EngineEvent): string {
  switch (event.type) {
    case 'run.created':
      return `run created: ${clip(event.goal)}`;
    case 'run.status':
      return `run → ${event.status}${event.reason ? ` (${clip(event.reason, 100)})` : ''}`;
    case 'plan.accepted':
      return `plan accepted: ${event.plan.tasks.length} tasks${event.repairs ? `, ${event.repairs} repair(s)` : ''}`;
    case 'plan.rejected':
      return `plan rejected (attempt ${event.attempt}): ${clip(event.errors.join('; '))}`;
    case 'task.status':
      return `→ ${event.status}${event.reason ? ` (${clip(event.reason, 100)})` : ''}`;
    case 'step.started':
      return `${event.role} step ${event.stepId} started (attempt ${event.attempt}, ${event.model})`;
    case 'step.finished':
      return `${event.role} step ${event.stepId} ${event.ok ? 'ok' : 'failed'}: ${clip(event.summary, 120)}`;
    case 'llm.call':
      return `${event.role} ${event.model}: ${event.inputTokens} in / ${event.outputTokens} out, $${event.usd.toFixed(4)}, ${event.latencyMs} ms${event.outcome === 'ok' ? '' : ` — ${event.outcome}${event.error ? `: ${clip(event.error, 80)}` : ''}`}`;
    case 'tool.call':
      return `${event.tool}(${clip(event.input, 120)})`;
    case 'tool.result':
      return `${event.tool} ${event.ok ? 'ok' : 'failed'}: ${clip(event.output, 120)}`;
    case 'edit.proposed':
      return `edit ${event.proposalId} proposed: ${event.files.map((file) => `${file.path} +${file.added}/-${file.removed}`).join(', ')}`;
    case 'edit.decided':
      return `edit ${event.proposalId} decided by ${event.by}: ${event.accepted.length} accepted, ${event.rejected.length} rejected`;
    case 'edit.applied':
      return `edit ${event.proposalId} applied: ${event.files.map((file) => file.path).join(', ')}`;
    case 'test.started':
      return `tests started: ${clip(event.command, 120)}`;
    case 'test.finished': {
      const r = event.report;
      return `tests ${r.ok ? 'passed' : 'failed'}: ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped${r.timedOut ? ', timed out' : ''}`;
    }
    case 'review.finished':
      return `review ${event.verdict.approved ? 'approved' : 'rejected'}: ${clip(event.verdict.summary, 120)}`;
    case 'artifact.written':
      return `artifact ${event.name}`;
    case 'task.updated':
      return `task edited: ${Object.keys(event.changes).join(', ')}`;
    case 'model.fallback':
      return `fell over from ${event.from} to ${event.to}: ${clip(event.reason, 100)}`;
    case 'breaker.changed':
      return `circuit breaker ${event.state} for ${event.key}: ${clip(event.reason, 100)}`;
    case 'budget.exceeded':
      return `budget: ${event.scope} ${event.metric} cap ${event.limit} would be exceeded (used ${formatAmount(event.metric, event.used)} + next call up to ${formatAmount(event.metric, event.estimate)}); ${event.action}`;
    case 'run.budgetsChanged':
      return 'budgets changed';
    case 'loop.detected':
      return `loop stopped: ${clip(event.detail, 120)} (${event.count} times)`;
    case 'checkpoint.created':
      return `checkpoint ${event.checkpointId}: ${clip(event.label, 100)}`;
    case 'checkpoint.restored':
      return `rolled back to ${event.checkpointId}: ${event.restored.length} restored, ${event.deleted.length} removed`;
    case 'git.branch':
      return `working on branch ${event.branch} (from ${event.base})`;
    case 'git.committed':
      return `committed ${event.sha.slice(0, 8)}: ${clip(event.message, 100)}`;
    case 'step.replayed':
      return `replayed ${event.stepId} with ${event.model} → ${event.artifact} (${event.ok ? 'ok' : 'failed'})`;
    case 'log':
      return `${event.level}: ${clip(event.message)}`;
    default: {
      const unknown: never = event;
      return JSON.stringify(unknown).slice(0, 120);
    }
  }
}

/** A message in the chat column. `markdown` may contain model output: render it sanitized. */
export interface ChatMessage {
  /** Stable key: the seq of the event it came from. */
  seq: number;
  from: 'user' | 'engine';
  tone: 'info' | 'success' | 'warning' | 'error';
  taskId?: string;
  markdown: string;
  /** A "review these edits" message: rewritten when the decision turns out to be automatic. */
  review?: true;
}

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
      return { seq: event.seq, from: 'user', tone: 'info', markdown: event.goal };
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
      return { seq: event.seq, from: 'engine', tone, markdown: `${words[event.status]}${event.reason ? ` ${event.reason}` : ''}` };
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
