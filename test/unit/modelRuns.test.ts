// The model layer inside whole runs: real provider packages against local wire-format servers.
import { strict as assert } from 'node:assert';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { resolveRunConfig } from '../../src/core/config';
import type { ModelSpec, RunConfig } from '../../src/shared/model';
import { startFakeAnthropic, startFakeOpenAI, type FakeReply, type FakeServer } from '../support/fakeProviders';
import { calculatorWorkspace, makeEngine, ofType } from './helpers';

const GOAL = 'Fix the failing calculator tests';
const plan = {
  summary: 'Fix add().',
  tasks: [{ id: 't1', title: 'Fix add()', description: 'Return a + b.', role: 'implementer', dependsOn: [], acceptance: ['add tests pass'], files: ['src/calc.js'] }],
};
const call = (name: string, input: Record<string, unknown>): FakeReply => ({ kind: 'answer', toolCalls: [{ name, input }] });
/** The four model answers of a one-task run: plan, edit, finish, review. */
const RUN_REPLIES: FakeReply[] = [
  call('finish', plan),
  call('propose_edit', { path: 'src/calc.js', hunks: [{ search: 'return a - b;', replace: 'return a + b;' }] }),
  call('finish', { summary: 'add adds' }),
  call('finish', { approved: true, summary: 'good', issues: [] }),
];
/** $100 per million tokens: a call of 120 in / 30 out costs $0.015 (20 cached at the input price here). */
const PRICES = { inputPerMTok: 100, outputPerMTok: 100 };

describe('model layer in whole runs', function () {
  this.timeout(60_000);
  const servers: FakeServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });

  async function server(kind: 'openai' | 'anthropic', ...replies: FakeReply[]): Promise<FakeServer> {
    const started = kind === 'openai' ? await startFakeOpenAI(...replies) : await startFakeAnthropic(...replies);
    servers.push(started);
    return started;
  }

  function config(models: ModelSpec[], overrides: Partial<RunConfig> = {}): RunConfig {
    return resolveRunConfig({ models, roles: Object.fromEntries(['planner', 'implementer', 'reviewer', 'fixer'].map((role) => [role, models.map((m) => m.id)])), autoApprove: true, ...overrides });
  }

  it('falls over to the next model of the chain when the first is down, and logs who served each call', async () => {
    const down = await server('openai');
    down.setFallbackReply({ kind: 'error', status: 503, message: 'upstream unavailable' });
    const backup = await server('anthropic', ...RUN_REPLIES);
    const ws = await calculatorWorkspace();
    const { engine, events, runsDir } = await makeEngine(ws, { secret: async (name) => ({ OPENAI_API_KEY: 'sk-proj-primarykey000000000000000', ANTHROPIC_API_KEY: 'sk-ant-backupkey0000000000000000' })[name] });
    const handle = await engine.startRun(
      GOAL,
      config([
        { id: 'primary', provider: 'openai', model: 'gpt-5.4', baseURL: down.url, prices: PRICES },
        { id: 'backup', provider: 'anthropic', model: 'claude-sonnet-4-5', baseURL: backup.url, prices: PRICES },
      ]),
    );
    const final = await handle.finished;
    assert.equal(final.status, 'completed', final.statusReason);
    const ok = ofType(events, 'llm.call').filter((e) => e.outcome === 'ok');
    assert.deepEqual([...new Set(ok.map((e) => e.model))], ['backup']);
    assert.ok(ok.every((e) => e.fallbackFrom === 'primary' || e.fallbackFrom === undefined));
    assert.ok(ofType(events, 'model.fallback').some((e) => e.from === 'primary' && e.to === 'backup'));
    assert.ok(ok.every((e) => e.priced === true && Math.abs(e.usd - 0.015) < 1e-9), 'cost from the spec prices');
    assert.ok(Math.abs(final.usage.usd - 0.015 * ok.length) < 1e-9);
    assert.equal(final.usageByRole.reviewer?.calls, 1 + ofType(events, 'llm.call').filter((e) => e.role === 'reviewer' && e.outcome === 'error').length);
    const log = await readFile(join(runsDir, handle.runId, 'events.jsonl'), 'utf8');
    assert.ok(!log.includes('primarykey') && !log.includes('backupkey'), 'no key in the log');
  });

  it('opens the breaker of a failing provider and skips it for the rest of the run', async () => {
    const down = await server('openai');
    down.setFallbackReply({ kind: 'error', status: 500, message: 'boom' });
    const backup = await server('openai', ...RUN_REPLIES);
    const ws = await calculatorWorkspace();
    const ports = { secret: async () => 'sk-test-000000000000000000000000' };
    const { engine, events } = await makeEngine(ws, ports);
    const final = await (await engine.startRun(GOAL, config([
      { id: 'flaky', provider: 'openai-compatible', model: 'm', baseURL: down.url, prices: PRICES },
      { id: 'steady', provider: 'openai-compatible', model: 'm2', baseURL: `${backup.url}/`, prices: PRICES },
    ]))).finished;
    assert.equal(final.status, 'completed', final.statusReason);
    const opened = ofType(events, 'breaker.changed').filter((e) => e.state === 'open');
    assert.equal(opened.length, 1);
    assert.match(opened[0]!.key, /openai-compatible@/);
    assert.ok(down.requests.length < 4, `the flaky endpoint was skipped once its breaker opened (${down.requests.length} requests)`);
  });

  it('pauses before a call would cross the run cap, never exceeding it, and goes on after the cap is raised', async () => {
    const provider = await server('openai', ...RUN_REPLIES);
    const ws = await calculatorWorkspace();
    const { engine, events } = await makeEngine(ws, { secret: async () => 'sk-test-000000000000000000000000' });
    const cap = 0.05;
    const handle = await engine.startRun(GOAL, config(
      [{ id: 'paid', provider: 'openai', model: 'gpt-5.4', baseURL: provider.url, prices: PRICES, maxOutputTokens: 200 }],
      { budgets: { run: { usd: cap }, onExceed: 'pause' } },
    ));
    const paused = await handle.finished;
    assert.equal(paused.status, 'paused');
    const breach = ofType(events, 'budget.exceeded')[0]!;
    assert.equal(breach.scope, 'run');
    assert.equal(breach.action, 'pause');
    assert.ok(breach.used + breach.estimate > cap, 'refused only when the worst case would cross the cap');
    assert.ok(paused.usage.usd <= cap, `spent ${paused.usage.usd} of ${cap}`);
    assert.match(paused.statusReason!, /The cost cap of the run \(\$0\.0500\) would be exceeded: \$0\.\d+ used, the next \w+ call may take up to \$0\.\d+\./);
    assert.deepEqual(paused.budgetBreach, breach, 'the fold names the breach that paused the run');
    const requestsWhenPaused = provider.requests.length;
    assert.equal(requestsWhenPaused, ofType(events, 'llm.call').length, 'the refused call never reached the provider');

    await engine.setBudgets(handle.runId, { run: { usd: 1 }, onExceed: 'pause' });
    const final = await (await engine.resumeRun(handle.runId)).finished;
    assert.equal(final.status, 'completed', final.statusReason);
    assert.ok(final.usage.usd <= 1);
    assert.equal(final.budgetBreach, undefined, 'resumed: the breach no longer holds');
  });

  it('stops the run as stopped_budget when the setting says stop', async () => {
    const provider = await server('openai', ...RUN_REPLIES);
    const ws = await calculatorWorkspace();
    const { engine } = await makeEngine(ws, { secret: async () => 'sk-test-000000000000000000000000' });
    const final = await (await engine.startRun(GOAL, config(
      [{ id: 'paid', provider: 'openai', model: 'gpt-5.4', baseURL: provider.url, prices: PRICES, maxOutputTokens: 200 }],
      { budgets: { task: { tokens: 500 }, onExceed: 'stop' } },
    ))).finished;
    assert.equal(final.status, 'stopped_budget');
    assert.match(final.statusReason!, /token cap of task t1 \(500 tokens\) would be exceeded/);
    assert.equal(final.budgetBreach?.scope, 'task', 'the fold names the breach that stopped the run');
  });
});
