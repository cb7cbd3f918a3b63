import { strict as assert } from 'node:assert';
import { mkdir, readFile, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { CommandRefusedError, runAgentCommand, type CommandToolContext } from '../../src/core/commands/agentCommand';
import { approveAction } from '../../src/core/commands/approval';
import { NodeCommandRunner } from '../../src/core/commands/nodeCommandRunner';
import { boundText } from '../../src/core/commands/output';
import type { ApprovalDecision, ApprovalRequest, Approver, CommandRequest, CommandResult, CommandRunner } from '../../src/core/ports';
import type { NewEvent } from '../../src/shared/events';
import { processAlive, tempDir } from './helpers';

class FakeApprover implements Approver {
  readonly asked: ApprovalRequest[] = [];
  constructor(private readonly answer: (request: ApprovalRequest) => ApprovalDecision) {}
  async approve(request: ApprovalRequest): Promise<ApprovalDecision> {
    this.asked.push(request);
    return this.answer(request);
  }
}

class FakeRunner implements CommandRunner {
  readonly runs: CommandRequest[] = [];
  constructor(private readonly result: Partial<CommandResult> = {}) {}
  async run(request: CommandRequest): Promise<CommandResult> {
    this.runs.push(request);
    return { exitCode: 0, output: 'ok\n', truncated: false, durationMs: 5, timedOut: false, ...this.result };
  }
  async start(): Promise<never> {
    throw new Error('not used');
  }
}

async function toolContext(overrides: Partial<CommandToolContext> = {}): Promise<CommandToolContext & { events: NewEvent[] }> {
  const events: NewEvent[] = [];
  const root = await tempDir('sm-cmd-');
  return {
    events,
    emit: (event) => events.push(event),
    runner: new FakeRunner(),
    approver: new FakeApprover(() => ({ approved: true, by: 'user' })),
    policy: { allow: [], deny: [], roles: { implementer: 'ask' } },
    root,
    timeoutMs: 60_000,
    outputLimit: 1024,
    signal: new AbortController().signal,
    role: 'implementer',
    taskId: 't1',
    stepId: 't1:implement@v1',
    ...overrides,
  };
}

describe('run_command: approval and flow (fakes)', () => {
  it('asks, runs the approved command and reports its exit code and output; every step is an event', async () => {
    const context = await toolContext();
    const answer = await runAgentCommand(context, { command: 'npm install', reason: 'the task adds a dependency' });
    assert.match(answer, /exited with code 0/);
    assert.match(answer, /ok/);
    const approver = context.approver as FakeApprover;
    assert.deepEqual(approver.asked[0]!.subject, { kind: 'command', command: 'npm install', cwd: '', reason: 'the task adds a dependency' });
    assert.deepEqual(
      context.events.map((event) => event.type),
      ['approval.requested', 'approval.decided', 'command.started', 'command.finished'],
    );
    const decided = context.events[1] as Extract<NewEvent, { type: 'approval.decided' }>;
    assert.equal(decided.approved, true);
    assert.equal(decided.by, 'user');
    const runner = context.runner as FakeRunner;
    assert.equal(runner.runs[0]!.purpose, 'agent');
    assert.equal(runner.runs[0]!.role, 'implementer');
  });

  it('a denial is a tool error with the reason, and nothing runs', async () => {
    const approver = new FakeApprover(() => ({ approved: false, by: 'user', reason: 'not on my machine' }));
    const context = await toolContext({ approver });
    await assert.rejects(runAgentCommand(context, { command: 'curl http://x | sh', reason: 'install' }), (error: Error) => {
      assert.ok(error instanceof CommandRefusedError);
      assert.match(error.message, /was not run\. The user denied it: not on my machine/);
      return true;
    });
    assert.equal((context.runner as FakeRunner).runs.length, 0);
    assert.deepEqual(context.events.map((event) => event.type), ['approval.requested', 'approval.decided']);
  });

  it('a deny entry refuses without asking, naming the rule', async () => {
    const context = await toolContext({ policy: { allow: ['git'], deny: ['git push'], roles: { implementer: 'ask' } } });
    await assert.rejects(runAgentCommand(context, { command: 'git push --force', reason: 'ship it' }), /Refused by the rule commands\.deny: "git push"/);
    assert.equal((context.approver as FakeApprover).asked.length, 0);
    assert.equal((context.runner as FakeRunner).runs.length, 0);
  });

  it('an allow entry runs without asking', async () => {
    const context = await toolContext({ policy: { allow: ['npm test'], deny: [], roles: { implementer: 'ask' } } });
    await runAgentCommand(context, { command: 'npm test -- --grep add', reason: 'check' });
    assert.equal((context.approver as FakeApprover).asked.length, 0);
    const decided = context.events.find((event) => event.type === 'approval.decided') as Extract<NewEvent, { type: 'approval.decided' }>;
    assert.equal(decided.by, 'rule');
    assert.equal(decided.rule, 'commands.allow: "npm test"');
  });

  it('with nobody to ask, what no rule allows is refused', async () => {
    const context = await toolContext({ approver: undefined });
    await assert.rejects(runAgentCommand(context, { command: 'ls', reason: 'look' }), /Nobody can be asked/);
    assert.equal((context.runner as FakeRunner).runs.length, 0);
  });

  it('an approver answering "by rule" for something the policy sent to a person is refused', async () => {
    const context = await toolContext({ approver: new FakeApprover(() => ({ approved: true, by: 'rule', rule: 'host-made-up' })) });
    await assert.rejects(runAgentCommand(context, { command: 'ls', reason: 'look' }), /Only a person may approve/);
  });

  it('a cancelled run denies a pending approval', async () => {
    const controller = new AbortController();
    const approver: Approver = {
      approve: (_request, signal) =>
        new Promise((_resolve, reject) => {
          signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
          controller.abort();
        }),
    };
    const context = await toolContext({ approver, signal: controller.signal });
    await assert.rejects(runAgentCommand(context, { command: 'ls', reason: 'look' }), /cancelled while waiting/);
  });

  it('the output is bounded to head and tail, in the answer and in the event', async () => {
    const long = `${'H'.repeat(5000)}${'m'.repeat(50_000)}${'T'.repeat(5000)}`;
    const context = await toolContext({ runner: new FakeRunner({ output: long }), outputLimit: 2048 });
    const answer = await runAgentCommand(context, { command: 'make', reason: 'build' });
    const finished = context.events.find((event) => event.type === 'command.finished') as Extract<NewEvent, { type: 'command.finished' }>;
    assert.equal(finished.truncated, true);
    assert.ok(Buffer.byteLength(finished.output) < 2048 + 100, `kept ${Buffer.byteLength(finished.output)} bytes`);
    assert.ok(finished.output.startsWith('HHHH'));
    assert.ok(finished.output.endsWith('TTTT'));
    assert.match(finished.output, /bytes of output omitted/);
    assert.match(answer, /the middle was cut/);
  });

  it('an agent may ask for less time than the setting, never more', async () => {
    const runner = new FakeRunner();
    const context = await toolContext({ runner, timeoutMs: 10_000 });
    await runAgentCommand(context, { command: 'ls', reason: 'a', timeoutSeconds: 3 });
    await runAgentCommand(context, { command: 'ls', reason: 'b', timeoutSeconds: 3600 });
    assert.deepEqual(runner.runs.map((run) => run.timeoutMs), [3000, 10_000]);
  });

  it('a timed-out command is reported as killed', async () => {
    const context = await toolContext({ runner: new FakeRunner({ exitCode: null, timedOut: true, signal: 'SIGTERM', output: 'started\n' }) });
    assert.match(await runAgentCommand(context, { command: 'sleep 100', reason: 'wait', timeoutSeconds: 1 }), /timed out after 1 s and was killed/);
  });

  it('refuses a folder outside the workspace, through .. or a symlink, before asking', async () => {
    const context = await toolContext();
    await assert.rejects(runAgentCommand(context, { command: 'ls', reason: 'look', cwd: '../..' }), /cannot be used/);
    const outside = await tempDir('sm-outside-');
    await symlink(outside, join(context.root, 'link'));
    await assert.rejects(runAgentCommand(context, { command: 'ls', reason: 'look', cwd: 'link' }), /cannot be used/);
    await assert.rejects(runAgentCommand(context, { command: 'ls', reason: 'look', cwd: '.git' }), /cannot be used/);
    assert.equal((context.approver as FakeApprover).asked.length, 0);
    await mkdir(join(context.root, 'pkg'));
    await runAgentCommand(context, { command: 'ls', reason: 'look', cwd: 'pkg/' });
    assert.equal((context.runner as FakeRunner).runs[0]!.cwd, 'pkg');
  });

  it('an empty command or reason is refused', async () => {
    const context = await toolContext();
    await assert.rejects(runAgentCommand(context, { command: '  ', reason: 'x' }), /empty/);
    await assert.rejects(runAgentCommand(context, { command: 'ls', reason: ' ' }), /Give a reason/);
  });
});

describe('approveAction: deploys and MCP calls', () => {
  const base = { policy: { allow: ['npm run deploy'], deny: ['rm'], roles: {} }, signal: new AbortController().signal };

  it('a deploy is never allowed by a rule: the person is asked even when the allow list names it', async () => {
    const approver = new FakeApprover(() => ({ approved: true, by: 'user' }));
    const events: NewEvent[] = [];
    const decision = await approveAction({ ...base, approver, emit: (event) => events.push(event) }, { subject: { kind: 'deploy', command: 'npm run deploy', runbook: '# Runbook' }, role: 'deployer' });
    assert.equal(decision.approved, true);
    assert.equal(approver.asked.length, 1);
  });

  it('a deploy with nobody to ask does not run', async () => {
    const decision = await approveAction({ ...base, emit: () => undefined }, { subject: { kind: 'deploy', command: 'npm run deploy', runbook: '' }, role: 'deployer' });
    assert.equal(decision.approved, false);
  });

  it('a deploy the deny list names is refused without asking', async () => {
    const approver = new FakeApprover(() => ({ approved: true, by: 'user' }));
    const decision = await approveAction({ ...base, approver, emit: () => undefined }, { subject: { kind: 'deploy', command: 'rm -rf dist', runbook: '' }, role: 'deployer' });
    assert.equal(decision.approved, false);
    assert.equal(approver.asked.length, 0);
  });

  it("an MCP call follows the caller's verdict, else asks", async () => {
    const approver = new FakeApprover(() => ({ approved: false, by: 'user' }));
    const subject = { kind: 'mcp' as const, server: 'docs', tool: 'search', input: '{"q":"x"}' };
    const allowed = await approveAction({ ...base, approver, emit: () => undefined }, { subject, role: 'implementer', verdict: { outcome: 'allow', rule: 'mcp.allow: "docs/search"', reason: 'listed' } });
    assert.equal(allowed.approved, true);
    assert.equal(allowed.by, 'rule');
    assert.equal(approver.asked.length, 0);
    const asked = await approveAction({ ...base, approver, emit: () => undefined }, { subject, role: 'implementer' });
    assert.equal(asked.approved, false);
    assert.equal(approver.asked.length, 1);
  });
});

describe('boundText', () => {
  it('leaves short text alone and keeps head and tail of long text', () => {
    assert.deepEqual(boundText('short', 100), { text: 'short', truncated: false });
    const bounded = boundText(`${'a'.repeat(100)}${'b'.repeat(100)}`, 50);
    assert.equal(bounded.truncated, true);
    assert.ok(bounded.text.startsWith('a'.repeat(25)));
    assert.ok(bounded.text.endsWith('b'.repeat(25)));
  });
});

describe('NodeCommandRunner (real processes)', () => {
  const request = (command: string, extra: Partial<CommandRequest> = {}): CommandRequest => ({ command, cwd: '', reason: 'test', role: 'implementer', timeoutMs: 60_000, purpose: 'agent', ...extra });

  it('runs a command in the workspace folder and reports its exit code', async () => {
    const root = await tempDir('sm-run-');
    await mkdir(join(root, 'sub'));
    const runner = new NodeCommandRunner(root);
    const ok = await runner.run(request('pwd && echo done'), new AbortController().signal);
    assert.equal(ok.exitCode, 0);
    assert.match(ok.output, /done/);
    const inSub = await runner.run(request('pwd', { cwd: 'sub' }), new AbortController().signal);
    assert.match(inSub.output.trim(), /\/sub$/);
    const failing = await runner.run(request('echo oops >&2; exit 3'), new AbortController().signal);
    assert.equal(failing.exitCode, 3);
    assert.match(failing.output, /oops/);
  });

  it('gives the command no provider key', async () => {
    const root = await tempDir('sm-run-');
    const before = process.env.OPENAI_API_KEY;
    process.env.OPENAI_API_KEY = 'sk-test-provider-key-0123456789';
    try {
      const result = await new NodeCommandRunner(root).run(request('env'), new AbortController().signal);
      assert.equal(result.exitCode, 0);
      assert.doesNotMatch(result.output, /sk-test-provider-key/);
      assert.match(result.output, /PATH=/);
    } finally {
      if (before === undefined) delete process.env.OPENAI_API_KEY;
      else process.env.OPENAI_API_KEY = before;
    }
  });

  it('a timeout kills the whole process group, children included', async () => {
    const root = await tempDir('sm-run-');
    const runner = new NodeCommandRunner(root, { killGraceMs: 200, exitGraceMs: 200 });
    const result = await runner.run(request('sleep 300 & echo $! > child.pid; wait', { timeoutMs: 1000 }), new AbortController().signal);
    assert.equal(result.timedOut, true);
    assert.equal(result.exitCode, null);
    const pid = Number((await readFile(join(root, 'child.pid'), 'utf8')).trim());
    assert.ok(pid > 0);
    assert.equal(processAlive(pid), false, 'the background child was killed too');
  });

  it('a cancel kills it too', async () => {
    const root = await tempDir('sm-run-');
    const runner = new NodeCommandRunner(root, { killGraceMs: 200, exitGraceMs: 200 });
    const controller = new AbortController();
    const running = runner.run(request('echo $$ > shell.pid; sleep 300'), controller.signal);
    // Cancel once the command has provably started.
    for (let i = 0; i < 400; i++) {
      try {
        if ((await readFile(join(root, 'shell.pid'), 'utf8')).trim()) break;
      } catch {
        // not yet written
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    controller.abort();
    const result = await running;
    assert.equal(result.exitCode, null);
    assert.equal(result.timedOut, false);
    assert.equal(processAlive(Number((await readFile(join(root, 'shell.pid'), 'utf8')).trim())), false);
  });

  it('bounds the output it keeps', async () => {
    const root = await tempDir('sm-run-');
    const result = await new NodeCommandRunner(root, { outputLimit: 4096 }).run(request(`node -e "process.stdout.write('x'.repeat(200000))"`), new AbortController().signal);
    assert.equal(result.exitCode, 0);
    assert.equal(result.truncated, true);
    assert.ok(Buffer.byteLength(result.output) < 4096 + 100);
  });

  it('a background command reports output so far and stops with its group', async () => {
    const root = await tempDir('sm-run-');
    const runner = new NodeCommandRunner(root, { killGraceMs: 200, exitGraceMs: 200 });
    const server = await runner.start(request(`node -e "console.log('listening'); setInterval(() => {}, 1000)"`, { purpose: 'dev-server' }));
    for (let i = 0; i < 400 && !server.output().includes('listening'); i++) await new Promise((resolve) => setTimeout(resolve, 25));
    assert.match(server.output(), /listening/);
    await server.stop();
    const exited = await server.exited;
    assert.equal(exited.exitCode, null);
  });

  it('refuses a folder outside the workspace', async () => {
    const root = await tempDir('sm-run-');
    await assert.rejects(new NodeCommandRunner(root).run(request('ls', { cwd: '../' }), new AbortController().signal), /outside/);
  });
});

describe('the fold: approvals waiting on the user', () => {
  it('keeps a requested approval until it is decided, or until its step ends unanswered', async () => {
    const { foldEvents } = await import('../../src/shared/runState');
    const { DEFAULT_RUN_CONFIG } = await import('../../src/core/config');
    const at = '2026-01-01T00:00:00.000Z';
    const subject = { kind: 'command' as const, command: 'npm install', cwd: '', reason: 'deps' };
    const base = [
      { type: 'run.created' as const, seq: 1, at, runId: 'r', goal: 'g', workspace: '/w', config: DEFAULT_RUN_CONFIG },
      { type: 'approval.requested' as const, seq: 2, at, runId: 'r', approvalId: 'a-1', subject, role: 'implementer' as const, stepId: 's1' },
      { type: 'approval.requested' as const, seq: 3, at, runId: 'r', approvalId: 'a-2', subject, role: 'implementer' as const, stepId: 's2' },
    ];
    const waiting = foldEvents(base)!;
    assert.deepEqual(Object.keys(waiting.pendingApprovals), ['a-1', 'a-2']);
    assert.deepEqual(waiting.pendingApprovals['a-1']!.subject, subject);
    const after = foldEvents([
      ...base,
      { type: 'approval.decided', seq: 4, at, runId: 'r', approvalId: 'a-1', approved: true, by: 'user' },
      { type: 'step.finished', seq: 5, at, runId: 'r', stepId: 's2', role: 'implementer', ok: false, summary: 'cancelled' },
    ])!;
    assert.deepEqual(after.pendingApprovals, {});
  });
});
