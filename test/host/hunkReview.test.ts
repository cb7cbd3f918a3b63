// Per-hunk review in the real extension host: the CodeLens pair above every hunk of the proposed side,
// its state after a decision, the hunk under the cursor, and the ReviewDecision a mix of hunk and file
// decisions settles with.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { ReviewDecision, ReviewRequest } from '../../src/core/ports';
import { DiffReviewer } from '../../src/host/diffReviewer';
import { COMMANDS } from '../../src/host/commands';
import { HunkCodeLensProvider } from '../../src/host/review/hunkReviewUi';

const ACCEPT_HUNK_COMMAND = COMMANDS.acceptHunk.id;
const REJECT_HUNK_COMMAND = COMMANDS.rejectHunk.id;

const lines = (n: number, change: Record<number, string> = {}): string =>
  Array.from({ length: n }, (_, i) => `${change[i + 1] ?? `line ${i + 1}`}\n`).join('');

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting until ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function diffTabs(scheme: string): vscode.TabInputTextDiff[] {
  return vscode.window.tabGroups.all
    .flatMap((group) => group.tabs)
    .flatMap((tab) => (tab.input instanceof vscode.TabInputTextDiff && tab.input.modified.scheme === scheme ? [tab.input] : []));
}

/** [line, title] of every lens. */
function lensRows(lenses: vscode.CodeLens[]): [number, string, string][] {
  return lenses.map((lens) => [lens.range.start.line, lens.command?.title ?? '', lens.command?.command ?? '']);
}

describe('per-hunk review (extension host)', function () {
  this.timeout(60_000);
  const scheme = 'software-maker-proposal-hunks-test';
  const request: ReviewRequest = {
    runId: 'run-h',
    taskId: 't1',
    taskTitle: 'Three changes',
    proposalId: 'p-h',
    files: [
      { path: 'src/many.js', kind: 'modify', before: lines(30), after: lines(30, { 2: 'LINE TWO', 15: 'LINE FIFTEEN', 28: 'LINE TWENTY-EIGHT' }) },
      { path: 'src/added.js', kind: 'create', before: '', after: 'exports.added = true;\n' },
    ],
  };
  let reviewer: DiffReviewer;
  let provider: HunkCodeLensProvider;
  let decision: Promise<ReviewDecision>;
  let proposed: vscode.TextDocument;

  beforeEach(async () => {
    reviewer = new DiffReviewer(scheme);
    provider = new HunkCodeLensProvider(reviewer);
    decision = reviewer.review(request, new AbortController().signal);
    await until('both diffs are open', () => diffTabs(scheme).length === 2);
    const many = diffTabs(scheme).find((input) => input.modified.path.endsWith('many.js'));
    assert.ok(many);
    proposed = await vscode.workspace.openTextDocument(many.modified);
  });

  afterEach(async () => {
    reviewer.dispose();
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('yields one Accept/Reject lens pair per hunk, above its first changed line, and none elsewhere', async () => {
    assert.deepEqual(lensRows(provider.provideCodeLenses(proposed)), [
      [1, 'pending · Accept hunk', ACCEPT_HUNK_COMMAND],
      [1, 'Reject hunk', REJECT_HUNK_COMMAND],
      [14, 'pending · Accept hunk', ACCEPT_HUNK_COMMAND],
      [14, 'Reject hunk', REJECT_HUNK_COMMAND],
      [27, 'pending · Accept hunk', ACCEPT_HUNK_COMMAND],
      [27, 'Reject hunk', REJECT_HUNK_COMMAND],
    ]);
    const [first] = provider.provideCodeLenses(proposed);
    assert.deepEqual(first.command?.arguments, [proposed.uri, 0]);
    // The original side and a new file get no hunk lenses (a new file is one decision).
    const many = diffTabs(scheme).find((input) => input.modified.path.endsWith('many.js'))!;
    assert.deepEqual(provider.provideCodeLenses(await vscode.workspace.openTextDocument(many.original)), []);
    const added = diffTabs(scheme).find((input) => input.modified.path.endsWith('added.js'))!;
    assert.deepEqual(provider.provideCodeLenses(await vscode.workspace.openTextDocument(added.modified)), []);

    // Settle the review so the next test starts clean.
    reviewer.accept(added.modified);
    reviewer.accept(many.modified);
    await decision;
  });

  it('updates the lenses after hunk decisions and settles with the accepted hunk indexes', async () => {
    let changes = 0;
    const listener = provider.onDidChangeCodeLenses(() => changes++);
    try {
      assert.equal(reviewer.decideHunk(proposed.uri, 0, 'accepted'), true);
      assert.equal(reviewer.decideHunk(proposed.uri, 1, 'rejected', 'keep line 15 as it is'), true);
      assert.ok(changes >= 2, 'the provider announced new lenses after each decision');
      assert.deepEqual(
        lensRows(provider.provideCodeLenses(proposed)).map(([line, title]) => [line, title]),
        [
          [1, '✓ accepted'],
          [1, 'Reject hunk'],
          [14, 'Accept hunk'],
          [14, '✗ rejected'],
          [27, 'pending · Accept hunk'],
          [27, 'Reject hunk'],
        ],
      );
      // The tree's view of the same state.
      const file = reviewer.pending()[0].files[0];
      assert.deepEqual(file.counts, { total: 3, accepted: 1, rejected: 1, pending: 1 });

      // The hunk under the cursor: a line inside the third hunk's context, on either side.
      assert.equal(reviewer.hunkAt(proposed.uri, 25)?.hunk.index, 2);
      assert.equal(reviewer.hunkAt(proposed.uri, 8), undefined, 'between hunks');

      // The last undecided hunk decides the file: its diff closes, the new file's stays.
      assert.equal(reviewer.decideHunk(proposed.uri, 2, 'accepted'), true);
      await until('the decided diff is closed', () => diffTabs(scheme).length === 1);
      assert.equal(reviewer.hunksOf(proposed.uri), undefined, 'a decided file has no lenses');
      assert.deepEqual(provider.provideCodeLenses(proposed), []);

      reviewer.accept(diffTabs(scheme)[0].modified);
      assert.deepEqual(await decision, {
        accepted: ['src/many.js', 'src/added.js'],
        partial: { 'src/many.js': [0, 2] },
        reason: 'src/many.js, hunk 2 (line 15: +1 -1): keep line 15 as it is',
      });
    } finally {
      listener.dispose();
    }
  });

  it('Reject on the title bar after accepting one hunk keeps that hunk; rejecting every hunk rejects the file', async () => {
    reviewer.decideHunk(proposed.uri, 1, 'accepted');
    assert.equal(reviewer.reject(proposed.uri, 'only the middle change'), true);
    const added = diffTabs(scheme).find((input) => input.modified.path.endsWith('added.js'));
    await until('the decided diff is closed', () => diffTabs(scheme).length === 1);
    assert.equal(reviewer.decideHunk(proposed.uri, 0, 'rejected'), false, 'the file is decided');
    reviewer.reject(added?.modified, undefined);
    assert.deepEqual(await decision, { accepted: ['src/many.js'], partial: { 'src/many.js': [1] }, reason: 'src/many.js: only the middle change' });

    // A second review of the same kind, every hunk rejected: the file is not accepted at all.
    const again = reviewer.review({ ...request, proposalId: 'p-h2' }, new AbortController().signal);
    await until('the new diffs are open', () => diffTabs(scheme).length === 2);
    const many = diffTabs(scheme).find((input) => input.modified.path.endsWith('many.js'))!;
    for (const index of [0, 1, 2]) reviewer.decideHunk(many.modified, index, 'rejected');
    reviewer.accept(diffTabs(scheme).find((input) => input.modified.path.endsWith('added.js'))?.modified);
    assert.deepEqual(await again, { accepted: ['src/added.js'], reason: undefined });
  });
});
