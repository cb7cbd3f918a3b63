// `software-maker run` shows what the agents say as they work and takes messages typed on stdin,
// on the one readline the approval questions also use.
import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { closeSharedTerminal, openSharedTerminal, TerminalApprover } from '../../src/cli/ports';
import { steerFromLines, steeringTarget } from '../../src/cli/steering';
import type { EngineEvent } from '../../src/shared/events';
import type { RunState } from '../../src/shared/runState';
import type { UserMessageInput } from '../../src/core/run/guidance';
import { calculatorWorkspace, REPO, runCli, tempDir, type CliResult } from './helpers';
import { buildCli } from './builtCli';

const STEER_TRANSCRIPT = join(REPO, 'test/fixtures/transcripts/steer-cli.json');

/**
 * Runs the CLI with stdin a pipe the test types into: `reply` sees stdout so far and returns a line
 * to type (once per pattern), as a person answers what they see. stdin closes when the run ends.
 */
function runTyping(
  cli: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  replies: { when: RegExp; type: string | (() => Promise<void>) }[],
  options: { terminal?: boolean } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    // util-linux script(1) gives the CLI a real terminal, fed from this pipe.
    const [file, argv] = options.terminal
      ? ['script', ['-qfec', [process.execPath, cli, ...args].map(shellQuoted).join(' '), '/dev/null']]
      : [process.execPath, [cli, ...args]];
    const child = spawn(file, argv, { cwd: REPO, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const pending = [...replies];
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      while (pending[0] && pending[0].when.test(stdout)) {
        const { type } = pending.shift()!;
        if (typeof type === 'string') child.stdin.write(`${type}\n`);
        else void type();
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function shellQuoted(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

describe('CLI: agent text and steering', function () {
  this.timeout(120_000);
  let cli = '';
  let stateHome = '';
  before(async () => {
    cli = await buildCli();
    stateHome = await tempDir('sm-state-');
  });

  async function talkingTranscript(ws: string): Promise<string> {
    const transcript = join(ws, 'talking.json');
    const plan = { summary: 's', tasks: [{ id: 't1', title: 'Docs', description: 'd', role: 'docs', dependsOn: [], acceptance: ['a'], files: ['README.md'] }] };
    await writeFile(transcript, JSON.stringify({ version: 1, turns: [
      { role: 'planner', text: 'Planning:\n\n  one   docs task.', toolCalls: [{ tool: 'finish', input: plan }] },
      { role: 'docs', task: 't1', text: `Nothing to write. ${'word '.repeat(200)}`, toolCalls: [{ tool: 'read_file', input: { path: 'README.md' } }] },
      { role: 'docs', task: 't1', toolCalls: [{ tool: 'finish', input: { summary: 'nothing to do' } }] },
      { role: 'reviewer', task: 't1', toolCalls: [{ tool: 'finish', input: { approved: true, summary: 'ok', issues: [] } }] },
    ] }));
    return transcript;
  }

  it('prints what each agent says and each tool call as one bounded line; --quiet leaves them out; --json prints events only', async () => {
    const ws = await calculatorWorkspace();
    const transcript = await talkingTranscript(ws);
    const args = ['run', 'Document it', '--workspace', ws, '--model', `scripted:${transcript}`, '--yes', '--test-command', 'none'];
    const env = { XDG_STATE_HOME: stateHome };

    const shown = await runCli(cli, args, { env });
    assert.equal(shown.code, 0, shown.stderr + shown.stdout);
    assert.match(shown.stdout, /^\d\d:\d\d:\d\d planner says: Planning: one docs task\.$/m, 'collapsed to one line');
    const docs = /^\d\d:\d\d:\d\d t1 docs says: Nothing to write\. .*$/m.exec(shown.stdout);
    assert.ok(docs, shown.stdout);
    assert.ok(docs[0].length < 200, `bounded: ${docs[0]}`);
    assert.match(shown.stdout, /^\d\d:\d\d:\d\d t1 read_file\(.*README\.md.*\)$/m);

    const quiet = await runCli(cli, [...args.slice(0, 2), '--workspace', await calculatorWorkspace(), ...args.slice(4), '--quiet'], { env });
    assert.equal(quiet.code, 0, quiet.stderr + quiet.stdout);
    assert.doesNotMatch(quiet.stdout, /says:|read_file\(/);
    assert.match(quiet.stdout, /run completed/);

    const json = await runCli(cli, [...args.slice(0, 2), '--workspace', await calculatorWorkspace(), ...args.slice(4), '--json'], { env });
    assert.equal(json.code, 0, json.stderr + json.stdout);
    const events = json.stdout.trim().split('\n').map((line) => JSON.parse(line) as EngineEvent);
    assert.ok(events.some((event) => event.type === 'agent.text' && event.role === 'planner'), 'agent text is in the events');
    assert.match(json.stderr, /Run \S+: completed/, 'the summary goes to stderr');
  });

  it('--steer: a line typed while the task works reaches it (logged, delivered, in its next prompt)', async () => {
    const ws = await calculatorWorkspace();
    const flags = await tempDir('sm-go-');
    const go = join(flags, 'go.flag');
    // The command holds the task at work until the test has typed its message.
    await writeFile(join(ws, 'wait-go.js'), `const fs = require('fs'); const t = setInterval(() => { if (fs.existsSync(${JSON.stringify(go)})) { clearInterval(t); console.log('go'); } }, 20);\n`);
    const run = await runTyping(cli, ['run', 'Fix add', '--workspace', ws, '--model', `scripted:${STEER_TRANSCRIPT}`, '--yes', '--steer', '--allow-command', 'node wait-go.js'], { XDG_STATE_HOME: stateHome }, [
      { when: /t1 \$ node wait-go\.js/, type: 'keep the fix to one line' },
      { when: /→ sent to t1/, type: () => writeFile(go, '') },
    ]);
    assert.equal(run.code, 0, run.stderr + run.stdout);
    assert.match(run.stdout, /Type a message and press Enter to steer the run/);
    assert.match(run.stdout, /t1 implementer says: First I wait for the go-ahead, then I fix add\(\)\./);
    assert.match(run.stdout, /t1 you wrote: keep the fix to one line/);
    assert.match(run.stdout, /run completed/);
    const runId = /Run (\S+): completed/.exec(run.stdout)![1]!;
    const logs = await runCli(cli, ['logs', runId, '--workspace', ws, '--json'], { env: { XDG_STATE_HOME: stateHome } });
    const events = logs.stdout.trim().split('\n').map((line) => JSON.parse(line) as EngineEvent);
    const message = events.find((event) => event.type === 'user.message');
    assert.ok(message?.type === 'user.message');
    assert.equal(message.taskId, 't1');
    assert.equal(message.text, 'keep the fix to one line');
    assert.ok(events.some((event) => event.type === 'user.delivered' && event.messageSeq === message.seq && event.taskId === 't1'), 'delivered to t1');
  });

  it('in a terminal: the approval question gets its answer, a line typed while the task works is a message, the review gets its answer', async function () {
    if (spawnSync('script', ['--version']).status !== 0) this.skip();
    const ws = await calculatorWorkspace();
    const flags = await tempDir('sm-go-');
    const go = join(flags, 'go.flag');
    await writeFile(join(ws, 'wait-go.js'), `const fs = require('fs'); const t = setInterval(() => { if (fs.existsSync(${JSON.stringify(go)})) { clearInterval(t); console.log('go'); } }, 20);\n`);
    const run = await runTyping(cli, ['run', 'Fix add', '--workspace', ws, '--model', `scripted:${STEER_TRANSCRIPT}`], { XDG_STATE_HOME: stateHome }, [
      { when: /Run it\? \[y\/n\]/, type: 'y' },
      { when: /t1 \$ node wait-go\.js/, type: 'keep the fix to one line' },
      { when: /→ sent to t1/, type: () => writeFile(go, '') },
      { when: /Apply src\/calc\.js\? \[y\/n\]/, type: 'y' },
    ], { terminal: true });
    assert.equal(run.code, 0, run.stderr + run.stdout);
    assert.match(run.stdout, /t1 approved by you/);
    assert.match(run.stdout, /t1 you wrote: keep the fix to one line/);
    assert.doesNotMatch(run.stdout, /you wrote: y\b/, 'no answer was taken as a message');
    assert.match(run.stdout, /run completed/);
    assert.match(await readFile(join(ws, 'src/calc.js'), 'utf8'), /return a \+ b;/);
  });

  it('without --steer piped stdin is not read', async () => {
    const ws = await calculatorWorkspace();
    const run = await runCli(cli, ['run', 'Document it', '--workspace', ws, '--model', `scripted:${await talkingTranscript(ws)}`, '--yes', '--test-command', 'none'], { env: { XDG_STATE_HOME: stateHome } });
    assert.equal(run.code, 0, run.stderr + run.stdout);
    assert.doesNotMatch(run.stdout, /steer the run/);
  });
});

describe('CLI: steering and questions on one readline', () => {
  afterEach(() => closeSharedTerminal());

  function running(...ids: string[]): Pick<RunState, 'tasks' | 'taskOrder'> {
    const tasks = Object.fromEntries(['t1', 't2', 't3'].map((id) => [id, { status: ids.includes(id) ? 'running' : 'pending' }]));
    return { taskOrder: ['t1', 't2', 't3'], tasks } as unknown as Pick<RunState, 'tasks' | 'taskOrder'>;
  }

  it('once the shared readline is closed (Ctrl-D), a question opens its own and still gets its answer', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    let shown = '';
    output.on('data', (chunk: Buffer) => {
      shown += chunk.toString();
      if (shown.endsWith('Run it? [y/n] ')) input.write('y\n');
    });
    openSharedTerminal(input, output).close();
    const decision = await new TerminalApprover(input, output).approve({ subject: { kind: 'command', command: 'ls', cwd: '', reason: 'x' }, role: 'implementer' }, new AbortController().signal);
    assert.deepEqual(decision, { approved: true, by: 'user' });
  });

  it('sends to the one running task, else to the planner or the whole run', () => {
    assert.deepEqual(steeringTarget(running('t2')), { taskId: 't2', label: 't2' });
    assert.deepEqual(steeringTarget(running()), { label: 'the planner' });
    assert.deepEqual(steeringTarget(running('t1', 't3')), { label: 'the run (t1, t3 at work)' });
  });

  it('an approval question gets its answer; lines before and after are messages; @task picks the task', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    let shown = '';
    output.on('data', (chunk: Buffer) => (shown += chunk.toString()));
    const sent: UserMessageInput[] = [];
    const echoed: string[] = [];
    let nextEcho: (() => void) | undefined;
    const engine = {
      getRun: async () => running('t1') as RunState,
      sendMessage: async (_runId: string, message: UserMessageInput) => {
        if (message.text === 'refuse me') throw new Error('Task t9 is done; write to the run instead.');
        sent.push(message);
        return sent.length;
      },
    };
    const rl = openSharedTerminal(input, output);
    steerFromLines(rl, engine, 'r1', (line) => {
      echoed.push(line);
      nextEcho?.();
    });
    const echo = () => new Promise<void>((resolve) => (nextEcho = resolve));

    let wait = echo();
    input.write('use the helper\n');
    await wait;

    const approver = new TerminalApprover(input, output);
    const decision = approver.approve({ subject: { kind: 'command', command: 'npm test', cwd: '', reason: 'check' }, role: 'implementer', taskId: 't1' }, new AbortController().signal);
    await new Promise<void>((resolve) => {
      const check = (): void => void (shown.endsWith('Run it? [y/n] ') ? resolve() : setImmediate(check));
      check();
    });
    input.write('y\n');
    assert.deepEqual(await decision, { approved: true, by: 'user' });

    wait = echo();
    input.write('@t2 only the docs\n');
    await wait;
    wait = echo();
    input.write('refuse me\n');
    await wait;

    assert.deepEqual(sent, [{ text: 'use the helper', taskId: 't1' }, { text: 'only the docs', taskId: 't2' }], 'the answer "y" was not sent');
    assert.deepEqual(echoed, ['→ sent to t1', '→ sent to t2', '✗ not sent: Task t9 is done; write to the run instead.']);
  });
});
