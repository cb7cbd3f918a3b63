// The end-of-run summary's links in the real extension host: a file the run changed opens as a diff
// whose left side is the file as the run's start checkpoint holds it (a read-only virtual document)
// and whose right side is the file on disk; a file the run created has an empty left side.
import * as assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { resolveRunConfig } from '../../src/core/config';
import { Engine } from '../../src/core/engine';
import { NodeEditApplier } from '../../src/core/edits/nodeApplier';
import { systemClock } from '../../src/core/ports';
import { NodeTestRunner } from '../../src/core/testing/nodeTestRunner';
import { NodeWorkspace } from '../../src/core/workspace/nodeWorkspace';
import { endOfRun } from '../../src/shared/endOfRun';
import { CHECKPOINT_SCHEME, RunDiffs } from '../../src/host/runDiffs';

const ORIGINAL = 'export function add(a, b) {\n  return a - b;\n}\n';

describe('RunDiffs: a run\'s changes against its start checkpoint', function () {
  this.timeout(120_000);
  let root: string;
  let runDiffs: RunDiffs;
  let runId: string;

  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'sm-rundiffs-'));
    const storage = await mkdtemp(path.join(tmpdir(), 'sm-rundiffs-storage-'));
    await mkdir(path.join(root, 'src'));
    await writeFile(path.join(root, 'src', 'calc.js'), ORIGINAL);
    const plan = { summary: 'Fix add.', tasks: [{ id: 't1', title: 'Fix add', description: 'a + b', role: 'implementer', dependsOn: [], acceptance: ['adds'], files: ['src/calc.js', 'docs/add.md'] }] };
    const transcript = path.join(storage, 'transcript.json');
    await writeFile(
      transcript,
      JSON.stringify({
        version: 1,
        turns: [
          { role: 'planner', toolCalls: [{ tool: 'finish', input: plan }] },
          {
            role: 'implementer',
            task: 't1',
            text: 'add() subtracts; fixing it and writing a note.',
            toolCalls: [
              { tool: 'propose_edit', input: { path: 'src/calc.js', hunks: [{ search: 'return a - b;', replace: 'return a + b;' }] } },
              { tool: 'propose_edit', input: { path: 'docs/add.md', content: '# add\n\nAdds two numbers.\n' } },
            ],
          },
          { role: 'implementer', task: 't1', toolCalls: [{ tool: 'finish', input: { summary: 'fixed' } }] },
        ],
      }),
    );
    const workspace = await NodeWorkspace.open(root);
    const engine = new Engine({
      ports: { workspace, applier: new NodeEditApplier(workspace.root), testRunner: new NodeTestRunner(), clock: systemClock, secret: async () => undefined },
      runsDir: path.join(root, '.software-maker', 'runs'),
      storageDir: storage,
      recordsDir: storage,
    });
    const config = resolveRunConfig({ models: [{ id: 'scripted', provider: 'scripted', transcript }], autoApprove: true, testCommand: 'none', reviewGate: false, checkpoints: true });
    const handle = await engine.startRun('Fix add and document it', config);
    const final = await handle.finished;
    assert.equal(final.status, 'completed', final.statusReason);
    assert.ok(endOfRun(final).startCheckpoint, 'the run took its start checkpoint');
    runId = handle.runId;
    runDiffs = new RunDiffs(engine, root, path.join(root, '.software-maker', 'runs'));
  });

  after(async () => {
    runDiffs?.dispose();
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  function activeDiff(): vscode.TabInputTextDiff {
    const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
    assert.ok(input instanceof vscode.TabInputTextDiff, `a diff editor is active (got ${JSON.stringify(input)})`);
    return input;
  }

  it('opens a changed file with the start checkpoint on the left and the file on disk on the right', async () => {
    assert.equal(await runDiffs.openFileDiff(runId, 'src/calc.js'), true);
    const diff = activeDiff();
    assert.equal(diff.original.scheme, CHECKPOINT_SCHEME);
    assert.equal(diff.modified.fsPath, path.join(root, 'src', 'calc.js'));
    assert.equal((await vscode.workspace.openTextDocument(diff.original)).getText(), ORIGINAL);
    assert.match(await readFile(diff.modified.fsPath, 'utf8'), /return a \+ b;/);
    assert.match(vscode.window.tabGroups.activeTabGroup.activeTab?.label ?? '', /since the start of run/);
  });

  it('shows a file the run created against an empty left side', async () => {
    await runDiffs.openFileDiff(runId, 'docs/add.md');
    const diff = activeDiff();
    assert.equal((await vscode.workspace.openTextDocument(diff.original)).getText(), '');
    assert.equal(diff.modified.fsPath, path.join(root, 'docs', 'add.md'));
  });

  it('refuses a file the run did not change, saying so', async () => {
    await assert.rejects(runDiffs.openFileDiff(runId, 'README.md'), /did not change README.md/);
  });

  it('opens report.md, and finds workspace files for @-mentions', async () => {
    assert.equal(await runDiffs.openReport(runId), true);
    await assert.rejects(runDiffs.openReport('no-such-run'), /no report.md yet/);
    // Completion searches the window's workspace folder (the host tests' fixture).
    const files = await runDiffs.findFiles('PACKAGE');
    assert.ok(files.includes('package.json'), JSON.stringify(files));
    assert.ok(files.every((file) => file.toLowerCase().includes('package')));
  });
});
