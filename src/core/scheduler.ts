// Which tasks may start now. Pure: the engine calls it with the folded state after every change.
import type { RunState, TaskState } from '../shared/runState';

/** Tasks whose dependencies are all done and that are still pending: they become ready. */
export function newlyReady(state: RunState): TaskState[] {
  return state.taskOrder
    .map((id) => state.tasks[id]!)
    .filter((task) => task.status === 'pending' && task.dependsOn.every((dep) => state.tasks[dep]?.status === 'done'));
}

/**
 * Pending tasks that can never run because the user skipped a dependency. A dead-lettered
 * dependency is not final: the user may retry it, so its dependents wait.
 */
export function blockedForever(state: RunState): { task: TaskState; cause: string }[] {
  const out: { task: TaskState; cause: string }[] = [];
  for (const id of state.taskOrder) {
    const task = state.tasks[id]!;
    if (task.status !== 'pending') continue;
    const skipped = task.dependsOn.find((dep) => state.tasks[dep]?.status === 'skipped');
    if (skipped) out.push({ task, cause: skipped });
  }
  return out;
}

/**
 * Ready tasks to start now, in plan order, so that at most `concurrency` tasks are active and no
 * two active tasks have overlapping file scopes. `active` are tasks the engine is driving.
 */
export function pickRunnable(state: RunState, concurrency: number, active: ReadonlySet<string>): TaskState[] {
  const holding = [...active].flatMap((id) => (state.tasks[id] ? [state.tasks[id]] : []));
  const picked: TaskState[] = [];
  for (const id of state.taskOrder) {
    if (holding.length + picked.length >= concurrency) break;
    const task = state.tasks[id]!;
    if (task.status !== 'ready' || active.has(id)) continue;
    const clash = [...holding, ...picked].some((other) => scopesOverlap(task.files, other.files));
    if (!clash) picked.push(task);
  }
  return picked;
}

/**
 * Two scopes overlap when a path or glob of one could name a file of the other. An empty scope means
 * "anywhere" and overlaps everything, so a task that did not declare its files runs alone.
 */
export function scopesOverlap(a: readonly string[], b: readonly string[]): boolean {
  if (a.length === 0 || b.length === 0) return true;
  return a.some((left) => b.some((right) => patternsOverlap(normalize(left), normalize(right))));
}

function normalize(pattern: string): string {
  return pattern.replace(/\\/g, '/').replace(/^\.\//, '').replace(/\/+$/, '');
}

/** Conservative: compares the literal prefixes before the first wildcard; a folder contains its files. */
function patternsOverlap(left: string, right: string): boolean {
  const prefixLeft = literalPrefix(left);
  const prefixRight = literalPrefix(right);
  const leftIsGlob = prefixLeft !== left;
  const rightIsGlob = prefixRight !== right;
  if (!leftIsGlob && !rightIsGlob) return left === right || left.startsWith(right + '/') || right.startsWith(left + '/');
  return prefixLeft.startsWith(prefixRight) || prefixRight.startsWith(prefixLeft);
}

function literalPrefix(pattern: string): string {
  const wildcard = pattern.search(/[*?[{]/);
  return wildcard === -1 ? pattern : pattern.slice(0, wildcard);
}
