// The decisions of one proposal under review, per file and per hunk, and the ReviewDecision they add
// up to. No vscode here: the reviewer, the CodeLens, the decorations and the tree all read this one
// state, and plain-Node tests check the arithmetic.
//
// Rules:
// - Only modified files are reviewed hunk by hunk (a new, deleted or moved file is one decision).
//   Their hunks are diffHunks(before, after) with the default context: the indexes the engine takes.
// - Deciding the last undecided hunk of a file decides the file: accepted when at least one hunk is
//   accepted (in part when not all are), rejected when none is.
// - Accept / Reject on a whole file decides the hunks still undecided; hunks decided one by one keep
//   their decision (so "reject this hunk, accept the rest" is two clicks).
import { describeHunk, diffHunks, type DiffHunk, type ReviewDecision, type ReviewRequest } from '../../core';

export type Decision = 'accepted' | 'rejected';

export type ReviewFile = ReviewRequest['files'][number];

/** One hunk of a file under review, with where it sits in the proposed text. */
export interface ReviewHunk {
  index: number;
  hunk: DiffHunk;
  /** "lines 12-15: +3 -1" */
  label: string;
  decision?: Decision;
  /** The changed lines in the proposed (modified) text, 0-based and inclusive; a pure deletion is the line where it happened. */
  after: { start: number; end: number };
  /** The same in the text the proposal was made against. */
  before: { start: number; end: number };
}

/** Counts for a label such as "2/3 hunks accepted". */
export interface HunkCounts {
  total: number;
  accepted: number;
  rejected: number;
  pending: number;
}

export class FileReviewState {
  readonly hunks: ReviewHunk[];
  decision?: Decision;

  constructor(readonly file: ReviewFile) {
    this.hunks = file.kind === 'modify' ? diffHunks(file.before, file.after).map(toReviewHunk) : [];
  }

  /** Reviewed hunk by hunk (a modified file with at least one hunk). */
  get hunked(): boolean {
    return this.hunks.length > 0;
  }

  counts(): HunkCounts {
    const accepted = this.hunks.filter((hunk) => hunk.decision === 'accepted').length;
    const rejected = this.hunks.filter((hunk) => hunk.decision === 'rejected').length;
    return { total: this.hunks.length, accepted, rejected, pending: this.hunks.length - accepted - rejected };
  }

  /** Indexes of the accepted hunks when the file is accepted only in part; undefined when whole (or not hunked). */
  partial(): number[] | undefined {
    if (!this.hunked || this.decision !== 'accepted') return undefined;
    const accepted = this.hunks.filter((hunk) => hunk.decision === 'accepted').map((hunk) => hunk.index);
    return accepted.length === this.hunks.length ? undefined : accepted;
  }
}

export class ProposalReviewState {
  readonly files: FileReviewState[];
  private readonly reasons: string[] = [];

  constructor(readonly request: ReviewRequest) {
    this.files = request.files.map((file) => new FileReviewState(file));
  }

  file(path: string): FileReviewState | undefined {
    return this.files.find((state) => state.file.path === path);
  }

  get complete(): boolean {
    return this.files.every((state) => state.decision !== undefined);
  }

  /**
   * Decides a whole file: its undecided hunks take `decision` (hunks decided one by one keep theirs),
   * and the file is accepted when any hunk ends up accepted. False when the file is already decided.
   */
  decideFile(path: string, decision: Decision, reason?: string): boolean {
    const state = this.file(path);
    if (!state || state.decision) return false;
    for (const hunk of state.hunks) hunk.decision ??= decision;
    state.decision = state.hunked ? (state.hunks.some((hunk) => hunk.decision === 'accepted') ? 'accepted' : 'rejected') : decision;
    if (reason) this.reasons.push(`${path}: ${reason}`);
    return true;
  }

  /**
   * Decides one hunk (a hunk may be decided again while its file is open). Deciding the last undecided
   * hunk decides the file. Returns whether the file is decided now, or undefined when there is no such
   * hunk or the file was decided already.
   */
  decideHunk(path: string, index: number, decision: Decision, reason?: string): { fileDecided: boolean } | undefined {
    const state = this.file(path);
    const hunk = state?.hunks[index];
    if (!state || !hunk || state.decision) return undefined;
    hunk.decision = decision;
    if (reason) this.reasons.push(`${path}, hunk ${index + 1} (${hunk.label}): ${reason}`);
    if (state.hunks.every((candidate) => candidate.decision !== undefined)) {
      state.decision = state.hunks.some((candidate) => candidate.decision === 'accepted') ? 'accepted' : 'rejected';
      return { fileDecided: true };
    }
    return { fileDecided: false };
  }

  /** Decides every file still undecided (Accept All). */
  decideRest(decision: Decision): void {
    for (const state of this.files) if (!state.decision) this.decideFile(state.file.path, decision);
  }

  /** The answer for the engine: accepted paths, accepted hunk indexes of files accepted in part, the reasons. */
  toDecision(): ReviewDecision {
    const accepted = this.files.filter((state) => state.decision === 'accepted').map((state) => state.file.path);
    const partial: Record<string, number[]> = {};
    for (const state of this.files) {
      const hunks = state.partial();
      if (hunks) partial[state.file.path] = hunks;
    }
    const decision: ReviewDecision = { accepted };
    if (Object.keys(partial).length > 0) decision.partial = partial;
    decision.reason = this.reasons.length > 0 ? this.reasons.join('\n') : undefined;
    return decision;
  }
}

/** "2/3 hunks accepted", "1 hunk · pending", "3 hunks · 1 accepted, 1 rejected, 1 pending". */
export function countsLabel(counts: HunkCounts): string {
  const noun = counts.total === 1 ? 'hunk' : 'hunks';
  if (counts.pending === 0) return `${counts.accepted}/${counts.total} ${noun} accepted`;
  if (counts.accepted === 0 && counts.rejected === 0) return `${counts.total} ${noun} · pending`;
  const parts = [counts.accepted && `${counts.accepted} accepted`, counts.rejected && `${counts.rejected} rejected`, `${counts.pending} pending`].filter(Boolean);
  return `${counts.total} ${noun} · ${parts.join(', ')}`;
}

function toReviewHunk(hunk: DiffHunk): ReviewHunk {
  return { index: hunk.index, hunk, label: describeHunk(hunk), after: changedLines(hunk, 'after'), before: changedLines(hunk, 'before') };
}

/** The 0-based lines a hunk changes on one side; a side with no changed line gets the line where the change sits. */
function changedLines(hunk: DiffHunk, side: 'before' | 'after'): { start: number; end: number } {
  const count = side === 'after' ? hunk.newLines : hunk.oldLines;
  const startLine = side === 'after' ? hunk.newStart : hunk.oldStart;
  // Unified-diff headers name the line before an empty range; otherwise the first line, 1-based.
  let line = count === 0 ? startLine : startLine - 1;
  const mine = side === 'after' ? '+' : '-';
  let start: number | undefined;
  let end = 0;
  let anchor: number | undefined;
  for (const diffLine of hunk.lines) {
    if (diffLine.kind === mine) {
      start ??= line;
      end = line;
      line++;
    } else if (diffLine.kind === ' ') {
      line++;
    } else {
      anchor ??= line;
    }
  }
  if (start !== undefined) return { start, end };
  const at = Math.max(0, anchor ?? line);
  return { start: at, end: at };
}
