// The per-hunk review state behind the diff editor's CodeLens, decorations and tree: what a mix of
// hunk and file decisions sends back to the engine.
import * as assert from 'node:assert/strict';
import { applySelectedHunks, diffHunks } from '../../src/core/edits/review';
import type { ReviewRequest } from '../../src/core/ports';
import { countsLabel, ProposalReviewState } from '../../src/host/review/hunkDecisions';

const lines = (n: number, change: Record<number, string> = {}): string =>
  Array.from({ length: n }, (_, i) => `${change[i + 1] ?? `line ${i + 1}`}\n`).join('');

const BEFORE = lines(30);
const AFTER = lines(30, { 2: 'LINE TWO', 15: 'LINE FIFTEEN', 28: 'LINE TWENTY-EIGHT' });

function request(): ReviewRequest {
  return {
    runId: 'r',
    taskId: 't1',
    taskTitle: 'T',
    proposalId: 'p',
    files: [
      { path: 'src/a.js', kind: 'modify', before: BEFORE, after: AFTER },
      { path: 'src/new.js', kind: 'create', before: '', after: 'x\n' },
      { path: 'old.js', kind: 'delete', before: 'y\n', after: '' },
    ],
  };
}

describe('per-hunk review state', () => {
  it('numbers the hunks of modified files as diffHunks does, with their changed lines on each side', () => {
    const state = new ProposalReviewState(request());
    const file = state.file('src/a.js')!;
    assert.equal(file.hunks.length, diffHunks(BEFORE, AFTER).length);
    assert.deepEqual(
      file.hunks.map((hunk) => [hunk.index, hunk.after, hunk.before, hunk.label]),
      [
        [0, { start: 1, end: 1 }, { start: 1, end: 1 }, 'line 2: +1 -1'],
        [1, { start: 14, end: 14 }, { start: 14, end: 14 }, 'line 15: +1 -1'],
        [2, { start: 27, end: 27 }, { start: 27, end: 27 }, 'line 28: +1 -1'],
      ],
    );
    assert.equal(state.file('src/new.js')!.hunked, false, 'a new file is one decision');
    assert.equal(state.file('old.js')!.hunked, false, 'a deletion is one decision');
  });

  it('accepts a file in part: the accepted hunk indexes go in partial, the reasons name the hunk', () => {
    const state = new ProposalReviewState(request());
    assert.deepEqual(state.decideHunk('src/a.js', 0, 'accepted'), { fileDecided: false });
    assert.deepEqual(state.decideHunk('src/a.js', 1, 'rejected', 'keep line 15'), { fileDecided: false });
    assert.equal(countsLabel(state.file('src/a.js')!.counts()), '3 hunks · 1 accepted, 1 rejected, 1 pending');
    assert.deepEqual(state.decideHunk('src/a.js', 2, 'accepted'), { fileDecided: true });
    assert.equal(countsLabel(state.file('src/a.js')!.counts()), '2/3 hunks accepted');
    assert.equal(state.decideHunk('src/a.js', 2, 'rejected'), undefined, 'a decided file is final');
    state.decideFile('src/new.js', 'accepted');
    state.decideFile('old.js', 'rejected', 'still used');
    assert.equal(state.complete, true);
    const decision = state.toDecision();
    assert.deepEqual(decision, {
      accepted: ['src/a.js', 'src/new.js'],
      partial: { 'src/a.js': [0, 2] },
      reason: 'src/a.js, hunk 2 (line 15: +1 -1): keep line 15\nold.js: still used',
    });
    // The engine's side: exactly the accepted hunks land.
    assert.equal(applySelectedHunks(BEFORE, AFTER, new Set(decision.partial!['src/a.js'])), lines(30, { 2: 'LINE TWO', 28: 'LINE TWENTY-EIGHT' }));
  });

  it('rejects a file whose hunks are all rejected, and sends no partial entry for a file accepted whole', () => {
    const state = new ProposalReviewState(request());
    for (const index of [0, 1, 2]) state.decideHunk('src/a.js', index, 'rejected');
    state.decideRest('accepted');
    assert.deepEqual(state.toDecision(), { accepted: ['src/new.js', 'old.js'], reason: undefined });

    const whole = new ProposalReviewState(request());
    whole.decideHunk('src/a.js', 1, 'accepted');
    whole.decideRest('accepted');
    assert.deepEqual(whole.toDecision(), { accepted: ['src/a.js', 'src/new.js', 'old.js'], reason: undefined });
  });

  it('file-level Accept / Reject decide only the undecided hunks', () => {
    const accepted = new ProposalReviewState(request());
    accepted.decideHunk('src/a.js', 1, 'rejected');
    accepted.decideFile('src/a.js', 'accepted');
    assert.deepEqual(accepted.file('src/a.js')!.partial(), [0, 2]);

    const rejected = new ProposalReviewState(request());
    rejected.decideHunk('src/a.js', 0, 'accepted');
    rejected.decideFile('src/a.js', 'rejected', 'only the first change');
    assert.equal(rejected.file('src/a.js')!.decision, 'accepted', 'the hunk accepted one by one still lands');
    assert.deepEqual(rejected.file('src/a.js')!.partial(), [0]);

    const none = new ProposalReviewState(request());
    none.decideFile('src/a.js', 'rejected');
    assert.equal(none.file('src/a.js')!.decision, 'rejected');
  });

  it('places a pure insertion and a pure deletion on the line where they happen', () => {
    const before = lines(10);
    const inserted = new ProposalReviewState({ ...request(), files: [{ path: 'a', kind: 'modify', before, after: before.replace('line 5\n', 'line 5\nNEW\n') }] });
    assert.deepEqual(inserted.files[0].hunks[0].after, { start: 5, end: 5 });
    const deleted = new ProposalReviewState({ ...request(), files: [{ path: 'a', kind: 'modify', before, after: before.replace('line 5\n', '') }] });
    assert.deepEqual(deleted.files[0].hunks[0].before, { start: 4, end: 4 });
    assert.deepEqual(deleted.files[0].hunks[0].after, { start: 4, end: 4 }, 'the line that follows the removed one');
  });
});
