// The panel's first render and live appends in a real browser (issue 11, item 5): the webview bundle
// the VSIX ships (esbuild.mjs's webview build, production), its CSS and the page panel.ts writes,
// served from 127.0.0.1 to Debian's Chromium (headless, the e2e harness's launch). acquireVsCodeApi is
// a stand-in for the host that answers app/ready with a snapshot of 10,000 events and a 200-task
// plan, shaped as ChatSession.snapshot() shapes it, then pushes live run/event notifications.
// Prints figures; asserts nothing but that the page showed what it was sent.
import { createServer, type Server } from 'node:http';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type BuildOptions, type Metafile } from 'esbuild';
import type { Page } from 'playwright-core';
import type { EngineEvent } from '../src/shared/events';
import { panelHtml } from '../src/shared/panelHtml';
import type { NotificationMessage, ResponseMessage, Snapshot } from '../src/shared/protocol';
import { foldEvents, summarizeRun } from '../src/shared/runState';
import { extendChat, type ChatMessage } from '../webview/eventText';
import { startBrowser, type BrowserSession } from '../test/harness/codeServer';
import { spread, type Spread } from '../test/support/benchSchedule';
import { largePanelRun } from './panelRun';

const REPO = resolve(__dirname, '..');
const EVENTS = 10_000;
const LIVE_EVENTS = 1_000;
const LIVE_MS = 2_000;
const REPETITIONS = 5;
const GOAL_MS = 300;
const verdict = (ok: boolean) => (ok ? 'PASS' : 'MISS');
const range = (s: Spread, digits = 0) => `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}..${s.max.toFixed(digits)})`;

/** What the page reports back (window.__smBench, written by the init script below). */
interface PageFigures {
  firstRender: number;
  /** The bundle had run up to controller.start(): app/ready was asked for. */
  readyAsked: number;
  /** The snapshot was parsed and posted (the host's reply, as the webview would receive it). */
  snapshotPosted: number;
  longTasks: number[];
}

interface LiveFigures {
  frames: number;
  medianFrame: number;
  longFrames: number;
  /** Frames over two 60 Hz refreshes: the median is no yardstick when every frame is slow. */
  overTwoRefreshes: number;
  longestFrame: number;
  rowCount: number;
}

interface Bundle {
  dir: string;
  jsBytes: number;
  cssBytes: number;
  zodInputs: number;
}

/** The webview build exactly as `node esbuild.mjs --production` (npm run package) makes it, into a temp folder. */
async function buildBundle(): Promise<Bundle> {
  const { webviewBuild } = (await import(pathToFileURL(join(REPO, 'esbuild.mjs')).href)) as { webviewBuild(production: boolean): BuildOptions };
  const dir = await mkdtemp(join(tmpdir(), 'sm-bench-webview-'));
  const result = await build({ ...webviewBuild(true), absWorkingDir: REPO, outdir: dir, metafile: true });
  const metafile: Metafile = result.metafile;
  return {
    dir,
    jsBytes: (await stat(join(dir, 'webview.js'))).size,
    cssBytes: (await stat(join(dir, 'webview.css'))).size,
    zodInputs: Object.keys(metafile.inputs).filter((input) => /(^|\/)node_modules\/zod\//.test(input)).length,
  };
}

/** The panel's own page, with the server's origin as webview.cspSource and plain URLs for the resources. */
function pageHtml(origin: string): string {
  return panelHtml({ cspSource: origin, nonce: 'benchNonce0123456789', scriptUri: `${origin}/webview.js`, styleUri: `${origin}/webview.css`, surface: 'panel' });
}

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.ttf': 'font/ttf', '.html': 'text/html' };

/** Serves the page and the bundle; no-store, so every repetition loads and compiles the bundle afresh. */
async function serve(dir: string): Promise<{ server: Server; origin: string }> {
  let origin = '';
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', origin).pathname;
    const send = (status: number, type: string, body: string | Buffer) => {
      response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      response.end(body);
    };
    if (path === '/') return send(200, TYPES['.html']!, pageHtml(origin));
    const file = join(dir, path);
    if (!file.startsWith(dir + '/')) return send(404, 'text/plain', 'not found');
    readFile(file).then((body) => send(200, TYPES[extname(file)] ?? 'application/octet-stream', body), () => send(404, 'text/plain', 'not found'));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('the bench server has no port');
  origin = `http://127.0.0.1:${address.port}`;
  return { server, origin };
}

/**
 * The host's side for the page, as a script that runs before the bundle: acquireVsCodeApi answers
 * app/ready with the snapshot (parsed from JSON and posted, as the extension host's reply reaches a
 * webview), any other request with an error reply. Then it watches frames: the first one drawn with
 * every plan node, the chat's last message and the event log's rows is the first render. Plain JS
 * text, not a function: tsx would wrap named functions in a helper the page does not have.
 */
function initScript(snapshot: Snapshot, live: EngineEvent[], tasks: number, lastChatSeq: number): string {
  const ready: ResponseMessage<'app/ready'> = { kind: 'response', id: 0, ok: true, result: snapshot };
  const notifications: NotificationMessage<'run/event'>[] = live.map((event) => ({ kind: 'notification', method: 'run/event', params: { runId: snapshot.activeRunId ?? '', event } }));
  return `(() => {
  const readyJson = ${JSON.stringify(JSON.stringify(ready))};
  const liveJson = ${JSON.stringify(JSON.stringify(notifications))};
  const bench = { longTasks: [] };
  window.__smBench = bench;
  new PerformanceObserver((list) => { for (const entry of list.getEntries()) bench.longTasks.push(entry.duration); }).observe({ type: 'longtask', buffered: true });
  window.acquireVsCodeApi = () => ({
    postMessage(message) {
      if (!message || message.kind !== 'request') return;
      if (message.method === 'app/ready') {
        bench.readyAsked = performance.now();
        const reply = JSON.parse(readyJson);
        reply.id = message.id;
        window.postMessage(reply, '*');
        bench.snapshotPosted = performance.now();
      } else {
        window.postMessage({ kind: 'response', id: message.id, ok: false, error: { message: 'Not answered in the bench.' } }, '*');
      }
    },
    getState() { return undefined; },
    setState() {},
  });
  const drawn = () => {
    if (document.querySelectorAll('#plan-dag .dag-node').length !== ${tasks}) return false;
    const messages = document.querySelectorAll('.chat-scroll .message');
    const last = messages[messages.length - 1];
    if (!last || last.getAttribute('data-seq') !== '${lastChatSeq}') return false;
    const log = document.querySelector('#event-log');
    return !!log && log.getAttribute('aria-rowcount') === '${snapshot.activeEvents.length}' && log.querySelector('.log-row') !== null;
  };
  // The frame whose rAF callbacks see it all is the first drawn with it; a message posted from
  // there runs once that frame's style, layout and paint are done.
  const watch = () => {
    if (!drawn()) return requestAnimationFrame(watch);
    const channel = new MessageChannel();
    channel.port1.onmessage = () => { bench.firstRender = performance.now(); };
    channel.port2.postMessage(0);
  };
  requestAnimationFrame(watch);
  window.__smBenchIdle = () => document.querySelectorAll('.markdown-pending').length === 0;
  window.__smBenchLive = (durationMs) => new Promise((done) => {
    const messages = JSON.parse(liveJson);
    const frames = [];
    let previous;
    let sending = true;
    const frame = (time) => {
      if (previous !== undefined) frames.push(time - previous);
      previous = time;
      if (sending) requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
    const started = performance.now();
    let sent = 0;
    // Each notification is its own message task, as the host's postMessage calls arrive.
    const timer = setInterval(() => {
      const due = Math.min(messages.length, Math.ceil(((performance.now() - started) / durationMs) * messages.length));
      while (sent < due) window.postMessage(messages[sent++], '*');
      if (sent < messages.length) return;
      clearInterval(timer);
      setTimeout(() => {
        sending = false;
        const sorted = [...frames].sort((a, b) => a - b);
        const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
        const log = document.querySelector('#event-log');
        done({ frames: frames.length, medianFrame: median, longFrames: frames.filter((d) => d > 2 * median).length, overTwoRefreshes: frames.filter((d) => d > 2000 / 60 + 1).length, longestFrame: sorted[sorted.length - 1] ?? 0, rowCount: Number(log ? log.getAttribute('aria-rowcount') : 0) });
      }, 250);
    }, 2);
  });
})();`;
}

async function openPanel(session: BrowserSession, origin: string, script: string): Promise<{ page: Page; figures: PageFigures }> {
  const page = await session.context.newPage();
  await page.addInitScript({ content: script });
  await page.goto(origin, { waitUntil: 'domcontentloaded' });
  await page.waitForFunction('window.__smBench && window.__smBench.firstRender !== undefined', undefined, { timeout: 60_000, polling: 50 });
  const figures = (await page.evaluate('window.__smBench')) as PageFigures;
  return { page, figures };
}

export async function webviewFirstRender(): Promise<void> {
  const all = largePanelRun(EVENTS + LIVE_EVENTS);
  const events = all.slice(0, EVENTS);
  const state = foldEvents(events);
  if (!state?.plan) throw new Error('the panel run does not fold');
  const chat: ChatMessage[] = [];
  for (const event of events) extendChat(chat, event, (taskId) => state.tasks[taskId]?.title, { autoApprove: state.config.autoApprove });
  const lastChatSeq = chat[chat.length - 1]?.seq ?? 0;
  // ChatSession.snapshot(): the listed runs, the run shown with its whole log, the host state.
  const snapshot: Snapshot = {
    runs: [summarizeRun(state)],
    activeRunId: state.id,
    activeEvents: events,
    canStartGoals: true,
    notices: [],
    composer: { models: state.config.models.map((model) => model.id), autoApprove: state.config.autoApprove },
  };

  const bundle = await buildBundle();
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;
  console.log(
    `\nPanel first render in Chromium: ${EVENTS.toLocaleString('en')} events (${chat.length} chat messages), a ${state.plan.tasks.length}-task plan; ` +
      `the shipped bundle: webview.js ${kb(bundle.jsBytes)}, webview.css ${kb(bundle.cssBytes)}, zod ${bundle.zodInputs ? `IN IT (${bundle.zodInputs} modules)` : 'not in it'}`,
  );
  let session: BrowserSession;
  try {
    session = await startBrowser({ viewport: { width: 1440, height: 900 } });
  } catch (error) {
    await rm(bundle.dir, { recursive: true, force: true });
    const message = error instanceof Error ? error.message : String(error);
    // No browser here is a skip; a browser that fails to start is an error like any other.
    if (!message.startsWith('Chromium not found')) throw error;
    console.log(`  skipped: ${message}`);
    return;
  }
  const { server, origin } = await serve(bundle.dir);
  const script = initScript(snapshot, all.slice(EVENTS), state.plan.tasks.length, lastChatSeq);
  const first: number[] = [];
  const loaded: number[] = [];
  const toSnapshot: number[] = [];
  const toFrame: number[] = [];
  const longest: number[] = [];
  const dropped: number[] = [];
  const slow: number[] = [];
  const medianFrames: number[] = [];
  const longestFrames: number[] = [];
  try {
    for (let i = 0; i < REPETITIONS; i++) {
      const { page, figures } = await openPanel(session, origin, script);
      first.push(figures.firstRender);
      loaded.push(figures.readyAsked);
      toSnapshot.push(figures.snapshotPosted - figures.readyAsked);
      toFrame.push(figures.firstRender - figures.snapshotPosted);
      longest.push(Math.max(0, ...figures.longTasks));
      // Live appends once the older messages' Markdown is drawn (idle work of the first render); if
      // it is not done in 30 s the appends are measured with it going on.
      await page.waitForFunction('window.__smBenchIdle()', undefined, { timeout: 30_000, polling: 100 }).catch(() => undefined);
      const live = (await page.evaluate(`window.__smBenchLive(${LIVE_MS})`)) as LiveFigures;
      if (live.rowCount !== EVENTS + LIVE_EVENTS) throw new Error(`the panel shows ${live.rowCount} events after the live appends, not ${EVENTS + LIVE_EVENTS}`);
      dropped.push((100 * live.longFrames) / Math.max(1, live.frames));
      slow.push((100 * live.overTwoRefreshes) / Math.max(1, live.frames));
      medianFrames.push(live.medianFrame);
      longestFrames.push(live.longestFrame);
      await page.close();
    }
  } finally {
    await session.close();
    await new Promise((done) => server.close(done));
    await rm(bundle.dir, { recursive: true, force: true });
  }
  const firstSpread = spread(first);
  console.log(`  first frame with the plan, chat and log   ${range(firstSpread)} ms   (navigation start to painted; ${REPETITIONS} fresh pages)`);
  console.log(`    bundle loaded and run to app/ready      ${range(spread(loaded))} ms`);
  console.log(`    snapshot parsed and posted (the host)   ${range(spread(toSnapshot))} ms`);
  console.log(`    folded, rendered, laid out, painted     ${range(spread(toFrame))} ms   (longest task ${range(spread(longest))} ms)`);
  console.log(`  ${verdict(firstSpread.median <= GOAL_MS)}  first render / ${GOAL_MS} ms: ${(firstSpread.median / GOAL_MS).toFixed(2)} (goal <= 1)`);
  console.log(`  live appends: ${LIVE_EVENTS.toLocaleString('en')} events over ${LIVE_MS / 1000} s   ${range(spread(dropped), 1)}% of frames dropped (longer than 2x the median frame, ${range(spread(medianFrames), 1)} ms; longest ${range(spread(longestFrames))} ms; ${range(spread(slow), 1)}% over 34 ms)`);
}

if (process.argv[1]?.endsWith('webviewFirstRender.ts')) void webviewFirstRender();
