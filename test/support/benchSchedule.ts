// The arithmetic of `npm run bench` (bench/run.ts), kept pure so a unit test can check it: what a
// plan would take if the engine cost nothing, from the work each task measurably did (its model
// calls and its test run).

export interface MeasuredTask {
  id: string;
  dependsOn: readonly string[];
  /** The task's own work: the latency of its model calls plus its test gate's run. */
  durationMs: number;
}

/** The longest chain of dependent tasks: no schedule, at any concurrency, finishes sooner. */
export function criticalPathMs(tasks: readonly MeasuredTask[]): number {
  const byId = new Map(tasks.map((task) => [task.id, task]));
  const finish = new Map<string, number>();
  const finishOf = (task: MeasuredTask, seen: Set<string>): number => {
    const known = finish.get(task.id);
    if (known !== undefined) return known;
    if (seen.has(task.id)) throw new Error(`the plan has a cycle through ${task.id}`);
    seen.add(task.id);
    let start = 0;
    for (const dep of task.dependsOn) {
      const before = byId.get(dep);
      if (!before) throw new Error(`${task.id} depends on ${dep}, which is not in the plan`);
      start = Math.max(start, finishOf(before, seen));
    }
    const end = start + task.durationMs;
    finish.set(task.id, end);
    return end;
  };
  return tasks.reduce((longest, task) => Math.max(longest, finishOf(task, new Set())), 0);
}

/**
 * The makespan of the engine's own policy with no overhead: at most `concurrency` tasks at once, a
 * task starts as soon as its dependencies are done and a slot is free, ready tasks in plan order.
 * For independent tasks of equal length that is ceil(n / concurrency) lengths, the best there is.
 */
export function idealScheduleMs(tasks: readonly MeasuredTask[], concurrency: number): number {
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`concurrency must be a positive integer, not ${concurrency}`);
  const done = new Map<string, number>();
  const running: { id: string; end: number }[] = [];
  const waiting = [...tasks];
  let now = 0;
  while (waiting.length || running.length) {
    for (let i = 0; i < waiting.length && running.length < concurrency; ) {
      const task = waiting[i]!;
      if (task.dependsOn.every((dep) => done.has(dep))) {
        running.push({ id: task.id, end: now + task.durationMs });
        waiting.splice(i, 1);
      } else i++;
    }
    if (!running.length) throw new Error(`tasks ${waiting.map((task) => task.id).join(', ')} can never start (a dependency is missing or cyclic)`);
    running.sort((a, b) => a.end - b.end);
    const next = running.shift()!;
    now = next.end;
    done.set(next.id, now);
  }
  return now;
}

export interface Spread {
  min: number;
  median: number;
  max: number;
}

export function spread(values: readonly number[]): Spread {
  if (!values.length) throw new Error('no values');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return { min: sorted[0]!, median, max: sorted.at(-1)! };
}
