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

  it('refuses task ids every JavaScript object already has, telling the planner to rename them', () => {
    const result = checkPlan({ summary: 's', tasks: [task('__proto__'), task('constructor', ['__proto__']), task('hasOwnProperty'), task('t4', ['toString'])] });
    assert.ok(!result.ok);
    const text = result.errors.join('\n');
    for (const id of ['__proto__', 'constructor', 'hasOwnProperty']) assert.match(text, new RegExp(`Task "${id}": the id "${id}" is reserved`));
    assert.match(text, /Task "t4" depends on "toString", which is not in the plan/);
    assert.ok(checkPlan({ summary: 's', tasks: [task('proto'), task('constructor-1')] }).ok, 'ordinary ids that merely look alike are fine');
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
