// Run and task state machines as data. The fold in runState.ts refuses any transition not listed
// here, so an engine bug surfaces as an error at the moment it happens instead of as a strange UI.
import type { RunStatus, TaskStatus } from './model';

export const RUN_TRANSITIONS: Readonly<Record<RunStatus, readonly RunStatus[]>> = {
  queued: ['planning', 'failed', 'cancelled'],
  planning: ['awaiting-approval', 'running', 'paused', 'failed', 'cancelled', 'stopped_budget'],
  'awaiting-approval': ['running', 'cancelled'],
  running: ['paused', 'completed', 'failed', 'cancelled', 'stopped_budget'],
  paused: ['planning', 'running', 'cancelled', 'stopped_budget'],
  completed: [],
  failed: [],
  cancelled: [],
  stopped_budget: [],
};

export const TASK_TRANSITIONS: Readonly<Record<TaskStatus, readonly TaskStatus[]>> = {
  pending: ['ready', 'skipped'],
  ready: ['running', 'skipped'],
  // running -> testing: the agent proposed nothing, so there is nothing to review but the tests still gate.
  running: ['awaiting-review', 'testing', 'failed', 'skipped'],
  'awaiting-review': ['testing', 'failed', 'skipped'],
  testing: ['reviewing', 'done', 'failed', 'skipped'],
  reviewing: ['done', 'failed', 'skipped'],
  // failed -> running is a fix attempt; failed -> dead_letter when attempts are exhausted.
  failed: ['running', 'dead_letter', 'skipped'],
  // The user triages dead letters: retry, skip, or take over by hand and mark done.
  dead_letter: ['ready', 'skipped', 'done'],
  done: [],
  skipped: [],
  // Never logged: the fold ends a run's unfinished tasks with it (endUnfinishedTasks).
  cancelled: [],
};

export const TERMINAL_RUN_STATUSES: readonly RunStatus[] = ['completed', 'failed', 'cancelled', 'stopped_budget'];

export class IllegalTransitionError extends Error {
  constructor(
    readonly machine: 'run' | 'task',
    readonly from: string,
    readonly to: string,
    readonly subject: string,
  ) {
    super(`Illegal ${machine} transition for ${subject}: ${from} -> ${to}. This is an engine bug; the event was not recorded.`);
    this.name = 'IllegalTransitionError';
  }
}

export function canTransitionRun(from: RunStatus, to: RunStatus): boolean {
  return RUN_TRANSITIONS[from].includes(to);
}

export function canTransitionTask(from: TaskStatus, to: TaskStatus): boolean {
  return TASK_TRANSITIONS[from].includes(to);
}

export function isTerminalRun(status: RunStatus): boolean {
  return TERMINAL_RUN_STATUSES.includes(status);
}
