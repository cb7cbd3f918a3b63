import { strict as assert } from 'node:assert';
import { DEFAULT_RUN_CONFIG } from '../../src/core/config';
import { BudgetExceededError, BudgetGate, findBreach } from '../../src/core/budget';
import type { Budgets } from '../../src/shared/model';
import { foldEvents, type RunState } from '../../src/shared/runState';

const at = '2026-01-01T00:00:00.000Z';

function runWith(budgets: Budgets): RunState {
  return foldEvents([
    { type: 'run.created', seq: 1, at, runId: 'r', goal: 'g', workspace: '/w', config: { ...DEFAULT_RUN_CONFIG, budgets } },
    {
      type: 'plan.accepted',
      seq: 2,
      at,
      runId: 'r',
      repairs: 0,
      plan: { summary: 's', tasks: ['t1', 't2'].map((id) => ({ id, title: id, description: 'd', role: 'implementer' as const, dependsOn: [], acceptance: ['a'], files: [`${id}.js`] })) },
    },
  ])!;
}

describe('budgets', () => {
  it('finds the first cap a call would cross, run before task before role', () => {
    const state = runWith({ onExceed: 'pause', run: { usd: 1 }, task: { tokens: 1000 }, roles: { reviewer: { usd: 0.1 } } });
    state.usage = { calls: 3, inputTokens: 500, outputTokens: 100, cachedInputTokens: 0, usd: 0.9 };
    state.tasks.t1!.usage = { calls: 3, inputTokens: 500, outputTokens: 100, cachedInputTokens: 0, usd: 0.9 };
    assert.equal(findBreach(state, state.config.budgets, { role: 'implementer', taskId: 't1' }, { tokens: 100, usd: 0.05 }), undefined);
    const run = findBreach(state, state.config.budgets, { role: 'implementer', taskId: 't1' }, { tokens: 100, usd: 0.2 });
    assert.deepEqual(run, { scope: 'run', key: 'r', metric: 'usd', limit: 1, used: 0.9, estimate: 0.2 });
    const task = findBreach(state, state.config.budgets, { role: 'implementer', taskId: 't1' }, { tokens: 500, usd: 0.01 });
    assert.deepEqual(task, { scope: 'task', key: 't1', metric: 'tokens', limit: 1000, used: 600, estimate: 500 });
    assert.equal(findBreach(state, state.config.budgets, { role: 'implementer', taskId: 't2' }, { tokens: 500, usd: 0.01 }), undefined, 'the task cap is per task');
    const role = findBreach(state, state.config.budgets, { role: 'reviewer', taskId: 't2' }, { tokens: 10, usd: 0.09 });
    assert.equal(role, undefined);
    state.usageByRole.reviewer = { calls: 1, inputTokens: 1, outputTokens: 1, cachedInputTokens: 0, usd: 0.05 };
    assert.equal(findBreach(state, state.config.budgets, { role: 'reviewer', taskId: 't2' }, { tokens: 10, usd: 0.06 })?.scope, 'role');
  });

  it('refuses a call of unknown cost under a USD cap, and allows it without one', () => {
    const capped = runWith({ onExceed: 'pause', run: { usd: 5 } });
    const breach = findBreach(capped, capped.config.budgets, { role: 'implementer' }, { tokens: 10, usd: undefined });
    assert.equal(breach?.metric, 'usd');
    assert.ok(Number.isNaN(breach!.estimate));
    assert.match(new BudgetExceededError(breach!, { role: 'implementer' }).message, /cost is unknown.*Set prices for the model or remove the USD cap/);
    const uncapped = runWith({ onExceed: 'pause', run: { tokens: 1000 } });
    assert.equal(findBreach(uncapped, uncapped.config.budgets, { role: 'implementer' }, { tokens: 10, usd: undefined }), undefined);
  });

  it('counts calls in flight, so parallel calls cannot jointly cross a cap', () => {
    const state = runWith({ onExceed: 'pause', run: { usd: 1 } });
    const gate = new BudgetGate(() => state);
    const first = gate.admit({ role: 'implementer', taskId: 't1' }, { tokens: 10, usd: 0.4 });
    gate.admit({ role: 'implementer', taskId: 't2' }, { tokens: 10, usd: 0.4 });
    assert.throws(() => gate.admit({ role: 'implementer', taskId: 't1' }, { tokens: 10, usd: 0.4 }), BudgetExceededError);
    gate.release(first);
    gate.admit({ role: 'implementer', taskId: 't1' }, { tokens: 10, usd: 0.4 });
  });
});
