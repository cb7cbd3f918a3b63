import { strict as assert } from 'node:assert';
import { DEFAULT_RUN_CONFIG } from '../../src/core/config';
import { blockedForever, newlyReady, pickRunnable, scopesOverlap } from '../../src/core/scheduler';
import type { PlanTask, TaskStatus } from '../../src/shared/model';
import { foldEvents, type RunState } from '../../src/shared/runState';

const at = '2026-01-01T00:00:00.000Z';

function stateWith(tasks: (Partial<PlanTask> & { id: string; status?: TaskStatus })[]): RunState {
  const planTasks: PlanTask[] = tasks.map((task) => ({
    title: task.id,
    description: 'd',
    role: 'implementer',
    dependsOn: [],
    acceptance: ['a'],
    files: [`${task.id}.js`],
    ...task,
  }));
  const state = foldEvents([
    { type: 'run.created', seq: 1, at, runId: 'r', goal: 'g', workspace: '/w', config: DEFAULT_RUN_CONFIG },
    { type: 'plan.accepted', seq: 2, at, runId: 'r', repairs: 0, plan: { summary: 's', tasks: planTasks } },
  ])!;
  for (const task of tasks) if (task.status) state.tasks[task.id]!.status = task.status;
  return state;
}

describe('scheduler', () => {
  it('starts no more than the concurrency limit', () => {
    const state = stateWith(['a', 'b', 'c', 'd', 'e'].map((id) => ({ id, status: 'ready' as const })));
    assert.deepEqual(pickRunnable(state, 3, new Set()).map((t) => t.id), ['a', 'b', 'c']);
    assert.deepEqual(pickRunnable(state, 3, new Set(['a', 'b'])).map((t) => t.id), ['c']);
    assert.deepEqual(pickRunnable(state, 2, new Set(['a', 'b'])), []);
  });

  it('never runs tasks with overlapping file scopes at the same time', () => {
    const state = stateWith([
      { id: 'a', status: 'ready', files: ['src/app.ts'] },
      { id: 'b', status: 'ready', files: ['src/app.ts', 'src/b.ts'] },
      { id: 'c', status: 'ready', files: ['docs/**'] },
      { id: 'd', status: 'ready', files: ['docs/intro.md'] },
    ]);
    assert.deepEqual(pickRunnable(state, 4, new Set()).map((t) => t.id), ['a', 'c']);
    state.tasks.a!.status = 'running';
    assert.deepEqual(pickRunnable(state, 4, new Set(['a'])).map((t) => t.id), ['c'], 'b still waits for a');
  });

  it('runs a task without a declared scope alone', () => {
    const state = stateWith([{ id: 'a', status: 'ready', files: [] }, { id: 'b', status: 'ready' }]);
    assert.deepEqual(pickRunnable(state, 4, new Set()).map((t) => t.id), ['a']);
  });

  it('decides scope overlap by paths, folders and glob prefixes', () => {
    assert.ok(scopesOverlap(['src/a.ts'], ['./src/a.ts']));
    assert.ok(scopesOverlap(['src'], ['src/deep/x.ts']));
    assert.ok(scopesOverlap(['src/**/*.ts'], ['src/lib/y.ts']));
    assert.ok(!scopesOverlap(['src/a.ts'], ['src/ab.ts']));
    assert.ok(!scopesOverlap(['src/**'], ['test/**']));
    assert.ok(scopesOverlap([], ['anything']));
  });

  it('makes tasks ready only when all dependencies are done; only a skipped dependency blocks for good', () => {
    const state = stateWith([
      { id: 'a', status: 'done' },
      { id: 'b', status: 'running' },
      { id: 'c', dependsOn: ['a'] },
      { id: 'd', dependsOn: ['a', 'b'] },
      { id: 'e', status: 'dead_letter' },
      { id: 'f', dependsOn: ['e'] },
      { id: 'g', status: 'skipped' },
      { id: 'h', dependsOn: ['a', 'g'] },
    ]);
    assert.deepEqual(newlyReady(state).map((t) => t.id), ['c']);
    assert.deepEqual(blockedForever(state).map((b) => [b.task.id, b.cause]), [['h', 'g']], 'a dead letter may be retried, so f waits');
  });
});
