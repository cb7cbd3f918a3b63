// The check every writer of a run's log makes before appending: the fold refuses a transition the
// lifecycle tables do not list, and by then the event would already be on disk.
import type { NewEvent } from '../../shared/events';
import { canTransitionRun, canTransitionTask, IllegalTransitionError } from '../../shared/lifecycle';
import type { RunState } from '../../shared/runState';

/** Throws IllegalTransitionError when `event` changes a run or task status in a way the lifecycle tables forbid. */
export function checkTransition(state: RunState, event: NewEvent): void {
  if (event.type === 'run.status' && !canTransitionRun(state.status, event.status)) {
    throw new IllegalTransitionError('run', state.status, event.status, `run ${state.id}`);
  }
  if (event.type === 'task.status') {
    const task = Object.hasOwn(state.tasks, event.taskId) ? state.tasks[event.taskId] : undefined;
    if (!task || !canTransitionTask(task.status, event.status)) {
      throw new IllegalTransitionError('task', task?.status ?? 'missing', event.status, `task ${event.taskId}`);
    }
  }
}
