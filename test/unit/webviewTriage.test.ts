// The panel's triage, replay and cost parts in plain Node: the protocol's new requests, the store's
// budget breach, the controller's requests and error bars, a task's history, the cost figures and the
// chat's wording when edits are approved automatically.
import { strict as assert } from 'node:assert';
import type { EngineEvent, EngineEventOf } from '../../src/shared/events';
import type { HostToWebviewMessage, RequestMessage } from '../../src/shared/protocol';
import { parseRequest } from '../../src/shared/protocolSchemas';
import { dependentsOf, foldEvents, summarizeRun } from '../../src/shared/runState';
import { PanelController } from '../../webview/controller';
import { costTooltip, roleCosts } from '../../webview/costs';
import { capOfBreach, suggestedCap, withCap } from '../../src/shared/budgets';
import { costText, describeBreach } from '../../src/shared/wording';
import { chatMessageOf, extendChat, type ChatMessage } from '../../webview/eventText';
import { RpcClient, type RpcTransport } from '../../webview/rpc';
import { Store } from '../../webview/store';
import { stepIdOfArtifact, taskHistory } from '../../webview/taskHistory';
import { RunLogBuilder, TEST_CONFIG } from './fixtures/webviewRun';

const PLAN = {
  summary: 'Fix add().',
  tasks: [
    { id: 't1', title: 'Fix add()', description: 'Make add return a + b.', role: 'implementer' as const, dependsOn: [], acceptance: ['add tests pass'], files: ['src/calc.js'] },
    { id: 't2', title: 'Test it', description: 'More tests.', role: 'tester' as const, dependsOn: ['t1'], acceptance: ['tests'], files: ['test/a.js'] },
    { id: 't3', title: 'Docs', description: 'README.', role: 'docs' as const, dependsOn: ['t2'], acceptance: ['docs'], files: ['README.md'] },
    { id: 't4', title: 'Other', description: 'x', role: 'docs' as const, dependsOn: [], acceptance: ['x'], files: ['x.md'] },
  ],
};

const failingReport = {
  command: 'node --test',
  exitCode: 1,
  timedOut: false,
  passed: 2,
  failed: 1,
  skipped: 0,
  failures: [{ name: 'multiply returns the product', message: 'expected 20, got 21' }],
  durationMs: 300,
  ok: false,
  outputTail: '',
};

/** A run whose t1 failed once, was dead-lettered, retried with another model and replayed. */
function deadLetterRun(config = TEST_CONFIG): EngineEvent[] {
  const log = new RunLogBuilder('run-t');
  log.add({ type: 'run.created', goal: 'Fix the calculator', workspace: '/w', config: { ...config, models: [...config.models, { id: 'strong', provider: 'scripted', transcript: 's.json' }] } });
  log.add({ type: 'run.status', status: 'planning' });
  log.add({ type: 'plan.accepted', plan: PLAN, repairs: 0 });
  log.add({ type: 'run.status', status: 'running' });
  log.task('t1', 'ready', 'running');
  log.add({ type: 'step.started', stepId: 't1:implement@v1', taskId: 't1', role: 'implementer', attempt: 1, model: 'scripted' });
  log.add({ type: 'llm.call', stepId: 't1:implement@v1', taskId: 't1', role: 'implementer', model: 'scripted', provider: 'scripted', inputTokens: 100, outputTokens: 20, cachedInputTokens: 0, usd: 0, latencyMs: 5, outcome: 'ok', priced: false });
  log.add({ type: 'step.finished', stepId: 't1:implement@v1', taskId: 't1', role: 'implementer', ok: true, summary: 'changed multiply' });
  log.task('t1', 'awaiting-review', 'testing');
  log.add({ type: 'test.finished', phase: 'task', taskId: 't1', report: failingReport });
  log.add({ type: 'task.status', taskId: 't1', status: 'failed', reason: 'tests failed: multiply returns the product', signature: 'tests:multiply returns the product' });
  log.add({ type: 'task.status', taskId: 't1', status: 'dead_letter', reason: '1 attempt failed; last: tests failed' });
  log.add({ type: 'run.status', status: 'paused', reason: 'needs triage: t1 (1 attempt failed)' });
  log.add({ type: 'task.updated', taskId: 't1', changes: { model: 'strong' } });
  log.add({ type: 'task.status', taskId: 't1', status: 'ready', reason: 'retried by the user with strong' });
  log.add({ type: 'step.started', stepId: 't1:implement@v2', taskId: 't1', role: 'implementer', attempt: 1, model: 'strong' });
  log.add({ type: 'step.finished', stepId: 't1:implement@v2', taskId: 't1', role: 'implementer', ok: true, summary: 'replayed' });
  log.add({ type: 'step.replayed', stepId: 't1:implement@v1', artifact: 'steps/t1.implement@v2.json', model: 'strong', ok: true, summary: 'replayed' });
  return log.events;
}

// A function, so the assertions between reads do not narrow the field for the compiler.
const breachOf = (store: Store): EngineEventOf<'budget.exceeded'> | undefined => store.state.run?.budgetBreach;

class FakeChannel implements RpcTransport {
  readonly posted: RequestMessage[] = [];
  private listener?: (data: unknown) => void;
  /** Answers a request: a result, or an Error for an error reply. */
  answer: (message: RequestMessage) => unknown = () => ({});

  post(message: RequestMessage): void {
    this.posted.push(message);
    const result = this.answer(message);
    const reply: HostToWebviewMessage =
      result instanceof Error
        ? { kind: 'response', id: message.id, ok: false, error: { message: result.message } }
        : ({ kind: 'response', id: message.id, ok: true, result } as HostToWebviewMessage);
    void Promise.resolve().then(() => this.listener?.(reply));
  }

  listen(onMessage: (data: unknown) => void): () => void {
    this.listener = onMessage;
    return () => (this.listener = undefined);
  }
}

describe('protocol: triage, replay and budget requests', () => {
  const request = (method: string, params: unknown) => parseRequest({ kind: 'request', id: 1, method, params });

  it('accepts every triage decision', () => {
    for (const action of [
      { kind: 'retry' },
      { kind: 'retry', model: 'strong' },
      { kind: 'skip' },
      { kind: 'takeOver' },
      { kind: 'edit', changes: { title: 'New title', acceptance: ['a', 'b'] } },
      { kind: 'edit', changes: { description: '' } },
    ]) {
      const parsed = request('task/triage', { runId: 'r', taskId: 't1', action });
      assert.ok(parsed.ok, JSON.stringify(action));
      assert.deepEqual(parsed.message.params, { runId: 'r', taskId: 't1', action });
    }
  });

  it('rejects triage decisions that are not ones', () => {
    for (const action of [
      undefined,
      {},
      { kind: 'delete' },
      { kind: 'retry', model: '' },
      { kind: 'skip', force: true },
      { kind: 'edit' },
      { kind: 'edit', changes: {} },
      { kind: 'edit', changes: { title: '   ' } },
      { kind: 'edit', changes: { acceptance: [''] } },
      { kind: 'edit', changes: { status: 'done' } },
    ]) {
      const parsed = request('task/triage', { runId: 'r', taskId: 't1', action });
      assert.equal(parsed.ok, false, JSON.stringify(action));
      if (!parsed.ok) assert.match(parsed.error, /^Invalid params for task\/triage: /);
    }
    assert.equal(request('task/triage', { runId: 'r', action: { kind: 'skip' } }).ok, false, 'the task id is required');
  });

  it('checks step/replay ids and run/setBudgets caps', () => {
    assert.ok(request('step/replay', { runId: 'r', stepId: 'plan@v1' }).ok);
    assert.ok(request('step/replay', { runId: 'r', stepId: 't1:fix@v12', model: 'm' }).ok);
    for (const stepId of ['t1', 't1:implement', 'a b@v1', '']) assert.equal(request('step/replay', { runId: 'r', stepId }).ok, false, stepId);
    assert.ok(request('run/setBudgets', { runId: 'r', budgets: { roles: { fixer: { tokens: 1000 } }, onExceed: 'stop' }, resume: false }).ok);
    for (const budgets of [{}, { onExceed: 'later' }, { run: { usd: -1 }, onExceed: 'pause' }, { run: { tokens: 1.5 }, onExceed: 'pause' }, { run: { euros: 1 }, onExceed: 'pause' }]) {
      assert.equal(request('run/setBudgets', { runId: 'r', budgets, resume: true }).ok, false, JSON.stringify(budgets));
    }
    assert.equal(request('run/setBudgets', { runId: 'r', budgets: { onExceed: 'pause' } }).ok, false, 'resume is required');
  });
});

describe('webview: task history', () => {
  it('lists steps with models and replays, failures with signatures, tests and triage', () => {
    const history = taskHistory(deadLetterRun(), 't1');
    assert.deepEqual(
      history.map((entry) => entry.kind),
      ['step', 'test', 'failure', 'status', 'edited', 'status', 'step'],
    );
    const [first, test, failure, dead, edited, retried, replay] = history;
    assert.ok(first?.kind === 'step' && first.model === 'scripted' && first.ok === true && first.summary === 'changed multiply' && !first.replayOf);
    assert.ok(test?.kind === 'test' && !test.ok && test.failing[0] === 'multiply returns the product');
    assert.ok(failure?.kind === 'failure' && failure.signature === 'tests:multiply returns the product');
    assert.ok(dead?.kind === 'status' && dead.status === 'dead_letter');
    assert.ok(edited?.kind === 'edited' && edited.model === 'strong' && edited.fields.length === 0);
    assert.ok(retried?.kind === 'status' && retried.status === 'ready');
    assert.ok(replay?.kind === 'step' && replay.replayOf === 't1:implement@v1' && replay.model === 'strong');
    assert.deepEqual(taskHistory(deadLetterRun(), 't2'), []);
  });

  it('names the step a replay artifact holds, and the tasks a skip takes with it', () => {
    assert.equal(stepIdOfArtifact('steps/t1.implement@v2.json'), 't1:implement@v2');
    assert.equal(stepIdOfArtifact('steps/plan@v3.json'), 'plan@v3');
    const state = foldEvents(deadLetterRun())!;
    assert.deepEqual(dependentsOf(state.tasks, state.taskOrder, 't1'), ['t2', 't3']);
    assert.deepEqual(dependentsOf(state.tasks, state.taskOrder, 't4'), []);
  });
});

describe('webview: costs and budgets', () => {
  it('totals per role and says "unknown cost" for unpriced calls', () => {
    const state = foldEvents(deadLetterRun())!;
    assert.equal(costText(state.usage), 'unknown cost');
    assert.equal(costText({ calls: 2, inputTokens: 1, outputTokens: 1, cachedInputTokens: 0, usd: 0.5, unpricedCalls: 1 }), '$0.5000 + unknown cost');
    assert.equal(costText({ calls: 2, inputTokens: 1, outputTokens: 1, cachedInputTokens: 0, usd: 1.5 }), '$1.50');
    assert.deepEqual(roleCosts(state.usageByRole).map((cost) => cost.role), ['implementer']);
    const tooltip = costTooltip(state.usage, state.usageByRole);
    assert.match(tooltip, /^This run: 1 call/);
    assert.match(tooltip, /\nimplementer: 1 call · 100 in \/ 20 out · unknown cost/);
    assert.match(tooltip, /1 call used a model without a known price/);
  });

  it('raises exactly the breached cap, to at least double', () => {
    const breach = { type: 'budget.exceeded', scope: 'role', key: 'fixer', metric: 'usd', limit: 0.5, used: 0.45, estimate: 0.2, action: 'pause', role: 'fixer', seq: 9, at: '', runId: 'r' } as EngineEventOf<'budget.exceeded'>;
    assert.equal(suggestedCap(breach), 1);
    assert.deepEqual(withCap({ run: { usd: 5 }, roles: { fixer: { usd: 0.5, tokens: 9000 }, planner: { usd: 1 } }, onExceed: 'pause' }, capOfBreach(breach), 1), {
      run: { usd: 5 },
      roles: { fixer: { usd: 1, tokens: 9000 }, planner: { usd: 1 } },
      onExceed: 'pause',
    });
    const runTokens = { ...breach, scope: 'run', key: 'r', metric: 'tokens', limit: 1000, used: 900, estimate: 800 } as EngineEventOf<'budget.exceeded'>;
    // Token caps are suggested in whole thousands: 900 used + 2 × 800 = 2,500 → 3,000.
    assert.equal(suggestedCap(runTokens), 3000);
    assert.deepEqual(withCap({ onExceed: 'stop' }, capOfBreach(runTokens), 2500.2), { run: { tokens: 2501 }, onExceed: 'stop' });
    assert.match(describeBreach(breach), /cost cap of the fixer role \(\$0\.5000\) would be exceeded: \$0\.4500 used/);
  });

  it('the store keeps the breach while the run is paused by it, and drops it when the run moves on', () => {
    const log = new RunLogBuilder('run-b');
    log.add({ type: 'run.created', goal: 'g', workspace: '/w', config: TEST_CONFIG });
    log.add({ type: 'run.status', status: 'planning' });
    log.add({ type: 'budget.exceeded', scope: 'run', key: 'run-b', metric: 'usd', limit: 1, used: 0.9, estimate: 0.3, action: 'pause', role: 'planner' });
    log.add({ type: 'run.status', status: 'paused', reason: 'budget' });
    const store = new Store();
    store.loadSnapshot({ runs: [summarizeRun(foldEvents(log.events)!)], activeRunId: 'run-b', activeLog: log.events, canStartGoals: true });
    assert.equal(breachOf(store)?.limit, 1);
    store.receiveEvent('run-b', log.add({ type: 'run.budgetsChanged', budgets: { run: { usd: 2 }, onExceed: 'pause' } }));
    assert.equal(store.state.run?.budgetBreach, undefined);
    store.receiveEvent('run-b', log.add({ type: 'run.status', status: 'planning' }));
    store.receiveEvent('run-b', log.add({ type: 'budget.exceeded', scope: 'run', key: 'run-b', metric: 'usd', limit: 2, used: 1.9, estimate: 0.3, action: 'pause', role: 'planner' }));
    store.receiveEvent('run-b', log.add({ type: 'run.status', status: 'paused', reason: 'budget' }));
    assert.equal(breachOf(store)?.limit, 2);
    store.receiveEvent('run-b', log.add({ type: 'run.status', status: 'planning' }));
    assert.equal(store.state.run?.budgetBreach, undefined, 'resumed: the breach no longer holds');
  });
});

describe('webview controller: triage, replay, budgets', () => {
  it('sends each decision as task/triage and reports a refusal in the error bar', async () => {
    const channel = new FakeChannel();
    const store = new Store();
    const controller = new PanelController(new RpcClient(channel), store);
    channel.answer = () => ({ resumed: true });
    assert.equal(await controller.triage('r', 't1', { kind: 'retry', model: 'strong' }), true);
    assert.equal(await controller.triage('r', 't1', { kind: 'edit', changes: { title: 'T' } }), true);
    assert.deepEqual(
      channel.posted.map((message) => [message.method, message.params]),
      [
        ['task/triage', { runId: 'r', taskId: 't1', action: { kind: 'retry', model: 'strong' } }],
        ['task/triage', { runId: 'r', taskId: 't1', action: { kind: 'edit', changes: { title: 'T' } } }],
      ],
    );
    channel.answer = () => new Error('Task t1 is done; only a task in dead-letter can be retried, skipped or taken over.');
    assert.equal(await controller.triage('r', 't1', { kind: 'skip' }), false);
    assert.deepEqual(store.state.errors.map((error) => error.message), ['Could not skip t1: Task t1 is done; only a task in dead-letter can be retried, skipped or taken over.']);
  });

  it('replays a step (with or without another model) and sets budgets with resume', async () => {
    const channel = new FakeChannel();
    const store = new Store();
    const controller = new PanelController(new RpcClient(channel), store);
    channel.answer = (message) => (message.method === 'step/replay' ? { replayId: 't1:implement@v2', ok: true, summary: 's' } : { resumed: true });
    assert.deepEqual(await controller.replayStep('r', 't1:implement@v1'), { replayId: 't1:implement@v2', ok: true, summary: 's' });
    await controller.replayStep('r', 't1:implement@v1', 'strong');
    assert.equal(await controller.setBudgets('r', { run: { usd: 3 }, onExceed: 'pause' }, true), true);
    assert.deepEqual(
      channel.posted.map((message) => message.params),
      [{ runId: 'r', stepId: 't1:implement@v1' }, { runId: 'r', stepId: 't1:implement@v1', model: 'strong' }, { runId: 'r', budgets: { run: { usd: 3 }, onExceed: 'pause' }, resume: true }],
    );
    channel.answer = () => new Error('Step t9:fix@v1 has no record in this run.');
    assert.equal(await controller.replayStep('r', 't9:fix@v1'), undefined);
    assert.match(store.state.errors[0]!.message, /^Could not replay t9:fix@v1: Step t9:fix@v1 has no record/);
  });
});

describe('webview chat: review wording', () => {
  const title = (): string => 'Fix add()';
  const log = new RunLogBuilder('run-c');
  const awaiting = log.add({ type: 'task.status', taskId: 't2', status: 'awaiting-review' });
  const auto = log.add({ type: 'edit.decided', proposalId: 'p', taskId: 't2', accepted: ['a'], rejected: [], by: 'auto' });

  it('does not ask for a review when auto-approve decides', () => {
    const message = chatMessageOf(awaiting, title, { autoApprove: true });
    assert.ok(message);
    assert.doesNotMatch(message.markdown, /your review/);
    assert.match(message.markdown, /auto-approve applies them/);
  });

  it('rewrites "await your review" once an automatic decision follows (auto-approve rules)', () => {
    const chat: ChatMessage[] = [];
    extendChat(chat, awaiting, title);
    assert.match(chat[0]!.markdown, /await your review/);
    extendChat(chat, auto, title);
    assert.equal(chat.length, 1);
    assert.doesNotMatch(chat[0]!.markdown, /your review/);
    assert.match(chat[0]!.markdown, /approved automatically/);
  });

  it('keeps "await your review" when the user decides', () => {
    const chat: ChatMessage[] = [];
    extendChat(chat, awaiting, title);
    extendChat(chat, { ...auto, by: 'user' } as EngineEvent, title);
    assert.match(chat[0]!.markdown, /await your review/);
  });
});
