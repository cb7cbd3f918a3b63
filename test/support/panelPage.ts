// The panel's page in Debian's Chromium, framed the way VS Code frames a webview, for the first
// render benchmark and the browser tests of the panel: the webview bundle the VSIX ships (esbuild.mjs's
// webview build, production), its CSS and the page panel.ts writes, in a full-size iframe on an origin
// of its own inside a host page. The host page stands in for the extension host: it answers app/ready
// with the snapshot it is given, run/log from the whole log it is given, any other request with an
// error reply, and on `sm-test/live` posts
// the given notifications over a time, each its own message task, as the host's postMessage calls
// arrive, each as its JSON's bytes, transferred, as panel.ts and VS Code post them. Its work (encoding
// the snapshot, posting it) is on its own thread, as VS Code's is in other processes; the panel pays
// for taking the messages in, as it does there.
import { createServer, type Server } from 'node:http';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type BuildOptions, type Metafile } from 'esbuild';
import type { Frame, Page } from 'playwright-core';
import { panelHtml } from '../../src/shared/panelHtml';
import type { EngineEvent } from '../../src/shared/events';
import { logToSend } from '../../src/shared/logTail';
import { EARLY_READY_ID } from '../../src/shared/panelHtml';
import type { HostState, NotificationMessage, ResponseMessage } from '../../src/shared/protocol';
import { summarizeRun, type RunState } from '../../src/shared/runState';
import type { BrowserSession } from '../harness/codeServer';

const REPO = resolve(__dirname, '..', '..');

export interface PanelBundle {
  dir: string;
  jsBytes: number;
  cssBytes: number;
  /** Modules of zod in the bundle (the protocol's schemas are the host's; none belong here). */
  zodInputs: number;
  remove(): Promise<void>;
}

/** The webview build exactly as `node esbuild.mjs --production` (npm run package) makes it, into a temp folder. */
export async function buildPanelBundle(): Promise<PanelBundle> {
  const { webviewBuild } = (await import(pathToFileURL(join(REPO, 'esbuild.mjs')).href)) as { webviewBuild(production: boolean): BuildOptions };
  const dir = await mkdtemp(join(tmpdir(), 'sm-webview-'));
  const result = await build({ ...webviewBuild(true), absWorkingDir: REPO, outdir: dir, metafile: true });
  const metafile: Metafile = result.metafile;
  return {
    dir,
    jsBytes: (await stat(join(dir, 'webview.js'))).size,
    cssBytes: (await stat(join(dir, 'webview.css'))).size,
    zodInputs: Object.keys(metafile.inputs).filter((input) => /(^|\/)node_modules\/zod\//.test(input)).length,
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/**
 * What runs first in the panel's page (VS Code puts its script that defines acquireVsCodeApi first in
 * the head, before the page's CSP, which then does not apply to it): acquireVsCodeApi posts to the
 * host page, then `extra` (plain JS text, not functions: tsx would wrap named functions in a helper
 * the page does not have).
 */
function standInScript(extra: string): string {
  return `(() => {
  window.acquireVsCodeApi = () => ({
    postMessage(message) { window.parent.postMessage(message, '*'); },
    getState() { return undefined; },
    setState() {},
  });
})();
${extra}`;
}

/**
 * The host's answer to app/ready for one run, shaped as panel.ts shapes it: the run listed, its
 * folded state and its log's newest events (the rest is for run/log: give the site the whole log).
 */
export function readyReplyFor(events: EngineEvent[], state: RunState, host: HostState = { canStartGoals: true }): ResponseMessage<'app/ready'> {
  return {
    kind: 'response',
    id: EARLY_READY_ID,
    ok: true,
    result: { runs: [summarizeRun(state)], activeRunId: state.id, activeLog: logToSend(events, state), activeState: state, ...host },
  };
}

/** The panel's own page, with its server's origin as webview.cspSource and plain URLs for the resources. */
function panelPage(origin: string, extra: string): string {
  const script = standInScript(extra);
  if (script.includes('</script')) throw new Error('the stand-in script would end its own element');
  const page = panelHtml({ cspSource: origin, nonce: 'testNonce0123456789ab', scriptUri: `${origin}/webview.js`, styleUri: `${origin}/webview.css`, surface: 'panel' });
  return page.replace('<head>', `<head>\n<script>${script}</script>`);
}

function hostPage(panelOrigin: string, readyDelayMs: number): string {
  return `<!DOCTYPE html>
<html><head><meta charset="UTF-8"><title>Extension host stand-in</title></head>
<body style="margin:0;overflow:hidden"><script>
(async () => {
  const [ready, live, log] = await Promise.all(['/ready.json', '/live.json', '/log.json'].map((path) => fetch(path).then((r) => r.json())));
  const frame = document.createElement('iframe');
  frame.style.cssText = 'border:0;width:100vw;height:100vh;display:block';
  window.addEventListener('message', (event) => {
    if (event.source !== frame.contentWindow) return;
    const message = event.data;
    // As panel.ts posts: the JSON's bytes, which VS Code transfers into the frame.
    const reply = (answer) => {
      const bytes = new TextEncoder().encode(JSON.stringify(answer)).buffer;
      frame.contentWindow.postMessage(bytes, ${JSON.stringify(panelOrigin)}, [bytes]);
    };
    if (message && message.kind === 'sm-test/live') {
      const started = performance.now();
      let sent = 0;
      const timer = setInterval(() => {
        const due = Math.min(live.length, Math.ceil(((performance.now() - started) / message.durationMs) * live.length));
        while (sent < due) reply(live[sent++]);
        if (sent >= live.length) clearInterval(timer);
      }, 2);
    } else if (message && message.kind === 'request' && message.method === 'app/ready') {
      ${readyDelayMs > 0 ? `setTimeout(() => reply({ ...ready, id: message.id }), ${readyDelayMs});` : 'reply({ ...ready, id: message.id });'}
    } else if (message && message.kind === 'request' && message.method === 'run/log') {
      const events = log.filter((event) => event.seq < message.params.beforeSeq);
      reply({ kind: 'response', id: message.id, ok: true, result: { runId: message.params.runId, events } });
    } else if (message && message.kind === 'request') {
      reply({ kind: 'response', id: message.id, ok: false, error: { message: 'Not answered by the stand-in host.' } });
    }
  });
  frame.src = ${JSON.stringify(panelOrigin + '/')};
  document.body.append(frame);
})();
</script></body></html>`;
}

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.ttf': 'font/ttf', '.html': 'text/html', '.json': 'application/json' };

/** Serves `routes` and the files of `dir`; no-store, so every page loads and compiles the bundle afresh. */
async function serve(host: string, routes: (origin: string) => Record<string, string>, dir?: string): Promise<{ server: Server; origin: string }> {
  let origin = '';
  let table: Record<string, string> = {};
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', origin).pathname;
    const send = (status: number, type: string, body: string | Buffer) => {
      response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      response.end(body);
    };
    const routed = table[path];
    if (routed !== undefined) return send(200, (path === '/' ? TYPES['.html'] : TYPES[extname(path)]) ?? 'text/plain', routed);
    const file = dir ? join(dir, path) : '';
    if (!dir || !file.startsWith(dir + '/')) return send(404, 'text/plain', 'not found');
    readFile(file).then((body) => send(200, TYPES[extname(file)] ?? 'application/octet-stream', body), () => send(404, 'text/plain', 'not found'));
  });
  await new Promise<void>((done) => server.listen(0, host, done));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('the panel page server has no port');
  origin = `http://${host}:${address.port}`;
  table = routes(origin);
  return { server, origin };
}

export interface PanelSite {
  hostOrigin: string;
  panelOrigin: string;
  close(): Promise<void>;
}

export interface PanelSiteOptions {
  bundle: PanelBundle;
  ready: ResponseMessage<'app/ready'>;
  /** Posted on the panel's `{ kind: 'sm-test/live', durationMs }`. */
  live?: NotificationMessage<'run/event'>[];
  /** The run's whole log, for run/log (the events the snapshot's activeLog left out). */
  log?: EngineEvent[];
  /** JS run in the panel's page after the stand-in's acquireVsCodeApi, before the bundle. */
  panelScript?: string;
  /** How long the host takes to answer app/ready (a host reading a long log). */
  readyDelayMs?: number;
}

/** The host page and the panel's page, on two loopback addresses: two sites, so the panel's frame is cross-site, as a VS Code webview is. */
export async function servePanelSite(options: PanelSiteOptions): Promise<PanelSite> {
  const readyJson = JSON.stringify(options.ready);
  const liveJson = JSON.stringify(options.live ?? []);
  const logJson = JSON.stringify(options.log ?? []);
  const panel = await serve('127.0.0.1', (origin) => ({ '/': panelPage(origin, options.panelScript ?? '') }), options.bundle.dir);
  const host = await serve('127.0.0.2', () => ({ '/': hostPage(panel.origin, options.readyDelayMs ?? 0), '/ready.json': readyJson, '/live.json': liveJson, '/log.json': logJson }));
  return {
    hostOrigin: host.origin,
    panelOrigin: panel.origin,
    close: async () => {
      await new Promise((done) => panel.server.close(done));
      await new Promise((done) => host.server.close(done));
    },
  };
}

/** Opens the host page in a new tab; resolves with the panel's frame once it is attached. */
export async function openPanelFrame(session: BrowserSession, site: PanelSite): Promise<{ page: Page; panel: Frame }> {
  const page = await session.context.newPage();
  await page.goto(`${site.hostOrigin}/`, { waitUntil: 'domcontentloaded' });
  const panel = await (await page.waitForSelector('iframe', { state: 'attached', timeout: 60_000 })).contentFrame();
  if (!panel) throw new Error('the host page has no panel frame');
  return { page, panel };
}
