// A task's history for the details pane, read off the run's log: its agent steps (with the model
// each used, and replays), failures with their reasons and signatures, test runs, triage decisions.
// Pure (no DOM) so it is tested in Node.
import type { EngineEvent } from '../src/shared/events';
import type { Role, TaskStatus } from '../src/shared/model';

/** One line of a task's history, oldest first. */
export type HistoryEntry =
  | {
      kind: 'step';
      seq: number;
      stepId: string;
      role: Role;
      attempt: number;
      model: string;
      /** Undefined while the step is running (or was interrupted). */
      ok?: boolean;
      summary?: string;
      /** For a replay: the step it re-ran. */
      replayOf?: string;
    }
  | { kind: 'failure'; seq: number; reason: string; signature?: string }
  | { kind: 'test'; seq: number; ok: boolean; passed: number; failed: number; failing: string[] }
  | { kind: 'status'; seq: number; status: TaskStatus; reason?: string }
  | { kind: 'edited'; seq: number; fields: string[]; model?: string };

/** Statuses worth a line of their own (the rest are visible from the steps and tests). */
const NOTED: ReadonlySet<TaskStatus> = new Set(['dead_letter', 'skipped', 'done']);

/** `steps/t1.implement@v2.json` → `t1:implement@v2`. */
export function stepIdOfArtifact(artifact: string): string | undefined {
  const match = /(?:^|\/)([^/]+)\.json$/.exec(artifact);
  return match ? match[1]!.replace('.', ':') : undefined;
}

export function taskHistory(events: readonly EngineEvent[], taskId: string): HistoryEntry[] {
  const entries: HistoryEntry[] = [];
  const steps = new Map<string, Extract<HistoryEntry, { kind: 'step' }>>();
  let previous: TaskStatus | undefined;
  for (const event of events) {
    switch (event.type) {
      case 'step.started': {
        if (event.taskId !== taskId) break;
        const entry = { kind: 'step' as const, seq: event.seq, stepId: event.stepId, role: event.role, attempt: event.attempt, model: event.model };
        steps.set(event.stepId, entry);
        entries.push(entry);
        break;
      }
      case 'step.finished': {
        const entry = event.taskId === taskId ? steps.get(event.stepId) : undefined;
        if (entry) {
          entry.ok = event.ok;
          entry.summary = event.summary;
        }
        break;
      }
      case 'step.replayed': {
        const replayId = stepIdOfArtifact(event.artifact);
        const entry = replayId ? steps.get(replayId) : undefined;
        if (entry) entry.replayOf = event.stepId;
        break;
      }
      case 'task.status':
        if (event.taskId !== taskId) break;
        if (event.status === 'failed') entries.push({ kind: 'failure', seq: event.seq, reason: event.reason ?? 'failed', signature: event.signature });
        else if (NOTED.has(event.status) || (previous === 'dead_letter' && event.status === 'ready')) {
          entries.push({ kind: 'status', seq: event.seq, status: event.status, reason: event.reason });
        }
        previous = event.status;
        break;
      case 'test.finished':
        if (event.phase !== 'task' || event.taskId !== taskId) break;
        entries.push({
          kind: 'test',
          seq: event.seq,
          ok: event.report.ok,
          passed: event.report.passed,
          failed: event.report.failed,
          failing: event.report.failures.map((failure) => failure.name),
        });
        break;
      case 'task.updated':
        if (event.taskId !== taskId) break;
        entries.push({ kind: 'edited', seq: event.seq, fields: Object.keys(event.changes).filter((key) => key !== 'model'), model: event.changes.model });
        break;
      default:
        break;
    }
  }
  return entries;
}
