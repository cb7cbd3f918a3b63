// run_command through the CLI as it ships: a command allowed by --allow-command runs for real and its
// output is printed and fed back; one no rule allows is refused (no terminal to ask in), --yes or not.
import { strict as assert } from 'node:assert';
import { access, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { TerminalApprover } from '../../src/cli/ports';
import { calculatorWorkspace, REPO, runCli, tempDir } from './helpers';
import { buildCli } from './builtCli';

const TRANSCRIPT = join(REPO, 'test/fixtures/transcripts/commands-cli.json');

describe('CLI: run_command', function () {
  this.timeout(120_000);
  let cli = '';
  let stateHome = '';
  before(async () => {
    cli = await buildCli();
    stateHome = await tempDir('sm-state-');
  });

  it('runs an allowed command, refuses one nothing allows (--yes approves no command), and the run completes', async () => {
    const ws = await calculatorWorkspace();
    const run = await runCli(cli, ['run', 'Fix add', '--workspace', ws, '--model', `scripted:${TRANSCRIPT}`, '--yes', '--allow-command', 'node -e'], {
      env: { XDG_STATE_HOME: stateHome },
    });
    assert.equal(run.code, 0, run.stderr + run.stdout);
    assert.match(run.stdout, /t1 approved by rule commands\.allow: "node -e"/);
    assert.match(run.stdout, /t1 \$ node -e "console\.log\('toolchain ' \+ 6 \* 7\)"/);
    assert.match(run.stdout, /t1 command exit 0 after [\d.]+ s\n\s+toolchain 42/);
    assert.match(run.stdout, /t1 implementer asks to run `touch denied-marker\.txt` — why: leave a marker file/);
    assert.match(run.stdout, /t1 denied by rule — .*Nobody can be asked here/);
    assert.match(run.stdout, /run completed/);
    await assert.rejects(access(join(ws, 'denied-marker.txt')), 'the refused command did not run');
    assert.match(await readFile(join(ws, 'src/calc.js'), 'utf8'), /return a \+ b;/);
  });

  it('without --allow-command nothing runs at all', async () => {
    const ws = await calculatorWorkspace();
    const run = await runCli(cli, ['run', 'Fix add', '--workspace', ws, '--model', `scripted:${TRANSCRIPT}`, '--yes'], { env: { XDG_STATE_HOME: stateHome } });
    // The scripted model expects the first command's output; refused, it is not there, and the transcript says so.
    assert.doesNotMatch(run.stdout, /\$ node -e/);
    assert.match(run.stdout, /Nobody can be asked here/);
  });
});

describe('CLI: the deployer', function () {
  this.timeout(120_000);

  it('writes the runbook but never deploys without a terminal, even with --yes and the command on the allow list', async () => {
    const cli = await buildCli();
    const ws = await calculatorWorkspace();
    const deploy = `node -e "require('fs').writeFileSync('deployed.txt', 'yes')"`;
    const plan = {
      summary: 'Fix add() and ship it.',
      tasks: [
        { id: 't1', title: 'Fix add()', description: 'Make add return a + b.', role: 'implementer', dependsOn: [], acceptance: ['add tests pass'], files: ['src/calc.js'] },
        { id: 't2', title: 'Deploy', description: 'Ship the fix.', role: 'deployer', dependsOn: ['t1'], acceptance: ['shipped'], files: [] },
      ],
    };
    const transcript = join(ws, 'deploy-transcript.json');
    await writeFile(
      transcript,
      JSON.stringify({
        version: 1,
        turns: [
          { role: 'planner', toolCalls: [{ tool: 'finish', input: plan }] },
          { role: 'implementer', task: 't1', toolCalls: [{ tool: 'propose_edit', input: { path: 'src/calc.js', hunks: [{ search: 'return a - b;', replace: 'return a + b;' }] } }] },
          { role: 'implementer', task: 't1', toolCalls: [{ tool: 'finish', input: { summary: 'fixed' } }] },
          { role: 'deployer', task: 't2', toolCalls: [{ tool: 'finish', input: { summary: 'ready', runbook: '# Runbook\nRun the deploy script.' } }] },
        ],
      }),
    );
    const config = join(ws, 'deploy-config.json');
    await writeFile(config, JSON.stringify({ deploy: { command: deploy }, commands: { allow: [deploy] } }));
    const run = await runCli(cli, ['run', 'Fix add and ship', '--workspace', ws, '--model', `scripted:${transcript}`, '--config', config, '--yes', '--no-review-gate', '--allow-command', 'node'], {
      env: { XDG_STATE_HOME: await tempDir('sm-state-') },
    });
    assert.equal(run.code, 0, run.stderr + run.stdout);
    assert.match(run.stdout, /t2 deployer asks to deploy with `node -e/);
    assert.match(run.stdout, /t2 denied by rule — .*Nobody can be asked here/);
    await assert.rejects(access(join(ws, 'deployed.txt')), 'the deploy did not run');
    const runId = /Run (\S+): completed/.exec(run.stdout)?.[1];
    assert.ok(runId, run.stdout);
    assert.match(await readFile(join(ws, '.software-maker', 'runs', runId, 'runbook.md'), 'utf8'), /# Runbook/);
  });
});

describe('CLI: the terminal approver', () => {
  async function answer(subject: Parameters<TerminalApprover['approve']>[0]['subject'], lines: string[]) {
    const input = new PassThrough();
    const output = new PassThrough();
    let shown = '';
    const pending = [...lines];
    // Each answer is typed when its question is shown (a question ends with a space), as a person would.
    output.on('data', (chunk: Buffer) => {
      shown += chunk.toString();
      if (shown.endsWith(' ') && pending.length) input.write(`${pending.shift()}\n`);
    });
    const approver = new TerminalApprover(input, output);
    const decision = await approver.approve({ subject, role: 'implementer', taskId: 't1' }, new AbortController().signal);
    return { decision, shown };
  }

  it('shows the command verbatim with its folder and reason; y approves', async () => {
    const { decision, shown } = await answer({ kind: 'command', command: `npm run build -- --out 'dist x'`, cwd: 'packages/a', reason: 'the task needs a build' }, ['y']);
    assert.deepEqual(decision, { approved: true, by: 'user' });
    assert.match(shown, /    npm run build -- --out 'dist x'\n/);
    assert.match(shown, /in: {2}packages\/a/);
    assert.match(shown, /why: the task needs a build/);
  });

  it('makes control characters visible, so nothing hides in the command', async () => {
    const { shown } = await answer({ kind: 'command', command: 'echo safe\r\x1b[2Krm -rf ~', cwd: '', reason: 'x' }, ['n', '']);
    assert.match(shown, /echo safe\\r\\x1b\[2Krm -rf ~/);
    assert.doesNotMatch(shown, /\x1b/);
  });

  it('n denies, with the reason going back to the agent', async () => {
    const { decision } = await answer({ kind: 'command', command: 'ls', cwd: '', reason: 'x' }, ['n', 'use list_files']);
    assert.deepEqual(decision, { approved: false, by: 'user', reason: 'use list_files' });
  });

  it('a deploy shows the runbook and needs the word "deploy": y is not enough', async () => {
    const subject = { kind: 'deploy' as const, command: 'npm run deploy', runbook: '# Runbook\nShip it.' };
    const refused = await answer(subject, ['y', '']);
    assert.equal(refused.decision.approved, false);
    assert.match(refused.shown, /\| # Runbook\n {2}\| Ship it\./);
    assert.match(refused.shown, /npm run deploy/);
    const approved = await answer(subject, ['deploy']);
    assert.deepEqual(approved.decision, { approved: true, by: 'user' });
  });
});
