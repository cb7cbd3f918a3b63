// The conversation side of a run: agents' words as bounded events, the user's messages steering a
// run (into the next model call of a turn under way, or the next turn's prompt), rejections with a
// reason sent back to the fixer and the reviewer, runs that end leaving no task "running", and the
// end-of-run summary a follow-up carries.
import { strict as assert } from 'node:assert';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AGENT_TEXT_STEP_CHARS, AgentTextStream, type AgentTextPiece } from '../../src/core/agents/agentText';
import type { TranscriptTurn } from '../../src/core/models/scripted';
import type { Workspace } from '../../src/core/ports';
import { NodeWorkspace } from '../../src/core/workspace/nodeWorkspace';
import { endOfRun, endOfRunText } from '../../src/shared/endOfRun';
import type { EngineEvent } from '../../src/shared/events';
import { parseRequest } from '../../src/shared/protocolSchemas';
import { foldEvents } from '../../src/shared/runState';
import { calculatorWorkspace, makeEngine, ofType, scriptedConfig, ScriptedReviewer, writeTranscript } from './helpers';

const GOAL = 'Fix the failing calculator tests';
const onePlan = {
  summary: 'Fix add().',
  tasks: [{ id: 't1', title: 'Fix add()', description: 'Make add return a + b.', role: 'implementer', dependsOn: [], acceptance: ['add tests pass'], files: ['src/calc.js', 'README.md'] }],
};
const planTurn: TranscriptTurn = { role: 'planner', toolCalls: [{ tool: 'finish', input: onePlan }] };
const edit = (role: string, to: string, expect?: string): TranscriptTurn => ({
  role,
  task: 't1',
  ...(expect ? { expect } : {}),
  toolCalls: [{ tool: 'propose_edit', input: { path: 'src/calc.js', hunks: [{ search: 'return a - b;', replace: `return ${to};` }] } }],
});
const finish = (role: string, summary: string, expect?: string): TranscriptTurn => ({ role, task: 't1', ...(expect ? { expect } : {}), toolCalls: [{ tool: 'finish', input: { summary } }] });
const approve = (expect?: string): TranscriptTurn => ({ role: 'reviewer', task: 't1', ...(expect ? { expect } : {}), toolCalls: [{ tool: 'finish', input: { approved: true, summary: 'ok', issues: [] } }] });

function collect(flushMs = 10_000): { pieces: AgentTextPiece[]; stream: AgentTextStream } {
  const pieces: AgentTextPiece[] = [];
  return { pieces, stream: new AgentTextStream((piece) => pieces.push(piece), flushMs) };
}

describe('agent text: coalesced, bounded, redacted', () => {
  it('turns many small deltas into one piece, and holds back a word still being written', () => {
    const { pieces, stream } = collect();
    for (const word of 'I will read the file first and then '.split(/(?<= )/)) stream.push(word);
    stream.push('chan');
    assert.equal(pieces.length, 0, 'nothing is logged before a flush');
    stream.flush(false);
    assert.deepEqual(pieces, [{ text: 'I will read the file first and then ' }]);
    stream.push('ge it.');
    stream.end();
    assert.deepEqual(pieces.at(-1), { text: 'change it.' });
  });

  it('keeps at most the step cap and says how much it left out', () => {
    const { pieces, stream } = collect();
    const total = AGENT_TEXT_STEP_CHARS * 3;
    for (let i = 0; i < total / 100; i++) stream.push(`${'x'.repeat(99)} `);
    stream.end();
    const kept = pieces.reduce((sum, piece) => sum + piece.text.length, 0);
    assert.ok(kept <= AGENT_TEXT_STEP_CHARS, `kept ${kept}`);
    assert.ok(pieces.length <= AGENT_TEXT_STEP_CHARS / 1_000 + 2, `${pieces.length} pieces`);
    assert.equal(pieces.at(-1)!.truncated, total - kept);
  });

  it('redacts a key even when it streams in across deltas', () => {
    const { pieces, stream } = collect();
    stream.push('the key is sk-proj-abcdefgh');
    stream.flush(false);
    stream.push('ijklmnopqrstuvwx and more');
    stream.end();
    const text = pieces.map((piece) => piece.text).join('');
    assert.doesNotMatch(text, /abcdefgh/);
    assert.match(text, /the key is .*and more/);
  });

  it('never throws into a timer when the run no longer takes events', async () => {
    const stream = new AgentTextStream(() => {
      throw new Error('run ended');
    }, 1);
    stream.push('late words ');
    await new Promise((resolve) => setTimeout(resolve, 20));
    stream.end();
  });
});

/** A workspace whose read of `trigger` runs `onRead` first (a message typed while the agent reads). */
async function workspaceWithHook(root: string, trigger: string, onRead: () => Promise<void>): Promise<Workspace> {
  const base = await NodeWorkspace.open(root);
  let fired = false;
  return new Proxy(base, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (property !== 'readText' || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value;
      return async (path: string) => {
        if (path === trigger && !fired) {
          fired = true;
          await onRead();
        }
        return (value as (p: string) => Promise<string | undefined>).call(target, path);
      };
    },
  });
}

describe('engine: the agents speak, and the user steers', function () {
  this.timeout(60_000);

  it('logs each agent turn\'s text as agent.text events before its tool calls, and folds them per task', async () => {
    const ws = await calculatorWorkspace();
    const transcript = await writeTranscript(ws, [
      { ...planTurn, text: 'Looking at the failing tests first.\n\nOne task will do.' },
      { ...edit('implementer', 'a + b'), text: 'add() subtracts; I will fix it.' },
      finish('implementer', 'fixed'),
      approve(),
    ]);
    const { engine, events } = await makeEngine(ws);
    const final = await (await engine.startRun(GOAL, scriptedConfig(transcript))).finished;
    assert.equal(final.status, 'completed', final.statusReason);
    const texts = ofType(events, 'agent.text');
    assert.deepEqual(
      texts.map((event) => [event.role, event.taskId, event.text]),
      [
        ['planner', undefined, 'Looking at the failing tests first.\n\nOne task will do.'],
        ['implementer', 't1', 'add() subtracts; I will fix it.'],
      ],
    );
    const implementerText = texts[1]!;
    const firstCall = ofType(events, 'tool.call').find((event) => event.taskId === 't1')!;
    assert.ok(implementerText.seq < firstCall.seq, 'the words come before the tool call they announce');
  });

  it('steers a message typed during a turn into its next model call, and logs the delivery', async () => {
    const ws = await calculatorWorkspace();
    const transcript = await writeTranscript(ws, [
      planTurn,
      { role: 'implementer', task: 't1', toolCalls: [{ tool: 'read_file', input: { path: 'test/calc.test.js' } }] },
      { ...edit('implementer', 'b + a'), expect: 'please keep the operands in order' },
      finish('implementer', 'fixed'),
      approve('please keep the operands in order'),
    ]);
    // The message is typed while the agent reads a test file: between two model calls of its turn.
    const typing: { send?: () => Promise<number> } = {};
    const workspace = await workspaceWithHook(ws, 'test/calc.test.js', async () => void (await typing.send!()));
    const { engine, events } = await makeEngine(ws, { workspace });
    const handle = await engine.startRun(GOAL, scriptedConfig(transcript));
    typing.send = () => engine.sendMessage(handle.runId, { text: 'please keep the operands in order', taskId: 't1' });
    const final = await handle.finished;
    assert.equal(final.status, 'completed', final.statusReason);
    const [message] = ofType(events, 'user.message');
    assert.equal(message?.text, 'please keep the operands in order');
    const deliveries = ofType(events, 'user.delivered').filter((event) => event.messageSeq === message!.seq);
    assert.deepEqual(deliveries.map((event) => event.stepId), ['t1:implement@v1', 't1:review@v1']);
    assert.deepEqual(final.userMessages[0]!.deliveredTo, ['t1:implement@v1', 't1:review@v1']);
  });

  it('refuses a message to a run that ended, and images for models that do not take them', async () => {
    const ws = await calculatorWorkspace();
    const transcript = await writeTranscript(ws, [planTurn, edit('implementer', 'a + b'), finish('implementer', 'fixed'), approve()]);
    const { engine } = await makeEngine(ws);
    const handle = await engine.startRun(GOAL, scriptedConfig(transcript));
    await handle.finished;
    await assert.rejects(engine.sendMessage(handle.runId, { text: 'one more thing' }), /has ended \(completed\); a message now starts a follow-up/);
    const png = { mediaType: 'image/png' as const, data: Buffer.from('not really a png').toString('base64') };
    await assert.rejects(engine.startRun(GOAL, scriptedConfig(transcript), { images: [png] }), /Images cannot be sent: "scripted" does not take images/);
    await assert.rejects(engine.startRun(GOAL, scriptedConfig(transcript), { files: ['no/such.js'] }), /@no\/such.js cannot be added/);
  });

  it('sends a goal\'s @-mentioned files and pasted images to a model that takes images', async () => {
    const ws = await calculatorWorkspace();
    const transcript = await writeTranscript(ws, [{ ...planTurn, expect: 'Files the user pointed at' }, edit('implementer', 'a + b', 'image/png'), finish('implementer', 'fixed'), approve()]);
    const config = scriptedConfig(transcript, { models: [{ id: 'scripted', provider: 'scripted', transcript, images: true }] });
    const { engine, runsDir } = await makeEngine(ws);
    const png = { mediaType: 'image/png' as const, data: Buffer.from('pixels').toString('base64') };
    const handle = await engine.startRun(GOAL, config, { files: ['README.md'], images: [png] });
    const final = await handle.finished;
    assert.equal(final.status, 'completed', final.statusReason);
    assert.deepEqual(final.goalFiles, ['README.md']);
    assert.equal(await readFile(join(runsDir, handle.runId, final.goalImages[0]!), 'utf8'), 'pixels');
  });
});

describe('engine: rejections with a reason, cancelled and interrupted runs, the summary', function () {
  this.timeout(60_000);

  it('sends a task back when one file is rejected with a reason and the rest accepted; the fixer and the reviewer hear the reason', async () => {
    const ws = await calculatorWorkspace();
    const twoFiles: TranscriptTurn = {
      role: 'implementer',
      task: 't1',
      toolCalls: [
        { tool: 'propose_edit', input: { path: 'src/calc.js', hunks: [{ search: 'return a - b;', replace: 'return a + b;' }] } },
        { tool: 'propose_edit', input: { path: 'README.md', hunks: [{ search: 'Calculator', replace: 'CALCULATOR' }] } },
      ],
    };
    const transcript = await writeTranscript(ws, [
      planTurn,
      twoFiles,
      finish('implementer', 'fixed and shouted'),
      finish('fixer', 'left the README alone', 'do not touch the README'),
      approve('do not touch the README'),
    ]);
    const reviewer = new ScriptedReviewer((request) =>
      request.files.some((file) => file.path === 'README.md') ? { accepted: ['src/calc.js'], reason: 'do not touch the README' } : { accepted: request.files.map((file) => file.path) },
    );
    const { engine, events } = await makeEngine(ws, { reviewer });
    const final = await (await engine.startRun(GOAL, scriptedConfig(transcript, { autoApprove: false }))).finished;
    assert.equal(final.status, 'completed', final.statusReason);
    const sentBack = ofType(events, 'task.status').find((event) => event.status === 'failed');
    assert.match(sentBack?.reason ?? '', /the user rejected README.md: do not touch the README/);
    assert.match(sentBack?.signature ?? '', /^rejected-by-user:/);
    assert.equal(final.tasks.t1!.attempts, 2, 'the fixer had a turn');
    assert.match(await readFile(join(ws, 'src/calc.js'), 'utf8'), /return a \+ b;/, 'the accepted file stays applied');
    assert.doesNotMatch(await readFile(join(ws, 'README.md'), 'utf8'), /CALCULATOR/);
    const summary = endOfRun(final);
    assert.deepEqual(summary.changed.map((file) => file.path), ['src/calc.js']);
    assert.deepEqual(summary.rejected.map((entry) => [entry.path, entry.reason, entry.by]), [['README.md', 'do not touch the README', 'user']]);
  });

  it('ends the tasks of a cancelled run (in the fold, so old logs read right too)', async () => {
    const ws = await calculatorWorkspace();
    const transcript = await writeTranscript(ws, [planTurn, edit('implementer', 'a + b'), finish('implementer', 'fixed'), approve()]);
    const reviewer = new ScriptedReviewer();
    const { engine, runsDir } = await makeEngine(ws, { reviewer });
    const handle = await engine.startRun(GOAL, scriptedConfig(transcript, { autoApprove: false }));
    await reviewer.next();
    assert.equal(await engine.cancelRun(handle.runId, 'changed my mind'), true);
    const final = await handle.finished;
    assert.equal(final.status, 'cancelled');
    assert.equal(final.tasks.t1!.status, 'cancelled');
    assert.equal(final.tasks.t1!.statusReason, 'the run was cancelled: changed my mind');
    const log = (await readFile(join(runsDir, handle.runId, 'events.jsonl'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as EngineEvent);
    assert.equal(foldEvents(log)!.tasks.t1!.status, 'cancelled', 'a reload folds the same');
  });

  it('marks a run nobody drives any more as interrupted in the run list', async () => {
    const ws = await calculatorWorkspace();
    const transcript = await writeTranscript(ws, [planTurn, edit('implementer', 'a + b'), finish('implementer', 'fixed'), approve()]);
    const reviewer = new ScriptedReviewer();
    const first = await makeEngine(ws, { reviewer });
    const handle = await first.engine.startRun(GOAL, scriptedConfig(transcript, { autoApprove: false }));
    await reviewer.next();
    assert.equal((await first.engine.listRuns())[0]!.interrupted, undefined, 'driven: not interrupted');
    await first.engine.dispose();
    const second = await makeEngine(ws);
    const [summary] = await second.engine.listRuns();
    assert.equal(summary?.id, handle.runId);
    assert.equal(summary?.status, 'running');
    assert.equal(summary?.interrupted, true);
  });

  it('summarises a run (files, tests before and after, cost) and carries it into a follow-up', async () => {
    const ws = await calculatorWorkspace();
    const transcript = await writeTranscript(ws, [
      planTurn,
      edit('implementer', 'a + b'),
      finish('implementer', 'fixed'),
      approve(),
    ]);
    const followUpTranscript = await writeTranscript(ws, [{ ...planTurn, expect: 'follows up an earlier run' }, finish('implementer', 'nothing left', 'Changed files: src/calc.js'), approve()]);
    const { engine } = await makeEngine(ws);
    const first = await (await engine.startRun(GOAL, scriptedConfig(transcript))).finished;
    const summary = endOfRun(first);
    assert.deepEqual(summary.changed.map((file) => [file.path, file.kind, file.tasks]), [['src/calc.js', 'modify', ['t1']]]);
    assert.equal(summary.testsBefore?.ok, false);
    assert.equal(summary.testsAfter?.ok, true);
    assert.ok(summary.usage.calls > 0);
    const text = endOfRunText(first);
    assert.match(text, /Outcome: completed/);
    assert.match(text, /Changed files: src\/calc.js \(modify\)/);
    assert.match(text, /Tests before: \d+ passed, [1-9]\d* failed; after: \d+ passed, 0 failed/);
    const followUp = await (await engine.startRun('Also document add()', scriptedConfig(followUpTranscript), { followUpOf: first.id })).finished;
    assert.equal(followUp.followUpOf?.runId, first.id);
    assert.equal(followUp.status, 'completed', followUp.statusReason);
  });
});

describe('the chat view of a run (webview/eventText.ts extendChat)', () => {
  const at = '2026-01-01T00:00:00.000Z';
  let seq = 0;
  const ev = (event: Record<string, unknown>): EngineEvent => ({ seq: ++seq, at, runId: 'r', ...event }) as EngineEvent;
  const title = (): string | undefined => undefined;

  it('groups a step\'s words and tool calls into one agent message per task, live, and notes where a user message reached', async () => {
    const { extendChat } = await import('../../webview/eventText');
    const chat: ReturnType<typeof extendChat> = [];
    const events = [
      ev({ type: 'agent.text', stepId: 't1:implement@v1', taskId: 't1', role: 'implementer', text: 'Reading the test ' }),
      ev({ type: 'agent.text', stepId: 't1:implement@v1', taskId: 't1', role: 'implementer', text: 'first.' }),
      ev({ type: 'tool.call', stepId: 't1:implement@v1', taskId: 't1', toolCallId: 'c1', tool: 'read_file', input: '{"path":"test/calc.test.js"}' }),
      ev({ type: 'user.message', text: 'keep it short', taskId: 't1' }),
      ev({ type: 'user.delivered', messageSeq: seq, stepId: 't1:implement@v1', taskId: 't1' }),
      ev({ type: 'tool.call', stepId: 't1:fix@v2', taskId: 't1', toolCallId: 'c2', tool: 'propose_edit', input: '{"path":"src/calc.js"}' }),
      ev({ type: 'agent.text', stepId: 't1:fix@v2', taskId: 't1', role: 'fixer', text: '', truncated: 120 }),
    ];
    for (const event of events) extendChat(chat, event, title);
    assert.deepEqual(
      chat.map((message) => [message.from, message.speaker, message.markdown, message.tools, message.note]),
      [
        ['agent', 'implementer · t1', 'Reading the test first.', ['read_file test/calc.test.js'], undefined],
        ['user', undefined, 'keep it short', undefined, 'Reached t1:implement@v1'],
        ['agent', 'fixer · t1', '', ['propose_edit src/calc.js'], '120 more characters of this turn were not kept.'],
      ],
    );
  });

  it('narrows the chat to one task\'s conversation (chatOfTask), and shows all of it again without a task', async () => {
    const { chatOfTask, extendChat } = await import('../../webview/eventText');
    const chat: ReturnType<typeof extendChat> = [];
    const events = [
      ev({ type: 'agent.text', stepId: 'plan@v1', role: 'planner', text: 'Two tasks.' }),
      ev({ type: 'agent.text', stepId: 't1:implement@v1', taskId: 't1', role: 'implementer', text: 'Fixing add.' }),
      ev({ type: 'agent.text', stepId: 't2:implement@v1', taskId: 't2', role: 'implementer', text: 'Fixing sub.' }),
      ev({ type: 'tool.call', stepId: 't1:implement@v1', taskId: 't1', toolCallId: 'c1', tool: 'read_file', input: '{"path":"src/calc.js"}' }),
      ev({ type: 'user.message', text: 'only sub, please', taskId: 't2' }),
      ev({ type: 'task.status', taskId: 't1', status: 'done' }),
      ev({ type: 'user.message', text: 'keep the API' }),
      ev({ type: 'user.delivered', messageSeq: seq, stepId: 't2:implement@v1', taskId: 't2' }),
    ];
    for (const event of events) extendChat(chat, event, title);
    const said = (messages: readonly { markdown: string; tools?: string[] }[]): string[] => messages.map((message) => message.markdown || (message.tools ?? []).join());
    assert.deepEqual(said(chatOfTask(chat, 't1')), ['Fixing add.', 'read_file src/calc.js', 'Done: **t1**']);
    assert.deepEqual(said(chatOfTask(chat, 't2')), ['Fixing sub.', 'only sub, please', 'keep the API'], 'a message to the agents at work belongs to the task it reached');
    assert.deepEqual(chatOfTask(chat, 't9'), []);
    assert.equal(chatOfTask(chat, undefined), chat, 'no task: every message, run-level ones too');
    assert.equal(chat.length, 7);
  });

  it('says "sent back" for a user\'s rejection, notes a failing baseline as old, and marks the end for the summary', async () => {
    const { chatMessageOf } = await import('../../webview/eventText');
    const rejection = chatMessageOf(ev({ type: 'task.status', taskId: 't1', status: 'failed', reason: 'the user rejected README.md: no', signature: 'rejected-by-user:no' }), title)!;
    assert.match(rejection.markdown, /^Sent back to the agent: \*\*t1\*\*/);
    assert.equal(rejection.tone, 'warning');
    const failure = chatMessageOf(ev({ type: 'task.status', taskId: 't1', status: 'failed', reason: 'tests: 1 new failure', signature: 'tests:x' }), title)!;
    assert.match(failure.markdown, /^Failed:/);
    const report = { command: 'npm test', exitCode: 1, timedOut: false, passed: 3, failed: 2, skipped: 0, failures: [], durationMs: 5, ok: false, outputTail: '' };
    const baseline = chatMessageOf(ev({ type: 'test.finished', phase: 'baseline', report }), title)!;
    assert.equal(baseline.tone, 'info');
    assert.match(baseline.markdown, /3 passed, 2 failed — already failing before any change; not blamed on tasks/);
    assert.equal(chatMessageOf(ev({ type: 'test.finished', phase: 'final', report }), title), undefined);
    assert.equal(chatMessageOf(ev({ type: 'run.status', status: 'completed' }), title)?.summary, true);
  });
});

describe('protocol: chat messages, @-mentions and images', () => {
  it('refuses paths outside the workspace, too many images and data that is not base64', () => {
    const request = (params: Record<string, unknown>) => parseRequest({ kind: 'request', id: 1, method: 'run/message', params: { runId: 'r1', text: 'hi', ...params } });
    assert.equal(request({ files: ['src/a.ts'] }).ok, true);
    for (const [params, error] of [
      [{ files: ['../secrets.txt'] }, /A path inside the workspace/],
      [{ files: ['/etc/passwd'] }, /A path inside the workspace/],
      [{ images: Array.from({ length: 5 }, () => ({ mediaType: 'image/png', data: 'AAAA' })) }, /At most 4 images/],
      [{ images: [{ mediaType: 'image/png', data: 'not base64!' }] }, /Not base64 image data/],
      [{ images: [{ mediaType: 'image/svg+xml', data: 'AAAA' }] }, /Invalid params/],
      [{ text: '   ' }, /The message is empty/],
    ] as const) {
      const result = request(params);
      assert.equal(result.ok, false, JSON.stringify(params));
      assert.match(result.ok ? '' : result.error, error);
    }
  });
});

describe('the composer\'s @-mentions (webview/views/conversation.ts)', () => {
  it('finds the @word before the caret, completes it, and drops mentions the user deleted', async () => {
    const { completeMention, mentionAt, mentionedIn } = await import('../../webview/views/conversation');
    assert.deepEqual(mentionAt('fix @src/ca', 11), { start: 4, query: 'src/ca' });
    assert.deepEqual(mentionAt('@', 1), { start: 0, query: '' });
    assert.equal(mentionAt('mail me at a@b.c', 16), undefined, 'an @ inside a word is no mention');
    assert.equal(mentionAt('fix @src/calc.js now', 20), undefined, 'the caret is past the mention');
    const done = completeMention('fix @src/ca and more', { start: 4, query: 'src/ca' }, 'src/calc.js');
    assert.deepEqual(done, { text: 'fix @src/calc.js  and more', caret: 17 });
    assert.deepEqual(mentionedIn('see @a.js only', ['a.js', 'b.js']), ['a.js']);
  });
});
