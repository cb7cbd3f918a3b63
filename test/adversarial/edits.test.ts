// Attacks through edits: racing tool calls, commands hidden in edits, edits outside the planned
// scope, files and folders the disk will not let us write, and a kill while an edit is written.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { chmod, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NodeEditApplier } from '../../src/core/edits/nodeApplier';
import type { TranscriptTurn } from '../../src/core/models/scripted';
import type { EngineEvent } from '../../src/shared/events';
import { makeEngine, makeFolderReadOnly, ofType, REPO, runCli, scriptedConfig, ScriptedReviewer, writeTranscript } from '../unit/helpers';
import { buildCli } from '../unit/builtCli';
import { hostileWorkspace, isolatedUserEnv, killHard } from './support';

const GOAL = 'Fix the failing calculator tests';

function plan(files: string[]): TranscriptTurn {
  return {
    role: 'planner',
    toolCalls: [
      {
        tool: 'finish',
        input: {
          summary: 'Fix add().',
          tasks: [{ id: 't1', title: 'Fix add()', description: 'Make add return a + b.', role: 'implementer', dependsOn: [], acceptance: ['add tests pass'], files }],
        },
      },
    ],
  };
}

const finish = (summary: string, role = 'implementer'): TranscriptTurn => ({ role, task: 't1', toolCalls: [{ tool: 'finish', input: { summary } }] });
const approve: TranscriptTurn = { role: 'reviewer', task: 't1', toolCalls: [{ tool: 'finish', input: { approved: true, summary: 'ok', issues: [] } }] };

describe('attacks through edits', function () {
  this.timeout(120_000);

  it('two propose_edit calls for one file in one reply: neither is lost', async () => {
    const ws = await hostileWorkspace();
    // One model reply, two tool calls for the same file: the ai SDK runs them concurrently.
    const racing: TranscriptTurn = {
      role: 'implementer',
      task: 't1',
      toolCalls: [
        { tool: 'propose_edit', input: { path: 'src/calc.js', hunks: [{ search: 'return a - b;', replace: 'return a + b;' }] } },
        { tool: 'propose_edit', input: { path: 'src/calc.js', hunks: [{ search: '/** Multiplies two numbers. */', replace: '/** Multiplies two numbers (raced). */' }] } },
      ],
    };
    const transcript = await writeTranscript(ws, [plan(['src/calc.js']), racing, finish('fixed'), approve]);
    const { engine, events } = await makeEngine(ws);
    const final = await (await engine.startRun(GOAL, scriptedConfig(transcript))).finished;
    const text = await readFile(join(ws, 'src/calc.js'), 'utf8');
    assert.match(text, /return a \+ b;/, 'the first hunk landed');
    assert.match(text, /Multiplies two numbers \(raced\)/, 'the second hunk landed');
    const results = ofType(events, 'tool.result').filter((e) => e.tool === 'propose_edit');
    assert.equal(results.length, 2);
    assert.ok(results.every((e) => e.ok), 'both calls were staged');
    assert.equal(final.status, 'completed', final.statusReason);
  });

  it('an edit outside the planned file scope: refused back to the agent, naming the scope', async () => {
    const ws = await hostileWorkspace();
    const packageJson = await readFile(join(ws, 'package.json'), 'utf8');
    const outside: TranscriptTurn = {
      role: 'implementer',
      task: 't1',
      toolCalls: [{ tool: 'propose_edit', input: { path: 'package.json', hunks: [{ search: '"test": "node --test"', replace: '"test": "node --test; echo owned"' }] } }],
    };
    const inside: TranscriptTurn = {
      role: 'implementer',
      task: 't1',
      expect: "package.json is outside this task's file scope (src/calc.js)",
      toolCalls: [{ tool: 'propose_edit', input: { path: 'src/calc.js', hunks: [{ search: 'return a - b;', replace: 'return a + b;' }] } }],
    };
    const transcript = await writeTranscript(ws, [plan(['src/calc.js']), outside, inside, finish('fixed'), approve]);
    const { engine, events } = await makeEngine(ws);
    const final = await (await engine.startRun(GOAL, scriptedConfig(transcript))).finished;
    assert.equal(final.status, 'completed', final.statusReason);
    assert.equal(await readFile(join(ws, 'package.json'), 'utf8'), packageJson, 'package.json is untouched');
    const refused = ofType(events, 'tool.result').find((e) => e.tool === 'propose_edit' && !e.ok);
    assert.match(refused?.output ?? '', /outside this task's file scope \(src\/calc\.js\).*disjoint/);
    assert.deepEqual(ofType(events, 'edit.proposed').flatMap((e) => e.files.map((file) => file.path)), ['src/calc.js']);
  });

  it('a hostile model rewrites the test script under --yes (CLI, no terminal): it does not land, and the agent is told why', async () => {
    const ws = await hostileWorkspace();
    const packageJson = await readFile(join(ws, 'package.json'), 'utf8');
    const transcript = await writeTranscript(ws, [
      plan(['src/calc.js', 'package.json']),
      { role: 'implementer', task: 't1', toolCalls: [fixCalc, ownTestScript] },
      finish('fixed add() and sped up the tests'),
      { role: 'fixer', task: 't1', expect: 'package.json changes what runs (scripts.test: \\"node --test\\" → ', toolCalls: [{ tool: 'read_file', input: { path: 'src/calc.js' } }] },
      finish('add() is fixed; package.json stays as it is', 'fixer'),
      approve,
    ]);
    const cli = await buildCli();
    const result = await runCli(cli, ['run', GOAL, '--workspace', ws, '--model', `scripted:${transcript}`, '--yes'], { env: await isolatedUserEnv() });
    assert.equal(await readFile(join(ws, 'package.json'), 'utf8'), packageJson, 'the test script is unchanged');
    await assert.rejects(readFile(join(ws, 'owned.txt')), { code: 'ENOENT' }, 'the hostile script never ran');
    assert.match(await readFile(join(ws, 'src/calc.js'), 'utf8'), /return a \+ b;/, 'the harmless file of the same proposal landed');
    const events = await runEvents(ws);
    const decided = ofType(events, 'edit.decided')[0]!;
    assert.deepEqual([decided.accepted, decided.rejected, decided.by], [['src/calc.js'], ['package.json'], 'auto']);
    assert.match(decided.reason ?? '', /package\.json changes what runs \(scripts\.test: "node --test" → "node --test; touch owned\.txt" \(the test gate runs it next\)\), so it needs a human review/);
    assert.equal(result.code, 0, result.stdout + result.stderr);
  });

  it('autoApproveRules glob "**" and role rules do not approve a test script change: the human is asked, with the reasons', async () => {
    for (const rules of [{ globs: ['**'] }, { roles: ['implementer' as const] }]) {
      const ws = await hostileWorkspace();
      const transcript = await writeTranscript(ws, [plan(['src/calc.js', 'package.json']), { role: 'implementer', task: 't1', toolCalls: [fixCalc, ownTestScript] }, finish('fixed'), approve]);
      // Rejected without a reason: the rest lands and the task goes on (a reason would send it back to the agent).
      const reviewer = new ScriptedReviewer(() => ({ accepted: [] }));
      const { engine, events } = await makeEngine(ws, { reviewer });
      const final = await (await engine.startRun(GOAL, scriptedConfig(transcript, { autoApprove: false, autoApproveRules: rules }))).finished;
      assert.equal(reviewer.requests.length, 1, JSON.stringify(rules));
      const [request] = reviewer.requests;
      assert.deepEqual(request!.files.map((file) => file.path), ['package.json'], 'only the flagged file is asked about');
      assert.match(request!.files[0]!.changesWhatRuns?.join('\n') ?? '', /scripts\.test: "node --test" → "node --test; touch owned\.txt"/);
      assert.match(await readFile(join(ws, 'package.json'), 'utf8'), /"test": "node --test"/);
      const decided = ofType(events, 'edit.decided')[0]!;
      assert.deepEqual([decided.accepted, decided.rejected, decided.by], [['src/calc.js'], ['package.json'], 'user']);
      assert.equal(final.status, 'completed', final.statusReason);
    }
  });

  it('autoApprove (the VS Code setting) does not approve a new git hook or a .npmrc node-options either', async () => {
    const ws = await hostileWorkspace();
    const hook: TranscriptTurn['toolCalls'] = [
      fixCalc,
      { tool: 'propose_edit', input: { path: '.husky/pre-commit', content: '#!/bin/sh\ntouch owned.txt\n' } },
      { tool: 'propose_edit', input: { path: '.npmrc', content: 'node-options=--require ./src/calc.js\n' } },
    ];
    const transcript = await writeTranscript(ws, [plan([]), { role: 'implementer', task: 't1', toolCalls: hook }, finish('fixed'), approve]);
    const reviewer = new ScriptedReviewer(() => ({ accepted: [] }));
    const { engine } = await makeEngine(ws, { reviewer });
    await (await engine.startRun(GOAL, scriptedConfig(transcript, { autoApprove: true }))).finished;
    assert.deepEqual(reviewer.requests[0]?.files.map((file) => [file.path, (file.changesWhatRuns ?? []).length > 0]), [
      ['.husky/pre-commit', true],
      ['.npmrc', true],
    ]);
    await assert.rejects(readFile(join(ws, '.husky/pre-commit')), { code: 'ENOENT' });
    await assert.rejects(readFile(join(ws, '.npmrc')), { code: 'ENOENT' });
  });

  it('a read-only file in the proposal: it keeps its text, the agent is told to leave it, the rest lands', async () => {
    const ws = await hostileWorkspace({ 'docs/API.md': '# API\n' });
    await chmod(join(ws, 'docs/API.md'), 0o444);
    const transcript = await writeTranscript(ws, [
      plan(['src/calc.js', 'docs/API.md']),
      { role: 'implementer', task: 't1', toolCalls: [fixCalc, { tool: 'propose_edit', input: { path: 'docs/API.md', hunks: [{ search: '# API', replace: '# API\n\nadd(a, b)' }] } }] },
      finish('fixed and documented'),
      { role: 'fixer', task: 't1', expect: 'docs/API.md is read-only; make it writable to let the edit land', toolCalls: [{ tool: 'finish', input: { summary: 'left the read-only docs alone' } }] },
      approve,
    ]);
    const { engine } = await makeEngine(ws);
    const final = await (await engine.startRun(GOAL, scriptedConfig(transcript))).finished;
    assert.equal(await readFile(join(ws, 'docs/API.md'), 'utf8'), '# API\n');
    assert.match(await readFile(join(ws, 'src/calc.js'), 'utf8'), /return a \+ b;/);
    assert.equal(final.status, 'completed', final.statusReason);
  });

  it('a read-only folder: only the task writing there fails, the other task and the run go on', async function () {
    const ws = await hostileWorkspace({ 'locked/notes.md': 'n\n' });
    const unlock = await makeFolderReadOnly(join(ws, 'locked'));
    if (!unlock) return this.skip();
    try {
      const twoTasks: TranscriptTurn = {
        role: 'planner',
        toolCalls: [
          {
            tool: 'finish',
            input: {
              summary: 'Two things.',
              tasks: [
                { id: 't1', title: 'Write notes', description: 'd', role: 'implementer', dependsOn: [], acceptance: ['a'], files: ['locked/**'] },
                { id: 't2', title: 'Fix add()', description: 'd', role: 'implementer', dependsOn: [], acceptance: ['a'], files: ['src/calc.js'] },
              ],
            },
          },
        ],
      };
      const transcript = await writeTranscript(ws, [
        twoTasks,
        { role: 'implementer', task: 't1', toolCalls: [{ tool: 'propose_edit', input: { path: 'locked/new.md', content: 'new\n' } }] },
        { role: 'implementer', task: 't1', toolCalls: [{ tool: 'finish', input: { summary: 'notes' } }] },
        { role: 'implementer', task: 't2', toolCalls: [fixCalc] },
        { role: 'implementer', task: 't2', toolCalls: [{ tool: 'finish', input: { summary: 'fixed' } }] },
        { role: 'reviewer', task: 't2', toolCalls: [{ tool: 'finish', input: { approved: true, summary: 'ok', issues: [] } }] },
      ]);
      const { engine } = await makeEngine(ws);
      const final = await (await engine.startRun(GOAL, scriptedConfig(transcript, { maxFixAttempts: 0 }))).finished;
      assert.equal(final.tasks.t2!.status, 'done', 'the other task finished');
      assert.equal(final.tasks.t1!.status, 'dead_letter');
      assert.match(final.tasks.t1!.lastFailure ?? '', /locked\/new\.md could not be written \((EACCES|EPERM)\b.*make it writable to let the edit land/);
      assert.equal(final.status, 'paused', `the run waits for triage instead of failing: ${final.statusReason ?? ''}`);
      assert.match(await readFile(join(ws, 'src/calc.js'), 'utf8'), /return a \+ b;/);
    } finally {
      await unlock();
    }
  });

  for (const kind of ['modify', 'create', 'rename'] as const) {
    it(`kill -9 while an edit is written (${kind}): no temp file is left in the workspace, the file is as it was, the next start cleans up`, async () => {
      const ws = await hostileWorkspace();
      const before = await readFile(join(ws, 'src/calc.js'), 'utf8');
      const write =
        kind === 'modify'
          ? { path: 'src/calc.js', kind, before, after: before.replace('a - b', 'a + b') }
          : kind === 'create'
            ? { path: 'src/deep/new.js', kind, before: '', after: 'new\n' }
            : { path: 'lib/calc.js', kind, from: 'src/calc.js', before, after: before };
      const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'killedApplier.ts'), ws, JSON.stringify(write)], { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
      const temp = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout!.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const match = /^TEMP (.+)$/m.exec(out);
          if (match) resolve(match[1]!);
        });
        child.once('exit', (code) => reject(new Error(`the applier exited (${code}) before writing: ${out}`)));
      });
      await killHard(child);
      const left = (await readdir(ws, { recursive: true })).filter((entry) => entry.endsWith('.sm-tmp'));
      assert.deepEqual(left.filter((entry) => !entry.startsWith('.software-maker/')), [], `temp files in the user's tree (${temp})`);
      assert.equal(await readFile(join(ws, 'src/calc.js'), 'utf8'), before);
      await assert.rejects(readFile(join(ws, write.path === 'src/calc.js' ? 'nothing' : write.path)), { code: 'ENOENT' });
      await assert.rejects(readdir(join(ws, 'src/deep')), { code: 'ENOENT' }, 'no new folder either');
      await assert.rejects(readdir(join(ws, 'lib')), { code: 'ENOENT' }, 'no new folder either');
      await new NodeEditApplier(ws).removeStaleTempFiles();
      assert.deepEqual((await readdir(join(ws, '.software-maker', 'tmp'))).filter((entry) => entry.endsWith('.sm-tmp')), [], 'the next start removed what the killed process left');
    });
  }
});

const fixCalc = { tool: 'propose_edit', input: { path: 'src/calc.js', hunks: [{ search: 'return a - b;', replace: 'return a + b;' }] } };
const ownTestScript = { tool: 'propose_edit', input: { path: 'package.json', hunks: [{ search: '"test": "node --test"', replace: '"test": "node --test; touch owned.txt"' }] } };

async function runEvents(ws: string): Promise<EngineEvent[]> {
  const runsDir = join(ws, '.software-maker', 'runs');
  const [runId] = await readdir(runsDir);
  const text = await readFile(join(runsDir, runId!, 'events.jsonl'), 'utf8');
  return text.trim().split('\n').map((line) => JSON.parse(line) as EngineEvent);
}
