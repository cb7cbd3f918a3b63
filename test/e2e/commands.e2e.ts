// End to end, run_command in a real VS Code (code-server) with the packaged VSIX: on a copy of
// samples/calculator a scripted implementer proposes a command; the modal shows it verbatim with its
// reason; the user clicks Run; it runs as a task and its output reaches the event log (and the agent,
// whose next turn expects it). It then proposes a second command; the user clicks Deny; it does not
// run, the agent hears it was not run, fixes add() and the run completes.
//
//   npx mocha --import=tsx --timeout 900000 test/e2e/commands.e2e.ts
//
// Transcript: test/fixtures/transcripts/commands-cli.json (shared with test/unit/cliCommands.test.ts).
// Screenshots: test-results/e2e-commands/NN-step.png.
import * as assert from 'node:assert/strict';
import { access } from 'node:fs/promises';
import * as path from 'node:path';
import { repoRoot } from '../harness/codeServer';
import { CALCULATOR_SAMPLE, RUN_TIMEOUT, TRANSCRIPTS, expectExtensionLoaded, openPanel, readRunLog, scriptedModel, startGoal, useScenario, waitForLoggedEvent, waitForRunStatus } from '../harness/scenario';
import { answerModalDialog, chooseSelectOption, openWorkbench, waitUntil } from '../harness/workbench';

const TRANSCRIPT = path.join(TRANSCRIPTS, 'commands-cli.json');
const FIRST = `node -e "console.log('toolchain ' + 6 * 7)"`;
const SECOND = 'touch denied-marker.txt';

describe('Software Maker end to end: run_command (the modal shows the command, Run and Deny)', function () {
  this.timeout(15 * 60_000);

  const e2e = useScenario({
    artifactsDir: path.join(repoRoot, 'test-results', 'e2e-commands'),
    inputs: [
      ['the calculator sample', CALCULATOR_SAMPLE, 'samples/calculator'],
      ['the transcript', TRANSCRIPT, 'test/fixtures/transcripts/commands-cli.json'],
    ],
    workspaces: { calculator: { from: CALCULATOR_SAMPLE } },
    settings: { 'softwareMaker.models': [scriptedModel(TRANSCRIPT)], 'softwareMaker.autoApprove': true },
    captureWebview: true,
  });

  it('asks in a modal with the command verbatim; Run runs it and its output is logged', async () => {
    const { page, shots } = e2e;
    const workspace = e2e.workspaces.calculator;
    await openWorkbench(page, e2e.server.workbenchUrl(workspace));
    await expectExtensionLoaded(page);
    await startGoal(page, 'Fix add() after checking the toolchain');
    const shown = await answerModalDialog(page, 'Run', 'the first proposed command');
    await shots.take('first-command-approved');
    assert.ok(shown.includes(FIRST), `the modal shows the command verbatim: ${shown}`);
    assert.match(shown, /why: check which node the project builds with/);
    assert.match(shown, /in: \(workspace root\)/);
    const finished = await waitForLoggedEvent(workspace, (event) => event.type === 'command.finished', 'the first command finished (command.finished)');
    assert.equal(finished.exitCode, 0);
    assert.match(String(finished.output), /toolchain 42/);
  });

  it('Deny refuses the second command; the agent goes on and the run completes', async () => {
    const { page, shots } = e2e;
    const workspace = e2e.workspaces.calculator;
    const shown = await answerModalDialog(page, 'Deny', 'the second proposed command');
    assert.ok(shown.includes(SECOND), `the modal shows the second command: ${shown}`);
    await waitForRunStatus(page, 'completed', RUN_TIMEOUT);
    await shots.take('run-completed');
    const { events } = await readRunLog(workspace);
    const decisions = events.filter((event) => event.type === 'approval.decided').map((event) => [event.approved, event.by]);
    assert.deepEqual(decisions, [
      [true, 'user'],
      [false, 'user'],
    ]);
    assert.equal(events.filter((event) => event.type === 'command.started').length, 1);
    await assert.rejects(access(path.join(workspace, 'denied-marker.txt')), 'the denied command did not run');
  });

  it("shows the command's output in the panel's event log", async () => {
    const { page, shots } = e2e;
    const frame = await openPanel(page, '#event-log', 'the event log');
    await chooseSelectOption(frame.locator('#log-filter-type'), 'command.finished', 'the event log type filter');
    const row = frame.locator('#event-log .log-row[data-type="command.finished"] .log-text');
    const text = await waitUntil(
      async () => ((await row.count()) > 0 ? (await row.first().innerText()).trim() : undefined),
      'the command.finished row in the event log (filtered to that type)',
      { timeout: 60_000, observe: async () => JSON.stringify(await frame.locator('#event-log .log-row').allInnerTexts()) },
    );
    assert.match(text, /command exit 0 after [\d.]+ s: toolchain 42/);
    await shots.take('event-log-command');
  });
});
