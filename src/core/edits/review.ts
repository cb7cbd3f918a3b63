// Per-hunk review and rebasing of proposals. Everything here works on lines with their own
// terminators (a CRLF line keeps its "\r\n", a last line without a newline stays without one), so
// accepting every hunk gives back the proposed text byte for byte and accepting none the original.
import { diffOps, hunkRange, splitLines, type DiffOp } from './hunks';

/** Context lines around a change, as in `diff -u`; changes closer than twice this share a hunk. */
export const DEFAULT_CONTEXT = 3;

export interface DiffLine {
  kind: ' ' | '-' | '+';
  /** The line without its terminator. */
  text: string;
  /** The line's terminator: '' for a last line without a newline. */
  eol: '\n' | '\r\n' | '';
}

/** One hunk of a unified diff of a proposal, numbered from 0 in file order. */
export interface DiffHunk {
  index: number;
  /** As in the `@@` header: the first old line (1-based; the line before for an empty range) and how many old lines the hunk shows. */
  oldStart: number;
  oldLines: number;
  newStart: number;
  newLines: number;
  /** Lines the hunk removes and adds, without terminators. */
  removed: string[];
  added: string[];
  /** Every line the hunk shows, context included, in order. */
  lines: DiffLine[];
  /** `@@ -a,b +c,d @@` */
  header: string;
}

/** A hunk selection names a hunk that does not exist: the caller mixed up two proposals. */
export class HunkSelectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HunkSelectionError';
  }
}

interface Group {
  /** Op range [lo, hi) the hunk shows, context included. */
  lo: number;
  hi: number;
  /** Old lines [aStart, aEnd) and new lines [bStart, bEnd) the hunk covers, context included. */
  aStart: number;
  aEnd: number;
  bStart: number;
  bEnd: number;
  /** Unchanged lines shown before the first change and after the last one. */
  leading: number;
  trailing: number;
}

interface Diff {
  a: string[];
  b: string[];
  ops: DiffOp[];
  groups: Group[];
  /** For each op that changes something, the index of its hunk (-1 for kept lines). */
  hunkOfOp: Int32Array;
}

function diff(before: string, after: string, context: number): Diff {
  const ctx = Math.max(0, Math.floor(context));
  const a = splitLines(before);
  const b = splitLines(after);
  const ops = diffOps(a, b);
  const hunkOfOp = new Int32Array(ops.length).fill(-1);
  const changed: number[] = [];
  ops.forEach((op, index) => op.kind !== ' ' && changed.push(index));
  const groups: Group[] = [];
  let groupStart = 0;
  for (let c = 1; c <= changed.length; c++) {
    // The same grouping as unifiedDiff (and GNU diff): the UI's hunks are the ones a diff shows.
    if (c < changed.length && changed[c] - changed[c - 1] - 1 <= 2 * ctx) continue;
    const first = changed[groupStart];
    const last = changed[c - 1];
    const lo = Math.max(0, first - ctx);
    const hi = Math.min(ops.length, last + 1 + ctx);
    let oldCount = 0;
    let newCount = 0;
    for (let k = lo; k < hi; k++) {
      if (ops[k].kind !== '+') oldCount++;
      if (ops[k].kind !== '-') newCount++;
      if (ops[k].kind !== ' ') hunkOfOp[k] = groups.length;
    }
    groups.push({
      lo,
      hi,
      aStart: ops[lo].aIndex,
      aEnd: ops[lo].aIndex + oldCount,
      bStart: ops[lo].bIndex,
      bEnd: ops[lo].bIndex + newCount,
      leading: first - lo,
      trailing: hi - last - 1,
    });
    groupStart = c;
  }
  return { a, b, ops, groups, hunkOfOp };
}

function splitEol(line: string): { text: string; eol: DiffLine['eol'] } {
  if (line.endsWith('\r\n')) return { text: line.slice(0, -2), eol: '\r\n' };
  if (line.endsWith('\n')) return { text: line.slice(0, -1), eol: '\n' };
  return { text: line, eol: '' };
}

/** The hunks of a line diff of `before` into `after`, grouped as `diff -u` groups them; [] for equal texts. */
export function diffHunks(before: string, after: string, context = DEFAULT_CONTEXT): DiffHunk[] {
  const { ops, groups } = diff(before, after, context);
  return groups.map((group, index) => {
    const lines: DiffLine[] = [];
    const removed: string[] = [];
    const added: string[] = [];
    for (let k = group.lo; k < group.hi; k++) {
      const op = ops[k];
      const { text, eol } = splitEol(op.line);
      lines.push({ kind: op.kind, text, eol });
      if (op.kind === '-') removed.push(text);
      if (op.kind === '+') added.push(text);
    }
    const oldRange = hunkRange(group.aStart, group.aEnd - group.aStart);
    const newRange = hunkRange(group.bStart, group.bEnd - group.bStart);
    const [oldStart, oldLines = '1'] = oldRange.split(',');
    const [newStart, newLines = '1'] = newRange.split(',');
    return {
      index,
      oldStart: Number(oldStart),
      oldLines: Number(oldLines),
      newStart: Number(newStart),
      newLines: Number(newLines),
      removed,
      added,
      lines,
      header: `@@ -${oldRange} +${newRange} @@`,
    };
  });
}

/**
 * `before` with only the accepted hunks of diffHunks(before, after, context) applied: every hunk gives
 * `after`, none gives `before`. Hunks never overlap, so each one is applied or left out on its own.
 * Throws HunkSelectionError for an index that is not a hunk of this diff.
 */
export function applySelectedHunks(before: string, after: string, accepted: ReadonlySet<number>, context = DEFAULT_CONTEXT): string {
  const { a, ops, groups, hunkOfOp } = diff(before, after, context);
  for (const index of accepted) {
    if (!Number.isInteger(index) || index < 0 || index >= groups.length) {
      throw new HunkSelectionError(
        `Hunk ${index} does not exist: this change has ${groups.length} hunk(s), numbered from 0. Take the hunk numbers from diffHunks of the same before and after texts.`,
      );
    }
  }
  let out = '';
  for (let k = 0; k < ops.length; k++) {
    const op = ops[k];
    if (op.kind === ' ') out += a[op.aIndex];
    else if (op.kind === '-') {
      if (!accepted.has(hunkOfOp[k])) out += op.line;
    } else if (accepted.has(hunkOfOp[k])) out += op.line;
  }
  return out;
}

export interface HunkConflict {
  /** Index of the hunk (as diffHunks(before, after) numbers it). */
  hunk: number;
  reason: string;
}

export type RebaseResult = { ok: true; text: string; rebased: boolean } | { ok: false; conflicts: HunkConflict[] };

/**
 * Re-applies the change `before` → `after` to `current`, the file as it is now. When `current` is
 * `before` (nothing happened) the result is `after` with rebased false; when it already is `after`,
 * the same. Otherwise each hunk's old lines (with their context) must occur in `current`, in order,
 * exactly and at one place that is certain: the only occurrence after the previous hunk, or the one
 * reached through lines nobody changed (from the previous hunk, or to the end of the file). A hunk
 * whose context is cut by the start or end of the file stays at that start or end. Anything less is
 * a conflict: nothing is guessed.
 */
export function rebaseChange(before: string, after: string, current: string): RebaseResult {
  if (current === before || current === after) return { ok: true, text: after, rebased: false };
  const { a, b, groups } = diff(before, after, DEFAULT_CONTEXT);
  const c = splitLines(current);
  const conflicts: HunkConflict[] = [];
  let out = '';
  let curPos = 0;
  let oldPos = 0;
  groups.forEach((group, index) => {
    const length = group.aEnd - group.aStart;
    const where = length === 0 ? 'the empty file' : `lines ${group.aStart + 1}-${group.aEnd}`;
    const atStart = group.aStart === 0 && group.leading < DEFAULT_CONTEXT;
    const atEnd = group.aEnd === a.length && group.trailing < DEFAULT_CONTEXT;
    const candidates: number[] = [];
    for (let p = curPos; p + length <= c.length; p++) {
      if (atStart && p !== 0) break;
      if (atEnd && p + length !== c.length) continue;
      if (sameLines(c, p, a, group.aStart, length)) candidates.push(p);
    }
    let chosen: number | undefined;
    if (candidates.length === 1) {
      chosen = candidates[0];
    } else if (candidates.length > 1) {
      const anchored = candidates.filter(
        (p) =>
          (p - curPos === group.aStart - oldPos && sameLines(c, curPos, a, oldPos, p - curPos)) ||
          (c.length - p === a.length - group.aStart && sameLines(c, p, a, group.aStart, c.length - p)),
      );
      if (anchored.length === 1) chosen = anchored[0];
    }
    if (chosen === undefined) {
      const edge = atStart && atEnd ? ' (the whole file)' : atStart ? ' at the start of the file' : atEnd ? ' at the end of the file' : '';
      conflicts.push({
        hunk: index,
        reason:
          candidates.length === 0
            ? `The proposal's ${where}${edge} were changed since it was made, so hunk ${index + 1} no longer fits; review the file and ask for the change again.`
            : `The proposal's ${where} now occur ${candidates.length} times and the file changed around them, so the place of hunk ${index + 1} is not certain; review the file and ask for the change again.`,
      });
      return;
    }
    out += c.slice(curPos, chosen).join('') + b.slice(group.bStart, group.bEnd).join('');
    curPos = chosen + length;
    oldPos = group.aEnd;
  });
  if (conflicts.length) return { ok: false, conflicts };
  return { ok: true, text: out + c.slice(curPos).join(''), rebased: true };
}

function sameLines(x: string[], xi: number, y: string[], yi: number, length: number): boolean {
  if (xi + length > x.length || yi + length > y.length) return false;
  for (let k = 0; k < length; k++) if (x[xi + k] !== y[yi + k]) return false;
  return true;
}

export interface HunkSummaryItem {
  index: number;
  header: string;
  added: number;
  removed: number;
  /** E.g. "lines 12-15: +3 -1" (old line numbers; "after line 4" for a pure insertion). */
  label: string;
}

export interface HunksSummary {
  hunks: HunkSummaryItem[];
  added: number;
  removed: number;
}

/** What one hunk does, in a few words for a list or a tooltip: "lines 12-15: +3 -1", "after line 4: +2 -0". */
export function describeHunk(hunk: DiffHunk): string {
  const counts = `+${hunk.added.length} -${hunk.removed.length}`;
  // Old line number of each shown line: the line itself for kept and removed lines, the one before for added lines.
  let oldLine = hunk.oldLines === 0 ? hunk.oldStart : hunk.oldStart - 1;
  let firstRemoved: number | undefined;
  let lastRemoved = 0;
  let beforeFirstAdded: number | undefined;
  for (const line of hunk.lines) {
    if (line.kind === '+') {
      beforeFirstAdded ??= oldLine;
      continue;
    }
    oldLine++;
    if (line.kind === '-') {
      firstRemoved ??= oldLine;
      lastRemoved = oldLine;
    }
  }
  if (firstRemoved === undefined) {
    return beforeFirstAdded === undefined || beforeFirstAdded === 0 ? `at the start: ${counts}` : `after line ${beforeFirstAdded}: ${counts}`;
  }
  return firstRemoved === lastRemoved ? `line ${firstRemoved}: ${counts}` : `lines ${firstRemoved}-${lastRemoved}: ${counts}`;
}

/** Added and removed lines per hunk and in total, for the review UI. */
export function hunkSummary(hunks: readonly DiffHunk[]): HunksSummary {
  const items = hunks.map((hunk) => ({ index: hunk.index, header: hunk.header, added: hunk.added.length, removed: hunk.removed.length, label: describeHunk(hunk) }));
  return {
    hunks: items,
    added: items.reduce((sum, item) => sum + item.added, 0),
    removed: items.reduce((sum, item) => sum + item.removed, 0),
  };
}
