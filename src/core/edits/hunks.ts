// Search/replace hunks, hashes and line diffs: the pure core of "edits never destroy code".
// A hunk applies only where its search text occurs exactly once; the only differences forgiven are
// line endings and trailing whitespace, and every forgiveness is reported in notes.
import { createHash } from 'node:crypto';

/** Lowercase hex sha256 of the UTF-8 encoding of `text`. */
export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export interface Hunk {
  search: string;
  replace: string;
}

export type HunkResult = { ok: true; text: string; notes: string[] } | { ok: false; error: string };

/** Lines shown at most in the "closest region" of a not-found error. */
const MAX_REGION_LINES = 30;
const MAX_SHOWN_LINE = 200;
const MAX_LISTED_MATCHES = 10;

/**
 * Applies hunks in order, each to the result of the previous one. Fails (applying nothing) when a
 * search text is empty, missing or ambiguous; the error says what to send instead.
 */
export function applyHunks(text: string, hunks: Hunk[]): HunkResult {
  if (hunks.length === 0) {
    return { ok: false, error: 'No hunks were given: send at least one { search, replace } pair (or whole-file content for a new file).' };
  }
  const endings = lineEndings(text);
  const notes: string[] = [];
  let current = toLf(text);

  for (let i = 0; i < hunks.length; i++) {
    const label = hunks.length > 1 ? `Hunk ${i + 1} of ${hunks.length}` : 'The hunk';
    const afterEarlier = i > 0 ? ' (line numbers are those of the file after the earlier hunks)' : '';
    const search = toLf(hunks[i].search);
    let replace = toLf(hunks[i].replace);
    if (search === '') {
      return {
        ok: false,
        error: `${label} has an empty search text. To insert text, put a neighbouring line in the search text and repeat it in the replacement; a new file is sent as whole-file content. Nothing was applied.`,
      };
    }

    const exact = findAll(current, search);
    if (exact.length === 1) {
      current = current.slice(0, exact[0]) + replace + current.slice(exact[0] + search.length);
      if (search === replace) notes.push(`${label} changes nothing: its search and replace texts are the same.`);
      continue;
    }
    if (exact.length > 1) {
      return { ok: false, error: ambiguousError(label, current, exact, afterEarlier) };
    }

    // A whitespace-only search would match almost anywhere once whitespace is ignored.
    const tolerant = search.trim() === '' ? [] : findTolerant(current, search);
    if (tolerant.length === 1) {
      const match = tolerant[0];
      const matched = current.slice(match.index, match.index + match.length);
      // The search ended with a newline the file's last line lacks: keep the file without one.
      if (search.endsWith('\n') && !matched.endsWith('\n') && replace.endsWith('\n')) {
        replace = replace.slice(0, -1);
        notes.push(`${label} ends with a newline but the file's last line has none; the file still ends without a newline.`);
      }
      const first = lineOf(current, match.index);
      const last = lineOf(current, match.index + Math.max(0, match.length - 1));
      notes.push(`${label} matched lines ${first}-${last}${afterEarlier} only after ignoring trailing whitespace at line ends.`);
      current = current.slice(0, match.index) + replace + current.slice(match.index + match.length);
      continue;
    }
    if (tolerant.length > 1) {
      return {
        ok: false,
        error: ambiguousError(
          label,
          current,
          tolerant.map((m) => m.index),
          `${afterEarlier}, ignoring trailing whitespace`,
        ),
      };
    }
    return { ok: false, error: notFoundError(label, current, search, afterEarlier) };
  }

  if (endings.crlf === 0) return { ok: true, text: current, notes };
  if (endings.lf === 0) {
    notes.push('The file uses CRLF line endings: hunks were matched on LF and the result keeps CRLF.');
    return { ok: true, text: current.replace(/\n/g, '\r\n'), notes };
  }
  const dominant = endings.crlf > endings.lf ? '\r\n' : '\n';
  notes.push(
    `The file mixes CRLF and LF line endings: hunks were matched on LF; unchanged lines keep their endings and new lines use ${dominant === '\r\n' ? 'CRLF' : 'LF'}.`,
  );
  return { ok: true, text: restoreEndings(text, current, dominant), notes };
}

function toLf(text: string): string {
  return text.replace(/\r\n/g, '\n');
}

function lineEndings(text: string): { crlf: number; lf: number } {
  let crlf = 0;
  let lf = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) {
    if (i > 0 && text[i - 1] === '\r') crlf++;
    else lf++;
  }
  return { crlf, lf };
}

/** Start offsets of every occurrence, overlapping ones included (they make a hunk just as ambiguous). */
function findAll(text: string, search: string): number[] {
  const found: number[] = [];
  for (let i = text.indexOf(search); i !== -1; i = text.indexOf(search, i + 1)) found.push(i);
  return found;
}

/** Occurrences where only trailing spaces/tabs before line ends (and a final newline at the end of the file) differ. */
function findTolerant(text: string, search: string): { index: number; length: number }[] {
  const parts = search.split('\n');
  let pattern = '';
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    const isLast = i === parts.length - 1;
    if (!isLast) {
      const newline = i === parts.length - 2 && parts[parts.length - 1] === '' ? '(?:\\n|$)' : '\\n';
      pattern += `${escapeRegex(part.trimEnd())}[ \\t]*${newline}`;
    } else if (part !== '') {
      // Trailing whitespace in the last part counts as "at a line end" only if the file's line ends there.
      pattern += part.trimEnd() === part ? escapeRegex(part) : `${escapeRegex(part.trimEnd())}[ \\t]*(?=\\n|$)`;
    }
  }
  const found: { index: number; length: number }[] = [];
  try {
    const regex = new RegExp(pattern, 'g');
    for (let m = regex.exec(text); m !== null; m = regex.exec(text)) {
      found.push({ index: m.index, length: m[0].length });
      regex.lastIndex = m.index + 1;
    }
  } catch {
    // V8 compiles lazily and refuses a pattern built from a search of hundreds of kilobytes: such a
    // text is only matched exactly (the caller then reports it as not found, never as a guess).
    return [];
  }
  return found;
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

function ambiguousError(label: string, text: string, offsets: number[], qualifier: string): string {
  const lines = offsets.slice(0, MAX_LISTED_MATCHES).map((o) => lineOf(text, o));
  const more = offsets.length > MAX_LISTED_MATCHES ? ` and ${offsets.length - MAX_LISTED_MATCHES} more` : '';
  return (
    `${label}: the search text occurs ${offsets.length} times, starting at lines ${lines.join(', ')}${more}${qualifier}. ` +
    'It must occur exactly once: add surrounding lines to the search text so it matches only the place you mean. Nothing was applied.'
  );
}

function notFoundError(label: string, text: string, search: string, afterEarlier: string): string {
  const searchLines = trimFinalEmpty(search.split('\n'));
  const firstLine = searchLines.find((l) => l.trim() !== '') ?? searchLines[0] ?? '';
  const out = [`${label}: the search text was not found in the file. Its first line is: ${JSON.stringify(shorten(firstLine))}`];
  const fileLines = trimFinalEmpty(text.split('\n'));
  if (text === '') {
    out.push('The file is empty.');
  } else {
    const region = closestRegion(fileLines, searchLines);
    if (region === undefined) {
      out.push(`No line of the search text occurs in the file (${fileLines.length} lines).`);
    } else {
      const width = String(region.end).length;
      out.push(
        `Closest region: lines ${region.start}-${region.end}${afterEarlier}, where ${region.score} of ${region.scored} non-blank search lines occur:`,
      );
      const shownEnd = Math.min(region.end, region.start + MAX_REGION_LINES - 1);
      for (let n = region.start; n <= shownEnd; n++) {
        out.push(`${String(n).padStart(width)} | ${shorten(fileLines[n - 1])}`);
      }
      if (shownEnd < region.end) out.push(`${' '.repeat(width)} | …`);
    }
  }
  if (afterEarlier !== '') {
    out.push('Hunks apply in order: this one was matched against the file as changed by the earlier hunks.');
  }
  out.push(
    'The search text must match the current file exactly and once (only line endings and trailing spaces may differ): copy it from the file as it is now and send the hunk again. Nothing was applied.',
  );
  return out.join('\n');
}

function trimFinalEmpty(lines: string[]): string[] {
  return lines.length > 0 && lines[lines.length - 1] === '' ? lines.slice(0, -1) : lines;
}

function shorten(line: string): string {
  return line.length > MAX_SHOWN_LINE ? `${line.slice(0, MAX_SHOWN_LINE - 1)}…` : line;
}

/**
 * The window of the file (as many lines as the search text) holding the most of the search text's
 * non-blank lines, compared trimmed. A sliding multiset keeps it linear in the file size.
 */
function closestRegion(
  fileLines: string[],
  searchLines: string[],
): { start: number; end: number; score: number; scored: number } | undefined {
  const needed = new Map<string, number>();
  let scored = 0;
  for (const line of searchLines) {
    const key = line.trim();
    if (key === '') continue;
    needed.set(key, (needed.get(key) ?? 0) + 1);
    scored++;
  }
  if (scored === 0 || fileLines.length === 0) return undefined;
  const size = Math.min(Math.max(searchLines.length, 1), fileLines.length);
  const inWindow = new Map<string, number>();
  let score = 0;
  const add = (line: string): void => {
    const key = line.trim();
    const need = needed.get(key);
    if (need === undefined) return;
    const have = inWindow.get(key) ?? 0;
    if (have < need) score++;
    inWindow.set(key, have + 1);
  };
  const remove = (line: string): void => {
    const key = line.trim();
    const need = needed.get(key);
    if (need === undefined) return;
    const have = inWindow.get(key) ?? 0;
    if (have <= need) score--;
    inWindow.set(key, have - 1);
  };
  for (let i = 0; i < size; i++) add(fileLines[i]);
  let best = score;
  let bestStart = 0;
  for (let start = 1; start + size <= fileLines.length; start++) {
    remove(fileLines[start - 1]);
    add(fileLines[start + size - 1]);
    if (score > best) {
      best = score;
      bestStart = start;
    }
  }
  if (best === 0) return undefined;
  return { start: bestStart + 1, end: bestStart + size, score: best, scored };
}

/** Puts the original ending back on unchanged lines of a mixed-ending file; new lines get `dominant`. */
function restoreEndings(original: string, lfResult: string, dominant: string): string {
  const before = splitLines(original);
  const beforeLf = before.map((l) => (l.endsWith('\r\n') ? `${l.slice(0, -2)}\n` : l));
  const after = splitLines(lfResult);
  let out = '';
  for (const op of diffOps(beforeLf, after)) {
    if (op.kind === ' ') out += before[op.aIndex];
    else if (op.kind === '+') out += op.line.endsWith('\n') ? `${op.line.slice(0, -1)}${dominant}` : op.line;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Line diff: Myers' O(ND) algorithm in linear space (middle snake, as in diff-match-patch), on
// lines interned to numbers, after dropping lines that occur on one side only (they can never be
// part of the longest common subsequence, so the result stays minimal and rewrites stay cheap).

/** Lines with their terminators; a last line without "\n" is kept as is. */
export function splitLines(text: string): string[] {
  if (text === '') return [];
  const parts = text.split('\n');
  const lines: string[] = [];
  for (let i = 0; i < parts.length - 1; i++) lines.push(`${parts[i]}\n`);
  const last = parts[parts.length - 1];
  if (last !== '') lines.push(last);
  return lines;
}

export interface DiffOp {
  kind: ' ' | '-' | '+';
  line: string;
  /** Lines of `a` before this op (its index in `a` for ' ' and '-'). */
  aIndex: number;
  /** Lines of `b` before this op. */
  bIndex: number;
}

/** Index pairs (flattened: a0, b0, a1, b1, …) of a longest common subsequence of `a` and `b`. */
function commonLines(a: string[], b: string[]): number[] {
  const ids = new Map<string, number>();
  const intern = (line: string): number => {
    let id = ids.get(line);
    if (id === undefined) {
      id = ids.size;
      ids.set(line, id);
    }
    return id;
  };
  const aIds = a.map(intern);
  const bIds = b.map(intern);
  const inA = new Set(aIds);
  const inB = new Set(bIds);
  const aKeep: number[] = [];
  const bKeep: number[] = [];
  aIds.forEach((id, i) => inB.has(id) && aKeep.push(i));
  bIds.forEach((id, i) => inA.has(id) && bKeep.push(i));
  const A = Int32Array.from(aKeep, (i) => aIds[i]);
  const B = Int32Array.from(bKeep, (i) => bIds[i]);
  const reduced: number[] = [];
  align(A, 0, A.length, B, 0, B.length, reduced);
  const pairs: number[] = new Array<number>(reduced.length);
  for (let i = 0; i < reduced.length; i += 2) {
    pairs[i] = aKeep[reduced[i]];
    pairs[i + 1] = bKeep[reduced[i + 1]];
  }
  return pairs;
}

function align(A: Int32Array, aLo: number, aHi: number, B: Int32Array, bLo: number, bHi: number, out: number[]): void {
  while (aLo < aHi && bLo < bHi && A[aLo] === B[bLo]) {
    out.push(aLo++, bLo++);
  }
  let aEnd = aHi;
  let bEnd = bHi;
  while (aEnd > aLo && bEnd > bLo && A[aEnd - 1] === B[bEnd - 1]) {
    aEnd--;
    bEnd--;
  }
  if (aLo < aEnd && bLo < bEnd) {
    const split = middleSnake(A, aLo, aEnd, B, bLo, bEnd);
    // A split that does not shrink the problem would recurse forever; no common line is then assumed.
    if (split !== undefined && !(split[0] === aLo && split[1] === bLo) && !(split[0] === aEnd && split[1] === bEnd)) {
      align(A, aLo, split[0], B, bLo, split[1], out);
      align(A, split[0], aEnd, B, split[1], bEnd, out);
    }
  }
  for (let k = 0; k < aHi - aEnd; k++) out.push(aEnd + k, bEnd + k);
}

/** A point on an optimal edit path that splits it in two halves, or undefined when there is no common line. */
function middleSnake(A: Int32Array, aLo: number, aHi: number, B: Int32Array, bLo: number, bHi: number): [number, number] | undefined {
  const n = aHi - aLo;
  const m = bHi - bLo;
  const maxD = Math.ceil((n + m) / 2);
  const offset = maxD;
  const size = 2 * maxD + 2;
  const v1 = new Int32Array(size).fill(-1);
  const v2 = new Int32Array(size).fill(-1);
  v1[offset + 1] = 0;
  v2[offset + 1] = 0;
  const delta = n - m;
  // With an odd delta the forward path detects the overlap, with an even one the reverse path.
  const front = delta % 2 !== 0;
  let k1start = 0;
  let k1end = 0;
  let k2start = 0;
  let k2end = 0;
  for (let d = 0; d < maxD; d++) {
    for (let k1 = -d + k1start; k1 <= d - k1end; k1 += 2) {
      const k1Offset = offset + k1;
      let x1 = k1 === -d || (k1 !== d && v1[k1Offset - 1] < v1[k1Offset + 1]) ? v1[k1Offset + 1] : v1[k1Offset - 1] + 1;
      let y1 = x1 - k1;
      while (x1 < n && y1 < m && A[aLo + x1] === B[bLo + y1]) {
        x1++;
        y1++;
      }
      v1[k1Offset] = x1;
      if (x1 > n) {
        k1end += 2;
      } else if (y1 > m) {
        k1start += 2;
      } else if (front) {
        const k2Offset = offset + delta - k1;
        if (k2Offset >= 0 && k2Offset < size && v2[k2Offset] !== -1) {
          const x2 = n - v2[k2Offset];
          if (x1 >= x2) return [aLo + x1, bLo + y1];
        }
      }
    }
    for (let k2 = -d + k2start; k2 <= d - k2end; k2 += 2) {
      const k2Offset = offset + k2;
      let x2 = k2 === -d || (k2 !== d && v2[k2Offset - 1] < v2[k2Offset + 1]) ? v2[k2Offset + 1] : v2[k2Offset - 1] + 1;
      let y2 = x2 - k2;
      while (x2 < n && y2 < m && A[aLo + n - x2 - 1] === B[bLo + m - y2 - 1]) {
        x2++;
        y2++;
      }
      v2[k2Offset] = x2;
      if (x2 > n) {
        k2end += 2;
      } else if (y2 > m) {
        k2start += 2;
      } else if (!front) {
        const k1Offset = offset + delta - k2;
        if (k1Offset >= 0 && k1Offset < size && v1[k1Offset] !== -1) {
          const x1 = v1[k1Offset];
          const y1 = offset + x1 - k1Offset;
          if (x1 >= n - x2) return [aLo + x1, bLo + y1];
        }
      }
    }
  }
  return undefined;
}

/** A minimal line diff of `a` into `b`: every line of both, in order, as kept, removed or added. */
export function diffOps(a: string[], b: string[]): DiffOp[] {
  const pairs = commonLines(a, b);
  const ops: DiffOp[] = [];
  let i = 0;
  let j = 0;
  const flushTo = (ai: number, bj: number): void => {
    while (i < ai) ops.push({ kind: '-', line: a[i], aIndex: i++, bIndex: j });
    while (j < bj) ops.push({ kind: '+', line: b[j], aIndex: i, bIndex: j++ });
  };
  for (let p = 0; p < pairs.length; p += 2) {
    flushTo(pairs[p], pairs[p + 1]);
    ops.push({ kind: ' ', line: a[i], aIndex: i++, bIndex: j++ });
  }
  flushTo(a.length, b.length);
  return ops;
}

/** Lines added and removed by a minimal line diff (a changed last-line newline counts as one of each). */
export function lineDelta(before: string, after: string): { added: number; removed: number } {
  const a = splitLines(before);
  const b = splitLines(after);
  const common = commonLines(a, b).length / 2;
  return { added: b.length - common, removed: a.length - common };
}

/** A unified diff (`--- a/path`, `+++ b/path`, `@@ -l,s +l,s @@`), or '' when the texts are equal. */
export function unifiedDiff(path: string, before: string, after: string, context = 3): string {
  if (before === after) return '';
  const ctx = Math.max(0, Math.floor(context));
  const ops = diffOps(splitLines(before), splitLines(after));
  const changed: number[] = [];
  ops.forEach((op, index) => op.kind !== ' ' && changed.push(index));
  if (changed.length === 0) return '';

  let out = `--- a/${path}\n+++ b/${path}\n`;
  let groupStart = 0;
  for (let c = 1; c <= changed.length; c++) {
    // Changes separated by at most 2*context unchanged lines share one hunk, as in GNU diff.
    if (c < changed.length && changed[c] - changed[c - 1] - 1 <= 2 * ctx) continue;
    const lo = Math.max(0, changed[groupStart] - ctx);
    const hi = Math.min(ops.length, changed[c - 1] + 1 + ctx);
    let oldCount = 0;
    let newCount = 0;
    let body = '';
    for (let k = lo; k < hi; k++) {
      const op = ops[k];
      if (op.kind !== '+') oldCount++;
      if (op.kind !== '-') newCount++;
      body += op.line.endsWith('\n') ? `${op.kind}${op.line}` : `${op.kind}${op.line}\n\\ No newline at end of file\n`;
    }
    out += `@@ -${hunkRange(ops[lo].aIndex, oldCount)} +${hunkRange(ops[lo].bIndex, newCount)} @@\n${body}`;
    groupStart = c;
  }
  return out;
}

/** A unified-diff range (`start,count`) for `count` lines after `linesBefore` lines. */
export function hunkRange(linesBefore: number, count: number): string {
  // An empty range names the line before it; a one-line range omits its count.
  if (count === 0) return `${linesBefore},0`;
  return count === 1 ? `${linesBefore + 1}` : `${linesBefore + 1},${count}`;
}
