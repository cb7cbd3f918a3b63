// Which run a chat view shows (follow the newest active run unless pinned), how runs read in the
// Runs tree and the history, the history search, the notice board, and the webview side of pins,
// notices, host/state and goals kept until a model works.
import { strict as assert } from 'node:assert';
import { NoticeBoard } from '../../src/host/notices';
import type { HostToWebviewMessage, RequestMessage, Snapshot } from '../../src/shared/protocol';
import { followsStartedRun, goalLabel, runDescription, runToShow, runTreeLabel, searchRuns, startedText } from '../../src/shared/runList';
import { foldEvents, summarizeRun, type RunSummary } from '../../src/shared/runState';
import { PanelController } from '../../webview/controller';
import { RpcClient, type RpcTransport } from '../../webview/rpc';
import { Store } from '../../webview/store';
import { goalOptionsToSend } from '../../webview/views/runBar';
import { fiveTaskRun } from './fixtures/webviewRun';

function run(id: string, createdAt: string, status: RunSummary['status'], extra: Partial<RunSummary> = {}): RunSummary {
  return {
    id,
    goal: `Goal of ${id}`,
    status,
    createdAt,
    updatedAt: createdAt,
    tasksDone: 0,
    tasksTotal: 0,
    usage: { calls: 0, inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, usd: 0 },
    ...extra,
  } as RunSummary;
}

// Newest first, as listRuns gives them.
const RUNS = [
  run('r4', '2026-12-02T15:00:00.000Z', 'completed'),
  run('r3', '2026-12-02T14:00:00.000Z', 'running'),
  run('r2', '2026-12-02T13:00:00.000Z', 'running'),
  run('r1', '2026-12-01T09:30:00.000Z', 'failed'),
];

describe('runToShow: which run a chat view shows', () => {
  it('follows the newest run this window drives, not a newer completed one', () => {
    assert.equal(runToShow({ runs: RUNS, driven: ['r2', 'r3'] }), 'r3');
    assert.equal(runToShow({ runs: RUNS, driven: ['r2'], shown: 'r4' }), 'r2');
  });

  it('ignores runs that look running but no window drives (interrupted)', () => {
    assert.equal(runToShow({ runs: RUNS, driven: [], shown: 'r1' }), 'r1');
    assert.equal(runToShow({ runs: RUNS, driven: [] }), 'r4');
  });

  it('keeps the pinned run over an active one, and a run the user asked for over both', () => {
    assert.equal(runToShow({ runs: RUNS, driven: ['r3'], pinned: 'r1' }), 'r1');
    assert.equal(runToShow({ runs: RUNS, driven: ['r3'], pinned: 'r1', requested: 'r4' }), 'r4');
  });

  it('forgets a pinned or requested run that no longer exists', () => {
    assert.equal(runToShow({ runs: RUNS, driven: ['r2'], pinned: 'gone', requested: 'gone too' }), 'r2');
    assert.equal(runToShow({ runs: [], driven: [], pinned: 'gone' }), undefined);
  });

  it('a started run takes a view over unless it is pinned to another run', () => {
    assert.equal(followsStartedRun('r5', undefined), true);
    assert.equal(followsStartedRun('r5', 'r5'), true);
    assert.equal(followsStartedRun('r5', 'r1'), false);
  });
});

describe('run labels (Runs tree, history, picker)', () => {
  const now = new Date(2026, 11, 2, 18, 0);

  it('says when a run started: the time (with seconds) today, the day this year, the year before', () => {
    assert.equal(startedText(new Date(2026, 11, 2, 9, 5).toISOString(), now), '09:05:00');
    assert.equal(startedText(new Date(2026, 10, 30, 23, 59).toISOString(), now), 'Nov 30 23:59');
    assert.equal(startedText(new Date(2025, 0, 3, 7, 0).toISOString(), now), 'Jan 3 2025 07:00');
    assert.equal(startedText('not a date', now), 'unknown time');
  });

  it('tells apart runs with the same goal by start time, status, tasks and cost', () => {
    const usage = { calls: 4, inputTokens: 1000, outputTokens: 200, cachedInputTokens: 0, usd: 0.0123 };
    const first = run('a', new Date(2026, 11, 2, 14, 5).toISOString(), 'completed', { goal: 'Fix the tests', tasksDone: 3, tasksTotal: 3, usage });
    const second = run('b', new Date(2026, 11, 2, 15, 40).toISOString(), 'failed', { goal: 'Fix the tests', tasksDone: 1, tasksTotal: 3 });
    assert.equal(runDescription(first, now), '14:05:00 · completed · 3/3 · $0.0123');
    assert.equal(runDescription(second, now), '15:40:00 · failed · 1/3');
    assert.notEqual(runDescription(first, now), runDescription(second, now));
    // The tree: the time leads the label (the side bar cuts descriptions first).
    assert.equal(runTreeLabel(first, 28, now), '14:05:00 · Fix the tests');
    assert.equal(runDescription(first, now, { time: false }), 'completed · 3/3 · $0.0123');
    assert.equal(runTreeLabel({ ...first, goal: 'Add a --json flag to every command of the CLI' }, 28, now), '14:05:00 · Add a --json flag to every …');
  });

  it('names interrupted runs and budget stops in words', () => {
    assert.equal(runDescription(run('a', new Date(2026, 11, 2, 8, 0).toISOString(), 'running', { interrupted: true }), now), '08:00:00 · interrupted');
    assert.equal(runDescription(run('a', new Date(2026, 11, 2, 8, 0).toISOString(), 'stopped_budget'), now), '08:00:00 · stopped (budget)');
  });

  it('cuts a goal to one line of the given length', () => {
    assert.equal(goalLabel('Add a\n  --json flag', 40), 'Add a --json flag');
    assert.equal(goalLabel('x'.repeat(50), 10), `${'x'.repeat(9)}…`);
  });
});

describe('searchRuns: the history search', () => {
  const now = new Date(2026, 11, 2, 18, 0);
  const runs = [
    run('r-json', new Date(2026, 11, 2, 14, 5).toISOString(), 'completed', { goal: 'Add a --json flag to the CLI' }),
    run('r-docs', new Date(2026, 11, 1, 10, 0).toISOString(), 'failed', { goal: 'Document the JSON output' }),
    run('r-calc', new Date(2026, 11, 1, 11, 0).toISOString(), 'running', { goal: 'Fix the calculator', interrupted: true }),
  ];
  const ids = (query: string): string[] => searchRuns(runs, query, now).map((found) => found.id);

  it('matches every word in any case and order, across goal, status and date', () => {
    assert.deepEqual(ids('json'), ['r-json', 'r-docs']);
    assert.deepEqual(ids('JSON failed'), ['r-docs']);
    assert.deepEqual(ids('cli add'), ['r-json']);
    assert.deepEqual(ids('dec 1'), ['r-docs', 'r-calc']);
    assert.deepEqual(ids('interrupted'), ['r-calc']);
  });

  it('keeps everything for an empty query and nothing for a miss', () => {
    assert.deepEqual(ids('   '), ['r-json', 'r-docs', 'r-calc']);
    assert.deepEqual(ids('rust'), []);
  });
});

describe('NoticeBoard', () => {
  it('lists notices by id, replaces one with the same id and tells listeners', () => {
    const board = new NoticeBoard();
    let changes = 0;
    board.onDidChange(() => changes++);
    board.set({ id: 'resume', message: 'Resume?', actions: [{ label: 'Resume', run: () => undefined }] });
    board.set({ id: 'resume', message: 'Resume 2 runs?', tone: 'warning', actions: [{ label: 'Resume', run: () => undefined }] });
    assert.deepEqual(board.list(), [{ id: 'resume', message: 'Resume 2 runs?', tone: 'warning', actions: ['Resume'] }]);
    assert.equal(changes, 2);
  });

  it('runs an action and drops the notice, unless the action says it is not settled', async () => {
    const board = new NoticeBoard();
    const ran: string[] = [];
    board.set({ id: 'key', message: 'Set the key', actions: [{ label: 'Set API Key', run: () => (ran.push('key'), false) }, { label: 'Later', run: () => void ran.push('later') }] });
    assert.equal(await board.act('key', 'Set API Key'), true);
    assert.equal(board.has('key'), true, 'an action resolving false keeps the notice');
    assert.equal(await board.act('key', 'Later'), true);
    assert.equal(board.has('key'), false);
    assert.deepEqual(ran, ['key', 'later']);
  });

  it('dismisses without an action, and refuses unknown notices and actions', async () => {
    const board = new NoticeBoard();
    board.set({ id: 'a', message: 'A', actions: [{ label: 'Go', run: () => undefined }] });
    assert.equal(await board.act('a', 'Nope'), false);
    assert.equal(board.has('a'), true);
    assert.equal(await board.act('a', undefined), true);
    assert.equal(board.has('a'), false);
    assert.equal(await board.act('a', 'Go'), false);
  });

  it('keeps the newer version when an action sets its notice again', async () => {
    const board = new NoticeBoard();
    board.set({ id: 'goal', message: 'waiting', actions: [{ label: 'Start Now', run: () => (board.set({ id: 'goal', message: 'still waiting', actions: [] }), false) }] });
    await board.act('goal', 'Start Now');
    assert.equal(board.list()[0]?.message, 'still waiting');
  });
});

describe('composer options sent with a goal', () => {
  const defaults = { models: ['fast', 'strong'], autoApprove: false };
  it('sends only what differs from the settings, and only configured models', () => {
    assert.deepEqual(goalOptionsToSend(defaults, {}), {});
    assert.deepEqual(goalOptionsToSend(defaults, { model: 'strong', autoApprove: true }), { model: 'strong', autoApprove: true });
    assert.deepEqual(goalOptionsToSend(defaults, { model: 'removed', autoApprove: false }), {});
  });
});

class Channel implements RpcTransport {
  readonly posted: RequestMessage[] = [];
  private listener?: (data: unknown) => void;
  answer: (message: RequestMessage) => unknown = () => ({});
  post(message: RequestMessage): void {
    this.posted.push(message);
    const result = this.answer(message);
    void Promise.resolve().then(() => this.listener?.({ kind: 'response', id: message.id, ok: true, result }));
  }
  listen(onMessage: (data: unknown) => void): () => void {
    this.listener = onMessage;
    return () => (this.listener = undefined);
  }
  deliver(message: HostToWebviewMessage): void {
    this.listener?.(message);
  }
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('chat view webview: host state, pins, notices, goals waiting for a model', () => {
  const events = fiveTaskRun('run-1', 40);
  const snapshot = (extra: Partial<Snapshot> = {}): Snapshot => ({ runs: [summarizeRun(foldEvents(events)!)], activeRunId: 'run-1', activeLog: events, canStartGoals: false, cannotStartReason: 'not trusted', ...extra });

  it('enables the composer when host/state says trust was granted, without a reload', async () => {
    const channel = new Channel();
    channel.answer = (message) => (message.method === 'app/ready' ? snapshot() : {});
    const store = new Store();
    await new PanelController(new RpcClient(channel), store).start();
    assert.equal(store.state.canStartGoals, false);
    channel.deliver({ kind: 'notification', method: 'host/state', params: { canStartGoals: true, notices: [{ id: 'setup', message: 'No model', tone: 'info', actions: ['Configure Models'] }], composer: { models: ['m'], autoApprove: true } } });
    assert.equal(store.state.canStartGoals, true);
    assert.equal(store.state.cannotStartReason, undefined);
    assert.deepEqual(store.state.notices.map((notice) => notice.id), ['setup']);
    assert.deepEqual(store.state.composer, { models: ['m'], autoApprove: true });
    assert.equal(store.state.activeRunId, 'run-1', 'the run shown stays');
  });

  it('pins and unpins through run/pin, and acts on notices through notice/act', async () => {
    const channel = new Channel();
    channel.answer = (message) => {
      if (message.method === 'app/ready') return snapshot({ canStartGoals: true });
      if (message.method === 'run/pin') return { pinnedRunId: (message.params as { runId?: string }).runId };
      if (message.method === 'notice/act') return { done: (message.params as { id: string }).id === 'setup' };
      return {};
    };
    const store = new Store();
    const controller = new PanelController(new RpcClient(channel), store);
    await controller.start();
    await controller.pin('run-1');
    assert.equal(store.state.pinnedRunId, 'run-1');
    await controller.pin(undefined);
    assert.equal(store.state.pinnedRunId, undefined);
    await controller.actOnNotice('setup', 'Configure Models');
    await controller.actOnNotice('stale');
    const sent = channel.posted.filter((message) => message.method === 'run/pin' || message.method === 'notice/act').map((message) => [message.method, message.params]);
    assert.deepEqual(sent, [
      ['run/pin', { runId: 'run-1' }],
      ['run/pin', {}],
      ['notice/act', { id: 'setup', action: 'Configure Models' }],
      ['notice/act', { id: 'stale' }],
    ]);
    assert.deepEqual(store.state.errors.map((error) => error.message), ['That prompt is no longer current.']);
  });

  it('a goal the host keeps for a model counts as taken (the input clears) and opens no run', async () => {
    const channel = new Channel();
    channel.answer = (message) => (message.method === 'app/ready' ? snapshot({ canStartGoals: true }) : message.method === 'goal/start' ? { waitingForModel: true } : {});
    const store = new Store();
    const controller = new PanelController(new RpcClient(channel), store);
    await controller.start();
    assert.equal(await controller.startGoal('Add a flag', { model: 'strong', autoApprove: true }), true);
    await tick();
    assert.deepEqual(channel.posted.find((message) => message.method === 'goal/start')?.params, { goal: 'Add a flag', model: 'strong', autoApprove: true });
    assert.equal(channel.posted.some((message) => message.method === 'run/open'), false);
    assert.deepEqual(store.state.errors, []);
  });
});
