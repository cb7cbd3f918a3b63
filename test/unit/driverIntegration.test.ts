// Edits, checkpoints, git mode and test selection inside whole runs.
import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { access, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { toolOutputLimit } from '../../src/core/agents/tools';
import { Engine } from '../../src/core/engine';
import type { TranscriptTurn } from '../../src/core/models/scripted';
import type { ReviewDecision, ReviewRequest } from '../../src/core/ports';
import { CALCULATOR_TRANSCRIPT, calculatorWorkspace, makeEngine, makePorts, ofType, scriptedConfig, ScriptedReviewer, tapOutput, tempDir, writeTranscript } from './helpers';

const GOAL = 'Fix the failing calculator tests';
const onePlan = {
  summary: 'Fix add().',
  tasks: [{ id: 't1', title: 'Fix add()', description: 'Make add return a + b.', role: 'implementer', dependsOn: [], acceptance: ['add tests pass'], files: ['src/calc.js'] }],
};
const planTurn: TranscriptTurn = { role: 'planner', toolCalls: [{ tool: 'finish', input: onePlan }] };
const finish = (summary: string, role = 'implementer'): TranscriptTurn => ({ role, task: 't1', toolCalls: [{ tool: 'finish', input: { summary } }] });
const approve: TranscriptTurn = { role: 'reviewer', task: 't1', toolCalls: [{ tool: 'finish', input: { approved: true, summary: 'ok', issues: [] } }] };
/** Two hunks far apart in one file: the fix, and a comment at the end. */
const twoHunks: TranscriptTurn = {
  role: 'implementer',
  task: 't1',
  toolCalls: [
    {
      tool: 'propose_edit',
      input: {
        path: 'src/calc.js',
        hunks: [
          { search: 'return a - b;', replace: 'return a + b;' },
          { search: 'module.exports = { add, multiply };', replace: '// The public API.\nmodule.exports = { add, multiply };' },
        ],
      },
    },
  ],
};

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e' } }).trim();
}

describe('engine: edits, checkpoints, git mode and test selection', function () {
  this.timeout(90_000);

  it('applies only the hunks the user accepted, and says so', async () => {
    const ws = await calculatorWorkspace();
    const transcript = await writeTranscript(ws, [planTurn, twoHunks, finish('fixed and documented'), approve]);
    const reviewer = new ScriptedReviewer((request) => ({ accepted: [request.files[0]!.path], partial: { [request.files[0]!.path]: [0] } }));
    const { engine, events } = await makeEngine(ws, { reviewer });
    const final = await (await engine.startRun(GOAL, scriptedConfig(transcript, { autoApprove: false }))).finished;
    assert.equal(final.status, 'completed', final.statusReason);
    const text = await readFile(join(ws, 'src/calc.js'), 'utf8');
    assert.match(text, /return a \+ b;/);
    assert.doesNotMatch(text, /The public API/, 'the rejected hunk was not applied');
    assert.deepEqual(ofType(events, 'edit.decided')[0]!.partial, { 'src/calc.js': { accepted: [0], total: 2 } });
    const testing = ofType(events, 'task.status').find((e) => e.status === 'testing');
    assert.match(testing!.reason!, /src\/calc\.js: 1 of 2 hunks accepted/);
  });

  it('rebases an accepted edit onto a change the user made on disk meanwhile, keeping both', async () => {
    const ws = await calculatorWorkspace();
    const transcript = await writeTranscript(ws, [planTurn, { ...twoHunks, toolCalls: [{ tool: 'propose_edit', input: { path: 'src/calc.js', hunks: [{ search: 'return a - b;', replace: 'return a + b;' }] } }] }, finish('fixed'), approve]);
    const reviewer = new ScriptedReviewer((request: ReviewRequest): ReviewDecision => {
      // While the proposal waits, the user edits another part of the file and saves.
      const current = spawnSync('cat', [join(ws, 'src/calc.js')], { encoding: 'utf8' }).stdout;
      // (Outside the hunk's three lines of context: an edit that close is a conflict, by design.)
      execFileSync('sh', ['-c', `cat > "${join(ws, 'src/calc.js')}"`], { input: `${current}// user note\n` });
      return { accepted: request.files.map((file) => file.path) };
    });
    const { engine, events } = await makeEngine(ws, { reviewer });
    const final = await (await engine.startRun(GOAL, scriptedConfig(transcript, { autoApprove: false }))).finished;
    assert.equal(final.status, 'completed', final.statusReason);
    const text = await readFile(join(ws, 'src/calc.js'), 'utf8');
    assert.match(text, /return a \+ b;/);
    assert.match(text, /user note/, "the user's change is kept");
    assert.ok(ofType(events, 'log').some((e) => /had changed on disk since the proposal; the accepted hunks still matched/.test(e.message)));
  });

  it('returns an edit to the agent when the user changed the same lines, never overwriting them', async () => {
    const ws = await calculatorWorkspace();
    const transcript = await writeTranscript(ws, [
      planTurn,
      { role: 'implementer', task: 't1', toolCalls: [{ tool: 'propose_edit', input: { path: 'src/calc.js', hunks: [{ search: 'return a - b;', replace: 'return a + b;' }] } }] },
      finish('fixed'),
      { role: 'fixer', task: 't1', expect: 'the file changed since the proposal', toolCalls: [{ tool: 'read_file', input: { path: 'src/calc.js' } }] },
      finish('the user already fixed it', 'fixer'),
      approve,
    ]);
    let first = true;
    const reviewer = new ScriptedReviewer((request) => {
      if (first) {
        first = false;
        execFileSync('sh', ['-c', `sed -i 's/return a - b;/return b + a;/' "${join(ws, 'src/calc.js')}"`]);
      }
      return { accepted: request.files.map((file) => file.path) };
    });
    const { engine } = await makeEngine(ws, { reviewer });
    const final = await (await engine.startRun(GOAL, scriptedConfig(transcript, { autoApprove: false }))).finished;
    assert.equal(final.status, 'completed', final.statusReason);
    assert.match(await readFile(join(ws, 'src/calc.js'), 'utf8'), /return b \+ a;/, "the user's version stands");
  });

  it('auto-approves by glob and asks the user for the rest', async () => {
    const ws = await calculatorWorkspace();
    const reviewer = new ScriptedReviewer((request) => ({ accepted: request.files.map((file) => file.path) }));
    const { engine, events } = await makeEngine(ws, { reviewer });
    const final = await (await engine.startRun(GOAL, scriptedConfig(CALCULATOR_TRANSCRIPT, { autoApprove: false, autoApproveRules: { globs: ['test/**', '*.md'] } }))).finished;
    assert.equal(final.status, 'completed', final.statusReason);
    assert.deepEqual(reviewer.requests.map((request) => request.taskId), ['t1'], 'only src/calc.js went to the user');
    assert.deepEqual(
      ofType(events, 'edit.decided').map((e) => [e.taskId, e.by]).sort(),
      [['t1', 'user'], ['t2', 'auto'], ['t3', 'auto']],
    );
  });

  it('runs the tests related to a task first and the whole suite at the end', async () => {
    const ws = await calculatorWorkspace();
    const { engine, events } = await makeEngine(ws);
    const final = await (await engine.startRun(GOAL, scriptedConfig(CALCULATOR_TRANSCRIPT))).finished;
    assert.equal(final.status, 'completed', final.statusReason);
    const started = ofType(events, 'test.started');
    // t1 changed src/calc.js: its own test file, and t2's new one if t2 landed first (it imports calc.js).
    const t1Related = started.find((e) => e.taskId === 't1')?.related ?? [];
    assert.ok(t1Related.includes('test/calc.test.js') && t1Related.every((file) => file.startsWith('test/')), t1Related.join(', '));
    assert.deepEqual(started.find((e) => e.taskId === 't2')?.related, ['test/multiply.test.js']);
    assert.equal(started.find((e) => e.phase === 'final')?.related, undefined);
    assert.equal(final.tasks.t2!.lastTest?.passed, 2, 't2 ran only its own two tests');
    assert.equal(final.finalTest?.passed, 5, 'the whole suite at the end');
  });

  it('takes checkpoints at task boundaries and rolls back to one, removing files created since', async () => {
    const ws = await calculatorWorkspace();
    const storageDir = await tempDir('sm-storage-');
    const ports = await makePorts(ws);
    const engine = new Engine({ ports, runsDir: join(ws, '.software-maker/runs'), storageDir });
    const events: import('../../src/shared/events').EngineEvent[] = [];
    engine.onEvent((_runId, event) => events.push(event));
    const handle = await engine.startRun(GOAL, scriptedConfig(CALCULATOR_TRANSCRIPT));
    const final = await handle.finished;
    assert.equal(final.status, 'completed', final.statusReason);
    const labels = ofType(events, 'checkpoint.created').map((e) => e.label);
    assert.ok(labels[0]!.startsWith('run start'), labels.join(' | '));
    assert.equal(labels.filter((label) => label.startsWith('before t')).length, 3);
    const checkpoints = await engine.listCheckpoints();
    const beforeT3 = checkpoints.find((checkpoint) => checkpoint.label.startsWith('before t3'))!;
    const start = checkpoints.find((checkpoint) => checkpoint.label.startsWith('run start'))!;
    const report = await engine.rollback(start.id);
    assert.match(await readFile(join(ws, 'src/calc.js'), 'utf8'), /return a - b;/, 'restored to before the fix');
    await assert.rejects(access(join(ws, 'test/multiply.test.js')), 'a file created since is removed');
    assert.ok(report.deleted.includes('test/multiply.test.js'));
    assert.ok(report.restored.includes('src/calc.js'));
    assert.ok(ofType(events, 'checkpoint.restored').length === 1);
    await engine.rollback(beforeT3.id);
    assert.match(await readFile(join(ws, 'src/calc.js'), 'utf8'), /return a \+ b;/);
    await access(join(ws, 'test/multiply.test.js'));
  });

  it('a run that ends before its start checkpoint is taken waits for it, instead of logging an engine bug', async () => {
    const ws = await calculatorWorkspace();
    const storageDir = await tempDir('sm-storage-');
    const { ShadowCheckpoints } = await import('../../src/core/checkpoints/shadowGit');
    const create = ShadowCheckpoints.prototype.create;
    // A large workspace: the first snapshot takes longer than the whole (edit-free) run.
    ShadowCheckpoints.prototype.create = async function (this: unknown, ...args: Parameters<typeof create>) {
      await new Promise((resolve) => setTimeout(resolve, 1500));
      return create.apply(this, args);
    };
    try {
      const transcript = await writeTranscript(ws, [planTurn, finish('nothing to change'), approve]);
      const engine = new Engine({ ports: await makePorts(ws), runsDir: join(ws, '.software-maker/runs'), storageDir });
      const events: import('../../src/shared/events').EngineEvent[] = [];
      engine.onEvent((_runId, event) => events.push(event));
      const final = await (await engine.startRun(GOAL, scriptedConfig(transcript, { testCommand: 'none' }))).finished;
      assert.equal(final.status, 'completed', final.statusReason);
      const problems = ofType(events, 'log').filter((event) => event.level !== 'info').map((event) => event.message);
      assert.ok(!problems.some((message) => /engine bug|Could not take the checkpoint/.test(message)), problems.join('\n'));
      const started = events.findIndex((event) => event.type === 'checkpoint.created' && event.label.startsWith('run start'));
      const ended = events.findIndex((event) => event.type === 'run.status' && event.status === 'completed');
      assert.ok(started >= 0 && started < ended, 'the start checkpoint is recorded before the run ends');
    } finally {
      ShadowCheckpoints.prototype.create = create;
    }
  });

  it('the run-start snapshot never holds up the first landing, and still holds the tree from before it', async () => {
    const ws = await calculatorWorkspace();
    const storageDir = await tempDir('sm-storage-');
    const { ShadowCheckpoints } = await import('../../src/core/checkpoints/shadowGit');
    const create = ShadowCheckpoints.prototype.create;
    const engine = new Engine({ ports: await makePorts(ws), runsDir: join(ws, '.software-maker/runs'), storageDir });
    const events: import('../../src/shared/events').EngineEvent[] = [];
    let landed!: () => void;
    const firstLanding = new Promise<void>((resolve) => (landed = resolve));
    engine.onEvent((_runId, event) => {
      events.push(event);
      if (event.type === 'edit.applied') landed();
    });
    // The start snapshot is not done until an edit has landed: a landing queued behind it would never come.
    ShadowCheckpoints.prototype.create = async function (this: unknown, ...args: Parameters<typeof create>) {
      const taking = create.apply(this, args);
      if (args[0].startsWith('run start')) await firstLanding;
      return taking;
    };
    try {
      const final = await (await engine.startRun(GOAL, scriptedConfig(CALCULATOR_TRANSCRIPT))).finished;
      assert.equal(final.status, 'completed', final.statusReason);
    } finally {
      ShadowCheckpoints.prototype.create = create;
    }
    const start = events.findIndex((event) => event.type === 'checkpoint.created' && event.label.startsWith('run start'));
    const applied = events.findIndex((event) => event.type === 'edit.applied');
    assert.ok(applied >= 0 && start > applied, 'an edit landed before the start snapshot was recorded');
    const startId = (events[start] as { checkpointId: string }).checkpointId;
    await engine.rollback(startId);
    assert.match(await readFile(join(ws, 'src/calc.js'), 'utf8'), /return a - b;/, 'the start snapshot holds the file from before the landing');
  });

  it('a start checkpoint that finishes after the run was cancelled is dropped with a reason, not as an engine bug', async () => {
    const ws = await calculatorWorkspace();
    const storageDir = await tempDir('sm-storage-');
    const { ShadowCheckpoints } = await import('../../src/core/checkpoints/shadowGit');
    const create = ShadowCheckpoints.prototype.create;
    const engine = new Engine({ ports: await makePorts(ws), runsDir: join(ws, '.software-maker/runs'), storageDir });
    ShadowCheckpoints.prototype.create = async function (this: unknown, ...args: Parameters<typeof create>) {
      void engine.cancelRun(args[1].runId, 'cancelled while snapshotting');
      await new Promise((resolve) => setTimeout(resolve, 500));
      return create.apply(this, args);
    };
    try {
      const transcript = await writeTranscript(ws, [planTurn, finish('nothing to change'), approve]);
      const events: import('../../src/shared/events').EngineEvent[] = [];
      engine.onEvent((_runId, event) => events.push(event));
      const final = await (await engine.startRun(GOAL, scriptedConfig(transcript, { testCommand: 'none' }))).finished;
      assert.equal(final.status, 'cancelled', final.statusReason);
      const messages = ofType(events, 'log').map((event) => event.message);
      assert.ok(!messages.some((message) => /engine bug/.test(message)), messages.join('\n'));
      assert.ok(messages.some((message) => /finished after the run ended; it is kept among the checkpoints/.test(message)), messages.join('\n'));
    } finally {
      ShadowCheckpoints.prototype.create = create;
    }
  });

  it('refuses to roll back while a run is being driven', async () => {
    const ws = await calculatorWorkspace();
    const storageDir = await tempDir('sm-storage-');
    const reviewer = new ScriptedReviewer();
    const ports = await makePorts(ws, { reviewer });
    const engine = new Engine({ ports, runsDir: join(ws, '.software-maker/runs'), storageDir });
    const transcript = await writeTranscript(ws, [planTurn, twoHunks, finish('x'), approve]);
    const handle = await engine.startRun(GOAL, scriptedConfig(transcript, { autoApprove: false }));
    await reviewer.next();
    const [first] = await engine.listCheckpoints();
    await assert.rejects(engine.rollback(first?.id ?? 'none'), /Runs are in progress/);
    await engine.cancelRun(handle.runId);
  });

  it('git mode: a branch of its own and one commit per task, asking before leaving a dirty tree', async () => {
    const ws = await calculatorWorkspace();
    git(ws, 'init', '-q', '-b', 'main');
    await writeFile(join(ws, '.gitignore'), '.software-maker/\n');
    git(ws, 'add', '-A');
    git(ws, 'commit', '-q', '-m', 'initial');
    const { engine, events } = await makeEngine(ws);
    const final = await (await engine.startRun(GOAL, scriptedConfig(CALCULATOR_TRANSCRIPT, { gitMode: true }))).finished;
    assert.equal(final.status, 'completed', final.statusReason);
    assert.match(final.gitBranch!, /^software-maker\/fix-the-failing-calculator-tests/);
    assert.equal(git(ws, 'rev-parse', '--abbrev-ref', 'HEAD'), final.gitBranch);
    const subjects = git(ws, 'log', '--format=%s', 'main..HEAD').split('\n').sort();
    assert.deepEqual(subjects, ['t1: Fix add() in src/calc.js', 't2: Test multiply() edge cases', 't3: Document the API in README.md']);
    assert.equal(git(ws, 'show', '--name-only', '--format=', 'HEAD~2').length > 0, true);
    assert.equal(ofType(events, 'git.committed').length, 3);

    // A dirty tree: the engine asks, and a "no" means no branch and no commits.
    const ws2 = await calculatorWorkspace();
    git(ws2, 'init', '-q', '-b', 'main');
    await writeFile(join(ws2, '.gitignore'), '.software-maker/\n');
    git(ws2, 'add', '-A');
    git(ws2, 'commit', '-q', '-m', 'initial');
    await writeFile(join(ws2, 'notes.txt'), 'my uncommitted work');
    const questions: string[] = [];
    const second = await makeEngine(ws2, { confirm: async (question) => (questions.push(question), false) });
    const declined = await (await second.engine.startRun(GOAL, scriptedConfig(CALCULATOR_TRANSCRIPT, { gitMode: true }))).finished;
    assert.equal(declined.status, 'completed');
    assert.equal(questions.length, 1);
    assert.equal(git(ws2, 'rev-parse', '--abbrev-ref', 'HEAD'), 'main');
    assert.equal(git(ws2, 'rev-list', '--count', 'HEAD'), '1', 'nothing was committed');
    assert.ok(ofType(second.events, 'log').some((e) => /switching branches was declined/.test(e.message)));
  });

  it('never lets a test run read a file another task is halfway through saving', async () => {
    const ws = await calculatorWorkspace();
    const base = await makePorts(ws);
    // An editor-style save that is not atomic: the file is empty for a moment before its new text lands.
    const slowApplier = {
      async apply(writes: import('../../src/core/ports').FileWrite[]) {
        if (writes.some((write) => write.path === 'src/calc.js')) {
          await writeFile(join(ws, 'src/calc.js'), '');
          await new Promise((resolve) => setTimeout(resolve, 300));
          await writeFile(join(ws, 'src/calc.js'), (writes[0] as { newText: string }).newText);
          return writes.map((write) => ({ path: write.path, status: 'written' as const }));
        }
        return base.applier.apply(writes);
      },
    };
    const seen: string[] = [];
    const recordingRunner = {
      async run() {
        seen.push(await readFile(join(ws, 'src/calc.js'), 'utf8'));
        // The baseline has the sample's two failures; every later run passes.
        const baseline = seen.length === 1;
        const output = baseline ? tapOutput(1, ['add returns the sum of two numbers', 'add handles negative numbers']) : tapOutput(5, []);
        return { exitCode: baseline ? 1 : 0, output, timedOut: false, durationMs: 1 };
      },
    };
    const { engine } = await makeEngine(ws, { applier: slowApplier, testRunner: recordingRunner });
    const final = await (await engine.startRun(GOAL, scriptedConfig(CALCULATOR_TRANSCRIPT))).finished;
    assert.equal(final.status, 'completed', final.statusReason);
    assert.ok(seen.length >= 5);
    assert.ok(seen.every((text) => text.includes('function add')), `a test run saw a half-saved file: ${JSON.stringify(seen.map((text) => text.length))}`);
  });

  it('caps tool output to the model context window and says so', async () => {
    assert.equal(toolOutputLimit(undefined), 60_000);
    assert.equal(toolOutputLimit(8_000), 8_000);
    assert.equal(toolOutputLimit(1_000_000), 60_000);
    const ws = await calculatorWorkspace();
    await writeFile(join(ws, 'big.txt'), 'x'.repeat(50_000));
    const transcript = await writeTranscript(ws, [
      planTurn,
      { role: 'implementer', task: 't1', toolCalls: [{ tool: 'read_file', input: { path: 'big.txt' } }] },
      { role: 'implementer', task: 't1', expect: 'more characters not shown', toolCalls: [{ tool: 'finish', input: { summary: 'read it' } }] },
      approve,
    ]);
    const config = scriptedConfig(transcript);
    const small = { ...config, models: [{ ...config.models[0]!, contextWindow: 4_000 }] };
    const { engine, events } = await makeEngine(ws);
    await (await engine.startRun(GOAL, small)).finished;
    const read = ofType(events, 'tool.result').find((e) => e.tool === 'read_file')!;
    assert.ok(read.ok);
    assert.ok(ofType(events, 'step.finished').some((e) => e.stepId === 't1:implement@v1' && e.ok), 'the finish turn saw the truncation note');
  });
});
