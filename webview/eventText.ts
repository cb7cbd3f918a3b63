// How events read to a human: one line per event for the log, Markdown messages for the chat
// column, and the event log's filter/windowing arithmetic. Pure (no DOM) so it is tested in Node.
import type { EngineEvent, EventType } from '../src/shared/events';
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
}

// Titles in Markdown must not turn into markup of their own (a title like "# x" or "[a](b)").
function escapeMarkdown(text: string): string {
  return text.replace(/([\\`*_{}[\]()#+\-.!|<>~])/g, '\\$1');
}

/** The chat message an event produces, if it is one a person wants to read. */
export function chatMessageOf(event: EngineEvent, taskTitle: (taskId: string) => string | undefined): ChatMessage | undefined {
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
      if (event.status === 'awaiting-review') return { seq: event.seq, from: 'engine', tone: 'warning', taskId: event.taskId, markdown: `Edits of ${task(event.taskId)} await your review.` };
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

/** Event log filters; undefined means "all". `taskId` "" selects run-level events (no task). */
export interface EventFilter {
  taskId?: string;
  type?: EventType;
}

export function matchesFilter(event: EngineEvent, filter: EventFilter): boolean {
  if (filter.type !== undefined && event.type !== filter.type) return false;
  if (filter.taskId !== undefined && (taskIdOf(event) ?? '') !== filter.taskId) return false;
  return true;
}

/**
 * Extends `indexes` (positions in `events` that pass the filter) with the events from `from` on.
 * The log grows by appending, so the view filters only what is new instead of 50k rows per event.
 */
export function extendFiltered(indexes: number[], events: readonly EngineEvent[], from: number, filter: EventFilter): number[] {
  for (let i = from; i < events.length; i++) {
    if (matchesFilter(events[i], filter)) indexes.push(i);
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
