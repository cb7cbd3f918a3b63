// In the real extension host: a proposal that changes what runs (a package.json test script) carries
// its reasons into the review and shows them (diff title, tree data, a CodeLens), Accept asks once
// more before it counts, and the applier refuses a read-only file.
import * as assert from 'node:assert/strict';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { changesWhatRuns } from '../../src/core/edits/executionRisk';
import { sha256 } from '../../src/core/edits/hunks';
import type { ReviewDecision, ReviewRequest } from '../../src/core/ports';
import { DiffReviewer } from '../../src/host/diffReviewer';
import { VscodeEditApplier } from '../../src/host/editApplier';
import { HunkCodeLensProvider } from '../../src/host/review/hunkReviewUi';

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting until ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function diffTabs(scheme: string): vscode.Tab[] {
  return vscode.window.tabGroups.all.flatMap((group) => group.tabs).filter((tab) => tab.input instanceof vscode.TabInputTextDiff && tab.input.modified.scheme === scheme);
}

describe('edits that change what runs (extension host)', function () {
  this.timeout(60_000);
  const scheme = 'software-maker-proposal-commands-test';
  const before = '{\n  "name": "x",\n  "scripts": {\n    "test": "node --test"\n  }\n}\n';
  const after = before.replace('"node --test"', '"node --test; touch owned.txt"');
  const packageFile = { path: 'package.json', kind: 'modify' as const, before, after };
  const request: ReviewRequest = {
    runId: 'run-c',
    taskId: 't1',
    taskTitle: 'Speed up tests',
    proposalId: 'p-c',
    files: [
      { ...packageFile, changesWhatRuns: changesWhatRuns(packageFile, { testCommand: 'npm test' }) },
      { path: 'src/a.js', kind: 'modify', before: 'a\n', after: 'b\n' },
    ],
  };
  const asked: { message: string; detail: string }[] = [];
  let answer = false;
  let reviewer: DiffReviewer;
  let decision: Promise<ReviewDecision>;

  beforeEach(async () => {
    asked.length = 0;
    reviewer = new DiffReviewer(scheme, async (message, detail) => {
      asked.push({ message, detail });
      return answer;
    });
    decision = reviewer.review(request, new AbortController().signal);
    await until('both diffs are open', () => diffTabs(scheme).length === 2);
  });

  afterEach(async () => {
    reviewer.dispose();
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    // The review's warning notification: later suites start with none open.
    await vscode.commands.executeCommand('notifications.clearAll');
  });

  it('carries the reasons in the request and shows them in the diff title, the tree data and a CodeLens above the file', async () => {
    assert.deepEqual(request.files[0]!.changesWhatRuns, ['scripts.test: "node --test" → "node --test; touch owned.txt" (the test gate runs it next)']);
    const labels = diffTabs(scheme).map((tab) => tab.label).sort();
    assert.deepEqual(labels, ['src/a.js (proposed by Speed up tests)', '⚠ CHANGES WHAT RUNS: package.json (proposed by Speed up tests)']);
    const [pending] = reviewer.pending();
    assert.deepEqual(pending!.files.map((file) => [file.path, file.changesWhatRuns]), [
      ['package.json', request.files[0]!.changesWhatRuns],
      ['src/a.js', undefined],
    ]);
    const tab = diffTabs(scheme).find((candidate) => candidate.label.includes('package.json'))!;
    const proposed = await vscode.workspace.openTextDocument((tab.input as vscode.TabInputTextDiff).modified);
    const [warning] = new HunkCodeLensProvider(reviewer).provideCodeLenses(proposed);
    assert.equal(warning?.range.start.line, 0);
    assert.match(warning?.command?.title ?? '', /^⚠ Changes what runs: scripts\.test: "node --test" → "node --test; touch owned\.txt"/);
    reviewer.accept(pending!.files[0]!.proposalUri);
    reviewer.accept(pending!.files[1]!.proposalUri);
    await decision;
  });

  it('Accept on a file that changes what runs asks first: declined, nothing is decided; confirmed, it is accepted and not asked again', async () => {
    const [pending] = reviewer.pending();
    const packageUri = pending!.files[0]!.proposalUri;
    answer = false;
    assert.equal(await reviewer.confirmCommandChanges(packageUri), false);
    assert.equal(asked.length, 1);
    assert.match(asked[0]!.message, /^Accepting package\.json changes what will be executed on this machine\.$/);
    assert.match(asked[0]!.detail, /• scripts\.test: "node --test" → "node --test; touch owned\.txt" \(the test gate runs it next\)/);
    assert.equal(reviewer.pending()[0]!.files[0]!.decision, undefined, 'backing out decides nothing');

    assert.equal(await reviewer.confirmCommandChanges(pending!.files[1]!.proposalUri), true, 'an ordinary file needs no confirmation');
    assert.equal(asked.length, 1);

    answer = true;
    assert.equal(await reviewer.confirmCommandChanges(packageUri), true);
    assert.equal(await reviewer.confirmCommandChanges(packageUri), true);
    assert.equal(asked.length, 2, 'confirmed once per file and review');
    reviewer.accept(packageUri);
    reviewer.reject(pending!.files[1]!.proposalUri);
    assert.deepEqual((await decision).accepted, ['package.json']);
  });
});

describe('VscodeEditApplier: read-only files (extension host)', function () {
  this.timeout(60_000);
  let root: string;
  let dir: string;

  before(async () => {
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'The harness must open a workspace folder.');
    root = folder.uri.fsPath;
    dir = `sm-readonly-${Date.now().toString(36)}`;
    await mkdir(path.join(root, dir), { recursive: true });
  });

  after(async () => {
    await rm(path.join(root, dir), { recursive: true, force: true });
  });

  it('refuses to replace a read-only file, saying how to let the edit land, and applies the rest', async () => {
    const locked = `${dir}/locked.txt`;
    const open = `${dir}/open.txt`;
    await writeFile(path.join(root, locked), 'keep\n');
    await writeFile(path.join(root, open), 'old\n');
    await chmod(path.join(root, locked), 0o444);
    try {
      const applier = new VscodeEditApplier(root);
      const outcomes = await applier.apply([
        { path: locked, kind: 'modify', baseHash: sha256('keep\n'), newText: 'changed\n', newHash: sha256('changed\n') },
        { path: open, kind: 'modify', baseHash: sha256('old\n'), newText: 'new\n', newHash: sha256('new\n') },
      ]);
      assert.deepEqual(outcomes, [
        { path: locked, status: 'conflict', detail: `${locked} is read-only; make it writable to let the edit land. Nothing was written.` },
        { path: open, status: 'written' },
      ]);
      assert.equal(await readFile(path.join(root, locked), 'utf8'), 'keep\n');
      assert.equal(await readFile(path.join(root, open), 'utf8'), 'new\n');
    } finally {
      await chmod(path.join(root, locked), 0o644);
    }
  });
});
