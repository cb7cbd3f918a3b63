// Dead-letter triage, step replay and the tasks.json test-task override inside the real extension
// host. The triage commands run against a fake EngineApi with scripted answers for the quick picks,
// input boxes and modal questions, so each command is checked to make exactly the engine call it
// should (and none when the user backs out). The test-task runner runs real tasks from the fixture's
// .vscode/tasks.json.
import * as assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { DEFAULT_RUN_CONFIG } from '../../src/core/config';
import type { EngineApi, RunHandle, RunOrigin } from '../../src/core/engineApi';
import type { ReplayResult, StepRecord } from '../../src/core/run/replay';
import type { EngineEvent, NewEvent } from '../../src/shared/events';
import type { TriageDecision } from '../../src/shared/protocol';
import { foldEvents, summarizeRun, type RunState } from '../../src/shared/runState';
import { TaskTestRunner, TEST_TASK_TYPE } from '../../src/host/taskTestRunner';
import { REPLAY_SCHEME } from '../../src/host/triage/replayDocuments';
import { COMMANDS } from '../../src/host/commands';
import { TriageCommands, type TriageUi } from '../../src/host/triage/triageCommands';
import { commandOfTask, resolveTestTask, TestTaskError } from '../../src/host/workspaceTestTask';

const TRIAGE_COMMAND_IDS = [COMMANDS.retryTask, COMMANDS.retryTaskWithModel, COMMANDS.skipTask, COMMANDS.editTask, COMMANDS.markTaskDone, COMMANDS.replayStep].map((command) => command.id);

const RUN_ID = '20260501-100000-abcd';

/** A paused run: t1 dead-lettered (t2 and t3 depend on it), t4 pending on its own. */
function pausedRun(): EngineEvent[] {
  const events: EngineEvent[] = [];
  const add = (payload: NewEvent): void => {
    events.push({ ...payload, seq: events.length + 1, at: new Date(Date.UTC(2026, 4, 1, 10, 0, events.length)).toISOString(), runId: RUN_ID } as EngineEvent);
  };
  const config = {
    ...DEFAULT_RUN_CONFIG,
    models: [
      { id: 'scripted', provider: 'scripted' as const, transcript: 'a.json' },
      { id: 'strong', provider: 'scripted' as const, transcript: 'b.json' },
    ],
  };
  add({ type: 'run.created', goal: 'Fix the calculator', workspace: '/w', config });
  add({ type: 'run.status', status: 'planning' });
  add({
    type: 'plan.accepted',
    repairs: 0,
    plan: {
      summary: 's',
      tasks: [
        { id: 't1', title: 'Fix add()', description: 'Make add return a + b.', role: 'implementer', dependsOn: [], acceptance: ['add works', 'tests pass'], files: ['src/calc.js'] },
        { id: 't2', title: 'Tests', description: 'd', role: 'tester', dependsOn: ['t1'], acceptance: ['a'], files: ['test/x.js'] },
        { id: 't3', title: 'Docs', description: 'd', role: 'docs', dependsOn: ['t2'], acceptance: ['a'], files: ['README.md'] },
        { id: 't4', title: 'Other', description: 'd', role: 'docs', dependsOn: [], acceptance: ['a'], files: ['x.md'] },
      ],
    },
  });
  add({ type: 'run.status', status: 'running' });
  add({ type: 'task.status', taskId: 't1', status: 'ready' });
  add({ type: 'task.status', taskId: 't1', status: 'running' });
  add({ type: 'step.started', stepId: 't1:implement@v1', taskId: 't1', role: 'implementer', attempt: 1, model: 'scripted' });
  add({ type: 'step.finished', stepId: 't1:implement@v1', taskId: 't1', role: 'implementer', ok: true, summary: 'changed multiply' });
  add({ type: 'task.status', taskId: 't1', status: 'awaiting-review' });
  add({ type: 'task.status', taskId: 't1', status: 'testing' });
  add({ type: 'task.status', taskId: 't1', status: 'failed', reason: 'tests failed', signature: 'tests:multiply' });
  add({ type: 'task.status', taskId: 't1', status: 'dead_letter', reason: '1 attempt failed' });
  add({ type: 'run.status', status: 'paused', reason: 'needs triage: t1 (1 attempt failed)' });
  return events;
}

/** An EngineApi that records the triage and replay calls and answers from a fixed log. */
class FakeEngine implements EngineApi {
  readonly calls: { method: string; args: unknown[] }[] = [];
  readonly events = pausedRun();
  readonly state: RunState = foldEvents(this.events)!;
  driven: string[] = [];
  failWith?: Error;
  replayResult?: ReplayResult;
  /** Resolved by tests when the resumed run "pauses again". */
  finished: Promise<RunState> = Promise.resolve(this.state);

  onEvent(): () => void {
    return () => undefined;
  }
  async listRuns() {
    return [summarizeRun(this.state)];
  }
  async getRun(runId: string) {
    return runId === RUN_ID ? this.state : undefined;
  }
  async readEvents() {
    return this.events;
  }
  async triageTask(runId: string, taskId: string, action: TriageDecision): Promise<RunHandle> {
    this.calls.push({ method: 'triageTask', args: [runId, taskId, action] });
    if (this.failWith) throw this.failWith;
    return { runId, finished: this.finished };
  }
  async replayStep(runId: string, stepId: string, options?: { model?: string }): Promise<ReplayResult> {
    this.calls.push({ method: 'replayStep', args: [runId, stepId, options] });
    if (!this.replayResult) throw new Error('no replay scripted');
    return this.replayResult;
  }
  async setBudgets(runId: string, budgets: unknown) {
    this.calls.push({ method: 'setBudgets', args: [runId, budgets] });
  }
  async resumeRun(runId: string): Promise<RunHandle> {
    this.calls.push({ method: 'resumeRun', args: [runId] });
    return { runId, finished: this.finished };
  }
  activeRunIds() {
    return this.driven;
  }
  startRun(): Promise<RunHandle> {
    throw new Error('not used');
  }
  cancelRun(): Promise<boolean> {
    throw new Error('not used');
  }
  approvePlan(): Promise<boolean> {
    throw new Error('not used');
  }
  sendMessage(): never {
    throw new Error('not used');
  }
  checkpointFile(): never {
    throw new Error('not used');
  }
  listCheckpoints(): never {
    throw new Error('not used');
  }
  rollback(): never {
    throw new Error('not used');
  }
  async describeRunOrigin(runId: string): Promise<RunOrigin> {
    this.calls.push({ method: 'describeRunOrigin', args: [runId] });
    return { runId, own: true, uses: [], digest: 'd' };
  }
  async adoptRun(runId: string, digest: string): Promise<void> {
    this.calls.push({ method: 'adoptRun', args: [runId, digest] });
  }
  async dispose() {}
}

/** Scripted answers; every prompt shown is recorded. */
class ScriptedUi implements TriageUi {
  readonly shown: { kind: string; text: string; items?: string[] }[] = [];
  picks: ((labels: string[]) => number | undefined)[] = [];
  inputs: (string | undefined)[] = [];
  confirms: boolean[] = [];

  async quickPick<T extends vscode.QuickPickItem>(items: T[], options: { placeHolder: string }): Promise<T | undefined> {
    const labels = items.map((item) => item.label);
    this.shown.push({ kind: 'pick', text: options.placeHolder, items: labels });
    const choose = this.picks.shift();
    assert.ok(choose, `unexpected quick pick "${options.placeHolder}"`);
    const index = choose(labels);
    return index === undefined ? undefined : items[index];
  }
  async inputBox(options: vscode.InputBoxOptions): Promise<string | undefined> {
    this.shown.push({ kind: 'input', text: `${options.title}|${options.value}` });
    assert.ok(this.inputs.length, `unexpected input box "${options.title}"`);
    return this.inputs.shift();
  }
  async confirm(message: string, detail: string): Promise<boolean> {
    this.shown.push({ kind: 'confirm', text: `${message} ${detail}` });
    assert.ok(this.confirms.length, `unexpected question "${message}"`);
    return this.confirms.shift()!;
  }
  info(message: string): void {
    this.shown.push({ kind: 'info', text: message });
  }
  error(message: string): void {
    this.shown.push({ kind: 'error', text: message });
  }
}

const byLabel = (wanted: string) => (labels: string[]) => {
  const index = labels.findIndex((label) => label.includes(wanted));
  assert.ok(index >= 0, `no item "${wanted}" in ${JSON.stringify(labels)}`);
  return index;
};

describe('triage commands (extension host)', function () {
  this.timeout(60_000);
  let engine: FakeEngine;
  let ui: ScriptedUi;
  let followed: { runId: string; title: string }[];
  let trusted: boolean;
  let runsDir: string;
  let commands: TriageCommands;
  const node = { kind: 'task', runId: RUN_ID, taskId: 't1' };
  const triageCalls = () => engine.calls.filter((call) => call.method === 'triageTask').map((call) => call.args);

  before(async () => {
    runsDir = await mkdtemp(path.join(tmpdir(), 'sm-triage-'));
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await rm(runsDir, { recursive: true, force: true });
  });

  beforeEach(() => {
    engine = new FakeEngine();
    ui = new ScriptedUi();
    followed = [];
    trusted = true;
    commands?.dispose();
    commands = new TriageCommands({
      engine,
      runsDir,
      ui,
      follow: (handle, title) => followed.push({ runId: handle.runId, title }),
      canRun: () => (trusted ? { ok: true } : { ok: false, reason: 'This workspace is not trusted.' }),
    });
  });

  it('the extension registers every triage command', async () => {
    const extension = vscode.extensions.getExtension('software-maker.software-maker');
    assert.ok(extension, 'the extension under test is installed');
    await extension.activate();
    const registered = new Set(await vscode.commands.getCommands(true));
    for (const id of TRIAGE_COMMAND_IDS) assert.ok(registered.has(id), `${id} is registered`);
  });

  it('Retry (from a tree node) calls triageTask and follows the resumed run', async () => {
    assert.equal(await commands.retry({ runId: RUN_ID, taskId: 't1' }), true);
    assert.deepEqual(triageCalls(), [[RUN_ID, 't1', { kind: 'retry' }]]);
    assert.deepEqual(followed, [{ runId: RUN_ID, title: 'Fix the calculator' }]);
  });

  it('does not follow a run this window drives already (its progress is shown)', async () => {
    engine.driven = [RUN_ID];
    assert.equal(await commands.retry(node), true);
    assert.equal(followed.length, 0);
  });

  it('Retry with Another Model… offers the run\'s models, the one that failed last, and pins the choice', async () => {
    ui.picks.push(byLabel('strong'));
    assert.equal(await commands.retryWithModel(node), true);
    assert.deepEqual(ui.shown[0]!.items, ['strong', 'scripted'], 'the model used so far comes last');
    assert.deepEqual(triageCalls(), [[RUN_ID, 't1', { kind: 'retry', model: 'strong' }]]);

    ui.picks.push(() => undefined);
    assert.equal(await commands.retryWithModel(node), false, 'Escape in the picker');
    assert.equal(triageCalls().length, 1);
  });

  it('Skip names the tasks skipped with it and skips only when confirmed', async () => {
    ui.confirms.push(false, true);
    assert.equal(await commands.skip(node), false);
    assert.match(ui.shown[0]!.text, /Tasks that depend on it are skipped too: t2 \(Tests\), t3 \(Docs\)/);
    assert.equal(triageCalls().length, 0);
    assert.equal(await commands.skip(node), true);
    assert.deepEqual(triageCalls(), [[RUN_ID, 't1', { kind: 'skip' }]]);
  });

  it('Mark Task Done takes the task over when confirmed', async () => {
    ui.confirms.push(true);
    assert.equal(await commands.markDone(node), true);
    assert.deepEqual(triageCalls(), [[RUN_ID, 't1', { kind: 'takeOver' }]]);
  });

  it('Edit Task… sends only what changed, then retries the dead letter when asked', async () => {
    ui.inputs.push('Fix add() for real', 'Make add return a + b.', 'add works | tests pass | no regressions');
    ui.picks.push(byLabel('Retry it now'));
    assert.equal(await commands.edit(node), true);
    assert.deepEqual(ui.shown.filter((s) => s.kind === 'input').map((s) => s.text), [
      'Edit t1 (1/3): title|Fix add()',
      'Edit t1 (2/3): description|Make add return a + b.',
      'Edit t1 (3/3): acceptance criteria|add works | tests pass',
    ]);
    assert.deepEqual(triageCalls(), [
      [RUN_ID, 't1', { kind: 'edit', changes: { title: 'Fix add() for real', acceptance: ['add works', 'tests pass', 'no regressions'] } }],
      [RUN_ID, 't1', { kind: 'retry' }],
    ]);
  });

  it('Edit Task… cancelled at any box changes nothing', async () => {
    ui.inputs.push('New title', undefined);
    assert.equal(await commands.edit(node), false);
    assert.equal(triageCalls().length, 0);
  });

  it('from the palette, picks among dead-lettered tasks only', async () => {
    ui.picks.push(byLabel('t1'));
    assert.equal(await commands.retry(), true);
    assert.deepEqual(ui.shown[0]!.items, ['t1: Fix add()']);
    assert.deepEqual(triageCalls(), [[RUN_ID, 't1', { kind: 'retry' }]]);
  });

  it('shows what the engine refused, and refuses in an untrusted workspace without calling it', async () => {
    engine.failWith = new Error('Task t1 is done; only a task in dead-letter can be retried, skipped or taken over.');
    assert.equal(await commands.retry(node), false);
    assert.deepEqual(ui.shown.map((s) => s.text), ['Software Maker could not retry t1: Task t1 is done; only a task in dead-letter can be retried, skipped or taken over.']);
    engine.failWith = undefined;
    trusted = false;
    await assert.rejects(commands.decideOrThrow(node, { kind: 'skip' }), /not trusted/);
    assert.equal(triageCalls().length, 1);
  });

  it('Replay Step… and budget changes refuse in an untrusted workspace without calling the engine', async () => {
    trusted = false;
    assert.equal(await commands.replayCommand(RUN_ID, 't1:implement@v1'), undefined);
    assert.match(ui.shown.at(-1)?.text ?? '', /cannot replay steps here: This workspace is not trusted/);
    await assert.rejects(commands.replay(RUN_ID, 't1:implement@v1'), /not trusted/);
    await assert.rejects(commands.setBudgets(RUN_ID, { onExceed: 'pause' }, false), /not trusted/);
    assert.deepEqual(engine.calls, [], 'the engine was never asked');
  });

  it('Raise budget sets the caps and resumes a paused run', async () => {
    const budgets = { run: { usd: 2 }, onExceed: 'pause' as const };
    assert.equal(await commands.setBudgets(RUN_ID, budgets, true), true);
    assert.deepEqual(engine.calls, [
      { method: 'setBudgets', args: [RUN_ID, budgets] },
      { method: 'resumeRun', args: [RUN_ID] },
    ]);
    assert.equal(followed.length, 1);
  });

  it('Replay Step… replays the picked step with the picked model and opens the record, the output diff and the edits', async () => {
    const runDir = path.join(runsDir, RUN_ID);
    await mkdir(path.join(runDir, 'steps'), { recursive: true });
    const original: StepRecord = {
      stepId: 't1:implement@v1',
      role: 'implementer',
      taskId: 't1',
      attempt: 1,
      model: 'scripted',
      system: 's',
      prompt: 'p',
      result: { output: { summary: 'changed multiply' }, modelCalls: 1, toolCalls: [] },
    };
    const record: StepRecord = {
      ...original,
      stepId: 't1:implement@v2',
      model: 'strong',
      result: { output: { summary: 'fixed add' }, modelCalls: 1, toolCalls: [] },
      replayOf: 't1:implement@v1',
      edits: [{ path: 'src/calc.js', kind: 'modify', diff: '--- a/src/calc.js\n+++ b/src/calc.js\n@@ -1 +1 @@\n-return a - b;\n+return a + b;\n' }],
    };
    await writeFile(path.join(runDir, 'steps', 't1.implement@v1.json'), JSON.stringify(original));
    await writeFile(path.join(runDir, 'steps', 't1.implement@v2.json'), JSON.stringify(record));
    engine.replayResult = { replayId: 't1:implement@v2', artifact: path.join('steps', 't1.implement@v2.json'), ok: true, summary: 'fixed add', record };

    ui.picks.push(byLabel(RUN_ID.slice(0, 0) || 'Fix the calculator'), byLabel('t1:implement@v1'), byLabel('strong'));
    const shown = await commands.replayCommand();
    assert.ok(shown, `the replay was shown: ${JSON.stringify(ui.shown)}`);
    assert.deepEqual(engine.calls.at(-1), { method: 'replayStep', args: [RUN_ID, 't1:implement@v1', { model: 'strong' }] });
    assert.equal(ui.shown[2]!.items![0], '$(history) Same model (scripted)', 'the step\'s own model is offered first');

    const tabs = vscode.window.tabGroups.all.flatMap((group) => group.tabs);
    const diff = tabs.find((tab) => tab.input instanceof vscode.TabInputTextDiff && tab.input.modified.scheme === REPLAY_SCHEME);
    assert.ok(diff, `an output diff of replay documents is open (tabs: ${tabs.map((tab) => tab.label).join(', ')})`);
    const input = diff.input as vscode.TabInputTextDiff;
    assert.match((await vscode.workspace.openTextDocument(input.original)).getText(), /changed multiply/);
    assert.match((await vscode.workspace.openTextDocument(input.modified)).getText(), /fixed add/);
    assert.ok(tabs.some((tab) => tab.input instanceof vscode.TabInputText && tab.input.uri.fsPath === path.join(runDir, 'steps', 't1.implement@v2.json')), 'the new record file is open');
    const edits = await vscode.workspace.openTextDocument(shown.edits!);
    assert.match(edits.getText(), /NOT applied/);
    assert.match(edits.getText(), /\+return a \+ b;/);
    assert.match(ui.shown.at(-1)!.text, /replay t1:implement@v2 of t1:implement@v1 \(strong\) finished: fixed add\. It proposed edits to 1 file\(s\); they were not applied\./);
  });
});

describe('softwareMaker.testTask: a tasks.json task runs the tests (extension host)', function () {
  this.timeout(60_000);
  const never = new AbortController().signal;
  let root: string;

  before(() => {
    root = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
  });

  it('runs a shell task\'s command line in the Software Maker test terminal, with its cwd and env, and captures output and exit code', async () => {
    const started: vscode.TaskExecution[] = [];
    const listener = vscode.tasks.onDidStartTask((event) => {
      if (event.execution.task.definition.type === TEST_TASK_TYPE) started.push(event.execution);
    });
    try {
      const result = await new TaskTestRunner().run({ command: 'echo not this', cwd: root, timeoutMs: 30_000, label: 'Software Maker: tests (host task label)', taskLabel: 'sm: shell tests' }, never);
      assert.equal(result.exitCode, 3, result.output);
      assert.match(result.output, new RegExp(`1 passing in ${path.join(root, 'src').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      assert.match(result.output, /env from-tasks-json/);
      assert.doesNotMatch(result.output, /not this/);
    } finally {
      listener.dispose();
    }
    const execution = started.find((candidate) => candidate.task.name === 'Software Maker: tests (host task label)');
    assert.ok(execution, 'the run was a Software Maker task execution');
  });

  it('runs a process task (node --test) and reports its exit code', async () => {
    const result = await new TaskTestRunner().run({ command: '', cwd: root, timeoutMs: 60_000, label: 'Software Maker: tests (process task)', taskLabel: 'sm: process tests' }, never);
    assert.equal(result.exitCode, 0, result.output);
    assert.match(result.output, /greets by name/);
  });

  it('names the tasks that exist when the label matches none', async () => {
    await assert.rejects(resolveTestTask('sm: no such task', root), (error: unknown) => {
      assert.ok(error instanceof TestTaskError);
      assert.match(error.message, /No task labelled "sm: no such task".*"sm: shell tests"/s);
      return true;
    });
  });

  it('refuses a task with an ${input:…} variable, and a custom-execution task, saying why', async () => {
    await assert.rejects(resolveTestTask('sm: needs input', root), /uses \$\{input:which\}, which Software Maker cannot resolve/);
    const custom = new vscode.Task({ type: TEST_TASK_TYPE }, vscode.TaskScope.Workspace, 'sm: custom', 'Some Extension', new vscode.CustomExecution(async () => {
      throw new Error('never run');
    }));
    assert.throws(() => commandOfTask(custom, root), /custom-execution task: an extension runs it with its own code, so Software Maker cannot capture its output and exit code/);
  });
});
