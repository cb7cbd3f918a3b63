// The VS Code CommandRunner and Approver against the real extension host: an approved command runs as
// a Software Maker task (output and exit code captured, no provider key), a timeout kills its group,
// a background command stops, an untrusted workspace refuses; the approval modal's text shows the
// command verbatim with invisible characters escaped.
import * as assert from 'node:assert/strict';
import { mkdir, readFile, rm } from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { CommandRequest } from '../../src/core/ports';
import { approvalPrompt } from '../../src/host/approver';
import { TaskCommandRunner } from '../../src/host/commandRunner';
import { TEST_TASK_TYPE } from '../../src/host/taskTestRunner';
import { processAlive } from '../unit/helpers';

describe('TaskCommandRunner and the approval modal (extension host)', function () {
  this.timeout(60_000);
  let root = '';
  const dir = `.sm-host-commands-${process.pid}`;
  const never = new AbortController().signal;
  const request = (command: string, extra: Partial<CommandRequest> = {}): CommandRequest => ({ command, cwd: dir, reason: 'host test', role: 'implementer', taskId: 't1', timeoutMs: 30_000, purpose: 'agent', ...extra });

  before(async () => {
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'The harness must open a workspace folder.');
    root = folder.uri.fsPath;
    await mkdir(path.join(root, dir), { recursive: true });
  });
  after(async () => {
    await rm(path.join(root, dir), { recursive: true, force: true });
  });

  it('runs an approved command as a visible Software Maker task and captures its output and exit code', async () => {
    const started: vscode.TaskExecution[] = [];
    const listener = vscode.tasks.onDidStartTask((event) => {
      if (event.execution.task.definition.type === TEST_TASK_TYPE) started.push(event.execution);
    });
    const before = process.env.OPENAI_API_KEY;
    process.env.OPENAI_API_KEY = 'sk-host-test-key-0123456789abcdef';
    try {
      const result = await new TaskCommandRunner(root).run(request(`node -e "console.log('from the task', process.env.OPENAI_API_KEY ?? 'no key'); process.exit(2)"`), never);
      assert.equal(result.exitCode, 2);
      assert.match(result.output, /from the task no key/);
    } finally {
      listener.dispose();
      if (before === undefined) delete process.env.OPENAI_API_KEY;
      else process.env.OPENAI_API_KEY = before;
    }
    const execution = started.find((candidate) => candidate.task.name.startsWith('command (t1): node -e'));
    assert.ok(execution, `a task ran the command; saw ${JSON.stringify(started.map((candidate) => candidate.task.name))}`);
    assert.equal(execution.task.source, 'Software Maker');
    assert.equal(execution.task.presentationOptions.reveal, vscode.TaskRevealKind.Always);
  });

  it('kills the whole process group when the time limit passes', async () => {
    const pidFile = path.join(root, dir, 'child.pid');
    const result = await new TaskCommandRunner(root).run(request('sleep 300 & echo $! > child.pid; wait', { timeoutMs: 1500 }), never);
    assert.equal(result.timedOut, true);
    assert.equal(result.exitCode, null);
    assert.equal(processAlive(Number((await readFile(pidFile, 'utf8')).trim())), false);
  });

  it('starts a background command and stops it', async () => {
    const server = await new TaskCommandRunner(root).start(request(`node -e "console.log('serving'); setInterval(() => {}, 1000)"`, { purpose: 'dev-server' }));
    const deadline = Date.now() + 20_000;
    while (!server.output().includes('serving') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.match(server.output(), /serving/);
    await server.stop();
    assert.equal((await server.exited).exitCode, null);
  });

  it('refuses in an untrusted workspace and outside the workspace folder', async () => {
    await assert.rejects(new TaskCommandRunner(root, { isTrusted: () => false }).run(request('echo hi'), never), /not trusted/);
    await assert.rejects(new TaskCommandRunner(root).run(request('echo hi', { cwd: '..' }), never), /outside/);
  });

  it("the modal's text shows the command verbatim, its folder and reason, with control characters escaped", () => {
    const prompt = approvalPrompt({ subject: { kind: 'command', command: `npm run build -- --out 'a b'\u202e\x1b[2K`, cwd: 'packages/app', reason: 'build first' }, role: 'implementer', taskId: 't1' });
    assert.equal(prompt.approve, 'Run');
    assert.match(prompt.message, /implementer \(task t1\) wants to run a command/);
    assert.ok(prompt.detail.startsWith(`npm run build -- --out 'a b'\\u202e\\x1b[2K\n`), prompt.detail);
    assert.match(prompt.detail, /in: packages\/app\nwhy: build first/);
    const deploy = approvalPrompt({ subject: { kind: 'deploy', command: 'npm run deploy', runbook: '# Runbook\nShip.' }, role: 'deployer' });
    assert.equal(deploy.approve, 'Deploy');
    // Enter (the first button) must not deploy; Escape (the close affordance) denies too.
    assert.deepEqual(deploy.buttons, [{ title: 'Deny' }, { title: 'Deploy' }, { title: 'Deny with Reason…' }, { title: 'Cancel', isCloseAffordance: true }]);
    assert.deepEqual(prompt.buttons, [{ title: 'Run' }, { title: 'Deny with Reason…' }, { title: 'Deny', isCloseAffordance: true }]);
    assert.match(deploy.detail, /# Runbook\nShip\./);
  });
});
