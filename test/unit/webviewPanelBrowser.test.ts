// The panel's bundle in Chromium, framed as VS Code frames a webview (test/support/panelPage.ts):
// what its first frames show for a large run. The run comes from the host's folded state, the page
// waits for the snapshot before drawing the app, the event log's first frame holds its newest rows
// (the snapshot carries only the newest; the older come with run/log after it), and a large plan
// is drawn in tiles of which only those near the view are rendered, more as the pane scrolls.
import { strict as assert } from 'node:assert';
import type { Frame } from 'playwright-core';
import type { EngineEvent } from '../../src/shared/events';
import type { ResponseMessage } from '../../src/shared/protocol';
import { foldEvents } from '../../src/shared/runState';
import { startBrowser, type BrowserSession } from '../harness/codeServer';
import { buildPanelBundle, openPanelFrame, readyReplyFor, servePanelSite, type PanelBundle, type PanelSite } from '../support/panelPage';
import { fiveTaskRun, largePanelRun } from './fixtures/webviewRun';

/** Notes, in the panel's page, the first frame that draws log rows: their seqs and whether each is in the viewport. */
const FIRST_LOG_FRAME = `(() => {
  const look = () => {
    const log = document.querySelector('#event-log');
    const rows = log ? [...log.querySelectorAll('.log-row')] : [];
    if (!rows.length) return requestAnimationFrame(look);
    const view = log.getBoundingClientRect();
    window.__firstLogFrame = rows.map((row) => {
      const box = row.getBoundingClientRect();
      return { seq: Number(row.getAttribute('data-seq')), inView: box.bottom > view.top && box.top < view.bottom };
    });
  };
  requestAnimationFrame(look);
})();`;

interface LogRowSeen {
  seq: number;
  inView: boolean;
}

const readyWith = (events: EngineEvent[], state = foldEvents(events)!): ResponseMessage<'app/ready'> => readyReplyFor(events, state);

describe('the panel in Chromium', function () {
  this.timeout(120_000);
  let bundle: PanelBundle;
  let session: BrowserSession;
  const sites: PanelSite[] = [];

  before(async () => {
    bundle = await buildPanelBundle();
    session = await startBrowser({ viewport: { width: 1280, height: 800 } });
  });

  after(async () => {
    for (const site of sites) await site.close();
    await session?.close();
    await bundle?.remove();
  });

  async function open(options: { ready: ResponseMessage<'app/ready'>; log: EngineEvent[]; readyDelayMs?: number; panelScript?: string }): Promise<Frame> {
    const site = await servePanelSite({ bundle, ready: options.ready, log: options.log, panelScript: FIRST_LOG_FRAME + (options.panelScript ?? ''), readyDelayMs: options.readyDelayMs });
    sites.push(site);
    return (await openPanelFrame(session, site)).panel;
  }

  const labels = (panel: Frame) => panel.locator('#plan-dag g.dag-node text.dag-node-label');

  it('draws the run from the host\'s folded state, newest log rows in view in the first frame, the plan\'s tiles near the view only', async () => {
    const events = largePanelRun(3_000);
    const state = foldEvents(events)!;
    // A title only the folded state has: shown, it was not folded again from the log.
    state.tasks['t0']!.title = 'Named in the folded state';
    const ready = readyWith(events, state);
    assert.ok(ready.ok && ready.result.activeLog.length < events.length, 'the snapshot has the newest events only');
    const panel = await open({ ready, log: events });
    const nodes = panel.locator('#plan-dag g.dag-node');
    await nodes.first().waitFor({ timeout: 60_000 });
    assert.equal(await nodes.count(), 200, 'every task is a node');
    assert.match((await panel.locator('#plan-dag g.dag-node[data-task-id="t0"]').getAttribute('aria-label')) ?? '', /Named in the folded state/);

    await panel.waitForFunction(() => (globalThis as { __firstLogFrame?: unknown }).__firstLogFrame !== undefined);
    const firstFrame = await panel.evaluate(() => (globalThis as unknown as { __firstLogFrame: LogRowSeen[] }).__firstLogFrame);
    const last = events.length;
    assert.ok(firstFrame.some((row) => row.seq === last && row.inView), `the newest event (${last}) is a row in view in the first frame with rows: ${JSON.stringify(firstFrame.slice(-3))}`);
    assert.ok(!firstFrame.some((row) => row.seq === 1), 'not the oldest rows');
    assert.equal(await panel.locator('#event-log').getAttribute('aria-rowcount'), String(last), 'the log is as long as the run, older rows to come included');
    // The older events come after that frame: at the top of the log, the first row is the run's creation.
    await panel.locator('#event-log').evaluate((log) => {
      log.scrollTop = 0;
    });
    await panel.locator('#event-log .log-row[data-seq="1"][data-type="run.created"]').waitFor({ timeout: 10_000 });
    assert.equal(await panel.locator('#event-log .log-coming').count(), 0, 'no row waits for its event any more');
    assert.match((await panel.locator('.log-count').textContent())?.trim() ?? '', /^3\D?000 events$/, 'counted as one log');

    // The plan runs left to right in 20 ranks; the pane shows the first few. Every node is in the
    // page with its text; the browser renders only the tiles near the view.
    assert.equal(await labels(panel).count(), 200);
    assert.ok((await panel.locator('#plan-dag .dag-tile').count()) > 2, 'the plan is drawn in tiles');
    const rendered = (taskId: string) =>
      panel.locator(`#plan-dag g.dag-node[data-task-id="${taskId}"]`).evaluate((node) => node.checkVisibility({ contentVisibilityAuto: true }));
    assert.equal(await rendered('t0'), true, 'a node in view is rendered');
    assert.equal(await rendered('t199'), false, 'a node far out of view is not');
    assert.match((await panel.locator('#plan-dag g.dag-node[data-task-id="t199"]').getAttribute('aria-label')) ?? '', /t199 Task 199/, 'it still has its label for assistive technology');
    await panel.locator('#plan-dag').evaluate((pane) => {
      pane.scrollLeft = pane.scrollWidth;
    });
    await panel.waitForFunction(() => document.querySelector('#plan-dag g.dag-node[data-task-id="t199"]')?.checkVisibility({ contentVisibilityAuto: true }) === true, undefined, { timeout: 10_000 });
    assert.equal(await rendered('t0'), false, 'scrolled to the end, the first tile is not rendered');
  });

  it('draws a plan of ordinary size whole, not in tiles', async () => {
    const events = fiveTaskRun('run-1', 200);
    const panel = await open({ ready: readyWith(events), log: events });
    await panel.locator('#plan-dag g.dag-node').first().waitFor({ timeout: 60_000 });
    const tasks = foldEvents(events)!.taskOrder.length;
    assert.equal(await panel.locator('#plan-dag g.dag-node').count(), tasks);
    assert.equal(await labels(panel).count(), tasks);
    assert.equal(await panel.locator('#plan-dag .dag-tile').count(), 0);
  });

  it('says it is loading, not "no run yet", until the host\'s snapshot arrives', async () => {
    const events = fiveTaskRun('run-1', 120);
    const panel = await open({ ready: readyWith(events), log: events, readyDelayMs: 3_000 });
    const loading = panel.locator('.panel-loading[role="status"]');
    await loading.waitFor({ timeout: 60_000 });
    assert.equal(await panel.locator('sm-app').count(), 0, 'no app before the snapshot');
    await panel.locator('#plan-dag g.dag-node').first().waitFor({ timeout: 60_000 });
    assert.equal(await loading.count(), 0, 'the placeholder is gone');
  });

  it('lists every task in the task filters once idle, or at once when the user reaches for one', async () => {
    const events = largePanelRun(1_000);
    const optionCounts = (panel: Frame) =>
      panel.evaluate(() => ({ chat: document.querySelectorAll('#chat-filter option').length, log: document.querySelectorAll('#log-filter-task option').length }));
    const idle = await open({ ready: readyWith(events), log: events });
    await idle.locator('#plan-dag g.dag-node').first().waitFor({ timeout: 60_000 });
    await idle
      .waitForFunction(() => document.querySelectorAll('#chat-filter option').length === 201 && document.querySelectorAll('#log-filter-task option').length === 202, undefined, { timeout: 10_000 })
      .catch(() => undefined);
    assert.deepEqual(await optionCounts(idle), { chat: 201, log: 202 }, '"All tasks" (and "Run-level only") and the 200 tasks, once the panel was idle');

    // With no idle time at all, the menus list only what is chosen until the user reaches for them.
    const busy = await open({ ready: readyWith(events), log: events, panelScript: 'window.requestIdleCallback = () => 0;' });
    await busy.locator('#plan-dag g.dag-node').first().waitFor({ timeout: 60_000 });
    assert.deepEqual(await optionCounts(busy), { chat: 1, log: 2 }, 'no task listed before the user reaches for a menu');
    // A pointerdown (the menu opens on the mousedown after it) lists them within its microtasks.
    const listedAtOnce = await busy.locator('#log-filter-task').evaluate(async (select) => {
      select.dispatchEvent(new PointerEvent('pointerdown', { bubbles: true }));
      await (select.closest('sm-event-log') as unknown as { updateComplete: Promise<unknown> }).updateComplete;
      return select.querySelectorAll('option').length;
    });
    assert.equal(listedAtOnce, 202, 'the log\'s menu lists every task before the menu opens');
    const talked = events.findLast((event) => 'taskId' in event && event.taskId && event.taskId !== 't0')!;
    const taskId = 'taskId' in talked ? talked.taskId! : '';
    await busy.locator('#log-filter-task').selectOption(taskId);
    await busy.locator('#event-log .log-row[data-type]').first().waitFor({ timeout: 10_000 });
    const tasksShown = await busy.locator('#event-log .log-row[data-type] .log-task').allTextContents();
    assert.ok(tasksShown.length > 0 && tasksShown.every((task) => task === taskId), `the log shows ${taskId}'s events only: ${JSON.stringify(tasksShown)}`);
    assert.equal((await optionCounts(busy)).chat, 1, 'the chat\'s menu is still not listed');
    await busy.locator('#chat-filter').focus();
    await busy.waitForFunction(() => document.querySelectorAll('#chat-filter option').length === 201, undefined, { timeout: 5_000 });
    await busy.locator('#chat-filter').selectOption('t199');
    assert.equal(await busy.locator('#chat-filter').inputValue(), 't199');
  });

  it('selects a task from its node by click, Enter or Space', async () => {
    const events = largePanelRun(1_000);
    const panel = await open({ ready: readyWith(events), log: events });
    const node = (taskId: string) => panel.locator(`#plan-dag g.dag-node[data-task-id="${taskId}"]`);
    await node('t0').waitFor({ timeout: 60_000 });
    const pressed = async () => panel.locator('#plan-dag g.dag-node[aria-pressed="true"]').evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-task-id')));
    assert.deepEqual(await pressed(), []);
    await node('t1').click();
    await panel.waitForFunction(() => document.querySelector('#plan-dag g.dag-node[data-task-id="t1"]')?.getAttribute('aria-pressed') === 'true', undefined, { timeout: 5_000 });
    await node('t2').focus();
    await node('t2').press('Enter');
    await panel.waitForFunction(() => document.querySelector('#plan-dag g.dag-node[data-task-id="t2"]')?.getAttribute('aria-pressed') === 'true', undefined, { timeout: 5_000 });
    await node('t3').press(' ');
    await panel.waitForFunction(() => document.querySelector('#plan-dag g.dag-node[data-task-id="t3"]')?.getAttribute('aria-pressed') === 'true', undefined, { timeout: 5_000 });
    await node('t4').press('a');
    await panel.waitForTimeout(200);
    assert.deepEqual(await pressed(), ['t3'], 'another key selects nothing; one task is selected at a time');
  });

  it('renders an agent\'s Markdown and nothing else of what it wrote: raw HTML is text, scripts and javascript: links never run', async () => {
    const events = fiveTaskRun('run-md', 120);
    const last = events[events.length - 1]!;
    const hostile = [
      'Plain **bold** and `code`.',
      '',
      'Look: <img src=x onerror="window.__pwned = 1"> then <script>window.__pwned = 2</script>',
      '',
      '[click me](javascript:window.__pwned=3) and <iframe src="https://evil.example/"></iframe>',
      '',
      '<a href="javascript:window.__pwned=4">raw link</a> [fine](https://example.com/docs)',
    ].join('\n');
    events.push({ type: 'agent.text', stepId: 's-md', taskId: 't3', role: 'implementer', text: hostile, seq: last.seq + 1, at: last.at, runId: last.runId });
    const panel = await open({ ready: readyWith(events), log: events });
    const message = panel.locator('.chat-scroll .message[data-step="s-md"]');
    await message.locator('strong').waitFor({ timeout: 60_000 });
    const seen = await message.evaluate((element) => ({
      text: (element as HTMLElement).innerText,
      tags: [...element.querySelectorAll('img, script, iframe, object, embed, svg, style, form, input')].map((node) => node.tagName),
      hrefs: [...element.querySelectorAll('a')].map((a) => a.getAttribute('href')),
      handlers: [...element.querySelectorAll('*')].flatMap((node) => [...node.attributes].filter((attr) => attr.name.startsWith('on')).map((attr) => attr.name)),
      pwned: (window as unknown as { __pwned?: number }).__pwned,
    }));
    assert.deepEqual(seen.tags, [], 'no element the model wrote as HTML');
    assert.deepEqual(seen.handlers, []);
    assert.ok(seen.hrefs.every((href) => href === null || !/^\s*javascript:/i.test(href)), `no javascript: link: ${JSON.stringify(seen.hrefs)}`);
    assert.ok(seen.hrefs.includes('https://example.com/docs'), 'an ordinary link stays a link');
    assert.match(seen.text, /<img src=x onerror="window.__pwned = 1">/, 'raw HTML is shown as text');
    assert.match(seen.text, /<script>window.__pwned = 2<\/script>/);
    assert.equal(await message.locator('code').first().textContent(), 'code');
    assert.equal(seen.pwned, undefined, 'nothing the model wrote ran');
  });
});

