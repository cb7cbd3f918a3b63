import { strict as assert } from 'node:assert';
import { checkPlan } from '../../src/core/plan/plan';

const task = (id: string, dependsOn: string[] = [], role = 'implementer') => ({
  id,
  title: `Task ${id}`,
  description: 'do it',
  role,
  dependsOn,
  acceptance: ['works'],
  files: [`src/${id}.js`],
});

describe('plan validation', () => {
  it('accepts a DAG of known roles', () => {
    const result = checkPlan({ summary: 's', tasks: [task('t1'), task('t2', ['t1']), task('t3', ['t1', 't2'], 'tester')] });
    assert.ok(result.ok);
    assert.equal(result.plan.tasks.length, 3);
  });

  it('names the tasks of a cycle', () => {
    const result = checkPlan({ summary: 's', tasks: [task('a', ['c']), task('b', ['a']), task('c', ['b'])] });
    assert.ok(!result.ok);
    assert.match(result.errors.join('\n'), /cycle: a -> c -> b -> a/);
  });

  it('names a dangling dependency, a self-dependency, an unknown role and duplicate ids', () => {
    const result = checkPlan({ summary: 's', tasks: [task('t1', ['t9']), task('t2', ['t2']), task('t3', [], 'wizard'), task('t1')] });
    assert.ok(!result.ok);
    const text = result.errors.join('\n');
    assert.match(text, /Task "t1" depends on "t9", which is not in the plan/);
    assert.match(text, /Task "t2" depends on itself/);
    assert.match(text, /Task "t3" has unknown role "wizard"/);
    assert.match(text, /Task "t1" appears twice/);
  });

  it('reports schema violations with the task they belong to', () => {
    const bad = { summary: 's', tasks: [task('t1'), { ...task('t2'), acceptance: [] }] };
    const result = checkPlan(bad);
    assert.ok(!result.ok);
    assert.match(result.errors.join('\n'), /Task "t2" field acceptance/);
    const empty = checkPlan({ summary: 's', tasks: [] });
    assert.ok(!empty.ok);
    assert.match(empty.errors.join('\n'), /at least one task/);
    const notObject = checkPlan('plan: do things');
    assert.ok(!notObject.ok);
  });
});
