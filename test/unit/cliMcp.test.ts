import { strict as assert } from 'node:assert';
import type { ChildProcess } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildCli } from './builtCli';
import { runCli, tempDir, writeTranscript } from './helpers';
import { startHttpServer, stdioServer } from './mcpFixture';

describe('software-maker CLI: MCP servers, rules files and templates', function () {
  this.timeout(120_000);
  let cli = '';
  let stateHome = '';
  let http: { url: string; child: ChildProcess };

  before(async () => {
    cli = await buildCli();
    stateHome = await tempDir('sm-state-');
    http = await startHttpServer();
  });
  after(() => {
    http.child.kill();
  });

  it('calls a stdio tool an mcp.allow rule allows, refuses an HTTP one nobody can approve, uses AGENTS.md and snapshots --template', async () => {
    const ws = await tempDir('sm-cli-mcp-');
    const notes = `${ws}.notes`;
    await writeFile(join(ws, 'README.md'), '# app\n');
    await writeFile(join(ws, 'AGENTS.md'), 'Write notes in the imperative mood.\n');
    const plan = { summary: 's', tasks: [{ id: 't1', title: 'Take notes', description: 'd', role: 'implementer', dependsOn: [], acceptance: ['a'], files: ['README.md'] }] };
    const transcript = await writeTranscript(ws, [
      { role: 'planner', expect: 'Write notes in the imperative mood.', toolCalls: [{ tool: 'finish', input: plan }] },
      { role: 'implementer', task: 't1', toolCalls: [{ tool: 'mcp__notes__add_note', input: { text: 'keep it short' } }] },
      { role: 'implementer', task: 't1', expect: 'noted: keep it short', toolCalls: [{ tool: 'mcp__web__add_note', input: { text: 'over http' } }] },
      { role: 'implementer', task: 't1', expect: 'Nobody can be asked here', toolCalls: [{ tool: 'finish', input: { summary: 'one note' } }] },
    ]);
    const config = join(ws, '..', `${ws.split('/').pop()}-config.json`);
    const write = (concurrency: number) =>
      writeFile(
        config,
        JSON.stringify({
          mcp: { servers: { notes: stdioServer({ NOTES_FILE: notes }), web: { type: 'http', url: http.url } } },
          templates: { quick: { description: 'one at a time', concurrency, reviewGate: false, maxFixAttempts: 0 } },
        }),
      );
    await write(1);
    const run = await runCli(
      cli,
      ['run', 'Take notes', '--workspace', ws, '--config', config, '--model', `scripted:${transcript}`, '--yes', '--test-command', 'none', '--template', 'quick', '--mcp-allow', 'notes/add_note'],
      { env: { XDG_STATE_HOME: stateHome } },
    );
    assert.equal(run.code, 0, run.stderr + run.stdout);
    assert.match(run.stdout, /rules files used \(16,000 characters at most\): AGENTS\.md 36 chars/);
    assert.match(run.stdout, /MCP server notes \(stdio\) connected: 5 tools/);
    assert.match(run.stdout, /MCP server web \(http\) connected: 5 tools/);
    assert.match(run.stdout, /approved by rule mcp\.allow: "notes\/add_note"/);
    assert.match(run.stdout, /denied by rule — No mcp\.allow rule names this tool\. Nobody can be asked here/);
    assert.equal(await readFile(notes, 'utf8'), 'keep it short\n', 'the refused HTTP call never ran (it would not write here anyway), the allowed one did');
    const runId = /Run (\S+): completed/.exec(run.stdout)![1]!;

    // The template changes after the run: the run keeps what it started with.
    await write(7);
    const status = await runCli(cli, ['status', runId, '--workspace', ws, '--json'], { env: { XDG_STATE_HOME: stateHome } });
    const state = JSON.parse(status.stdout) as { config: { concurrency: number; reviewGate: boolean; template?: { name: string }; mcp: { allow: string[] } } };
    assert.equal(state.config.concurrency, 1);
    assert.equal(state.config.reviewGate, false);
    assert.deepEqual(state.config.template, { name: 'quick', description: 'one at a time' });
    assert.deepEqual(state.config.mcp.allow, ['notes/add_note']);
  });

  it('never starts an MCP server a workspace config names until the user trusts it', async () => {
    const ws = await tempDir('sm-cli-mcp-trust-');
    const pids = `${ws}.pids`;
    await mkdir(join(ws, '.software-maker'));
    await writeFile(join(ws, '.software-maker', 'config.json'), JSON.stringify({ mcp: { servers: { notes: stdioServer({ PID_FILE: pids }) }, allow: ['notes/*'] } }));
    const run = await runCli(cli, ['run', 'x', '--workspace', ws, '--model', 'scripted:/nonexistent.json', '--yes'], { env: { XDG_STATE_HOME: stateHome } });
    assert.equal(run.code, 2, run.stderr + run.stdout);
    assert.match(run.stderr, /MCP server "notes": runs .*server\.mjs stdio; environment PID_FILE/);
    assert.match(run.stderr, /mcp\.allow: these MCP tool calls run without asking: notes\/\*/);
    assert.match(run.stderr, /There is no terminal to ask whether you trust them/);
    await assert.rejects(readFile(pids, 'utf8'), /ENOENT/, 'the server never started');
  });

  it('names an unknown template and a config file with bad MCP settings before anything starts', async () => {
    const ws = await tempDir('sm-cli-mcp-bad-');
    const unknown = await runCli(cli, ['run', 'x', '--workspace', ws, '--model', 'scripted:/nonexistent.json', '--yes', '--template', 'nope'], { env: { XDG_STATE_HOME: stateHome } });
    assert.equal(unknown.code, 2, unknown.stderr);
    assert.match(unknown.stderr, /--template nope: There is no team template "nope"\. Templates: careful, fast, solo\./);
    const config = `${ws}.json`;
    await writeFile(config, JSON.stringify({ mcp: { servers: { notes: { type: 'stdio' } } } }));
    const bad = await runCli(cli, ['run', 'x', '--workspace', ws, '--config', config, '--model', 'scripted:/nonexistent.json', '--yes'], { env: { XDG_STATE_HOME: stateHome } });
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /is not a valid Software Maker config: mcp\.servers\.notes\.command: /);
  });
});
