// Triage: what the user decides about a task in dead-letter (and edits of tasks not yet run).
import { isTerminalRun } from '../../shared/lifecycle';
import type { TriageDecision } from '../../shared/protocol';
import type { RunState } from '../../shared/runState';
import { UserError } from '../../shared/errors';

export class TriageError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'TriageError';
  }
}

/** Throws TriageError when the action does not apply to the task as the log has it. */
export function checkTriage(state: RunState, taskId: string, action: TriageDecision): void {
  // Own keys only: `retry <run> constructor` names no task, not Object's constructor.
  const task = Object.hasOwn(state.tasks, taskId) ? state.tasks[taskId] : undefined;
  if (!task) throw new TriageError(`Run ${state.id} has no task "${taskId}".`);
  if (isTerminalRun(state.status)) throw new TriageError(`Run ${state.id} has ended (${state.status}); start a new goal instead.`);
  if (action.kind === 'edit') {
    if (!['pending', 'ready', 'dead_letter'].includes(task.status)) {
      throw new TriageError(`Task ${taskId} is ${task.status}; a task can be edited before it runs or while it is in dead-letter.`);
    }
    return;
  }
  if (task.status !== 'dead_letter') {
    throw new TriageError(`Task ${taskId} is ${task.status}; only a task in dead-letter can be retried, skipped or taken over.`);
  }
  if (action.kind === 'retry' && action.model && !state.config.models.some((model) => model.id === action.model)) {
    throw new TriageError(`Model "${action.model}" is not configured for this run. Known: ${state.config.models.map((m) => m.id).join(', ')}.`);
  }
}
