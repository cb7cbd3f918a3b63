import { strict as assert } from 'node:assert';
import { criticalPathMs, idealScheduleMs, spread } from '../support/benchSchedule';

const task = (id: string, durationMs: number, dependsOn: string[] = []) => ({ id, durationMs, dependsOn });

describe("the bench's arithmetic (ideal schedule, critical path)", () => {
  it('8 equal independent tasks at concurrency 4 take two lengths; the critical path is one', () => {
    const tasks = Array.from({ length: 8 }, (_, i) => task(`t${i + 1}`, 200));
    assert.equal(idealScheduleMs(tasks, 4), 400);
    assert.equal(idealScheduleMs(tasks, 1), 1600);
    assert.equal(idealScheduleMs(tasks, 8), 200);
    assert.equal(criticalPathMs(tasks), 200);
    // The nominal figure the bench prints: planner + 8 x 2 calls over planner + 2 waves x 2 calls.
    assert.equal((1 + idealScheduleMs(tasks.map((t) => ({ ...t, durationMs: 2 })), 1)) / (1 + idealScheduleMs(tasks.map((t) => ({ ...t, durationMs: 2 })), 4)), 3.4);
  });

  it('follows dependencies and fills free slots in plan order, like the scheduler', () => {
    // a(100) → c(100); b(300); d(100) waits for a slot at concurrency 2.
    const tasks = [task('a', 100), task('b', 300), task('c', 100, ['a']), task('d', 100)];
    assert.equal(criticalPathMs(tasks), 300);
    // t=0: a, b; t=100: c (ready first in plan order); t=200: d; d ends at 300, b at 300.
    assert.equal(idealScheduleMs(tasks, 2), 300);
    assert.equal(idealScheduleMs(tasks, 1), 600);
    assert.equal(criticalPathMs([task('a', 100), task('b', 50, ['a']), task('c', 70, ['b'])]), 220);
  });

  it('refuses plans it cannot schedule', () => {
    assert.throws(() => idealScheduleMs([task('a', 1, ['b'])], 2), /can never start/);
    assert.throws(() => criticalPathMs([task('a', 1, ['b']), task('b', 1, ['a'])]), /cycle/);
    assert.throws(() => idealScheduleMs([task('a', 1)], 0), /positive integer/);
  });

  it('spread gives min, median and max', () => {
    assert.deepEqual(spread([5, 1, 3]), { min: 1, median: 3, max: 5 });
    assert.deepEqual(spread([4, 1, 3, 2]), { min: 1, median: 2.5, max: 4 });
  });
});
