import { strict as assert } from 'node:assert';
import type { ChildProcess } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { McpConnection, serverEnvironment } from '../../src/core/mcp/connection';
import { agentToolName, McpSession } from '../../src/core/mcp/session';
import { buildMcpTools, mcpAllowRule, resultText } from '../../src/core/mcp/tools';
import type { ApprovalRequest, Approver } from '../../src/core/ports';
import type { NewEvent } from '../../src/shared/events';
import { mcpConfigSchema, type McpConfig, type McpServerSpec } from '../../src/shared/runConfig';
import { makeEngine, ofType, processAlive, REPO, scriptedConfig, tempDir, writeTranscript } from './helpers';
import { MCP_SERVER, startHttpServer, stdioServer } from './mcpFixture';

function mcpConfig(servers: Record<string, McpServerSpec>, extra: Partial<McpConfig> = {}): McpConfig {
  return mcpConfigSchema.parse({ servers, ...extra });
}

const connectOptions = { workspaceRoot: REPO, secret: async () => undefined };

describe('MCP servers (the SDK client against a server built with the SDK)', function () {
  this.timeout(60_000);
  let http: { url: string; child: ChildProcess };

  before(async () => {
    http = await startHttpServer();
  });
  after(() => {
    http.child.kill();
  });

  it('lists the tools of a stdio and a streamable HTTP server as mcp__<server>__<tool>, offered to the roles each allows', async () => {
    const events: NewEvent[] = [];
    const session = await McpSession.open(
      mcpConfig({ notes: stdioServer({}, { roles: ['implementer'] }), web: { type: 'http', url: http.url, tools: ['add_note'] } as McpServerSpec }),
      connectOptions,
      (event) => events.push(event),
    );
    try {
      const names = (role: 'implementer' | 'reviewer') => session.toolsFor(role).map((tool) => tool.agentName).sort();
      assert.deepEqual(names('implementer'), ['mcp__notes__add_note', 'mcp__notes__big', 'mcp__notes__environment', 'mcp__notes__fail', 'mcp__notes__hang', 'mcp__web__add_note']);
      assert.deepEqual(names('reviewer'), ['mcp__web__add_note'], 'notes is offered to the implementer only; web to every role, its add_note only');
      const connected = events.filter((event) => event.type === 'mcp.server' && event.status === 'connected');
      assert.equal(connected.length, 2);
      const web = session.toolsFor('reviewer')[0]!;
      assert.match(web.description, /^\[MCP tool "add_note" of server "web"; each call may need the user's approval\] Add a note/);
      assert.equal((web.inputSchema as { type: string }).type, 'object');
      const result = await session.call(web, { text: 'over http' }, new AbortController().signal);
      assert.equal(resultText(result), 'noted: over http');
    } finally {
      await session.close();
    }
  });

  it('gives a stdio server our environment without provider keys, plus its own variables (a provider key there is dropped too)', async () => {
    const saved = process.env.OPENAI_API_KEY;
    process.env.OPENAI_API_KEY = 'sk-test-not-for-servers-1234567890';
    try {
      const connection = await McpConnection.open('notes', stdioServer({ NOTES_COLOR: 'green', ANTHROPIC_API_KEY: 'sk-ant-configured-123456' }), { ...connectOptions, timeoutMs: 20_000 });
      try {
        const result = await connection.call('environment', { names: ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'NOTES_COLOR', 'PATH'] }, 10_000, new AbortController().signal);
        assert.equal(resultText(result), 'OPENAI_API_KEY=absent ANTHROPIC_API_KEY=absent NOTES_COLOR=present PATH=present');
      } finally {
        await connection.close();
      }
      assert.equal(serverEnvironment({}, { TOKEN: 'x' }).OPENAI_API_KEY, undefined);
    } finally {
      if (saved === undefined) delete process.env.OPENAI_API_KEY;
      else process.env.OPENAI_API_KEY = saved;
    }
  });

  it('reports a server that cannot start, one that never answers and an unreachable URL, each by name, and goes on with the rest', async () => {
    const events: NewEvent[] = [];
    const session = await McpSession.open(
      mcpConfig(
        {
          missing: { type: 'stdio', command: '/nonexistent/mcp-server-binary' } as McpServerSpec,
          silent: { type: 'stdio', command: process.execPath, args: [MCP_SERVER, 'silent'] } as McpServerSpec,
          gone: { type: 'http', url: 'http://127.0.0.1:9/mcp' } as McpServerSpec,
          notes: stdioServer(),
        },
        { connectTimeoutMs: 3_000 },
      ),
      connectOptions,
      (event) => events.push(event),
    );
    try {
      const failed = new Map(events.flatMap((event) => (event.type === 'mcp.server' && event.status === 'failed' ? [[event.server, event.error ?? '']] : [])));
      assert.match(failed.get('missing')!, /^MCP server "missing" \(stdio: \/nonexistent\/mcp-server-binary\) could not be started or reached: .*ENOENT/);
      assert.match(failed.get('silent')!, /^MCP server "silent" \(stdio: .*server\.mjs silent\) did not answer within 3 s\./);
      assert.match(failed.get('gone')!, /^MCP server "gone" \(http: http:\/\/127\.0\.0\.1:9\/mcp\) could not be started or reached/);
      assert.ok(session.toolsFor('implementer').some((tool) => tool.agentName === 'mcp__notes__add_note'), 'the working server is still offered');
    } finally {
      await session.close();
    }
  });

  it('cancels a call that outlives its timeout with an error naming the tool and the server; an error result is an error', async () => {
    const connection = await McpConnection.open('notes', stdioServer(), { ...connectOptions, timeoutMs: 20_000 });
    try {
      await assert.rejects(connection.call('hang', {}, 1_000, new AbortController().signal), /^McpServerError: The call of hang on MCP server "notes" did not answer within 1 s \(the call was cancelled\)\.$/);
      const failed = await connection.call('fail', {}, 10_000, new AbortController().signal);
      assert.equal(failed.isError, true);
      assert.equal(resultText(failed), 'the notebook is locked');
    } finally {
      await connection.close();
    }
  });

  it('cuts a long result to the turn\'s limit and tells the agent; a denial never reaches the server', async () => {
    const session = await McpSession.open(mcpConfig({ notes: stdioServer() }), connectOptions, () => undefined);
    try {
      const asked: string[] = [];
      const tools = buildMcpTools({
        session,
        tools: session.toolsFor('implementer'),
        allow: ['notes/big'],
        maxOutputChars: 2_000,
        approve: async (subject, rule) => {
          asked.push(`${subject.tool}:${rule ?? 'ask'}`);
          return rule ? { approved: true } : { approved: false, reason: 'no' };
        },
      });
      const options = { toolCallId: 'c1', messages: [], abortSignal: new AbortController().signal, context: {} };
      const big = (await tools.mcp__notes__big!.execute!({ chars: 100_000 }, options)) as string;
      assert.equal(big.length < 2_100, true);
      assert.match(big, /\[truncated: 98000 more characters not shown\]$/);
      await assert.rejects(Promise.resolve(tools.mcp__notes__fail!.execute!({}, options)), /The call of fail on MCP server "notes" was not approved: no\. It did not run\./);
      assert.deepEqual(asked, ['big:notes/big', 'fail:ask']);
    } finally {
      await session.close();
    }
  });

  it('matches mcp.allow entries as server/tool with * and names tools the way providers accept', () => {
    assert.equal(mcpAllowRule(['notes/add_note'], 'notes', 'add_note'), 'notes/add_note');
    assert.equal(mcpAllowRule(['notes/add_*'], 'notes', 'add_note'), 'notes/add_*');
    assert.equal(mcpAllowRule(['*/add_note'], 'web', 'add_note'), '*/add_note');
    assert.equal(mcpAllowRule(['notes/add_note'], 'notes', 'add_notes'), undefined, 'a whole-name match, not a prefix');
    assert.equal(mcpAllowRule(['notes/add.note'], 'notes', 'addXnote'), undefined, 'only * is special');
    assert.equal(mcpAllowRule(['notes/*'], 'notesx', 'a'), undefined);
    assert.equal(agentToolName('gh', 'repo/get.file'), 'mcp__gh__repo_get_file');
    const long = agentToolName('server', 'a'.repeat(80));
    assert.equal(long.length, 64);
    assert.match(long, /^mcp__server__a+_[0-9a-f]{8}$/);
    assert.notEqual(agentToolName('gh', 'x', new Set(['mcp__gh__x'])), 'mcp__gh__x', 'a taken name gets a suffix');
    assert.equal(mcpConfigSchema.safeParse({ allow: ['no-slash'] }).success, false);
    assert.equal(mcpConfigSchema.safeParse({ servers: { 'bad name': stdioServer() } }).success, false);
  });
});

/** An approver that answers no to everything, recording what it was asked. */
class DenyingApprover implements Approver {
  readonly asked: ApprovalRequest[] = [];
  async approve(request: ApprovalRequest) {
    this.asked.push(request);
    return { approved: false as const, by: 'user' as const, reason: 'not today' };
  }
}

describe('MCP tools in a run (scripted model, real stdio server)', function () {
  this.timeout(60_000);

  it('runs a call an mcp.allow rule allows, asks the approver about the other and honours its no; the server stops with the run', async () => {
    const ws = await tempDir('sm-mcp-run-');
    await writeFile(join(ws, 'README.md'), '# notes\n');
    const notes = join(ws, '..', `${ws.split('/').pop()}-notes.txt`);
    const pids = join(ws, '..', `${ws.split('/').pop()}-pids.txt`);
    const plan = { summary: 's', tasks: [{ id: 't1', title: 'Take notes', description: 'd', role: 'implementer', dependsOn: [], acceptance: ['a'], files: ['README.md'] }] };
    const transcript = await writeTranscript(ws, [
      { role: 'planner', toolCalls: [{ tool: 'finish', input: plan }] },
      { role: 'implementer', task: 't1', toolCalls: [{ tool: 'mcp__notes__add_note', input: { text: 'allowed by rule' } }] },
      { role: 'implementer', task: 't1', expect: 'noted: allowed by rule', toolCalls: [{ tool: 'mcp__other__add_note', input: { text: 'needs a yes' } }] },
      { role: 'implementer', task: 't1', expect: 'was not approved: the user denied it (not today)', toolCalls: [{ tool: 'finish', input: { summary: 'one note taken' } }] },
    ]);
    const approver = new DenyingApprover();
    const { engine, events } = await makeEngine(ws, { approver });
    const env = { NOTES_FILE: notes, PID_FILE: pids };
    const config = scriptedConfig(transcript, {
      testCommand: 'none',
      reviewGate: false,
      mcp: mcpConfig({ notes: stdioServer(env), other: stdioServer(env) }, { allow: ['notes/add_note'] }),
    });
    const final = await (await engine.startRun('Take notes', config)).finished;
    assert.equal(final.status, 'completed', final.statusReason);
    assert.equal(await readFile(notes, 'utf8'), 'allowed by rule\n', 'only the approved call ran');
    assert.equal(approver.asked.length, 1);
    assert.deepEqual(approver.asked[0]!.subject, { kind: 'mcp', server: 'other', tool: 'add_note', input: '{"text":"needs a yes"}' });
    const decided = ofType(events, 'approval.decided').map((event) => ({ approved: event.approved, by: event.by, rule: event.rule }));
    assert.deepEqual(decided, [
      { approved: true, by: 'rule', rule: 'mcp.allow: "notes/add_note"' },
      { approved: false, by: 'user', rule: undefined },
    ]);
    const results = ofType(events, 'tool.result').filter((event) => event.tool.startsWith('mcp__'));
    assert.deepEqual(results.map((event) => [event.tool, event.ok]), [['mcp__notes__add_note', true], ['mcp__other__add_note', false]]);
    const started = (await readFile(pids, 'utf8')).trim().split('\n').map(Number);
    assert.equal(started.length, 2);
    for (const pid of started) assert.equal(processAlive(pid), false, `server process ${pid} ended with the run`);
  });

  it('refuses every call no rule allows when nobody can be asked (no approver)', async () => {
    const ws = await tempDir('sm-mcp-noask-');
    await mkdir(join(ws, 'docs'));
    const plan = { summary: 's', tasks: [{ id: 't1', title: 'Note', description: 'd', role: 'implementer', dependsOn: [], acceptance: ['a'], files: ['docs/**'] }] };
    const transcript = await writeTranscript(ws, [
      { role: 'planner', toolCalls: [{ tool: 'finish', input: plan }] },
      { role: 'implementer', task: 't1', toolCalls: [{ tool: 'mcp__notes__add_note', input: { text: 'x' } }] },
      { role: 'implementer', task: 't1', expect: 'Nobody can be asked here', toolCalls: [{ tool: 'finish', input: { summary: 'no note' } }] },
    ]);
    const { engine, events } = await makeEngine(ws);
    const final = await (await engine.startRun('Note', scriptedConfig(transcript, { testCommand: 'none', reviewGate: false, mcp: mcpConfig({ notes: stdioServer() }) }))).finished;
    assert.equal(final.status, 'completed', final.statusReason);
    assert.deepEqual(ofType(events, 'approval.decided').map((event) => [event.approved, event.by]), [[false, 'rule']]);
  });
});
