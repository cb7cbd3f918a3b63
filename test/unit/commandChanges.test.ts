// Edits that change what will be executed: how the CLI asks about them, and the setting that lets
// auto-approval cover them.
import { strict as assert } from 'node:assert';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { buildCliConfig } from '../../src/cli/options';
import { TerminalReviewer } from '../../src/cli/ports';
import type { TranscriptTurn } from '../../src/core/models/scripted';
import type { ReviewRequest } from '../../src/core/ports';
import { calculatorWorkspace, makeEngine, ofType, scriptedConfig, tempDir, writeTranscript } from './helpers';

const request: ReviewRequest = {
  runId: 'r',
  taskId: 't1',
  taskTitle: 'Fix add()',
  proposalId: 'p1',
  files: [
    { path: 'src/calc.js', kind: 'modify', before: 'a - b\n', after: 'a + b\n' },
    { path: 'package.json', kind: 'modify', before: '{"scripts":{"test":"mocha"}}\n', after: '{"scripts":{"test":"mocha; sh x"}}\n', changesWhatRuns: ['scripts.test: "mocha" → "mocha; sh x" (the test gate runs it next)'] },
  ],
};

/** Drives the reviewer like a user at a terminal: each answer is typed when its question shows. */
async function answer(answers: string[]): Promise<{ decision: Awaited<ReturnType<TerminalReviewer['review']>>; shown: string }> {
  const input = new PassThrough();
  const output = new PassThrough();
  let shown = '';
  let asked = 0;
  output.on('data', (chunk: Buffer) => {
    shown += chunk.toString();
    const questions = (shown.match(/\[y\/n\] |anything else rejects it\): |goes back to the agent\)\? /g) ?? []).length;
    while (asked < questions && asked < answers.length) input.write(`${answers[asked++]}\n`);
  });
  const decision = await new TerminalReviewer(input, output).review(request, new AbortController().signal);
  return { decision, shown };
}

describe('edits that change what runs', () => {
  it('the terminal review prints a warning with the reasons before the diff and asks a question of its own', async () => {
    const { decision, shown } = await answer(['y', 'yes']);
    assert.deepEqual(decision.accepted, ['src/calc.js', 'package.json']);
    const warning = shown.indexOf('WARNING: accepting package.json changes what will be executed');
    assert.ok(warning > shown.indexOf('src/calc.js? [y/n]'), 'the ordinary file is asked first, as before');
    assert.ok(warning < shown.indexOf('--- a/package.json'), 'the warning comes before the diff');
    assert.match(shown, /!! {3}- scripts\.test: "mocha" → "mocha; sh x" \(the test gate runs it next\)/);
    assert.match(shown, /package\.json CHANGES WHAT RUNS\. Type "yes" to apply it anyway/);
  });

  it('a plain "y" out of habit does not apply a file that changes what runs', async () => {
    const { decision } = await answer(['y', 'y', 'not now']);
    assert.deepEqual(decision.accepted, ['src/calc.js']);
    assert.equal(decision.reason, 'package.json: not now');
  });

  it('autoApproveCommandChanges lets auto-approval cover them (and is off by default)', async () => {
    const ws = await calculatorWorkspace();
    const plan: TranscriptTurn = {
      role: 'planner',
      toolCalls: [{ tool: 'finish', input: { summary: 's', tasks: [{ id: 't1', title: 'Fix', description: 'd', role: 'implementer', dependsOn: [], acceptance: ['a'], files: [] }] } }],
    };
    const edit: TranscriptTurn = {
      role: 'implementer',
      task: 't1',
      toolCalls: [
        { tool: 'propose_edit', input: { path: 'src/calc.js', hunks: [{ search: 'return a - b;', replace: 'return a + b;' }] } },
        { tool: 'propose_edit', input: { path: 'package.json', hunks: [{ search: '"test": "node --test"', replace: '"test": "node --test",\n    "lint": "node --check src/calc.js"' }] } },
      ],
    };
    const finish: TranscriptTurn = { role: 'implementer', task: 't1', toolCalls: [{ tool: 'finish', input: { summary: 'done' } }] };
    const approve: TranscriptTurn = { role: 'reviewer', task: 't1', toolCalls: [{ tool: 'finish', input: { approved: true, summary: 'ok', issues: [] } }] };
    const transcript = await writeTranscript(ws, [plan, edit, finish, approve]);
    const { engine, events } = await makeEngine(ws, { reviewer: undefined });
    const final = await (await engine.startRun('Fix it', scriptedConfig(transcript, { autoApprove: true, autoApproveCommandChanges: true }))).finished;
    assert.equal(final.status, 'completed', final.statusReason);
    assert.match(await readFile(join(ws, 'package.json'), 'utf8'), /"lint": "node --check src\/calc\.js"/);
    assert.equal(ofType(events, 'edit.decided')[0]!.by, 'auto');

    const base = { models: ['scripted:x.json'], yes: true, noReviewGate: false, gitMode: false, noCheckpoints: false };
    const dir = await tempDir();
    assert.equal((await buildCliConfig(dir, base)).autoApproveCommandChanges, false);
    assert.equal((await buildCliConfig(dir, { ...base, allowCommandChanges: true })).autoApproveCommandChanges, true);
  });
});
