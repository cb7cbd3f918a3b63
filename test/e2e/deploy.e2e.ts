// End to end, the deployer in a real VS Code (code-server) with the packaged VSIX: on three copies of
// samples/calculator whose workspace settings set softwareMaker.deploy.command (`node deploy.js`,
// which writes a marker file) AND list that very command in softwareMaker.commands.allow, a scripted
// plan fixes add() and then deploys. The deployer writes runbook.md; the modal shows the Deploy
// button, the command verbatim and the runbook. In the first workspace the user presses Enter, which
// denies (Deny is the default button of a deploy, never Deploy). In the second the user clicks Deny: nothing
// runs, the denial is logged and the run completes. In the third the user clicks Deploy: the
// command runs as a task, its output is logged, the marker exists and the run completes. Every time
// a person decided: the allow list (and autoApprove) never approve a deploy (src/core/commands/approval.ts:
// a deploy consults only the deny list, then asks).
//
//   npx mocha --import=tsx --timeout 900000 test/e2e/deploy.e2e.ts
//
// Transcript: test/fixtures/transcripts/deploy.json (one transcript, both runs).
// Screenshots: test-results/e2e-deploy/NN-step.png.
import * as assert from 'node:assert/strict';
import { access, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { repoRoot } from '../harness/codeServer';
import {
  CALCULATOR_SAMPLE,
  RUN_TIMEOUT,
  TRANSCRIPTS,
  expectExtensionLoaded,
  loggedTaskStatuses,
  openPanel,
  readRunLog,
  scriptedModel,
  startGoal,
  useScenario,
  waitForLoggedEvent,
  waitForRunStatus,
  type LoggedEvent,
} from '../harness/scenario';
import { answerModalDialog, chooseSelectOption, expectVisible, openWorkbench, waitUntil, type Screenshots } from '../harness/workbench';

const TRANSCRIPT = path.join(TRANSCRIPTS, 'deploy.json');
const DEPLOY = 'node deploy.js --target staging';
const MARKER = 'deployed.txt';
const DEPLOY_SCRIPT = `// The sample's deploy: leaves a marker naming the target, and says so.
const target = process.argv[process.argv.indexOf('--target') + 1];
require('fs').writeFileSync('${MARKER}', target);
console.log('deployed calculator to ' + target);
`;
/** Workspace settings, as a repository would bring them: the deploy, and the same command on the allow list. */
const WORKSPACE_SETTINGS = { 'softwareMaker.deploy.command': DEPLOY, 'softwareMaker.commands.allow': [DEPLOY, 'node'] };

describe('Software Maker end to end: the deployer (runbook, then Deploy or Deny in a modal; never a rule)', function () {
  this.timeout(15 * 60_000);

  const e2e = useScenario({
    artifactsDir: path.join(repoRoot, 'test-results', 'e2e-deploy'),
    inputs: [
      ['the calculator sample', CALCULATOR_SAMPLE, 'samples/calculator'],
      ['the transcript', TRANSCRIPT, 'test/fixtures/transcripts/deploy.json'],
    ],
    workspaces: {
      enter: { from: CALCULATOR_SAMPLE, settings: WORKSPACE_SETTINGS },
      denied: { from: CALCULATOR_SAMPLE, settings: WORKSPACE_SETTINGS },
      deployed: { from: CALCULATOR_SAMPLE, settings: WORKSPACE_SETTINGS },
    },
    settings: { 'softwareMaker.models': [scriptedModel(TRANSCRIPT)], 'softwareMaker.autoApprove': true },
    captureWebview: true,
  });

  let runbook = '';
  before(async () => {
    for (const workspace of Object.values(e2e.workspaces)) await writeFile(path.join(workspace, 'deploy.js'), DEPLOY_SCRIPT);
    const transcript = JSON.parse(await readFile(TRANSCRIPT, 'utf8')) as { turns: { role: string; toolCalls?: { input: { runbook?: string } }[] }[] };
    runbook = transcript.turns.find((turn) => turn.role === 'deployer')?.toolCalls?.[0]?.input.runbook ?? '';
    assert.ok(runbook, 'the transcript has the deployer finishing with a runbook');
  });

  /** Waits for the deploy modal, photographs it, checks what it shows, then clicks `answer`. */
  async function answerDeployModal(page: Page, shots: Screenshots, answer: 'Deploy' | 'Deny' | 'Enter', shot: string): Promise<string> {
    const dialog = page.locator('.monaco-dialog-box').filter({ hasText: 'ready to DEPLOY' });
    await expectVisible(dialog, 'the deploy approval modal ("ready to DEPLOY"), asked although commands.allow lists the command', RUN_TIMEOUT);
    await shots.take(shot);
    const buttons = (await dialog.first().locator('.dialog-buttons .monaco-button').allInnerTexts()).map((text) => text.trim());
    assert.deepEqual([...buttons].sort(), ['Cancel', 'Deny', 'Deny with Reason…', 'Deploy'], `the modal's buttons: ${JSON.stringify(buttons)}`);
    let shown: string;
    if (answer === 'Enter') {
      shown = (await dialog.first().innerText()).trim();
      await page.keyboard.press('Enter');
      await dialog.first().waitFor({ state: 'hidden', timeout: 30_000 });
    } else {
      shown = await answerModalDialog(page, answer, 'the deploy');
    }
    assert.ok(shown.includes(`Software Maker: ready to DEPLOY with ${DEPLOY}`), `the modal names the deploy command verbatim: ${shown}`);
    assert.match(shown, /The deployer's runbook:/);
    for (const line of runbook.split('\n').filter((text) => text.trim())) assert.ok(shown.includes(line), `the modal shows the runbook line "${line}": ${shown}`);
    return shown;
  }

  /** What the two runs share: the config really held the allow entry; the runbook artifact; one deploy approval, decided by a person, not a rule. */
  async function expectPersonDecided(workspace: string, approved: boolean): Promise<{ events: LoggedEvent[]; approvalId: string }> {
    const { runDir, events } = await readRunLog(workspace);
    const created = events.find((event) => event.type === 'run.created') as { config: { deploy: { command?: string }; commands: { allow: string[] } } } | undefined;
    assert.equal(created?.config.deploy.command, DEPLOY, "the run's config has the workspace's deploy command");
    assert.ok(created.config.commands.allow.includes(DEPLOY), `the run's config has the deploy command on commands.allow: ${JSON.stringify(created.config.commands.allow)}`);
    assert.equal(await readFile(path.join(runDir, 'runbook.md'), 'utf8'), runbook, "the deployer's runbook is the run's runbook.md artifact");
    const requested = events.filter((event) => event.type === 'approval.requested');
    assert.deepEqual(
      requested.map((event) => [event.role, event.taskId, event.subject]),
      [['deployer', 't2', { kind: 'deploy', command: DEPLOY, runbook }]],
      'one approval was asked: the deploy, with its command and runbook',
    );
    const decided = events.filter((event) => event.type === 'approval.decided');
    assert.deepEqual(
      decided.map((event) => [event.approvalId, event.approved, event.by, event.rule]),
      [[requested[0]!.approvalId, approved, 'user', undefined]],
      'the deploy was decided by the user, never by a rule (not commands.allow, not autoApprove)',
    );
    return { events, approvalId: String(requested[0]!.approvalId) };
  }

  /** Starts the deploy goal, answers the modal with `answer` (a denial), waits for completion; nothing ran. */
  async function deniedDeploy(workspace: string, answer: 'Enter' | 'Deny', shotPrefix: string, what: string): Promise<LoggedEvent[]> {
    const { page, shots } = e2e;
    await openWorkbench(page, e2e.server.workbenchUrl(workspace));
    await expectExtensionLoaded(page);
    await startGoal(page, 'Fix add() and deploy it to staging');
    await answerDeployModal(page, shots, answer, `${shotPrefix}-modal`);
    await waitForRunStatus(page, 'completed', RUN_TIMEOUT);
    await shots.take(`${shotPrefix}-run-completed`);
    const { events } = await expectPersonDecided(workspace, false);
    assert.deepEqual(
      events.filter((event) => event.type === 'command.started'),
      [],
      `${what} started no command`,
    );
    await assert.rejects(access(path.join(workspace, MARKER)), `${what} did not deploy (no marker file)`);
    return events;
  }

  it('Enter in the deploy modal denies (Deny is the default button): nothing is deployed, the run completes', async () => {
    await deniedDeploy(e2e.workspaces.enter, 'Enter', 'enter', 'Enter');
  });

  it('Deny: the modal shows Deploy, the command and the runbook; nothing runs, the denial is logged, the run completes', async () => {
    const events = await deniedDeploy(e2e.workspaces.denied, 'Deny', 'deny', 'the denied deploy');
    assert.ok(
      events.some((event) => event.type === 'log' && event.level === 'warn' && event.taskId === 't2' && /not deployed.*The user denied it/s.test(String(event.message))),
      'the run log says the deploy was denied and not run',
    );
    assert.deepEqual(loggedTaskStatuses(events), { t1: 'done', t2: 'done' }, 'the run went on: a denied deploy is a decision, not a failure');
  });

  it('Deploy: the command runs, its output is logged, the marker exists and the run completes', async () => {
    const { page, shots } = e2e;
    const workspace = e2e.workspaces.deployed;
    await openWorkbench(page, e2e.server.workbenchUrl(workspace));
    await expectExtensionLoaded(page);
    await startGoal(page, 'Fix add() and deploy it to staging');
    await answerDeployModal(page, shots, 'Deploy', 'deploy-modal');
    const finished = await waitForLoggedEvent(workspace, (event) => event.type === 'command.finished', 'the deploy finished (command.finished)');
    assert.equal(finished.exitCode, 0);
    assert.match(String(finished.output), /deployed calculator to staging/);
    await waitForRunStatus(page, 'completed', RUN_TIMEOUT);
    await shots.take('deploy-run-completed');
    const { events, approvalId } = await expectPersonDecided(workspace, true);
    const started = events.filter((event) => event.type === 'command.started');
    assert.deepEqual(
      started.map((event) => [event.command, event.purpose, event.role, event.taskId, event.approvalId, event.commandId]),
      [[DEPLOY, 'deploy', 'deployer', 't2', approvalId, finished.commandId]],
      'one command ran: the deploy, under the approval the user gave',
    );
    assert.equal(await readFile(path.join(workspace, MARKER), 'utf8'), 'staging', 'the deploy ran in the workspace and left its marker');
    assert.deepEqual(loggedTaskStatuses(events), { t1: 'done', t2: 'done' });
  });

  it("shows the deploy's output in the panel's event log", async () => {
    const { page, shots } = e2e;
    const frame = await openPanel(page, '#event-log', 'the event log');
    await chooseSelectOption(frame.locator('#log-filter-type'), 'command.finished', 'the event log type filter');
    const row = frame.locator('#event-log .log-row[data-type="command.finished"] .log-text');
    const text = await waitUntil(
      async () => ((await row.count()) > 0 ? (await row.first().innerText()).trim() : undefined),
      'the command.finished row in the event log (filtered to that type)',
      { timeout: 60_000, observe: async () => JSON.stringify(await frame.locator('#event-log .log-row').allInnerTexts()) },
    );
    assert.match(text, /command exit 0 after [\d.]+ s: deployed calculator to staging/);
    await shots.take('event-log-deploy');
  });
});
