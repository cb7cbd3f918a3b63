// The event log's role filter (DESIGN §8: filter by task, role and type), on the pure helpers the
// <sm-event-log> view uses: roleOf, matchesFilter, extendFiltered with a RoleLookup.
import { strict as assert } from 'node:assert';
import type { EngineEvent } from '../../src/shared/events';
import type { Role } from '../../src/shared/model';
import { foldEvents } from '../../src/shared/runState';
import { extendFiltered, roleLookup, roleOf, type EventFilter } from '../../webview/eventText';
import { fiveTaskRun, FIVE_TASK_PLAN, RunLogBuilder, TEST_CONFIG } from './fixtures/webviewRun';

/** "seq:type" of the events at `indexes`, for readable failures. */
function described(events: readonly EngineEvent[], indexes: number[]): string[] {
  return indexes.map((i) => `${events[i].seq}:${events[i].type}`);
}

/** A lookup over the tasks of the run the events fold into, as the panel builds it. */
function lookupFor(events: EngineEvent[]) {
  const run = foldEvents(events);
  return roleLookup(() => run?.tasks);
}

/** A small run in the shape the engine writes: a planner turn, then t1 (implementer) implemented, tested and reviewed, with a fixer turn. */
function reviewedRun(): EngineEvent[] {
  const log = new RunLogBuilder('run-r');
  log.add({ type: 'run.created', goal: 'Fix it', workspace: '/w', config: TEST_CONFIG });
  log.add({ type: 'run.status', status: 'planning' });
  log.add({ type: 'step.started', stepId: 'plan@v1', role: 'planner', attempt: 1, model: 'm' });
  log.add({ type: 'tool.call', stepId: 'plan@v1', toolCallId: 'c0', tool: 'list_files', input: '{}' }); // 4: planner's tool, no task
  log.add({ type: 'tool.result', stepId: 'plan@v1', toolCallId: 'c0', tool: 'list_files', ok: true, output: 'a.js' });
  log.add({ type: 'step.finished', stepId: 'plan@v1', role: 'planner', ok: true, summary: 'planned' });
  log.add({ type: 'plan.accepted', plan: FIVE_TASK_PLAN, repairs: 0 }); // t2 is the implementer
  log.add({ type: 'run.status', status: 'running' });
  log.task('t2', 'ready', 'running');
  log.add({ type: 'step.started', stepId: 't2:implement@v1', taskId: 't2', role: 'implementer', attempt: 1, model: 'm' }); // 11
  log.add({ type: 'tool.call', stepId: 't2:implement@v1', taskId: 't2', toolCallId: 'c1', tool: 'write_file', input: '{}' });
  log.add({ type: 'step.finished', stepId: 't2:implement@v1', taskId: 't2', role: 'implementer', ok: true, summary: 'done' });
  log.add({ type: 'edit.proposed', taskId: 't2', proposalId: 'p1', files: [] }); // 14: no role field: the task's role
  log.task('t2', 'awaiting-review', 'testing', 'reviewing');
  log.add({ type: 'step.started', stepId: 't2:review@v1', taskId: 't2', role: 'reviewer', attempt: 1, model: 'm' }); // 18
  log.add({ type: 'llm.call', stepId: 't2:review@v1', taskId: 't2', role: 'reviewer', model: 'm', provider: 'p', inputTokens: 1, outputTokens: 1, cachedInputTokens: 0, usd: 0, latencyMs: 1, outcome: 'ok' });
  log.add({ type: 'tool.call', stepId: 't2:review@v1', taskId: 't2', toolCallId: 'c2', tool: 'read_file', input: '{}' }); // 20: the reviewer's tool
  log.add({ type: 'tool.result', stepId: 't2:review@v1', taskId: 't2', toolCallId: 'c2', tool: 'read_file', ok: true, output: 'x' });
  log.add({ type: 'review.finished', taskId: 't2', verdict: { approved: true, summary: 'ok', issues: [] } }); // 22
  log.add({ type: 'step.finished', stepId: 't2:review@v1', taskId: 't2', role: 'reviewer', ok: true, summary: 'approved' });
  log.task('t2', 'done'); // 24
  log.add({ type: 'test.started', phase: 'final', command: 'npm test' }); // 25: run-level, no role
  return log.events;
}

describe('webview event log: role filter', () => {
  it('gives an event its own role, its step\'s role for tool traffic, the reviewer for a verdict, else its task\'s role, else none', () => {
    const events = reviewedRun();
    const lookup = lookupFor(events);
    extendFiltered([], events, 0, {}, lookup); // walks the log: learns the steps
    const roles = new Map(events.map((event) => [event.seq, roleOf(event, lookup)]));
    const expect = (seq: number, role: Role | undefined, why: string): void =>
      assert.equal(roles.get(seq), role, `Expected event ${seq} (${events[seq - 1].type}) to have role ${String(role)} (${why}), saw ${String(roles.get(seq))}`);
    expect(1, undefined, 'run.created is run-level');
    expect(3, 'planner', 'step.started carries its role');
    expect(4, 'planner', 'a tool call of the planner step, no task');
    expect(11, 'implementer', 'step.started');
    expect(12, 'implementer', 'tool call of the implementer step');
    expect(14, 'implementer', 'edit.proposed has no role: t2 is an implementer task');
    expect(9, 'implementer', 'task.status of t2');
    expect(19, 'reviewer', 'llm.call carries its role');
    expect(20, 'reviewer', 'a tool call of the review step of t2, not the task owner');
    expect(21, 'reviewer', 'the tool result of the review step');
    expect(22, 'reviewer', 'review.finished is the reviewer\'s verdict');
    expect(24, 'implementer', 'task.status of t2');
    expect(25, undefined, 'final test run is run-level');
  });

  it('without a step record (lookup not walked), a tool event falls back to its task\'s role', () => {
    const events = reviewedRun();
    const fresh = lookupFor(events);
    assert.equal(roleOf(events[19], fresh), 'implementer');
    assert.equal(roleOf(events[3], fresh), undefined, 'a planner tool call has no task to fall back to');
    assert.equal(roleOf(events[18], undefined), 'reviewer', 'an explicit role needs no lookup');
  });

  it('filters by role exactly: the reviewer filter keeps every reviewer event and nothing else', () => {
    const events = reviewedRun();
    const indexes = extendFiltered([], events, 0, { role: 'reviewer' }, lookupFor(events));
    assert.deepEqual(described(events, indexes), ['18:step.started', '19:llm.call', '20:tool.call', '21:tool.result', '22:review.finished', '23:step.finished']);
    const implementer = extendFiltered([], events, 0, { role: 'implementer' }, lookupFor(events));
    assert.deepEqual(
      described(events, implementer),
      ['9:task.status', '10:task.status', '11:step.started', '12:tool.call', '13:step.finished', '14:edit.proposed', '15:task.status', '16:task.status', '17:task.status', '24:task.status'],
    );
    const planner = extendFiltered([], events, 0, { role: 'planner' }, lookupFor(events));
    assert.deepEqual(described(events, planner), ['3:step.started', '4:tool.call', '5:tool.result', '6:step.finished']);
    assert.deepEqual(extendFiltered([], events, 0, { role: 'security' }, lookupFor(events)), [], 'no security events in this run');
  });

  it('combines the role filter with the task and type filters', () => {
    const events = reviewedRun();
    const check = (filter: EventFilter, expected: string[]): void =>
      assert.deepEqual(described(events, extendFiltered([], events, 0, filter, lookupFor(events))), expected, JSON.stringify(filter));
    check({ role: 'reviewer', type: 'tool.call' }, ['20:tool.call']);
    check({ role: 'reviewer', taskId: 't2', type: 'review.finished' }, ['22:review.finished']);
    check({ role: 'reviewer', taskId: '' }, []);
    check({ role: 'planner', taskId: '' }, ['3:step.started', '4:tool.call', '5:tool.result', '6:step.finished']);
    check({ role: 'implementer', type: 'tool.call' }, ['12:tool.call']);
  });

  it('on the five-task fixture: each filter keeps only its role, the roles partition the events that have one, and a fixer\'s tools are the fixer\'s', () => {
    const events = fiveTaskRun('run-1', 300);
    const run = foldEvents(events);
    const everything = extendFiltered([], events, 0, {}, lookupFor(events));
    assert.equal(everything.length, events.length);
    let covered = 0;
    for (const role of ['planner', 'architect', 'implementer', 'tester', 'reviewer', 'fixer', 'docs', 'security'] as const) {
      const lookup = lookupFor(events);
      const indexes = extendFiltered([], events, 0, { role }, lookup);
      covered += indexes.length;
      for (const i of indexes) {
        const event = events[i];
        const own = 'role' in event ? event.role : undefined;
        const taskRole = 'taskId' in event && event.taskId ? run?.tasks[event.taskId]?.role : undefined;
        assert.ok(
          own === role || (own === undefined && (taskRole === role || (role === 'fixer' && event.type.startsWith('tool.')) || (role === 'reviewer' && event.type === 'review.finished'))),
          `Expected only ${role} events under the ${role} filter, saw ${JSON.stringify(event)}`,
        );
      }
    }
    const runLevel = events.filter((event) => !('role' in event) && !('taskId' in event && event.taskId)).length;
    assert.equal(covered + runLevel, events.length, 'every event with a role is under exactly one role filter');

    const fixer = extendFiltered([], events, 0, { role: 'fixer' }, lookupFor(events));
    const fixerTools = fixer.filter((i) => events[i].type === 'tool.call' || events[i].type === 'tool.result');
    assert.ok(fixerTools.length > 100, `Expected the fixer's padding tool traffic (task t3, a tester task) under "fixer", saw ${fixerTools.length} tool events`);
    const tester = extendFiltered([], events, 0, { role: 'tester', type: 'tool.call' }, lookupFor(events));
    assert.equal(tester.length, 2, `Expected only t3's own tester turn's 2 tool calls under tester/tool.call, saw ${described(events, tester).join(', ')}`);
  });

  it('extends incrementally as the log grows, with the same result as one pass', () => {
    const events = fiveTaskRun('run-1', 300);
    for (const filter of [{ role: 'fixer' }, { role: 'tester', taskId: 't3' }, { role: 'architect', type: 'llm.call' }] as EventFilter[]) {
      const all = extendFiltered([], events, 0, filter, lookupFor(events));
      const lookup = lookupFor(events);
      const stepwise: number[] = [];
      for (let from = 0; from < events.length; from += 37) extendFiltered(stepwise, events.slice(0, from + 37), from, filter, lookup);
      assert.deepEqual(stepwise, all, JSON.stringify(filter));
      assert.ok(all.length > 0, `Expected events under ${JSON.stringify(filter)}`);
    }
  });
});
