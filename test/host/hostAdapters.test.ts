// The VS Code ports against the real extension host: edits through WorkspaceEdit (saved, conflict-
// checked, idempotent) and test runs as real tasks. Runs in the workspace folder the harness opens,
// inside a temporary subfolder of its own.
import * as assert from 'node:assert/strict';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { sha256 } from '../../src/core/edits/hunks';
import type { FileWrite, ReviewRequest } from '../../src/core/ports';
import { COMMAND_IDS } from '../../src/host/commands';
import { DiffReviewer } from '../../src/host/diffReviewer';
import { RUNS_VIEW_ID } from '../../src/host/runsTree';
import { CHAT_VIEW_ID } from '../../src/host/panel';
import { VscodeEditApplier } from '../../src/host/editApplier';
import { TaskTestRunner, TEST_TASK_TYPE, type TestTaskDefinition } from '../../src/host/taskTestRunner';
import { bundledRipgrep, VscodeWorkspace } from '../../src/host/vscodeWorkspace';

function createWrite(rel: string, newText: string): FileWrite {
  return { path: rel, kind: 'create', baseHash: sha256(''), newText, newHash: sha256(newText) };
}

function modifyWrite(rel: string, baseText: string, newText: string): FileWrite {
  return { path: rel, kind: 'modify', baseHash: sha256(baseText), newText, newHash: sha256(newText) };
}

/** Waits (polling) until `check` holds; the workbench opens and closes editors asynchronously. */
async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting until ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The diff tabs of a proposal scheme, as `path (proposed by ...)` labels with their modified uri. */
function diffTabs(scheme: string): { label: string; modified: vscode.Uri }[] {
  return vscode.window.tabGroups.all
    .flatMap((group) => group.tabs)
    .flatMap((tab) => (tab.input instanceof vscode.TabInputTextDiff && tab.input.modified.scheme === scheme ? [{ label: tab.label, modified: tab.input.modified }] : []));
}

describe('host adapters (extension host)', function () {
  this.timeout(60_000);
  let workspace: VscodeWorkspace;
  /** Workspace-relative temp folder of this suite. */
  let dir: string;
  const abs = (rel: string): string => path.join(workspace.root, rel);

  before(async () => {
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'The harness must open a workspace folder (vscode.workspace.workspaceFolders[0]).');
    workspace = await VscodeWorkspace.open(folder.uri.fsPath);
    dir = `sm-host-adapters-${Date.now().toString(36)}`;
    await mkdir(abs(dir), { recursive: true });
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await rm(abs(dir), { recursive: true, force: true });
  });

  describe('VscodeWorkspace search_text', () => {
    it('finds files with the ripgrep VS Code ships, honouring a nested .gitignore', async () => {
      const ripgrep = bundledRipgrep(vscode.env.appRoot);
      assert.ok(path.isAbsolute(ripgrep) && ripgrep.includes(path.join('@vscode', 'ripgrep')), `VS Code's own ripgrep is used, not ${ripgrep}`);
      const marker = `SEARCH_MARK_${Date.now().toString(36)}`;
      await writeFile(abs(`${dir}/found.ts`), `// ${marker}\n`);
      await writeFile(abs(`${dir}/.gitignore`), 'ignored.ts\n');
      await writeFile(abs(`${dir}/ignored.ts`), `// ${marker}\n`);
      assert.deepEqual(await workspace.searchText(marker, 10), [{ path: `${dir}/found.ts`, line: 1, text: `// ${marker}` }]);
    });
  });

  describe('VscodeEditApplier', () => {
    it('creates a new file and modifies an existing one in one WorkspaceEdit, and saves them', async () => {
      const existing = `${dir}/existing.ts`;
      await writeFile(abs(existing), 'export const a = 1;\n');
      const created = `${dir}/nested/deeper/created.ts`;
      const applier = new VscodeEditApplier(workspace.root);

      const outcomes = await applier.apply([
        createWrite(created, 'export const b = 2;\n'),
        modifyWrite(existing, 'export const a = 1;\n', 'export const a = 42;\n'),
      ]);

      assert.deepEqual(outcomes, [
        { path: created, status: 'written' },
        { path: existing, status: 'written' },
      ]);
      assert.equal(await readFile(abs(created), 'utf8'), 'export const b = 2;\n');
      assert.equal(await readFile(abs(existing), 'utf8'), 'export const a = 42;\n');
      const document = vscode.workspace.textDocuments.find((doc) => doc.uri.fsPath === abs(existing));
      assert.ok(document, 'the modified file is open as a document');
      assert.equal(document.isDirty, false, 'the modified document is saved');
      assert.equal(document.getText(), 'export const a = 42;\n');
    });

    it('reports a conflict and writes nothing when the open document has unsaved user text', async () => {
      const rel = `${dir}/dirty.txt`;
      await writeFile(abs(rel), 'original\n');
      const document = await vscode.workspace.openTextDocument(vscode.Uri.file(abs(rel)));
      const editor = await vscode.window.showTextDocument(document);
      assert.ok(await editor.edit((builder) => builder.insert(new vscode.Position(0, 0), 'user typing\n')));
      const userText = 'user typing\noriginal\n';
      assert.equal(document.isDirty, true);
      // The Workspace port reads what the user sees, not the disk.
      assert.equal(await workspace.readText(rel), userText);

      try {
        const [outcome] = await new VscodeEditApplier(workspace.root).apply([modifyWrite(rel, 'original\n', 'agent text\n')]);

        assert.equal(outcome.status, 'conflict');
        assert.match(outcome.status === 'conflict' ? outcome.detail : '', /unsaved changes/);
        assert.equal(await readFile(abs(rel), 'utf8'), 'original\n', 'the disk is untouched');
        assert.equal(document.isDirty, true, 'the document is still dirty');
        assert.equal(document.getText(), userText, "the user's text is still there");
      } finally {
        // Revert so closing the editor later asks nothing.
        await vscode.window.showTextDocument(document);
        await vscode.commands.executeCommand('workbench.action.files.revert');
      }
      assert.equal(document.isDirty, false);
    });

    it('recognises edits that are already applied and writes nothing', async () => {
      const modified = `${dir}/applied.txt`;
      const created = `${dir}/applied-new.txt`;
      await writeFile(abs(modified), 'new text\n');
      await writeFile(abs(created), 'fresh\n');

      const outcomes = await new VscodeEditApplier(workspace.root).apply([
        modifyWrite(modified, 'old text\n', 'new text\n'),
        createWrite(created, 'fresh\n'),
      ]);

      assert.deepEqual(outcomes, [
        { path: modified, status: 'already-applied' },
        { path: created, status: 'already-applied' },
      ]);
      assert.equal(await readFile(abs(modified), 'utf8'), 'new text\n');
    });

    it('reports a conflict when the file changed on disk since the proposal', async () => {
      const rel = `${dir}/moved-on.txt`;
      await writeFile(abs(rel), 'someone else changed this\n');

      const [outcome] = await new VscodeEditApplier(workspace.root).apply([modifyWrite(rel, 'base\n', 'agent\n')]);

      assert.equal(outcome.status, 'conflict');
      assert.equal(await readFile(abs(rel), 'utf8'), 'someone else changed this\n');
    });
  });

  describe('TaskTestRunner', () => {
    const never = new AbortController().signal;
    const runner = new TaskTestRunner();
    const request = (command: string, label: string, timeoutMs = 30_000) => ({ command, cwd: abs(dir), timeoutMs, label });

    it('runs the command as a VS Code task and captures output and a non-zero exit code', async () => {
      const started: vscode.TaskExecution[] = [];
      const listener = vscode.tasks.onDidStartTask((event) => {
        if (event.execution.task.definition.type === TEST_TASK_TYPE) started.push(event.execution);
      });
      try {
        const result = await runner.run(request(`node -e "console.log('hello'); process.exit(3)"`, 'host test: exit 3'), never);
        assert.equal(result.exitCode, 3);
        assert.equal(result.timedOut, false);
        assert.match(result.output, /hello/);
        assert.ok(result.durationMs >= 0);
      } finally {
        listener.dispose();
      }
      const execution = started.find((candidate) => candidate.task.name === 'host test: exit 3');
      assert.ok(execution, 'the run was a task execution (tasks.onDidStartTask)');
      assert.equal((execution.task.definition as TestTaskDefinition).command, `node -e "console.log('hello'); process.exit(3)"`);
      assert.equal(execution.task.source, 'Software Maker');
    });

    it('reports exit code 0 and keeps stderr in the output', async () => {
      const result = await runner.run(request(`node -e "console.log('out'); console.error('err')"`, 'host test: exit 0'), never);
      assert.equal(result.exitCode, 0);
      assert.match(result.output, /out/);
      assert.match(result.output, /err/);
    });

    it('runs two test commands at once as two tasks', async () => {
      const [first, second] = await Promise.all([
        runner.run(request(`node -e "setTimeout(() => console.log('one'), 300)"`, 'host test: parallel'), never),
        runner.run(request(`node -e "setTimeout(() => console.log('two'), 300)"`, 'host test: parallel'), never),
      ]);
      assert.equal(first.exitCode, 0);
      assert.match(first.output, /one/);
      assert.equal(second.exitCode, 0);
      assert.match(second.output, /two/);
    });

    it('kills the process group when the time limit passes', async () => {
      const marker = abs(`${dir}/after-timeout.txt`);
      const startedAt = Date.now();
      // The shell would write the marker after sleep; a killed group never gets there.
      const result = await runner.run(request(`sleep 30; echo late > "${marker}"`, 'host test: timeout', 1500), never);
      assert.equal(result.timedOut, true);
      assert.equal(result.exitCode, null);
      assert.ok(Date.now() - startedAt < 15_000, `the run ended ${Date.now() - startedAt} ms after it started`);
      assert.match(result.output, /Timed out/);
      await new Promise((resolve) => setTimeout(resolve, 500));
      await assert.rejects(readFile(marker, 'utf8'), 'the command after sleep never ran');
    });

    it('gives the test command no provider key, even one the extension host has in its environment', async () => {
      const saved = process.env.OPENAI_API_KEY;
      process.env.OPENAI_API_KEY = 'sk-host-test-dddddddddddddddddddd';
      try {
        const result = await runner.run(request(`node -e "console.log('key=' + (process.env.OPENAI_API_KEY ?? 'none'))"`, 'host test: env'), never);
        assert.match(result.output, /key=none/);
      } finally {
        if (saved === undefined) delete process.env.OPENAI_API_KEY;
        else process.env.OPENAI_API_KEY = saved;
      }
    });

    it('stops the process when the run is cancelled', async () => {
      const controller = new AbortController();
      const startedAt = Date.now();
      setTimeout(() => controller.abort(), 1000);
      const result = await runner.run(request('sleep 30', 'host test: cancel'), controller.signal);
      assert.equal(result.timedOut, false);
      assert.equal(result.exitCode, null);
      assert.ok(Date.now() - startedAt < 15_000, `the run ended ${Date.now() - startedAt} ms after it started`);
    });
  });

  describe('DiffReviewer', () => {
    // A scheme of its own: the extension's reviewer may be registered in this host too.
    const scheme = 'software-maker-proposal-test';
    let reviewer: DiffReviewer;
    const request: ReviewRequest = {
      runId: 'run-1',
      taskId: 't1',
      taskTitle: 'Greet politely',
      proposalId: 'p1',
      files: [
        { path: 'src/greet.ts', kind: 'modify', before: 'export const hi = "hi";\n', after: 'export const hi = "hello";\n' },
        { path: 'src/new.ts', kind: 'create', before: '', after: 'export const added = true;\n' },
      ],
    };

    beforeEach(() => (reviewer = new DiffReviewer(scheme)));
    afterEach(async () => {
      reviewer.dispose();
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    });

    it('opens a diff per file, settles when every file is decided and closes its diffs', async () => {
      const decision = reviewer.review(request, new AbortController().signal);
      await until('both diffs are open', () => diffTabs(scheme).length === 2);
      assert.deepEqual(diffTabs(scheme).map((tab) => tab.label).sort(), ['src/greet.ts (proposed by Greet politely)', 'src/new.ts (proposed by Greet politely)']);
      const greet = diffTabs(scheme).find((tab) => tab.label.startsWith('src/greet.ts'));
      assert.ok(greet);
      assert.equal((await vscode.workspace.openTextDocument(greet.modified)).getText(), 'export const hi = "hello";\n');
      assert.deepEqual(reviewer.pending().map((review) => review.files.map((file) => file.path)), [['src/greet.ts', 'src/new.ts']]);

      assert.equal(reviewer.accept(greet.modified), true);
      await until('the decided diff is closed', () => diffTabs(scheme).length === 1);
      assert.equal(reviewer.pending()[0].files[0].decision, 'accepted');

      // No uri: the proposal in the active editor.
      const newFile = reviewer.pending()[0].files[1];
      const command = reviewer.diffCommand(newFile.proposalUri);
      assert.ok(command?.arguments);
      await vscode.commands.executeCommand(command.command, ...command.arguments);
      assert.equal(reviewer.reject(undefined, 'not needed yet'), true);

      assert.deepEqual(await decision, { accepted: ['src/greet.ts'], reason: 'src/new.ts: not needed yet' });
      assert.deepEqual(reviewer.pending(), []);
      await until('all diffs are closed', () => diffTabs(scheme).length === 0);
    });

    it('re-opens the undecided diffs of a task after they were closed', async () => {
      const decision = reviewer.review(request, new AbortController().signal);
      await until('both diffs are open', () => diffTabs(scheme).length === 2);
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      await until('the diffs are closed', () => diffTabs(scheme).length === 0);

      assert.equal(await reviewer.openReview('run-1', 't1'), 2);
      await until('the diffs are open again', () => diffTabs(scheme).length === 2);
      assert.equal(await reviewer.openReview('run-1', 'other-task'), 0);

      for (const file of reviewer.pending()[0].files) reviewer.accept(file.proposalUri);
      assert.deepEqual(await decision, { accepted: ['src/greet.ts', 'src/new.ts'], reason: undefined });
    });

    it('settles with nothing accepted when the run is cancelled', async () => {
      const controller = new AbortController();
      const decision = reviewer.review(request, controller.signal);
      await until('both diffs are open', () => diffTabs(scheme).length === 2);
      controller.abort();
      assert.deepEqual(await decision, { accepted: [] });
      assert.deepEqual(reviewer.pending(), []);
      await until('the diffs are closed', () => diffTabs(scheme).length === 0);
    });
  });

  describe('extension activation', () => {
    it('activates in the workspace and registers every command it contributes', async () => {
      const extension = vscode.extensions.all.find((candidate) => candidate.packageJSON?.name === 'software-maker');
      assert.ok(extension, 'the extension under test is loaded');
      await extension.activate();
      const contributed = (extension.packageJSON.contributes.commands as { command: string }[]).map((entry) => entry.command);
      const registered = new Set(await vscode.commands.getCommands(true));
      assert.deepEqual(contributed.filter((id) => !registered.has(id)), [], 'contributed commands without a handler');
      await vscode.commands.executeCommand('softwareMaker.refreshRuns');
    });

    it('registers exactly the commands of its table (host/commands.ts), none it does not contribute', async () => {
      const extension = vscode.extensions.all.find((candidate) => candidate.packageJSON?.name === 'software-maker');
      assert.ok(extension, 'the extension under test is loaded');
      await extension.activate();
      // VS Code adds commands of its own for each view (focus, resetViewLocation, …).
      const viewCommand = (id: string): boolean => [RUNS_VIEW_ID, CHAT_VIEW_ID].some((view) => id.startsWith(`${view}.`));
      const ours = (await vscode.commands.getCommands(true)).filter((id) => id.startsWith('softwareMaker.') && !viewCommand(id));
      assert.deepEqual([...new Set(ours)].sort(), [...COMMAND_IDS].sort());
    });
  });
});
