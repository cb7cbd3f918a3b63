// End to end, the web tester in a real VS Code (code-server) with the packaged VSIX: a scripted
// web_tester task on samples/webapp; the extension starts the sample with the workspace's
// webTester.devServerCommand (trusted at the goal, allowed by the user's commands.allow), drives
// headless Chromium through playwright-core (shipped in the VSIX), stops the server, and the panel's
// task details show the flow as passed with its screenshot, loaded through the webview's resource
// URI under the panel's CSP.
//
//   npx mocha --import=tsx --timeout 900000 test/e2e/webTester.e2e.ts
//
// Screenshots: test-results/e2e-webtester/NN-step.png.
import * as assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import * as path from 'node:path';
import { repoRoot } from '../harness/codeServer';
import { RUN_TIMEOUT, TRANSCRIPTS, expectExtensionLoaded, openPanel, readRunLog, scriptedModel, selectPanelTask, startGoal, useScenario, waitForRunStatus, type LoggedEvent } from '../harness/scenario';
import { openWorkbench, waitUntil } from '../harness/workbench';

const SAMPLE = path.join(repoRoot, 'samples', 'webapp');
const TRANSCRIPT = path.join(TRANSCRIPTS, 'webtest-signup.json');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe('Software Maker end to end: the web tester (real Chromium, screenshot in the panel)', function () {
  this.timeout(15 * 60_000);
  let port = 0;
  before(async () => {
    port = await freePort();
  });

  const e2e = useScenario({
    artifactsDir: path.join(repoRoot, 'test-results', 'e2e-webtester'),
    inputs: [
      ['the web app sample', SAMPLE, 'samples/webapp'],
      ['the web tester transcript', TRANSCRIPT, 'test/fixtures/transcripts/webtest-signup.json'],
    ],
    workspaces: { webapp: { from: SAMPLE } },
    // User settings; the URL and the dev-server command (with a free port) are the workspace's, written by the first step.
    settings: {
      'softwareMaker.models': [scriptedModel(TRANSCRIPT)],
      'softwareMaker.autoApprove': true,
      'softwareMaker.reviewGate': false,
      'softwareMaker.maxFixAttempts': 0,
      'softwareMaker.commands.allow': ['node server.js'],
      'softwareMaker.webTester.browserPath': '/usr/bin/chromium',
    },
    captureWebview: true,
  });

  it('runs the web tester task to completion: the dev server started and stopped, the flow passed in Chromium, a PNG stored', async () => {
    const { page, shots } = e2e;
    const workspace = e2e.workspaces.webapp;
    // Written before the window opens; the workspace's dev-server command is asked about (Trust and Start) at the goal.
    const settingsFile = path.join(workspace, '.vscode', 'settings.json');
    const settings = JSON.parse(await readFile(settingsFile, 'utf8').catch(() => '{}')) as Record<string, unknown>;
    await mkdir(path.dirname(settingsFile), { recursive: true });
    await writeFile(settingsFile, JSON.stringify({ ...settings, 'softwareMaker.webTester.url': `http://127.0.0.1:${port}/`, 'softwareMaker.webTester.devServerCommand': `node server.js ${port}` }, null, 2));
    await openWorkbench(page, e2e.server.workbenchUrl(workspace));
    await expectExtensionLoaded(page);
    await startGoal(page, 'Check the signup form in a browser');
    await shots.take('goal-started');
    await waitForRunStatus(page, 'completed', RUN_TIMEOUT);
    await shots.take('run-completed');
    const { runDir, events } = await readRunLog(workspace);
    const started = events.filter((event) => event.type === 'command.started');
    assert.deepEqual(started.map((event) => event.purpose), ['dev-server'], JSON.stringify(started));
    assert.ok(events.some((event) => event.type === 'command.finished' && event.commandId === started[0]!.commandId), 'the dev server was stopped');
    assert.equal(await fetch(`http://127.0.0.1:${port}/`).then(() => 'answers', () => 'gone'), 'gone', 'nothing listens on the port any more');
    const flows = events.filter((event): event is LoggedEvent & { result: { ok: boolean; screenshots: { artifact: string }[] } } => event.type === 'webtest.flow');
    assert.equal(flows.length, 1);
    assert.equal(flows[0]!.result.ok, true, JSON.stringify(flows[0]));
    const png = await readFile(path.join(runDir, flows[0]!.result.screenshots[0]!.artifact));
    assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG');
  });

  it("shows the flow as passed in the panel's task details, with its screenshot loaded", async () => {
    const { page, shots } = e2e;
    const frame = await openPanel(page, '#plan-dag', 'the plan DAG');
    await selectPanelTask(frame, 't1');
    const flow = frame.locator('#web-flows li.web-flow[data-flow="signup greets by name"]');
    await waitUntil(async () => ((await flow.getAttribute('data-ok').catch(() => null)) === 'true' ? true : undefined), 'the web flow row marked passed (data-ok="true")', { timeout: 30_000 });
    const image = flow.locator('img');
    const loaded = await waitUntil(
      async () => {
        const state = await image.first().evaluate((img: HTMLImageElement) => ({ src: img.src, complete: img.complete, width: img.naturalWidth })).catch(() => undefined);
        return state && state.complete && state.width > 0 ? state : undefined;
      },
      'the screenshot <img> in the task details to load (naturalWidth > 0)',
      { timeout: 30_000, observe: async () => JSON.stringify(await image.first().getAttribute('src').catch(() => null)) },
    );
    assert.equal(loaded.width, 1024, 'the PNG as the web tester took it');
    assert.doesNotMatch(loaded.src, /^data:/, 'served by the webview resource URI, not inlined');
    await shots.take('panel-screenshot');
  });
});
