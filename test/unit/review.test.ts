import { strict as assert } from 'node:assert';
import { unifiedDiff } from '../../src/core/edits/hunks';
import { applySelectedHunks, describeHunk, diffHunks, HunkSelectionError, hunkSummary, rebaseChange, type RebaseResult } from '../../src/core/edits/review';

/** Seeded generator, so a failure names a reproducible case. */
function prng(seed: number): (n: number) => number {
  let state = seed >>> 0 || 1;
  return (n: number) => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state % n;
  };
}

/** Lines with their terminators, as a patch program sees them. */
function lines(text: string): string[] {
  return text === '' ? [] : text.split(/(?<=\n)/);
}

/**
 * An independent patcher: applies the selected hunks of a unified diff (as hunks.ts writes it) to
 * `before`, checking every context and removed line against the text.
 */
function patchSelected(before: string, diff: string, selected: ReadonlySet<number>): string {
  const src = lines(before);
  const out: string[] = [];
  let at = 0;
  const hunks = diff.split(/^(?=@@ )/m).slice(1);
  hunks.forEach((hunk, index) => {
    const [, start, count] = /^@@ -(\d+)(?:,(\d+))? /.exec(hunk)!;
    const first = count === '0' ? Number(start) : Number(start) - 1;
    while (at < first) out.push(src[at++]);
    const body = hunk.slice(hunk.indexOf('\n') + 1).split('\n');
    body.pop();
    const parsed: { kind: string; line: string }[] = [];
    for (const raw of body) {
      if (raw.startsWith('\\')) {
        const last = parsed[parsed.length - 1];
        last.line = last.line.slice(0, -1); // "\ No newline at end of file"
        continue;
      }
      parsed.push({ kind: raw[0], line: `${raw.slice(1)}\n` });
    }
    const take = selected.has(index);
    for (const { kind, line } of parsed) {
      if (kind === ' ') {
        assert.equal(src[at], line, 'context line mismatch');
        out.push(src[at++]);
      } else if (kind === '-') {
        assert.equal(src[at], line, 'removed line mismatch');
        if (!take) out.push(src[at]);
        at++;
      } else if (take) {
        out.push(line);
      }
    }
  });
  while (at < src.length) out.push(src[at++]);
  return out.join('');
}

function randomFile(random: (n: number) => number): { text: string; eol: string } {
  const eol = random(3) === 0 ? '\r\n' : '\n';
  const pool = ['a', 'b', '}', '', '\tindent', '    indent', 'x = 1;', 'é😀'];
  const count = random(30);
  const body: string[] = [];
  for (let i = 0; i < count; i++) {
    // Repeated identical blocks are common: copy an earlier stretch now and then.
    if (i > 3 && random(5) === 0) body.push(...body.slice(random(i - 2), random(i - 2) + 3));
    else body.push(pool[random(pool.length)]);
  }
  let text = body.map((l) => `${l}${eol}`).join('');
  if (text && random(4) === 0) text = text.slice(0, -eol.length); // no final newline
  return { text, eol };
}

function randomEdit(random: (n: number) => number, text: string, eol: string): string {
  const ls = lines(text);
  const edits = 1 + random(5);
  for (let e = 0; e < edits; e++) {
    const at = random(ls.length + 1);
    switch (random(4)) {
      case 0:
        ls.splice(at, 1 + random(3));
        break;
      case 1:
        ls.splice(at, 0, ...Array.from({ length: 1 + random(3) }, (_, i) => `new ${e}.${i}${eol}`));
        break;
      case 2:
        ls.splice(at, 1, `changed ${e}${eol}`);
        break;
      default: {
        // Toggle the final newline.
        const last = ls.length - 1;
        if (last >= 0) ls[last] = ls[last].endsWith('\n') ? ls[last].replace(/\r?\n$/, '') : `${ls[last]}${eol}`;
      }
    }
  }
  // A last line without a newline must stay last.
  return ls.map((l, i) => (i < ls.length - 1 && !l.endsWith('\n') ? `${l}${eol}` : l)).join('');
}

function rebased(result: RebaseResult): { text: string; rebased: boolean } {
  if (!result.ok) assert.fail(`expected a rebase, got conflicts: ${JSON.stringify(result.conflicts)}`);
  return result;
}

function conflicted(result: RebaseResult): { hunk: number; reason: string }[] {
  if (result.ok) assert.fail(`expected conflicts, got text ${JSON.stringify(result.text)}`);
  return result.conflicts;
}

describe('diffHunks', () => {
  const fourteen = 'a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\nm\nn\n';

  it('returns no hunks for equal texts', () => {
    assert.deepEqual(diffHunks('same\n', 'same\n'), []);
    assert.deepEqual(diffHunks('', ''), []);
  });

  it('gives the hunks a unified diff shows, numbered, with their lines and counts', () => {
    const after = fourteen.replace('c\n', 'C\n') + 'added\n';
    const hunks = diffHunks(fourteen, after);
    assert.equal(hunks.length, 2);
    assert.deepEqual(
      hunks.map((h) => [h.index, h.header, h.oldStart, h.oldLines, h.newStart, h.newLines]),
      [
        [0, '@@ -1,6 +1,6 @@', 1, 6, 1, 6],
        [1, '@@ -12,3 +12,4 @@', 12, 3, 12, 4],
      ],
    );
    assert.deepEqual(hunks[0].removed, ['c']);
    assert.deepEqual(hunks[0].added, ['C']);
    assert.deepEqual(hunks[1].removed, []);
    assert.deepEqual(hunks[1].added, ['added']);
    assert.deepEqual(hunks[0].lines.slice(1, 4), [
      { kind: ' ', text: 'b', eol: '\n' },
      { kind: '-', text: 'c', eol: '\n' },
      { kind: '+', text: 'C', eol: '\n' },
    ]);
    assert.deepEqual(
      diffHunks(fourteen, after, 0).map((h) => h.header),
      ['@@ -3 +3 @@', '@@ -14,0 +15 @@'],
    );
  });

  it('keeps CRLF and a missing final newline in the line terminators', () => {
    const [hunk] = diffHunks('one\r\ntwo', 'one\r\ntwo\r\nthree');
    assert.deepEqual(hunk.lines, [
      { kind: ' ', text: 'one', eol: '\r\n' },
      { kind: '-', text: 'two', eol: '' },
      { kind: '+', text: 'two', eol: '\r\n' },
      { kind: '+', text: 'three', eol: '' },
    ]);
  });

  it('has the same headers as unifiedDiff on random inputs', () => {
    const random = prng(7);
    for (let round = 0; round < 200; round++) {
      const { text, eol } = randomFile(random);
      const after = randomEdit(random, text, eol);
      const headers = unifiedDiff('f', text, after).match(/^@@ .* @@$/gm) ?? [];
      assert.deepEqual(
        diffHunks(text, after).map((h) => h.header),
        headers,
      );
    }
  });
});

describe('applySelectedHunks', () => {
  const before = ['import a;', '', 'function one() {', '  return 1;', '}', '', '', '', '', '', 'function two() {', '  return 2;', '}', ''].join('\n');
  const after = before.replace('return 1;', 'return 10;').replace('return 2;', 'return 20;');

  it('applies exactly the accepted hunks', () => {
    assert.equal(diffHunks(before, after).length, 2);
    assert.equal(applySelectedHunks(before, after, new Set([0, 1])), after);
    assert.equal(applySelectedHunks(before, after, new Set()), before);
    assert.equal(applySelectedHunks(before, after, new Set([0])), before.replace('return 1;', 'return 10;'));
    assert.equal(applySelectedHunks(before, after, new Set([1])), before.replace('return 2;', 'return 20;'));
  });

  it('is exact for CRLF files, a missing final newline, tabs vs spaces, unicode and repeated blocks', () => {
    const crlf = 'x\r\n\ty\r\n    y\r\nz\r\n\r\n\r\n\r\n\r\n\r\n\r\nblock\r\nblock\r\nend';
    const crlfAfter = 'x\r\n    y\r\n    y\r\nz\r\n\r\n\r\n\r\n\r\n\r\n\r\nblock\r\nblock\r\nblock\r\nend 😀\r\n';
    const hunks = diffHunks(crlf, crlfAfter);
    assert.equal(hunks.length, 2);
    assert.deepEqual(hunks[0].removed, ['\ty']);
    assert.deepEqual(hunks[0].added, ['    y']);
    assert.equal(applySelectedHunks(crlf, crlfAfter, new Set([0])), crlf.replace('\ty', '    y'));
    assert.equal(applySelectedHunks(crlf, crlfAfter, new Set([1])), crlf.replace('block\r\nend', 'block\r\nblock\r\nend 😀\r\n'));
    assert.equal(applySelectedHunks(crlf, crlfAfter, new Set([0, 1])), crlfAfter);
  });

  it('handles empty files both ways and very long lines', () => {
    assert.equal(applySelectedHunks('', 'new\n', new Set([0])), 'new\n');
    assert.equal(applySelectedHunks('', 'new\n', new Set()), '');
    assert.equal(applySelectedHunks('old\n', '', new Set([0])), '');
    const long = 'y'.repeat(200_000);
    const longBefore = `a\n${long}\nb\n`;
    const longAfter = `a\n${long}z\nb\n`;
    assert.equal(applySelectedHunks(longBefore, longAfter, new Set([0])), longAfter);
    assert.equal(applySelectedHunks(longBefore, longAfter, new Set()), longBefore);
  });

  it('refuses a hunk index that does not exist', () => {
    assert.throws(() => applySelectedHunks('a\n', 'b\n', new Set([1])), (e: unknown) => e instanceof HunkSelectionError && /has 1 hunk\(s\)/.test(e.message));
    assert.throws(() => applySelectedHunks('a\n', 'b\n', new Set([-1])), HunkSelectionError);
  });

  it('property: all hunks give after, none give before, any subset equals patching with those hunks alone', () => {
    const random = prng(20_240_601);
    let subsets = 0;
    for (let round = 0; round < 500; round++) {
      const { text, eol } = randomFile(random);
      const after = randomEdit(random, text, eol);
      const hunks = diffHunks(text, after);
      const all = new Set(hunks.map((h) => h.index));
      const context = `case ${round}: ${JSON.stringify(text)} -> ${JSON.stringify(after)}`;
      assert.equal(applySelectedHunks(text, after, all), after, context);
      assert.equal(applySelectedHunks(text, after, new Set()), text, context);
      const diff = unifiedDiff('f', text, after);
      for (let k = 0; k < 4; k++) {
        const subset = new Set(hunks.filter(() => random(2) === 0).map((h) => h.index));
        const mine = applySelectedHunks(text, after, subset);
        assert.equal(mine, patchSelected(text, diff, subset), `${context} subset ${[...subset]}`);
        // Hunks are independent: applying the subset, then the rest, gives after.
        const rest = new Set([...all].filter((i) => !subset.has(i)));
        assert.equal(patchSelected(mine, unifiedDiff('f', mine, after), new Set(diffHunks(mine, after).map((h) => h.index))), after);
        assert.ok(diffHunks(mine, after).length <= rest.size, `${context}: the remaining diff has more hunks than the rest`);
        subsets++;
      }
    }
    assert.ok(subsets >= 2000);
  });
});

describe('rebaseChange', () => {
  const base = Array.from({ length: 30 }, (_, i) => `line ${i + 1}`).join('\n') + '\n';
  const proposal = base.replace('line 5\n', 'line five\n').replace('line 25\n', 'line 25\nadded after 25\n');

  it('returns the proposal unchanged when the file did not move, or already holds it', () => {
    assert.deepEqual(rebaseChange(base, proposal, base), { ok: true, text: proposal, rebased: false });
    assert.deepEqual(rebaseChange(base, proposal, proposal), { ok: true, text: proposal, rebased: false });
  });

  it('re-applies the hunks when the user edited elsewhere (lines shifted)', () => {
    const user = `// header added by the user\n${base.replace('line 15\n', 'line 15 (user)\n')}extra tail\n`;
    const result = rebased(rebaseChange(base, proposal, user));
    assert.equal(result.rebased, true);
    assert.equal(result.text, `// header added by the user\n${proposal.replace('line 15\n', 'line 15 (user)\n')}extra tail\n`);
  });

  it('reports a conflict, per hunk, when the user changed the lines a hunk touches (or its context)', () => {
    const conflicts = conflicted(rebaseChange(base, proposal, base.replace('line 5\n', 'line 5 (user)\n')));
    assert.deepEqual(
      conflicts.map((c) => c.hunk),
      [0],
    );
    assert.match(conflicts[0].reason, /lines 2-8 were changed since it was made, so hunk 1 no longer fits/);
    const both = conflicted(rebaseChange(base, proposal, base.replace('line 6\n', '').replace('line 24\n', 'x\n')));
    assert.deepEqual(
      both.map((c) => c.hunk),
      [0, 1],
    );
  });

  it('never guesses between repeated identical blocks', () => {
    const repeated = 'start\n\nblock\nvalue = 1;\nend\n\nmiddle\n\nblock\nvalue = 1;\nend\n\nfinish\n';
    const change = repeated.replace('middle\n\nblock\nvalue = 1;', 'middle\n\nblock\nvalue = 2;');
    // The user edited before the block and after it: both copies fit, nothing anchors one.
    const ambiguous = repeated.replace('start\n', 'begin\n').replace('finish\n', 'done\n').replace('middle\n', 'centre\n');
    const conflicts = conflicted(rebaseChange(repeated, change, ambiguous));
    assert.equal(conflicts.length, 1);
    // Context "middle" changed: the hunk no longer fits anywhere.
    assert.match(conflicts[0].reason, /were changed since/);

    // With small context, two copies fit; edits above and below leave no certain place.
    const many = Array.from({ length: 4 }, () => 'x\ny\nz\nw\n').join('');
    const manyChange = many.replace(/^((?:x\ny\nz\nw\n){2}x\n)y\n/, '$1Y\n'); // the third copy's y
    assert.equal(diffHunks(many, manyChange).length, 1);
    const twoPlaces = conflicted(rebaseChange(many, manyChange, `top\n${many}bottom\n`));
    assert.match(twoPlaces[0].reason, /now occur \d+ times .* not certain/);

    // An edit only after the block: the unchanged lines from the start anchor it.
    const anchored = rebased(rebaseChange(many, manyChange, `${many}bottom\n`));
    assert.equal(anchored.text, `${manyChange}bottom\n`);
    // An edit only before it: the unchanged lines to the end anchor it.
    const anchoredEnd = rebased(rebaseChange(many, manyChange, `top\n${many}`));
    assert.equal(anchoredEnd.text, `top\n${manyChange}`);
  });

  it('keeps hunks at the start or end of the file there', () => {
    const small = 'a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n';
    const atStart = small.replace('a\n', 'A\n');
    // The user inserted a line at the very top: the hunk's context is cut by the file start, so it must stay at the start.
    assert.equal(conflicted(rebaseChange(small, atStart, `top\n${small}`)).length, 1);
    // An edit further down is fine.
    assert.equal(rebased(rebaseChange(small, atStart, small.replace('i\n', 'I\n'))).text, atStart.replace('i\n', 'I\n'));
    const atEnd = small.replace('j\n', 'j\nk\n');
    assert.equal(conflicted(rebaseChange(small, atEnd, `${small}user\n`)).length, 1);
    assert.equal(rebased(rebaseChange(small, atEnd, small.replace('b\n', 'B\n'))).text, atEnd.replace('b\n', 'B\n'));
  });

  it('handles CRLF, missing final newlines and empty bases exactly', () => {
    const crlf = Array.from({ length: 20 }, (_, i) => `l${i}`).join('\r\n');
    const change = crlf.replace('l3\r\n', 'L3\r\n');
    const user = crlf.replace('l15\r\n', 'l15 user\r\n');
    assert.equal(rebased(rebaseChange(crlf, change, user)).text, change.replace('l15\r\n', 'l15 user\r\n'));
    // The user converted the file to LF: nothing matches, so nothing is guessed.
    assert.equal(conflicted(rebaseChange(crlf, change, crlf.replace(/\r\n/g, '\n'))).length, 1);
    // A proposal made against an empty file, which has content now.
    assert.match(conflicted(rebaseChange('', 'new\n', 'user wrote this\n'))[0].reason, /the empty file/);
  });

  it('property: a user edit far from every hunk always rebases to the proposal plus the user edit', () => {
    const random = prng(99);
    let rebasedCount = 0;
    for (let round = 0; round < 200; round++) {
      const head = Array.from({ length: 10 + random(10) }, (_, i) => `h${i % 3}\n`).join('');
      const body = Array.from({ length: 5 + random(10) }, (_, i) => `b${i}\n`).join('');
      const before = `${head}${'\n'.repeat(8)}${body}`;
      const after = `${head}${'\n'.repeat(8)}${randomEdit(random, body, '\n')}`;
      if (after === before) continue;
      const userHead = head.replace(/^h0\n/, 'user 0\n');
      const current = `${userHead}${'\n'.repeat(8)}${body}`;
      const result = rebaseChange(before, after, current);
      if (!result.ok) {
        // Only allowed when the proposal's change itself reaches the user's lines (hunk context).
        assert.ok(diffHunks(before, after).some((h) => h.oldStart <= head.split('\n').length + 8), `round ${round}`);
        continue;
      }
      assert.equal(result.text, `${userHead}${after.slice(head.length)}`, `round ${round}`);
      rebasedCount++;
    }
    assert.ok(rebasedCount > 150, `only ${rebasedCount} of 200 rebased`);
  });
});

describe('hunkSummary', () => {
  it('counts added and removed lines per hunk and labels where they are', () => {
    const before = 'a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\nm\nn\n';
    const after = before.replace('c\nd\n', 'C\n').replace('l\n', 'l\nnew 1\nnew 2\n');
    const hunks = diffHunks(before, after);
    const summary = hunkSummary(hunks);
    assert.deepEqual(summary, {
      hunks: [
        { index: 0, header: hunks[0].header, added: 1, removed: 2, label: 'lines 3-4: +1 -2' },
        { index: 1, header: hunks[1].header, added: 2, removed: 0, label: 'after line 12: +2 -0' },
      ],
      added: 3,
      removed: 2,
    });
    assert.equal(describeHunk(diffHunks('', 'x\n')[0]), 'at the start: +1 -0');
    assert.equal(describeHunk(diffHunks('a\nb\n', 'x\na\nb\n')[0]), 'at the start: +1 -0');
    assert.equal(describeHunk(diffHunks('a\nb\n', 'a\nB\n')[0]), 'line 2: +1 -1');
  });
});
