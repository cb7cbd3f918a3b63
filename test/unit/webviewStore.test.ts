import { strict as assert } from 'node:assert';
import type { EngineEvent } from '../../src/shared/events';
import { LOG_TAIL_EVENTS, logToSend } from '../../src/shared/logTail';
import type { HostToWebviewMessage, RequestMessage, Snapshot } from '../../src/shared/protocol';
import { foldEvents, summarizeRun, type RunState } from '../../src/shared/runState';
import { PanelController } from '../../webview/controller';
import { layoutDag } from '../../webview/dagLayout';
import { chatMessageOf, extendFiltered, visibleRange } from '../../webview/eventText';
import { describeEvent } from '../../src/shared/wording';
import { RpcClient, RpcError, type RpcTransport } from '../../webview/rpc';
import { Store } from '../../webview/store';
import { fiveTaskRun } from './fixtures/webviewRun';

function snapshotOf(events: EngineEvent[], extra: Partial<Snapshot> = {}): Snapshot {
  const state = foldEvents(events);
  return {
    runs: state ? [summarizeRun(state)] : [],
    activeRunId: state?.id,
    activeLog: events,
    canStartGoals: true,
    ...extra,
  };
}

/** A fake postMessage channel: records what the client posts and delivers host messages to it. */
class FakeChannel implements RpcTransport {
  readonly posted: RequestMessage[] = [];
  private listener?: (data: unknown) => void;
  onPost?: (message: RequestMessage) => void;

  post(message: RequestMessage): void {
    this.posted.push(message);
    this.onPost?.(message);
  }

  listen(onMessage: (data: unknown) => void): () => void {
    this.listener = onMessage;
    return () => {
      this.listener = undefined;
    };
  }

  deliver(message: HostToWebviewMessage | unknown): void {
    this.listener?.(message);
  }

  get listening(): boolean {
    return this.listener !== undefined;
  }
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('webview store', () => {
  const events = fiveTaskRun('run-1', 300);

  it('folds a snapshot and then live run/events into the same RunState foldEvents gives', () => {
    const store = new Store();
    store.loadSnapshot(snapshotOf(events.slice(0, 120)));
    for (const event of events.slice(120)) store.receiveEvent('run-1', event);
    assert.deepEqual(store.state.run, foldEvents(events));
    assert.equal(store.state.events.length, 300);
    assert.equal(store.state.needsResync, false);
    assert.equal(store.state.run?.tasks.t4.status, 'awaiting-review');
  });

  it('takes the host\'s folded state and folds only the events after it', () => {
    const store = new Store();
    const upTo = foldEvents(events.slice(0, 200))!;
    // Only the folded state has this title: kept, the first 200 events were not folded again.
    upTo.tasks.t1.title = 'Named in the folded state';
    store.loadSnapshot(snapshotOf(events.slice(0, 250), { activeState: upTo }));
    assert.equal(store.state.run?.tasks.t1.title, 'Named in the folded state');
    assert.equal(store.state.run?.lastSeq, 250);
    assert.equal(store.state.events.length, 250, 'the whole log, for the log view and the chat');
    const expected = foldEvents(events.slice(0, 250))!;
    expected.tasks.t1.title = 'Named in the folded state';
    assert.deepEqual(store.state.run, expected);
    for (const event of events.slice(250)) store.receiveEvent('run-1', event);
    assert.equal(store.state.run?.lastSeq, 300);
  });

  it('folds the log itself when the state is ahead of it, of another run, or the log has a gap or starts after the state', () => {
    const ahead = foldEvents(events.slice(0, 120))!;
    ahead.tasks.t1.title = 'ahead';
    const store = new Store();
    store.loadSnapshot(snapshotOf(events.slice(0, 100), { activeState: ahead }));
    assert.deepEqual(store.state.run, foldEvents(events.slice(0, 100)));
    const other = foldEvents(fiveTaskRun('run-2', 100))!;
    store.loadSnapshot(snapshotOf(events.slice(0, 100), { activeState: other }));
    assert.deepEqual(store.state.run, foldEvents(events.slice(0, 100)));
    // Events the state lacks and the log does not have: neither can be shown as the run.
    const upTo = foldEvents(events.slice(0, 50))!;
    upTo.tasks.t1.title = 'partial';
    store.loadSnapshot({ ...snapshotOf(events.slice(0, 100)), activeLog: events.slice(60, 100), activeState: upTo });
    assert.notEqual(store.state.run?.tasks.t1?.title, 'partial');
    assert.equal(store.state.needsResync, true);
    store.loadSnapshot({ ...snapshotOf(events.slice(0, 100)), activeLog: [...events.slice(0, 40), ...events.slice(45, 100)], activeState: upTo });
    assert.notEqual(store.state.run?.tasks.t1?.title, 'partial');
    assert.equal(store.state.needsResync, true);
  });

  it("takes the log's newest events with the folded state, and its older events when they come", () => {
    const state = foldEvents(events.slice(0, 290))!;
    const store = new Store();
    store.loadSnapshot({ ...snapshotOf(events), activeLog: events.slice(200), activeState: state });
    assert.deepEqual(store.state.run, foldEvents(events), 'the state, and the events after it folded');
    assert.equal(store.state.olderEvents, 200);
    assert.deepEqual(store.state.events, events.slice(200));
    const live = fiveTaskRun('run-1', 305).slice(300);
    for (const event of live) store.receiveEvent('run-1', event);
    let notified = 0;
    store.subscribe(() => notified++);
    store.prependOlder('run-1', events.slice(0, 200));
    assert.equal(notified, 1);
    assert.equal(store.state.olderEvents, 0);
    assert.deepEqual(store.state.events, [...events, ...live], 'the whole log, live events kept');
    store.prependOlder('run-1', events.slice(0, 200));
    assert.equal(store.state.events.length, 305, 'a second answer adds nothing');
  });

  it('keeps the older events out when they are not the ones missing, or the panel shows another run', () => {
    const state = foldEvents(events)!;
    const store = new Store();
    store.loadSnapshot({ ...snapshotOf(events), activeLog: events.slice(100), activeState: state });
    store.prependOlder('run-1', events.slice(0, 99));
    assert.equal(store.state.olderEvents, 100);
    assert.match(store.state.errors[0]?.message ?? '', /did not fit the log shown \(99 events for 100\)/);
    store.prependOlder('run-1', [...events.slice(0, 50), ...events.slice(51, 101)]);
    assert.equal(store.state.olderEvents, 100, 'one with a gap');
    const other = fiveTaskRun('run-2', 30);
    store.beginOpen('run-2');
    store.finishOpen('run-2', other);
    store.prependOlder('run-1', events.slice(0, 100));
    assert.equal(store.state.activeRunId, 'run-2');
    assert.deepEqual(store.state.events, other);
    assert.equal(store.state.olderEvents, 0);
  });

  it('switches runs with the folded state run/open returns', () => {
    const other = fiveTaskRun('run-2', 80, 'Another goal');
    const store = new Store();
    store.loadSnapshot(snapshotOf(events));
    store.beginOpen('run-2');
    const folded = foldEvents(other.slice(0, 60))!;
    store.finishOpen('run-2', other.slice(0, 70), folded);
    assert.deepEqual(store.state.run, foldEvents(other.slice(0, 70)));
    assert.equal(store.state.events.length, 70);
  });

  it('skips events the snapshot already contained (replays after app/ready)', () => {
    const store = new Store();
    store.loadSnapshot(snapshotOf(events.slice(0, 100)));
    for (const event of events.slice(90, 110)) store.receiveEvent('run-1', event);
    assert.deepEqual(store.state.run, foldEvents(events.slice(0, 110)));
    assert.equal(store.state.events.length, 110);
  });

  it('ignores events of other runs', () => {
    const store = new Store();
    store.loadSnapshot(snapshotOf(events.slice(0, 50)));
    const before = structuredClone(store.state.run);
    let notified = 0;
    store.subscribe(() => notified++);
    for (const event of fiveTaskRun('run-2', 60)) store.receiveEvent('run-2', event);
    assert.deepEqual(store.state.run, before);
    assert.equal(store.state.activeRunId, 'run-1');
    assert.equal(store.state.events.length, 50);
    assert.equal(notified, 0);
  });

  it('flags a gap in seq for a resync instead of folding past it', () => {
    const store = new Store();
    store.loadSnapshot(snapshotOf(events.slice(0, 50)));
    store.receiveEvent('run-1', events[55]);
    assert.equal(store.state.needsResync, true);
    assert.equal(store.state.run?.lastSeq, 50);
  });

  it('reports an event the fold refuses as a visible error', () => {
    const store = new Store();
    store.loadSnapshot(snapshotOf(events.slice(0, 50)));
    const bogus = { type: 'task.status', taskId: 'nope', status: 'ready', seq: 51, at: events[50].at, runId: 'run-1' } as EngineEvent;
    store.receiveEvent('run-1', bogus);
    assert.equal(store.state.needsResync, true);
    assert.equal(store.state.errors.length, 1);
    assert.match(store.state.errors[0].message, /event 51.*"nope"/);
    store.dismissError(store.state.errors[0].id);
    assert.equal(store.state.errors.length, 0);
  });

  it('switches runs: buffers the new run\'s live events while run/open is in flight', () => {
    const other = fiveTaskRun('run-2', 80, 'Another goal');
    const store = new Store();
    store.loadSnapshot(snapshotOf(events));
    store.selectTask('t1');
    store.beginOpen('run-2');
    // Live events overlapping the log that run/open will return, plus newer ones.
    for (const event of other.slice(60, 80)) store.receiveEvent('run-2', event);
    assert.equal(store.state.activeRunId, 'run-1');
    store.finishOpen('run-2', other.slice(0, 70));
    assert.equal(store.state.activeRunId, 'run-2');
    assert.deepEqual(store.state.run, foldEvents(other));
    assert.equal(store.state.events.length, 80);
    assert.equal(store.state.selectedTaskId, undefined, 'the selection belongs to the old run');
    // Events of the old run no longer matter.
    store.receiveEvent('run-1', { ...events[299], seq: 301 });
    assert.equal(store.state.run?.id, 'run-2');
  });

  it('drops a stale run/open answer when a later switch superseded it', () => {
    const store = new Store();
    store.loadSnapshot(snapshotOf(events));
    store.beginOpen('run-2');
    store.beginOpen('run-3');
    store.finishOpen('run-2', fiveTaskRun('run-2', 40));
    assert.equal(store.state.activeRunId, 'run-1');
    assert.equal(store.state.openingRunId, 'run-3');
    store.failOpen('run-3', 'Could not open run run-3: gone');
    assert.equal(store.state.openingRunId, undefined);
    assert.equal(store.state.errors[0].message, 'Could not open run run-3: gone');
  });

  it('follows the first run that starts when the panel is empty', () => {
    const store = new Store();
    store.loadSnapshot({ runs: [], activeLog: [], canStartGoals: false, cannotStartReason: 'Open a folder first.' });
    assert.equal(store.state.run, undefined);
    assert.equal(store.state.cannotStartReason, 'Open a folder first.');
    const fresh = fiveTaskRun('run-9', 20);
    for (const event of fresh) store.receiveEvent('run-9', event);
    assert.equal(store.state.activeRunId, 'run-9');
    assert.deepEqual(store.state.run, foldEvents(fresh));
    assert.equal(store.pickerRuns()[0].id, 'run-9', 'the picker shows the run before runs/changed arrives');
  });
});

describe('webview rpc client', () => {
  it('matches responses to requests by id, in any order', async () => {
    const channel = new FakeChannel();
    const rpc = new RpcClient(channel);
    const first = rpc.request('run/cancel', { runId: 'a' });
    const second = rpc.request('plan/approve', { runId: 'b' });
    assert.deepEqual(
      channel.posted.map(({ method, params }) => ({ method, params })),
      [
        { method: 'run/cancel', params: { runId: 'a' } },
        { method: 'plan/approve', params: { runId: 'b' } },
      ],
    );
    const [a, b] = channel.posted;
    assert.notEqual(a.id, b.id);
    channel.deliver({ kind: 'response', id: b.id, ok: true, result: { approved: true } });
    channel.deliver({ kind: 'response', id: a.id, ok: true, result: { cancelled: false } });
    assert.deepEqual(await second, { approved: true });
    assert.deepEqual(await first, { cancelled: false });
    assert.equal(rpc.pendingCount, 0);
  });

  it('turns an error reply into a rejected promise with the host\'s message', async () => {
    const channel = new FakeChannel();
    const rpc = new RpcClient(channel);
    const pending = rpc.request('goal/start', { goal: 'x' });
    channel.deliver({ kind: 'response', id: channel.posted[0].id, ok: false, error: { message: 'Open a folder first.' } });
    await assert.rejects(pending, (error: unknown) => error instanceof RpcError && error.message === 'Open a folder first.' && error.method === 'goal/start');
  });

  it('dispatches notifications to subscribers and ignores foreign messages', () => {
    const channel = new FakeChannel();
    const rpc = new RpcClient(channel);
    const seen: string[] = [];
    const off = rpc.on('view/focus', ({ runId, taskId }) => seen.push(`${runId}/${taskId}`));
    channel.deliver({ kind: 'notification', method: 'view/focus', params: { runId: 'r', taskId: 't2' } });
    channel.deliver({ type: 'something-else' });
    channel.deliver('noise');
    channel.deliver({ kind: 'response', id: 999, ok: true, result: {} });
    off();
    channel.deliver({ kind: 'notification', method: 'view/focus', params: { runId: 'r2' } });
    assert.deepEqual(seen, ['r/t2']);
  });

  it('rejects what is pending when disposed', async () => {
    const channel = new FakeChannel();
    const rpc = new RpcClient(channel);
    const pending = rpc.request('app/ready', {});
    rpc.dispose();
    assert.equal(channel.listening, false);
    await assert.rejects(pending, /abandoned/);
  });
});

describe('webview controller', () => {
  /** A fake host answering requests the way src/host/panel.ts does. */
  function hostFor(channel: FakeChannel, logs: Record<string, EngineEvent[]>, options: { failGoal?: string; tail?: boolean; failLog?: string } = {}): void {
    channel.onPost = (message) => {
      const reply = (result: unknown): void => void Promise.resolve().then(() => channel.deliver({ kind: 'response', id: message.id, ok: true, result }));
      const fail = (text: string): void => void Promise.resolve().then(() => channel.deliver({ kind: 'response', id: message.id, ok: false, error: { message: text } }));
      const tail = (log: EngineEvent[]): { log: EngineEvent[]; state?: RunState } => {
        const state = options.tail ? foldEvents(log) : undefined;
        return { log: options.tail ? logToSend(log, state) : log, ...(state ? { state } : {}) };
      };
      if (message.method === 'app/ready') {
        const { log, state } = tail(logs['run-1']!);
        reply({ ...snapshotOf(logs['run-1']!), activeLog: log, ...(state ? { activeState: state } : {}) });
      } else if (message.method === 'run/open') {
        const { runId } = message.params as { runId: string };
        if (logs[runId]) reply({ runId, ...tail(logs[runId]) });
        else fail(`Run ${runId} could not be read.`);
      } else if (message.method === 'run/log') {
        const { runId, beforeSeq } = message.params as { runId: string; beforeSeq: number };
        if (options.failLog) fail(options.failLog);
        else reply({ runId, events: logs[runId]!.filter((event) => event.seq < beforeSeq) });
      } else if (message.method === 'goal/start') {
        if (options.failGoal) fail(options.failGoal);
        else reply({ runId: 'run-2' });
      } else if (message.method === 'task/openDiff') reply({ opened: 0 });
    };
  }

  it("asks for a long run's older events once the frame without them is drawn, on load and on run/open", async () => {
    const channel = new FakeChannel();
    const first = fiveTaskRun('run-1', LOG_TAIL_EVENTS + 300);
    const second = fiveTaskRun('run-2', LOG_TAIL_EVENTS + 50);
    hostFor(channel, { 'run-1': first, 'run-2': second }, { tail: true });
    const store = new Store();
    const painted: (() => void)[] = [];
    const controller = new PanelController(new RpcClient(channel), store, { afterPaint: (load) => painted.push(load) });
    await controller.start();
    assert.equal(store.state.olderEvents, 300);
    assert.equal(channel.posted.filter((message) => message.method === 'run/log').length, 0, 'not before the frame is painted');
    painted.shift()!();
    await tick();
    assert.deepEqual(channel.posted.at(-1), { kind: 'request', id: channel.posted.at(-1)!.id, method: 'run/log', params: { runId: 'run-1', beforeSeq: 301 } });
    assert.deepEqual(store.state.events, first);
    await controller.openRun('run-2');
    assert.equal(store.state.olderEvents, 50);
    painted.shift()!();
    await tick();
    assert.deepEqual(store.state.events, second);
    assert.equal(store.state.olderEvents, 0);
  });

  it('asks for nothing when the shown run changed before the frame was painted, and says so when run/log fails', async () => {
    const channel = new FakeChannel();
    const first = fiveTaskRun('run-1', LOG_TAIL_EVENTS + 10);
    hostFor(channel, { 'run-1': first, 'run-2': fiveTaskRun('run-2', 40) }, { tail: true, failLog: 'The log is gone.' });
    const store = new Store();
    const painted: (() => void)[] = [];
    const controller = new PanelController(new RpcClient(channel), store, { afterPaint: (load) => painted.push(load) });
    await controller.start();
    await controller.openRun('run-2');
    painted.shift()!();
    await tick();
    assert.equal(channel.posted.filter((message) => message.method === 'run/log').length, 0, 'run-1 is no longer shown');
    await controller.openRun('run-1');
    painted.shift()!();
    await tick();
    assert.equal(store.state.olderEvents, 10);
    assert.match(store.state.errors.at(-1)?.message ?? '', /older events of run run-1 could not be loaded: The log is gone\. The log and the chat show its latest events only\./);
  });

  it('loads the snapshot, then follows view/focus to another run and task', async () => {
    const channel = new FakeChannel();
    const second = fiveTaskRun('run-2', 120);
    hostFor(channel, { 'run-1': fiveTaskRun('run-1', 100), 'run-2': second });
    const store = new Store();
    const controller = new PanelController(new RpcClient(channel), store);
    await controller.start();
    assert.equal(store.state.activeRunId, 'run-1');
    channel.deliver({ kind: 'notification', method: 'view/focus', params: { runId: 'run-2', taskId: 't3' } });
    await tick();
    assert.equal(store.state.activeRunId, 'run-2');
    assert.equal(store.state.selectedTaskId, 't3');
    assert.equal(store.state.events.length, 120);
  });

  it('loads the snapshot asked for before it started (the bundle asks first), without asking again', async () => {
    const channel = new FakeChannel();
    hostFor(channel, { 'run-1': fiveTaskRun('run-1', 100) });
    const rpc = new RpcClient(channel);
    const early = rpc.request('app/ready', {});
    const store = new Store();
    await new PanelController(rpc, store).start(early);
    assert.equal(channel.posted.filter((message) => message.method === 'app/ready').length, 1);
    assert.equal(store.state.run?.lastSeq, 100);
  });

  it('reloads the run after a gap in the live stream', async () => {
    const full = fiveTaskRun('run-1', 100);
    const logs = { 'run-1': full.slice(0, 50) };
    const channel = new FakeChannel();
    hostFor(channel, logs);
    const store = new Store();
    await new PanelController(new RpcClient(channel), store).start();
    logs['run-1'] = full;
    channel.deliver({ kind: 'notification', method: 'run/event', params: { runId: 'run-1', event: full[80] } });
    await tick();
    assert.equal(store.state.needsResync, false);
    assert.equal(store.state.run?.lastSeq, 100);
  });

  it('shows request failures in the error bar', async () => {
    const channel = new FakeChannel();
    hostFor(channel, { 'run-1': fiveTaskRun('run-1', 40) }, { failGoal: 'Open a folder first.' });
    const store = new Store();
    const controller = new PanelController(new RpcClient(channel), store);
    await controller.start();
    assert.equal(await controller.startGoal('do things'), false);
    await controller.openDiff('run-1', 't4');
    await controller.openRun('missing');
    assert.deepEqual(
      store.state.errors.map((error) => error.message),
      ['The goal did not start: Open a folder first.', 'Task t4 has no pending edits to show.', 'Could not open run missing: Run missing could not be read.'],
    );
  });
});

describe('webview plan DAG layout', () => {
  it('places dependencies left of their dependents (rankdir LR)', () => {
    const layout = layoutDag([
      { id: 't5', dependsOn: ['t4'] },
      { id: 't1', dependsOn: [] },
      { id: 't2', dependsOn: ['t1'] },
      { id: 't3', dependsOn: ['t1'] },
      { id: 't4', dependsOn: ['t2', 't3'] },
    ]);
    const node = (id: string) => {
      const found = layout.nodes.find((candidate) => candidate.id === id);
      assert.ok(found, id);
      return found;
    };
    assert.deepEqual(
      ['t1', 't2', 't3', 't4', 't5'].map((id) => node(id).rank),
      [0, 1, 1, 2, 3],
    );
    for (const edge of layout.edges) {
      assert.ok(node(edge.from).x + node(edge.from).width <= node(edge.to).x, `${edge.from} is left of ${edge.to}`);
      assert.ok(edge.points.length >= 2, 'edges carry dagre points');
    }
    assert.equal(node('t2').x, node('t3').x, 'same rank, same column');
    assert.notEqual(node('t2').y, node('t3').y, 'same rank, different rows');
    assert.equal(layout.edges.length, 5);
    for (const n of layout.nodes) {
      assert.ok(n.x >= 0 && n.y >= 0 && n.x + n.width <= layout.width && n.y + n.height <= layout.height, `${n.id} inside the box`);
    }
  });

  it('ignores dependencies on unknown tasks and lays out an empty plan', () => {
    const layout = layoutDag([{ id: 'a', dependsOn: ['ghost'] }]);
    assert.equal(layout.edges.length, 0);
    assert.equal(layout.nodes[0].rank, 0);
    assert.deepEqual(layoutDag([]), { nodes: [], edges: [], width: 0, height: 0 });
  });
});

describe('webview event text', () => {
  const events = fiveTaskRun('run-1', 300);

  it('windows a fixed-height list', () => {
    assert.deepEqual(visibleRange(50_000, 22, 0, 440, 8), { start: 0, end: 29 });
    assert.deepEqual(visibleRange(50_000, 22, 22 * 1000, 440, 8), { start: 992, end: 1029 });
    assert.deepEqual(visibleRange(10, 22, 22 * 1000, 440, 8), { start: 10, end: 10 });
    assert.deepEqual(visibleRange(0, 22, 0, 440), { start: 0, end: 0 });
  });

  it('filters incrementally as the log grows', () => {
    const all = extendFiltered([], events, 0, { taskId: 't3', type: 'tool.call' });
    const stepwise = extendFiltered(extendFiltered([], events.slice(0, 150), 0, { taskId: 't3', type: 'tool.call' }), events, 150, { taskId: 't3', type: 'tool.call' });
    assert.deepEqual(stepwise, all);
    assert.ok(all.length > 50);
    const runLevel = extendFiltered([], events, 0, { taskId: '' });
    assert.ok(runLevel.every((index) => !('taskId' in events[index]) || events[index].taskId === undefined));
  });

  it('describes every event and picks the notable ones for the chat', () => {
    for (const event of events) assert.ok(describeEvent(event, { short: true }).text.length > 0);
    const title = (id: string): string | undefined => (id === 't1' ? 'Design the storage module' : undefined);
    const chat = events.map((event) => chatMessageOf(event, title)).filter((message) => message !== undefined);
    assert.equal(chat[0].from, 'user');
    assert.ok(chat.some((message) => message.tone === 'success' && message.markdown.startsWith('Done: **t1** · Design the storage module')));
    assert.ok(chat.some((message) => message.tone === 'error' && message.taskId === 't3'));
    assert.ok(!chat.some((message) => message.markdown.includes('Heartbeat')), 'info logs stay in the event log');
  });
});
