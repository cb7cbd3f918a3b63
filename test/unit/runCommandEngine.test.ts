// run_command and the deployer inside whole engine runs: scripted models, real commands, a fake person.
import { strict as assert } from 'node:assert';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NodeCommandRunner } from '../../src/core/commands/nodeCommandRunner';
import type { TranscriptTurn } from '../../src/core/models/scripted';
import type { ApprovalDecision, ApprovalRequest, Approver } from '../../src/core/ports';
import { calculatorWorkspace, makeEngine, ofType, scriptedConfig, writeTranscript } from './helpers';

const GOAL = 'Fix add() and ship it';

class Person implements Approver {
  readonly asked: ApprovalRequest[] = [];
  constructor(private readonly answer: (request: ApprovalRequest) => ApprovalDecision) {}
  async approve(request: ApprovalRequest): Promise<ApprovalDecision> {
    this.asked.push(request);
    return this.answer(request);
  }
}

const fixAdd: TranscriptTurn[] = [
  { role: 'implementer', task: 't1', toolCalls: [{ tool: 'propose_edit', input: { path: 'src/calc.js', hunks: [{ search: 'return a - b;', replace: 'return a + b;' }] } }] },
  { role: 'implementer', task: 't1', toolCalls: [{ tool: 'finish', input: { summary: 'fixed add' } }] },
];
const implementerPlan = (withDeploy: boolean): TranscriptTurn => ({
  role: 'planner',
  toolCalls: [
    {
      tool: 'finish',
      input: {
        summary: 'Fix add()',
        tasks: [
          { id: 't1', title: 'Fix add()', description: 'Make add return a + b.', role: 'implementer', dependsOn: [], acceptance: ['add tests pass'], files: ['src/calc.js'] },
          ...(withDeploy ? [{ id: 't2', title: 'Deploy', description: 'Release the fix.', role: 'deployer', dependsOn: ['t1'], acceptance: ['deployed'], files: [] }] : []),
        ],
      },
    },
  ],
});
const runCommandTurn = (command: string): TranscriptTurn => ({ role: 'implementer', task: 't1', toolCalls: [{ tool: 'run_command', input: { command, reason: 'see what node prints' } }] });
const deployerTurns: TranscriptTurn[] = [
  { role: 'deployer', task: 't2', toolCalls: [{ tool: 'finish', input: { summary: 'runbook ready', runbook: '# Runbook\n\nRun the deploy script; check deployed.txt says yes.' } }] },
];
const DEPLOY = `node -e "require('fs').writeFileSync('deployed.txt', 'yes')"`;

describe('run_command and the deployer in a run', function () {
  this.timeout(120_000);

  it('an approved command runs for real and its output reaches the agent', async () => {
    const ws = await calculatorWorkspace();
    const transcript = await writeTranscript(ws, [
      implementerPlan(false),
      runCommandTurn('node -e "console.log(40 + 2)"'),
      { ...fixAdd[0]!, expect: 'exited with code 0' },
      fixAdd[1]!,
    ]);
    const person = new Person(() => ({ approved: true, by: 'user' }));
    const { engine, events } = await makeEngine(ws, { commandRunner: new NodeCommandRunner(ws), approver: person });
    const final = await (await engine.startRun(GOAL, scriptedConfig(transcript, { reviewGate: false }))).finished;
    assert.equal(final.status, 'completed', final.statusReason);
    assert.equal(person.asked.length, 1);
    assert.deepEqual(person.asked[0]!.subject, { kind: 'command', command: 'node -e "console.log(40 + 2)"', cwd: '', reason: 'see what node prints' });
    const finished = ofType(events, 'command.finished');
    assert.equal(finished.length, 1);
    assert.equal(finished[0]!.exitCode, 0);
    assert.match(finished[0]!.output, /42/);
    const toolResult = ofType(events, 'tool.result').find((event) => event.tool === 'run_command')!;
    assert.equal(toolResult.ok, true);
    assert.match(toolResult.output, /42/);
    assert.deepEqual(final.pendingApprovals, {});
  });

  it('a denied command does not run; the agent hears why and the run goes on', async () => {
    const ws = await calculatorWorkspace();
    const transcript = await writeTranscript(ws, [
      implementerPlan(false),
      runCommandTurn(`node -e "require('fs').writeFileSync('ran.txt', 'x')"`),
      { ...fixAdd[0]!, expect: 'The user denied it: not now' },
      fixAdd[1]!,
    ]);
    const person = new Person(() => ({ approved: false, by: 'user', reason: 'not now' }));
    const { engine, events } = await makeEngine(ws, { commandRunner: new NodeCommandRunner(ws), approver: person });
    const final = await (await engine.startRun(GOAL, scriptedConfig(transcript, { reviewGate: false }))).finished;
    assert.equal(final.status, 'completed', final.statusReason);
    assert.equal(ofType(events, 'command.started').length, 0);
    await assert.rejects(access(join(ws, 'ran.txt')));
    const toolResult = ofType(events, 'tool.result').find((event) => event.tool === 'run_command')!;
    assert.equal(toolResult.ok, false);
  });

  it('a role the policy says never does not get the tool at all', async () => {
    const ws = await calculatorWorkspace();
    const transcript = await writeTranscript(ws, [implementerPlan(false), runCommandTurn('ls'), { ...fixAdd[0]!, expect: 'run_command' }, fixAdd[1]!]);
    const { engine, events } = await makeEngine(ws, { commandRunner: new NodeCommandRunner(ws), approver: new Person(() => ({ approved: true, by: 'user' })) });
    await (await engine.startRun(GOAL, scriptedConfig(transcript, { reviewGate: false, commands: { allow: [], deny: [], roles: { implementer: 'never' }, timeoutMs: 60_000, outputLimit: 16_384 } }))).finished;
    assert.equal(ofType(events, 'approval.requested').length, 0);
    const result = ofType(events, 'tool.result').find((event) => event.tool === 'run_command');
    assert.ok(result && !result.ok, 'the call of a tool the role was not given fails');
  });

  it('the deployer writes its runbook and deploys only after the person approves it, reading the runbook', async () => {
    const ws = await calculatorWorkspace();
    const transcript = await writeTranscript(ws, [implementerPlan(true), ...fixAdd, ...deployerTurns]);
    const person = new Person(() => ({ approved: true, by: 'user' }));
    const { engine, events, runsDir } = await makeEngine(ws, { commandRunner: new NodeCommandRunner(ws), approver: person });
    const handle = await engine.startRun(GOAL, scriptedConfig(transcript, { reviewGate: false, deploy: { command: DEPLOY, timeoutMs: 60_000 } }));
    const final = await handle.finished;
    assert.equal(final.status, 'completed', final.statusReason);
    assert.equal(person.asked.length, 1);
    assert.deepEqual(person.asked[0]!.subject, { kind: 'deploy', command: DEPLOY, runbook: '# Runbook\n\nRun the deploy script; check deployed.txt says yes.' });
    assert.equal(await readFile(join(ws, 'deployed.txt'), 'utf8'), 'yes');
    assert.match(await readFile(join(runsDir, handle.runId, 'runbook.md'), 'utf8'), /# Runbook/);
    const started = ofType(events, 'command.started');
    assert.deepEqual(started.map((event) => [event.purpose, event.role]), [['deploy', 'deployer']]);
  });

  for (const [name, approver] of [
    ['the person says no', new Person(() => ({ approved: false, by: 'user' }))],
    ['nobody can be asked', undefined],
    ['the host answers by a rule', new Person(() => ({ approved: true, by: 'rule', rule: 'commands.allow' }))],
  ] as const) {
    it(`never deploys when ${name}, not even with the deploy command on the allow list and auto-approval on`, async () => {
      const ws = await calculatorWorkspace();
      const transcript = await writeTranscript(ws, [implementerPlan(true), ...fixAdd, ...deployerTurns]);
      const { engine, events } = await makeEngine(ws, { commandRunner: new NodeCommandRunner(ws), approver });
      const config = scriptedConfig(transcript, {
        reviewGate: false,
        autoApprove: true,
        deploy: { command: DEPLOY, timeoutMs: 60_000 },
        commands: { allow: [DEPLOY, 'node'], deny: [], roles: { deployer: 'ask' }, timeoutMs: 60_000, outputLimit: 16_384 },
      });
      const final = await (await engine.startRun(GOAL, config)).finished;
      assert.equal(ofType(events, 'command.started').length, 0);
      await assert.rejects(access(join(ws, 'deployed.txt')));
      assert.equal(final.tasks.t2!.status, 'done', 'a refused deploy is a decision, not a failure');
      assert.ok(ofType(events, 'approval.decided').every((event) => !event.approved));
    });
  }

  it('without a deploy setting the deployer only writes the runbook: nothing runs, nobody is asked', async () => {
    const ws = await calculatorWorkspace();
    const transcript = await writeTranscript(ws, [implementerPlan(true), ...fixAdd, ...deployerTurns]);
    const person = new Person(() => ({ approved: true, by: 'user' }));
    const { engine, events } = await makeEngine(ws, { commandRunner: new NodeCommandRunner(ws), approver: person });
    const final = await (await engine.startRun(GOAL, scriptedConfig(transcript, { reviewGate: false }))).finished;
    assert.equal(final.status, 'completed', final.statusReason);
    assert.equal(person.asked.length, 0);
    assert.equal(ofType(events, 'command.started').length, 0);
    assert.ok(ofType(events, 'log').some((event) => /no deploy command is configured/.test(event.message)));
  });

  it('a failing deploy fails the task with its output; the deployer (not the fixer) tries again', async () => {
    const ws = await calculatorWorkspace();
    const failing = `node -e "console.error('bad credentials'); process.exit(4)"`;
    const transcript = await writeTranscript(ws, [
      implementerPlan(true),
      ...fixAdd,
      ...deployerTurns,
      { role: 'deployer', task: 't2', expect: 'bad credentials', toolCalls: [{ tool: 'finish', input: { summary: 'runbook v2', runbook: '# Runbook v2' } }] },
    ]);
    const person = new Person(() => ({ approved: true, by: 'user' }));
    const { engine, events } = await makeEngine(ws, { commandRunner: new NodeCommandRunner(ws), approver: person });
    const final = await (await engine.startRun(GOAL, scriptedConfig(transcript, { reviewGate: false, maxFixAttempts: 1, deploy: { command: failing, timeoutMs: 60_000 } }))).finished;
    assert.equal(person.asked.length, 2);
    assert.equal(final.tasks.t2!.status, 'dead_letter');
    assert.match(final.tasks.t2!.lastFailure ?? '', /exited with code 4[\s\S]*bad credentials/);
    assert.deepEqual(ofType(events, 'step.started').filter((event) => event.taskId === 't2').map((event) => event.role), ['deployer', 'deployer']);
  });
});
