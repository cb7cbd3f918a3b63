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

  async function open(options: { ready: ResponseMessage<'app/ready'>; log: EngineEvent[]; readyDelayMs?: number }): Promise<Frame> {
    const site = await servePanelSite({ bundle, ready: options.ready, log: options.log, panelScript: FIRST_LOG_FRAME, readyDelayMs: options.readyDelayMs });
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
});
