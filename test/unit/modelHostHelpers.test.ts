// The host's model-layer helpers that need no editor: settings → RunConfig (budgets, timeouts), usage
// and budget texts ("unknown cost" for unpriced models), budget pauses read from a log, the output
// lines for model events, and "Test Model Connection" against local wire-format servers.
import { strict as assert } from 'node:assert';
import { resolveRunConfig } from '../../src/core/config';
import { budgetPauseMessage, checkCapInput } from '../../src/host/models/budgetPause';
import { isUnpricedBreach, suggestedCap, withCap, withoutCap } from '../../src/shared/budgets';
import { apiKeyNameOf, testConnection } from '../../src/host/models/connectionTest';
import { logModelEvent, modelEventLine, type OutputSink } from '../../src/host/models/modelLog';
import { budgetsFromSetting, timeoutsFromSetting } from '../../src/shared/settingsSchema';
import { runBudgetText } from '../../src/host/models/usageFormat';
import { budgetsText, compactUsage, costText, usageText } from '../../src/shared/wording';
import type { EngineEvent, EngineEventOf } from '../../src/shared/events';
import { EMPTY_USAGE, type BudgetBreach, type ModelSpec } from '../../src/shared/model';
import { foldEvents } from '../../src/shared/runState';
import { startFakeAnthropic, startFakeOpenAI, type FakeServer } from '../support/fakeProviders';

let seq = 0;
function event<T extends EngineEvent['type']>(type: T, payload: Omit<Extract<EngineEvent, { type: T }>, 'type' | 'seq' | 'at' | 'runId'>): EngineEvent {
  return { type, seq: ++seq, at: new Date(0).toISOString(), runId: 'r1', ...payload } as unknown as EngineEvent;
}

/** The events numbered 1..n, as a log holds them. */
function log(...events: EngineEvent[]): EngineEvent[] {
  return events.map((item, index) => ({ ...item, seq: index + 1 }));
}

const BREACH = event('budget.exceeded', { scope: 'run', key: 'r1', metric: 'usd', limit: 5, used: 4.98, estimate: 0.05, action: 'pause', role: 'implementer' }) as EngineEventOf<'budget.exceeded'>;

function recorder(): OutputSink & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (message: string) => void lines.push(`${level}: ${message}`);
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

describe('model layer host helpers', () => {
  describe('settings → RunConfig', () => {
    it('maps budgets (default onExceed, empty caps dropped) and timeouts (seconds → ms, defaults fill a missing half)', () => {
      assert.deepEqual(budgetsFromSetting({ run: { usd: 5 }, task: {}, roles: { reviewer: { tokens: 1000 }, docs: {} } }), { run: { usd: 5 }, roles: { reviewer: { tokens: 1000 } }, onExceed: 'pause' });
      assert.deepEqual(budgetsFromSetting({ onExceed: 'stop' }), { onExceed: 'stop' });
      assert.equal(budgetsFromSetting(undefined), undefined);
      assert.deepEqual(timeoutsFromSetting({ firstTokenSeconds: 30, totalSeconds: 300 }), { firstTokenMs: 30_000, totalMs: 300_000 });
      assert.deepEqual(timeoutsFromSetting({ totalSeconds: 90.5 }), { firstTokenMs: 60_000, totalMs: 90_500 });
      assert.equal(timeoutsFromSetting({}), undefined);
      const config = resolveRunConfig({
        models: [{ id: 'm', provider: 'scripted', transcript: 't.json' }],
        budgets: budgetsFromSetting({ run: { usd: 2, tokens: 50_000 }, onExceed: 'stop' }),
        timeouts: timeoutsFromSetting({ firstTokenSeconds: 5 }),
        loopThreshold: 4,
      });
      assert.deepEqual(config.budgets, { run: { usd: 2, tokens: 50_000 }, onExceed: 'stop' });
      assert.deepEqual(config.timeouts, { firstTokenMs: 5000, totalMs: 600_000 });
      assert.equal(config.loopThreshold, 4);
      assert.throws(() => resolveRunConfig({ models: [{ id: 'm', provider: 'scripted', transcript: 't' }], budgets: budgetsFromSetting({ run: { usd: -1 } }) }), /budgets\.run\.usd/);
    });
  });

  describe('usage and budget texts', () => {
    it('says "unknown cost" for calls of unpriced models instead of $0', () => {
      const created = event('run.created', { goal: 'g', workspace: '/w', config: resolveRunConfig({ models: [{ id: 'm', provider: 'scripted', transcript: 't' }] }) });
      const call = (priced: boolean, usd: number): EngineEvent =>
        event('llm.call', { stepId: 's', role: 'planner', model: priced ? 'paid' : 'copilot', provider: 'p', inputTokens: 1000, outputTokens: 500, cachedInputTokens: 0, usd, priced, latencyMs: 10, outcome: 'ok' });
      const onlyUnpriced = foldEvents(log(created, call(false, 0)))!;
      assert.equal(onlyUnpriced.usage.unpricedCalls, 1);
      assert.equal(costText(onlyUnpriced.usage, { explain: true }), 'unknown cost (no price for the model)');
      assert.equal(compactUsage(onlyUnpriced.usage), '1,500 tok · unknown cost');
      const mixed = foldEvents(log(created, call(false, 0), call(true, 0.42)))!;
      assert.equal(usageText(mixed.usage, { tokens: 'total', explain: true }), '2 model calls · 3,000 tokens · $0.4200 + unknown cost (1 call of a model without a price)');
      assert.equal(compactUsage(mixed.usage), '3,000 tok · $0.4200+?');
      assert.equal(compactUsage(EMPTY_USAGE), undefined);
      const priced = foldEvents(log(created, call(true, 0.42)))!;
      assert.equal(priced.usage.unpricedCalls, undefined, 'priced calls add no unpriced count');
      assert.equal(runBudgetText(priced.usage, { run: { usd: 5 }, onExceed: 'pause' }), '$0.4200 / $5.00');
      assert.equal(runBudgetText(priced.usage, { run: { tokens: 100_000 }, onExceed: 'pause' }), '1,500 / 100k tokens');
      assert.equal(runBudgetText(priced.usage, { onExceed: 'pause' }), undefined);
      assert.equal(budgetsText({ run: { usd: 5 }, task: { tokens: 200_000 }, roles: { reviewer: { usd: 1 } }, onExceed: 'pause' }), 'run $5.00 · each task 200k tokens · reviewer $1.00 (pause when reached)');
    });
  });

  describe('budget pauses', () => {
    const status = (s: 'running' | 'paused'): EngineEvent => event('run.status', { status: s, reason: s === 'paused' ? 'budget' : undefined });

    it('the fold keeps the breach behind the latest pause, and none for another pause, after a resume or new caps', () => {
      const created = event('run.created', { goal: 'g', workspace: '/w', config: resolveRunConfig({ models: [{ id: 'm', provider: 'scripted', transcript: 't.json' }] }) });
      const breachOf = (...events: EngineEvent[]): BudgetBreach | undefined => foldEvents(log(created, event('run.status', { status: 'planning' }), ...events))?.budgetBreach;
      assert.equal(breachOf(status('running'), BREACH, status('paused'))?.limit, 5);
      assert.equal(breachOf(status('running'), BREACH, status('paused'), status('running')), undefined, 'resumed since');
      assert.equal(breachOf(status('running'), status('paused')), undefined, 'a triage pause is not a budget pause');
      assert.equal(breachOf(status('running'), BREACH, status('paused'), status('running'), status('paused')), undefined, 'the latest pause had no breach');
      assert.equal(breachOf(status('running'), BREACH, status('paused'), event('run.budgetsChanged', { budgets: { run: { usd: 10 }, onExceed: 'pause' } })), undefined, 'new caps: the breach may no longer hold');
    });

    it('words the notification, suggests a cap, checks typed caps and raises only the breached cap', () => {
      assert.match(budgetPauseMessage(BREACH), /^Budget reached: The cost cap of the run \(\$5\.00\) would be exceeded: \$4\.98 used, the next implementer call may take up to \$0\.0500\. The run is paused: raise the cap to go on, or stop the run\.$/);
      assert.equal(suggestedCap(BREACH), 10);
      assert.equal(checkCapInput('4', 'usd', BREACH), 'The cap must be above what is already used ($4.98).');
      assert.match(checkCapInput('abc', 'usd', BREACH)!, /Type an amount in USD/);
      assert.equal(checkCapInput('$7.50', 'usd', BREACH), undefined);
      assert.equal(checkCapInput('1.5', 'tokens', undefined), 'Tokens are a whole number.');
      const budgets = { run: { usd: 5, tokens: 1000 }, task: { usd: 1 }, onExceed: 'pause' as const };
      assert.deepEqual(withCap(budgets, { scope: 'run', metric: 'usd' }, 10), { run: { usd: 10, tokens: 1000 }, task: { usd: 1 }, onExceed: 'pause' });
      assert.deepEqual(withCap(budgets, { scope: 'role', role: 'reviewer', metric: 'tokens' }, 5000).roles, { reviewer: { tokens: 5000 } });
      assert.deepEqual(budgets.run, { usd: 5, tokens: 1000 }, 'the original is not changed');
    });

    it('offers to remove the USD cap when the model has no price (raising it cannot help)', () => {
      const unpriced = { ...BREACH, estimate: Number.NaN } as BudgetBreach;
      assert.ok(isUnpricedBreach(unpriced) && !isUnpricedBreach(BREACH));
      assert.match(budgetPauseMessage(unpriced), /The cost cap of the run \(\$5\.00\) cannot be kept: the next implementer call goes to a model without a price.*remove the USD cap to go on/);
      assert.ok(!budgetPauseMessage(unpriced).includes('NaN'));
      assert.deepEqual(withoutCap({ run: { usd: 5, tokens: 1000 }, onExceed: 'pause' }, { scope: 'run', metric: 'usd' }), { run: { tokens: 1000 }, onExceed: 'pause' });
      assert.deepEqual(withoutCap({ roles: { reviewer: { usd: 1 } }, onExceed: 'stop' }, { scope: 'role', role: 'reviewer', metric: 'usd' }), { onExceed: 'stop' });
    });
  });

  describe('output lines', () => {
    it('reports fallbacks, breaker changes, budget breaches and failed calls, redacted', () => {
      const sink = recorder();
      logModelEvent(sink, 'r1', event('model.fallback', { stepId: 's', taskId: 't1', role: 'implementer', from: 'a', to: 'b', reason: 'rate limited (HTTP 429): slow down' }));
      logModelEvent(sink, 'r1', event('breaker.changed', { key: 'openai@https://x', state: 'open', reason: '3 failures in a row', until: new Date(60_000).toISOString() }));
      logModelEvent(sink, 'r1', event('breaker.changed', { key: 'openai@https://x', state: 'closed', reason: 'answered again' }));
      logModelEvent(sink, 'r1', BREACH);
      logModelEvent(sink, 'r1', event('llm.call', { stepId: 's', role: 'planner', model: 'a', provider: 'openai', inputTokens: 1, outputTokens: 1, cachedInputTokens: 0, usd: 0, priced: false, latencyMs: 1200, outcome: 'error', error: 'Incorrect API key provided: sk-proj-abcdefghijklmnopqrstuvwxyz' }));
      logModelEvent(sink, 'r1', event('step.started', { stepId: 's', role: 'planner', attempt: 1, model: 'a' }));
      assert.equal(sink.lines.length, 5, 'step events are not this module\'s');
      assert.match(sink.lines[0]!, /^warn: \[r1\] t1 implementer: model "a" failed \(rate limited \(HTTP 429\): slow down\); falling over to "b"\.$/);
      assert.match(sink.lines[1]!, /^warn: \[r1\] circuit breaker for openai@https:\/\/x opened: 3 failures in a row\. Calls skip it until/);
      assert.match(sink.lines[2]!, /^info: \[r1\] circuit breaker for openai@https:\/\/x closed/);
      assert.match(sink.lines[3]!, /^warn: \[r1\] budget reached: The cost cap of the run \(\$5\.00\) would be exceeded: \$4\.98 used, the next implementer call may take up to \$0\.0500\. The run pauses\.$/);
      assert.ok(sink.lines[4]!.startsWith('warn: ') && !sink.lines[4]!.includes('abcdefghijklmnop'), 'a key-shaped string is redacted');
      const ok = modelEventLine('r1', event('llm.call', { stepId: 's', role: 'planner', model: 'c', provider: 'vscode-lm', inputTokens: 10, outputTokens: 2, cachedInputTokens: 0, usd: 0, priced: false, latencyMs: 500, outcome: 'ok' }));
      assert.deepEqual(ok, { level: 'debug', text: '[r1] planner c (vscode-lm): 10 in / 2 out tokens, unknown cost, 0.5 s' });
    });
  });

  describe('Test Model Connection', function () {
    this.timeout(20_000);
    const KEY = 'plain-words-secret-key-7f3a9c';
    const servers: FakeServer[] = [];
    afterEach(async () => {
      await Promise.all(servers.splice(0).map((server) => server.close()));
    });

    it('reports model, latency and tokens on success, through the runs\' createLanguageModel path with the stored key', async () => {
      const server = await startFakeOpenAI({ kind: 'answer', text: 'OK', usage: { input: 12, output: 1, cached: 0 } });
      servers.push(server);
      const spec: ModelSpec = { id: 'main', provider: 'openai', model: 'gpt-5.4-mini', baseURL: server.url, apiKeyName: 'MY_KEY' };
      const result = await testConnection(spec, { workspaceRoot: process.cwd(), secret: async (name) => (name === 'MY_KEY' ? KEY : undefined) });
      assert.equal(result.ok, true, JSON.stringify(result));
      assert.ok(result.ok);
      assert.deepEqual([result.text, result.inputTokens, result.outputTokens, result.provider, result.estimatedUsage], ['OK', 12, 1, 'openai', false]);
      assert.ok(result.latencyMs >= 0);
      assert.equal(server.requests[0]!.headers.authorization, `Bearer ${KEY}`, 'the stored key was sent to the endpoint');
    });

    it('explains a refused key with the key name and "Set API Key", and never repeats the key an endpoint echoes', async () => {
      const server = await startFakeAnthropic({ kind: 'error', status: 401, message: `invalid x-api-key: ${KEY}` });
      servers.push(server);
      const spec: ModelSpec = { id: 'claude', provider: 'anthropic', model: 'claude-sonnet-4-5', baseURL: server.url };
      const result = await testConnection(spec, { workspaceRoot: process.cwd(), secret: async () => KEY });
      assert.ok(!result.ok);
      assert.equal(result.action, 'setApiKey');
      assert.match(result.message, /refused the API key "ANTHROPIC_API_KEY" for model "claude" \(HTTP 401/);
      assert.ok(!JSON.stringify(result).includes(KEY), 'the echoed key is cut out');
    });

    it('explains a missing key, an unknown model and a server that is not running', async () => {
      const missing = await testConnection({ id: 'gpt', provider: 'openai', model: 'gpt-5.4' }, { workspaceRoot: process.cwd(), secret: async () => undefined });
      assert.ok(!missing.ok && missing.action === 'setApiKey' && /needs the API key "OPENAI_API_KEY"/.test(missing.message));
      const server = await startFakeOpenAI({ kind: 'error', status: 404, message: 'model "nope" not found' });
      servers.push(server);
      const unknown = await testConnection({ id: 'local', provider: 'openai-compatible', model: 'nope', baseURL: server.url }, { workspaceRoot: process.cwd(), secret: async () => undefined });
      assert.ok(!unknown.ok);
      assert.match(unknown.message, /does not know "nope" \(HTTP 404/);
      const down = await testConnection({ id: 'ollama', provider: 'openai-compatible', preset: 'ollama', model: 'qwen', baseURL: 'http://127.0.0.1:9/v1' }, { workspaceRoot: process.cwd(), secret: async () => undefined });
      assert.ok(!down.ok);
      assert.match(down.message, /Nothing answered at http:\/\/127\.0\.0\.1:9\/v1 for model "ollama".*Start the server \(`ollama serve`\)/);
    });

    it('names the default key of each provider', () => {
      assert.equal(apiKeyNameOf({ id: 'a', provider: 'openai', model: 'x' }), 'OPENAI_API_KEY');
      assert.equal(apiKeyNameOf({ id: 'a', provider: 'openai-compatible', model: 'x', preset: 'groq' }), 'GROQ_API_KEY');
      assert.equal(apiKeyNameOf({ id: 'a', provider: 'openai-compatible', model: 'x', preset: 'ollama' }), undefined);
      assert.equal(apiKeyNameOf({ id: 'a', provider: 'vscode-lm' }), undefined);
    });
  });
});
