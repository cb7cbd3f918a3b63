import { strict as assert } from 'node:assert';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CALCULATOR_TRANSCRIPT, calculatorWorkspace, runCli, tempDir } from './helpers';
import { buildCli } from './builtCli';

let cli = '';
/** Checkpoints go to the user's state folder: the tests use their own. */
let stateHome = '';

function invoke(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  return runCli(cli, args, { ...options, env: { XDG_STATE_HOME: stateHome, ...options.env } });
}

describe('software-maker CLI', function () {
  this.timeout(60_000);

  before(async () => {
    cli = await buildCli();
    stateHome = await tempDir('sm-state-');
  });


  it('runs a goal headless with --yes: edits applied, tests green, exit 0; status and logs show the run', async () => {
    const ws = await calculatorWorkspace();
    const run = await invoke(['run', 'Fix the failing calculator tests', '--workspace', ws, '--model', `scripted:${CALCULATOR_TRANSCRIPT}`, '--yes']);
    assert.equal(run.code, 0, run.stderr + run.stdout);
    assert.match(run.stdout, /baseline tests \(before any change\): 1 passed, 2 failed — already failing before any change/);
    assert.match(run.stdout, /t1 proposes: src\/calc\.js \(\+1 -1\)/);
    assert.match(run.stdout, /run completed/);
    const runId = /Run (\S+): completed/.exec(run.stdout)![1]!;

    const status = await invoke(['status', '--workspace', ws]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, new RegExp(`${runId}\\s+completed\\s+3/3 tasks`));
    const detail = await invoke(['status', runId, '--workspace', ws, '--json']);
    assert.equal(JSON.parse(detail.stdout).tasks.t3.status, 'done');

    const replay = await invoke(['replay', runId, 't3:docs@v1', '--workspace', ws]);
    assert.equal(replay.code, 0, replay.stderr);
    assert.match(replay.stdout, /t3:docs@v1 replayed as t3:docs@v2 with scripted: ok/);
    assert.match(replay.stdout, /Proposed \(not applied\):\n--- a\/README.md/);

    const checkpoints = await invoke(['checkpoints', '--workspace', ws]);
    assert.equal(checkpoints.code, 0, checkpoints.stderr);
    assert.match(checkpoints.stdout, /before t1 \(attempt 1\): Fix add\(\) in src\/calc\.js/);
    // The run-start checkpoint comes before every task (t1 and t2 land in either order).
    const start = /^(\S+) .* run start: Fix the failing calculator tests/m.exec(checkpoints.stdout)?.[1];
    assert.ok(start, checkpoints.stdout);
    const rollback = await invoke(['rollback', start, '--workspace', ws]);
    assert.equal(rollback.code, 0, rollback.stderr);
    assert.match(rollback.stdout, /Restored 2 file\(s\) to "run start: Fix the failing calculator tests"; removed 1 file\(s\) created since: test\/multiply\.test\.js/);
    assert.match(await readFile(join(ws, 'src/calc.js'), 'utf8'), /return a - b;/);
    const undo = /software-maker rollback (\S+)/.exec(rollback.stdout)![1]!;
    assert.equal((await invoke(['rollback', undo, '--workspace', ws])).code, 0);
    assert.match(await readFile(join(ws, 'src/calc.js'), 'utf8'), /return a \+ b;/, 'the rollback itself can be undone');

    const logs = await invoke(['logs', runId, '--workspace', ws]);
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stdout, /implementer step t1:implement@v1 started \(attempt 1, scripted\)/);
    const json = await invoke(['logs', runId, '--workspace', ws, '--json']);
    const events = json.stdout.trim().split('\n').map((line) => JSON.parse(line) as { seq: number });
    assert.deepEqual(events.map((event) => event.seq), events.map((_event, index) => index + 1));
  });

  it('exits 1 when the tests still fail at the end', async () => {
    const ws = await calculatorWorkspace();
    const transcript = join(ws, 'broken.json');
    const plan = { summary: 's', tasks: [{ id: 't1', title: 'noop', description: 'd', role: 'docs', dependsOn: [], acceptance: ['a'], files: ['README.md'] }] };
    await writeFile(transcript, JSON.stringify({ version: 1, turns: [
      { role: 'planner', toolCalls: [{ tool: 'finish', input: plan }] },
      { role: 'docs', task: 't1', toolCalls: [{ tool: 'finish', input: { summary: 'nothing to do' } }] },
      { role: 'reviewer', task: 't1', toolCalls: [{ tool: 'finish', input: { approved: true, summary: 'ok', issues: [] } }] },
    ] }));
    const run = await invoke(['run', 'Do nothing', '--workspace', ws, '--model', `scripted:${transcript}`, '--yes']);
    assert.equal(run.code, 1);
    assert.match(run.stdout, /run failed — the tests still fail after all tasks/);
  });

  it('pauses on a dead letter with the commands to triage it; done after a fix by hand completes the run', async () => {
    const ws = await calculatorWorkspace();
    const transcript = join(ws, 'breaks.json');
    const plan = { summary: 's', tasks: [{ id: 't1', title: 'Fix add', description: 'd', role: 'implementer', dependsOn: [], acceptance: ['a'], files: ['src/calc.js'] }] };
    await writeFile(transcript, JSON.stringify({ version: 1, turns: [
      { role: 'planner', toolCalls: [{ tool: 'finish', input: plan }] },
      { role: 'implementer', task: 't1', toolCalls: [{ tool: 'propose_edit', input: { path: 'src/calc.js', hunks: [{ search: 'return a * b;', replace: 'return a * b + 1;' }] } }] },
      { role: 'implementer', task: 't1', toolCalls: [{ tool: 'finish', input: { summary: 'oops' } }] },
    ] }));
    const run = await invoke(['run', 'Fix add', '--workspace', ws, '--model', `scripted:${transcript}`, '--yes', '--max-fix-attempts', '0']);
    assert.equal(run.code, 1);
    const runId = /Run (\S+): paused — needs triage: t1/.exec(run.stdout)?.[1];
    assert.ok(runId, run.stdout);
    assert.match(run.stdout, new RegExp(`software-maker retry ${runId} t1 \\[--model ID\\] \\| skip ${runId} t1 \\| done ${runId} t1`));

    const wrong = await invoke(['done', runId, 't9', '--workspace', ws, '--yes']);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /has no task "t9"/);

    // The user fixes both functions by hand, then tells the run the task is done.
    const fixed = (await readFile(join(ws, 'src/calc.js'), 'utf8')).replace('return a - b;', 'return a + b;').replace('return a * b + 1;', 'return a * b;');
    await writeFile(join(ws, 'src/calc.js'), fixed);
    const done = await invoke(['done', runId, 't1', '--workspace', ws, '--yes']);
    assert.equal(done.code, 0, done.stdout + done.stderr);
    assert.match(done.stdout, /t1 done — done by hand/);
    assert.match(done.stdout, /run completed/);
  });

  it('explains a missing workspace, an unknown model, an unreadable transcript and a missing terminal', async () => {
    const missing = await invoke(['run', 'x', '--workspace', '/nonexistent/folder', '--model', 'scripted:x.json', '--yes']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /The workspace \/nonexistent\/folder does not exist or is not a folder/);

    const ws = await calculatorWorkspace();
    const unknown = await invoke(['run', 'x', '--workspace', ws, '--model', 'gpt-9000', '--yes']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /Unknown model "gpt-9000"/);

    const badKind = await invoke(['run', 'x', '--workspace', ws, '--model', 'bogus:thing', '--yes']);
    assert.match(badKind.stderr, /Unknown model "bogus:thing". Use scripted:PATH/);

    const unreadable = await invoke(['run', 'x', '--workspace', ws, '--model', 'scripted:/nonexistent/t.json', '--yes']);
    assert.equal(unreadable.code, 1);
    assert.match(unreadable.stderr, /Cannot read the transcript \/nonexistent\/t\.json/);
    const status = await invoke(['status', '--workspace', ws]);
    assert.match(status.stdout, /No runs yet/, 'a run that could not start leaves nothing behind');

    const notJson = join(ws, 'bad.json');
    await writeFile(notJson, '{ not json');
    const malformed = await invoke(['run', 'x', '--workspace', ws, '--model', `scripted:${notJson}`, '--yes']);
    assert.match(malformed.stderr, /is not valid JSON/);

    const noTerminal = await invoke(['run', 'x', '--workspace', ws, '--model', `scripted:${CALCULATOR_TRANSCRIPT}`]);
    assert.equal(noTerminal.code, 2);
    assert.match(noTerminal.stderr, /Pass --yes/);

    const badBudget = await invoke(['run', 'x', '--workspace', ws, '--model', `scripted:${CALCULATOR_TRANSCRIPT}`, '--yes', '--max-usd', 'lots']);
    assert.equal(badBudget.code, 2);
    assert.match(badBudget.stderr, /--max-usd needs a positive number, not "lots"/);

    const noRun = await invoke(['logs', 'nope', '--workspace', ws]);
    assert.equal(noRun.code, 1);
    assert.match(noRun.stderr, /There is no run "nope"/);
  });

  it('knows every command its help lists, and names them all for an unknown one', async () => {
    const help = await invoke(['--help']);
    const listed = [...help.stdout.matchAll(/^ {2}software-maker (\w+)/gm)].map((match) => match[1]!);
    assert.ok(listed.length >= 12, `the usage lists the commands: ${listed.join(', ')}`);
    const ws = await tempDir('sm-cli-commands-');
    for (const command of new Set(listed)) {
      const result = await invoke([command, '--workspace', ws]);
      assert.doesNotMatch(result.stderr, /Unknown command/, `${command} is handled`);
    }
    const unknown = await invoke(['frobnicate', '--workspace', ws]);
    assert.equal(unknown.code, 2);
    assert.equal(unknown.stderr.trim(), `software-maker: Unknown command "frobnicate". Commands: ${listed.join(', ')} (software-maker --help).`);
  });
});
