import { strict as assert } from 'node:assert';
import type { EngineEvent } from '../../src/shared/events';
import { IllegalTransitionError, RUN_TRANSITIONS, TASK_TRANSITIONS } from '../../src/shared/lifecycle';
import { RUN_STATUSES, TASK_STATUSES, type RunStatus, type TaskStatus } from '../../src/shared/model';
import { applyEvent, foldEvents, InvalidLogError, type RunState } from '../../src/shared/runState';
import { DEFAULT_RUN_CONFIG } from '../../src/core/config';

const at = '2026-01-01T00:00:00.000Z';

function baseState(): RunState {
  const events: EngineEvent[] = [
    { type: 'run.created', seq: 1, at, runId: 'r', goal: 'g', workspace: '/w', config: DEFAULT_RUN_CONFIG },
    {
      type: 'plan.accepted',
      seq: 2,
      at,
      runId: 'r',
      repairs: 0,
      plan: { summary: 's', tasks: [{ id: 't1', title: 'T', description: 'd', role: 'implementer', dependsOn: [], acceptance: ['a'], files: [] }] },
    },
  ];
  return foldEvents(events)!;
}

function runEvent(state: RunState, status: RunStatus): EngineEvent {
  return { type: 'run.status', seq: state.lastSeq + 1, at, runId: 'r', status };
}

function taskEvent(state: RunState, status: TaskStatus): EngineEvent {
  return { type: 'task.status', seq: state.lastSeq + 1, at, runId: 'r', taskId: 't1', status };
}

describe('lifecycle tables', () => {
  it('lists every run status and every task status as a key', () => {
    assert.deepEqual(Object.keys(RUN_TRANSITIONS).sort(), [...RUN_STATUSES].sort());
    assert.deepEqual(Object.keys(TASK_TRANSITIONS).sort(), [...TASK_STATUSES].sort());
  });

  it('allows exactly the run transitions in the table, over every pair of states', () => {
    let allowed = 0;
    for (const from of RUN_STATUSES) {
      for (const to of RUN_STATUSES) {
        const state = baseState();
        state.status = from;
        const legal = RUN_TRANSITIONS[from].includes(to);
        if (legal) {
          applyEvent(state, runEvent(state, to));
          assert.equal(state.status, to);
          allowed++;
        } else {
          assert.throws(() => applyEvent(state, runEvent(state, to)), IllegalTransitionError, `${from} -> ${to} should be illegal`);
          assert.equal(state.status, from, 'a refused transition leaves the state alone');
        }
      }
    }
    assert.ok(allowed > 10);
  });

  it('allows exactly the task transitions in the table, over every pair of states', () => {
    for (const from of TASK_STATUSES) {
      for (const to of TASK_STATUSES) {
        const state = baseState();
        state.tasks.t1!.status = from;
        const legal = TASK_TRANSITIONS[from].includes(to);
        if (legal) {
          applyEvent(state, taskEvent(state, to));
          assert.equal(state.tasks.t1!.status, to);
        } else {
          assert.throws(() => applyEvent(state, taskEvent(state, to)), IllegalTransitionError, `${from} -> ${to} should be illegal`);
        }
      }
    }
  });

  it('terminal statuses have no way out', () => {
    for (const status of ['completed', 'failed', 'cancelled', 'stopped_budget'] as const) assert.deepEqual(RUN_TRANSITIONS[status], []);
    assert.deepEqual(TASK_TRANSITIONS.done, []);
    assert.deepEqual(TASK_TRANSITIONS.skipped, []);
  });

  it('rejects logs that cannot follow: gaps in numbering, unknown tasks, events before run.created', () => {
    const state = baseState();
    assert.throws(() => applyEvent(state, { type: 'log', seq: state.lastSeq + 2, at, runId: 'r', level: 'info', message: 'x' }), InvalidLogError);
    assert.throws(() => applyEvent(state, { type: 'task.status', seq: state.lastSeq + 1, at, runId: 'r', taskId: 'nope', status: 'ready' }), /not in the plan/);
    assert.throws(() => applyEvent(undefined, { type: 'log', seq: 1, at, runId: 'r', level: 'info', message: 'x' }), /before run.created/);
  });

  it('refuses a foreign log naming task, step or proposal ids every object already has, and never pollutes prototypes', () => {
    const plan = (id: string): EngineEvent => ({
      type: 'plan.accepted',
      seq: 2,
      at,
      runId: 'r',
      repairs: 0,
      plan: { summary: 's', tasks: [{ id, title: 'T', description: 'd', role: 'implementer', dependsOn: [], acceptance: ['a'], files: [] }] },
    });
    const created: EngineEvent = { type: 'run.created', seq: 1, at, runId: 'r', goal: 'g', workspace: '/w', config: DEFAULT_RUN_CONFIG };
    for (const id of ['__proto__', 'constructor', 'hasOwnProperty', 'toString']) {
      assert.throws(() => foldEvents([created, plan(id)]), (error: unknown) => error instanceof InvalidLogError && error.message.includes(`"${id}"`) && /reserved/.test(error.message), id);
      const state = baseState();
      const event: EngineEvent = { type: 'task.status', seq: state.lastSeq + 1, at, runId: 'r', taskId: id, status: 'ready' };
      assert.throws(() => applyEvent(state, event), InvalidLogError, `task.status for ${id}`);
      const step: EngineEvent = { type: 'step.started', seq: state.lastSeq + 1, at, runId: 'r', stepId: id, role: 'planner', attempt: 1, model: 'm' };
      assert.throws(() => applyEvent(state, step), InvalidLogError, `step ${id}`);
      const decided: EngineEvent = { type: 'edit.decided', seq: state.lastSeq + 1, at, runId: 'r', proposalId: id, taskId: 't1', accepted: [], rejected: [], by: 'user' };
      assert.throws(() => applyEvent(state, decided), InvalidLogError, `proposal ${id}`);
    }
    const state = baseState();
    const call = { type: 'llm.call', seq: state.lastSeq + 1, at, runId: 'r', stepId: 's', role: '__proto__', model: 'm', provider: 'p', inputTokens: 1, outputTokens: 1, cachedInputTokens: 0, usd: 1, latencyMs: 1, outcome: 'ok' } as unknown as EngineEvent;
    assert.throws(() => applyEvent(state, call), InvalidLogError);
    assert.equal(({} as Record<string, unknown>).calls, undefined, 'Object.prototype was not touched');
    assert.equal(Object.getPrototypeOf(state.tasks), Object.prototype);
    assert.equal(JSON.parse(JSON.stringify(state)).tasks.t1.id, 't1');
  });
});
