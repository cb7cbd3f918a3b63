import { strict as assert } from 'node:assert';
import { toJsonBytes } from '../../src/shared/jsonBytes';
import { LOG_TAIL_EVENTS, logToSend } from '../../src/shared/logTail';
import { foldEvents } from '../../src/shared/runState';
import { EARLY_READY_ID, panelHtml, type EarlyChannel } from '../../src/shared/panelHtml';
import type { HostToWebviewMessage, Snapshot } from '../../src/shared/protocol';
import { RpcClient } from '../../webview/rpc';
import { fiveTaskRun } from './fixtures/webviewRun';

const NONCE = 'n0nce0123456789abcdef';
const page = panelHtml({ cspSource: 'https://resources.test', nonce: NONCE, scriptUri: 'https://resources.test/webview.js', styleUri: 'https://resources.test/webview.css', surface: 'panel' });

/** The page as a browser would hold it, as far as its first script can tell: a window, the VS Code API. */
class FakePage {
  readonly posted: unknown[] = [];
  readonly errors: string[] = [];
  private readonly listeners: ((event: { data: unknown }) => void)[] = [];
  readonly window: { softwareMakerChannel?: EarlyChannel; addEventListener(type: string, listener: (event: { data: unknown }) => void): void };

  constructor() {
    const listeners = this.listeners;
    this.window = {
      addEventListener(type, listener) {
        assert.equal(type, 'message');
        listeners.push(listener);
      },
    };
    const inline = /<script nonce="[^"]+">([\s\S]*?)<\/script>/.exec(page)?.[1];
    assert.ok(inline, 'the page has an inline script');
    const api = { postMessage: (message: unknown) => this.posted.push(message) };
    const quietConsole = { error: (text: string) => this.errors.push(text) };
    // The page's own globals (ArrayBuffer, TextDecoder, JSON) are this realm's, as a page's are its own.
    new Function('window', 'acquireVsCodeApi', 'console', inline)(this.window, () => api, quietConsole);
  }

  get channel(): EarlyChannel {
    assert.ok(this.window.softwareMakerChannel, 'the first script left its channel on the window');
    return this.window.softwareMakerChannel;
  }

  /** What panel.ts posts: the message's JSON bytes. */
  hostPosts(message: HostToWebviewMessage): void {
    this.deliver(toJsonBytes(message));
  }

  deliver(data: unknown): void {
    for (const listener of this.listeners) listener({ data });
  }
}

const microtasks = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('the panel page and its first script', () => {
  it('allows scripts by nonce only, and runs the channel before the stylesheet and the bundle', () => {
    const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(page)?.[1] ?? '';
    assert.match(csp, new RegExp(`script-src 'nonce-${NONCE}'(;|$)`));
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    const scripts = page.match(/<script\b[^>]*>/g) ?? [];
    assert.equal(scripts.length, 2);
    for (const tag of scripts) assert.ok(tag.includes(`nonce="${NONCE}"`), `${tag} carries the nonce`);
    const inlineAt = page.indexOf(`<script nonce="${NONCE}">`);
    assert.ok(inlineAt > 0 && inlineAt < page.indexOf('<link rel="stylesheet"') && inlineAt < page.indexOf('src="https://resources.test/webview.js"'));
  });

  it('asks for the snapshot at once, with the id the bundle awaits', () => {
    const fake = new FakePage();
    assert.deepEqual(fake.posted, [{ kind: 'request', id: EARLY_READY_ID, method: 'app/ready', params: {} }]);
  });

  it('holds the decoded messages that come before the bundle and hands them on in order, after the bundle has run', async () => {
    const fake = new FakePage();
    fake.hostPosts({ kind: 'response', id: EARLY_READY_ID, ok: true, result: { runs: [], activeLog: [], canStartGoals: true } });
    fake.deliver({ kind: 'not-ours' });
    const event = fiveTaskRun('run-1', 3)[2]!;
    fake.hostPosts({ kind: 'notification', method: 'run/event', params: { runId: 'run-1', event } });
    const received: unknown[] = [];
    fake.channel.listen((message) => received.push(message));
    assert.deepEqual(received, [], 'not within the bundle run that subscribes: its other subscriptions come after');
    await microtasks();
    assert.deepEqual(received, [
      { kind: 'response', id: EARLY_READY_ID, ok: true, result: { runs: [], activeLog: [], canStartGoals: true } },
      { kind: 'not-ours' },
      { kind: 'notification', method: 'run/event', params: { runId: 'run-1', event } },
    ]);
    fake.hostPosts({ kind: 'response', id: 3, ok: false, error: { message: 'later' } });
    assert.deepEqual(received.at(-1), { kind: 'response', id: 3, ok: false, error: { message: 'later' } }, 'later messages are handed on as they come');
  });

  it('drops bytes that are not JSON with an error, and goes on with the next message', async () => {
    const fake = new FakePage();
    const received: unknown[] = [];
    fake.channel.listen((message) => received.push(message));
    await microtasks();
    fake.deliver(new TextEncoder().encode('{"kind": "respo').buffer);
    fake.hostPosts({ kind: 'response', id: 1, ok: true, result: { cancelled: true } });
    assert.equal(fake.errors.length, 1);
    assert.match(fake.errors[0]!, /not JSON/);
    assert.deepEqual(received, [{ kind: 'response', id: 1, ok: true, result: { cancelled: true } }]);
  });

  it('hands nothing on, nor holds anything, once the bundle stops listening', async () => {
    const fake = new FakePage();
    const received: unknown[] = [];
    const stop = fake.channel.listen((message) => received.push(message));
    fake.hostPosts({ kind: 'response', id: 1, ok: true, result: {} });
    stop();
    await microtasks();
    fake.hostPosts({ kind: 'response', id: 2, ok: true, result: {} });
    assert.deepEqual(received, []);
  });

  it('gives the bundle its client the answer and the notifications that came before it existed', async () => {
    const fake = new FakePage();
    const events = fiveTaskRun('run-1', 12);
    const snapshot: Snapshot = { runs: [], activeRunId: 'run-1', activeLog: events.slice(0, 10), canStartGoals: true };
    fake.hostPosts({ kind: 'response', id: EARLY_READY_ID, ok: true, result: snapshot });
    fake.hostPosts({ kind: 'notification', method: 'run/event', params: { runId: 'run-1', event: events[10]! } });
    // What hostChannel.ts and main.ts do in the bundle's first run.
    const channel = fake.channel;
    const rpc = new RpcClient({ post: (message) => channel.api.postMessage(message), listen: (onMessage) => channel.listen(onMessage) });
    const reply = rpc.answerTo(EARLY_READY_ID, 'app/ready');
    const live: number[] = [];
    rpc.on('run/event', ({ event }) => live.push(event.seq));
    assert.deepEqual(await reply, snapshot);
    fake.hostPosts({ kind: 'notification', method: 'run/event', params: { runId: 'run-1', event: events[11]! } });
    assert.deepEqual(live, [events[10]!.seq, events[11]!.seq]);
    void rpc.request('run/cancel', { runId: 'run-1' });
    assert.deepEqual(fake.posted.at(-1), { kind: 'request', id: 1, method: 'run/cancel', params: { runId: 'run-1' } }, "the client's own ids start above the first script's");
  });

  it('awaits no id the client gives out itself, nor one twice', () => {
    const rpc = new RpcClient({ post: () => undefined, listen: () => () => undefined });
    void rpc.answerTo(EARLY_READY_ID, 'app/ready');
    assert.throws(() => rpc.answerTo(EARLY_READY_ID, 'app/ready'), /already awaited/);
    assert.throws(() => rpc.answerTo(1, 'app/ready'), /this client's to give/);
  });
});

describe('the log the panel gets at once', () => {
  const events = fiveTaskRun('run-1', LOG_TAIL_EVENTS + 500);
  const length = events.length;

  it('is the newest events with the folded state, all of them without it or when the log is short', () => {
    const state = foldEvents(events)!;
    assert.deepEqual(logToSend(events, state), events.slice(length - LOG_TAIL_EVENTS));
    assert.equal(logToSend(events, undefined), events);
    const short = events.slice(0, LOG_TAIL_EVENTS);
    assert.equal(logToSend(short, foldEvents(short)), short);
  });

  it('starts no later than the first event the state lacks, and is whole for a state the log does not reach', () => {
    const behind = foldEvents(events.slice(0, 300))!;
    assert.equal(logToSend(events, behind)[0]!.seq, 301);
    const ahead = { ...foldEvents(events)!, lastSeq: length + 1 };
    assert.equal(logToSend(events, ahead), events);
  });
});
