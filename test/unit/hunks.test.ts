import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { applyHunks, lineDelta, sha256, unifiedDiff, type HunkResult } from '../../src/core/edits/hunks';

function applied(result: HunkResult): { text: string; notes: string[] } {
  if (!result.ok) assert.fail(`expected the hunks to apply, got: ${result.error}`);
  return result;
}

function failed(result: HunkResult): string {
  if (result.ok) assert.fail(`expected the hunks to fail, got text: ${JSON.stringify(result.text)}`);
  return result.error;
}

describe('sha256', () => {
  it('is the hex sha256 of the UTF-8 bytes', () => {
    assert.equal(sha256(''), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    assert.equal(sha256('héllo 😀'), createHash('sha256').update(Buffer.from('héllo 😀', 'utf8')).digest('hex'));
    assert.notEqual(sha256('a\n'), sha256('a\r\n'));
  });
});

describe('applyHunks', () => {
  const file = 'function add(a, b) {\n  return a + b;\n}\n\nfunction sub(a, b) {\n  return a - b;\n}\n';

  it('replaces a search text that occurs exactly once, without notes', () => {
    const r = applied(applyHunks(file, [{ search: '  return a + b;\n', replace: '  return a + b + 0;\n' }]));
    assert.equal(r.text, file.replace('a + b;', 'a + b + 0;'));
    assert.deepEqual(r.notes, []);
  });

  it('does not interpret $ patterns in the replacement', () => {
    const r = applied(applyHunks('x = 1;\n', [{ search: 'x = 1;', replace: "x = '$&$1$$';" }]));
    assert.equal(r.text, "x = '$&$1$$';\n");
  });

  it('applies hunks in order, each on the result of the previous one', () => {
    const r = applied(
      applyHunks(file, [
        { search: 'function add(a, b) {', replace: 'function plus(a, b) {' },
        { search: 'function plus(a, b) {\n  return a + b;', replace: 'function plus(a, b) {\n  return b + a;' },
      ]),
    );
    assert.equal(r.text, 'function plus(a, b) {\n  return b + a;\n}\n\nfunction sub(a, b) {\n  return a - b;\n}\n');
  });

  it('fails as a whole when a later hunk fails, naming the hunk and saying nothing was applied', () => {
    const error = failed(
      applyHunks(file, [
        { search: 'function add', replace: 'function plus' },
        { search: 'function add(a, b) {', replace: 'x' },
      ]),
    );
    assert.match(error, /^Hunk 2 of 2: the search text was not found/);
    assert.match(error, /Nothing was applied/);
    assert.match(error, /matched against the file as changed by the earlier hunks/);
  });

  it('matches a CRLF file on LF and writes every line back with CRLF', () => {
    const crlf = 'a\r\nb\r\nc\r\n';
    const r = applied(applyHunks(crlf, [{ search: 'b\nc\n', replace: 'B\nnew\nc\n' }]));
    assert.equal(r.text, 'a\r\nB\r\nnew\r\nc\r\n');
    assert.ok(r.notes.some((n) => /CRLF/.test(n)));
  });

  it('accepts CRLF hunks on an LF file and keeps the file LF', () => {
    const r = applied(applyHunks('a\nb\nc\n', [{ search: 'a\r\nb\r\n', replace: 'a\r\nX\r\n' }]));
    assert.equal(r.text, 'a\nX\nc\n');
    assert.deepEqual(r.notes, []);
  });

  it('in a file mixing CRLF and LF, keeps the endings of unchanged lines and gives new lines the dominant one', () => {
    const mixed = 'one\r\ntwo\r\nthree\nfour\r\n';
    const r = applied(applyHunks(mixed, [{ search: 'two\nthree\n', replace: 'two\nthree\ninserted\n' }]));
    assert.equal(r.text, 'one\r\ntwo\r\nthree\ninserted\r\nfour\r\n');
    assert.ok(r.notes.some((n) => /mixes CRLF and LF/.test(n)));
  });

  it('tolerates trailing whitespace at line ends only after the exact match failed, and says so', () => {
    const withSpaces = 'if (x) {  \n\tgo();\t\n}\n';
    const r = applied(applyHunks(withSpaces, [{ search: 'if (x) {\n\tgo();\n}', replace: 'if (y) {\n\tgo();\n}' }]));
    assert.equal(r.text, 'if (y) {\n\tgo();\n}\n');
    assert.equal(r.notes.length, 1);
    assert.match(r.notes[0], /matched lines 1-3 only after ignoring trailing whitespace/);

    const r2 = applied(applyHunks('alpha\nbeta\n', [{ search: 'alpha   \nbeta  \n', replace: 'ALPHA\nbeta\n' }]));
    assert.equal(r2.text, 'ALPHA\nbeta\n');
    assert.match(r2.notes[0], /trailing whitespace/);
  });

  it('does not forgive leading or inner whitespace differences', () => {
    const error = failed(applyHunks('  return a + b;\n', [{ search: 'return a +  b;', replace: 'x' }]));
    assert.match(error, /not found/);
    failed(applyHunks('    indented();\n', [{ search: '  indented();\n  more();', replace: 'x' }]));
  });

  it('rejects a search text that occurs several times, listing the lines and asking for more context', () => {
    const repeated = 'start\nlog("x");\nvalue++;\nmiddle\nlog("x");\nvalue++;\nend\n';
    const error = failed(applyHunks(repeated, [{ search: 'log("x");\nvalue++;\n', replace: 'nothing\n' }]));
    assert.match(error, /occurs 2 times, starting at lines 2, 5/);
    assert.match(error, /exactly once/);
    assert.match(error, /add surrounding lines/);
  });

  it('counts overlapping occurrences as ambiguous too', () => {
    const error = failed(applyHunks('aaa\n', [{ search: 'aa', replace: 'b' }]));
    assert.match(error, /occurs 2 times, starting at lines 1, 1/);
  });

  it('rejects a match that is only unique after ignoring trailing whitespace when it is in fact repeated', () => {
    const error = failed(applyHunks('x();  \ny();\nx(); \ny();\n', [{ search: 'x();\ny();', replace: 'z();' }]));
    assert.match(error, /occurs 2 times, starting at lines 1, 3.*ignoring trailing whitespace/);
  });

  it('explains a missing search text with its first line and the closest region, numbered', () => {
    const source = ['import x from "x";', '', 'export function total(items) {', '  let sum = 0;', '  for (const item of items) sum += item.price;', '  return sum;', '}', ''].join('\n');
    const error = failed(
      applyHunks(source, [{ search: '  let sum = 0;\n  for (const item of items) sum += item.cost;\n  return sum;\n', replace: '' }]),
    );
    assert.match(error, /^The hunk: the search text was not found in the file\. Its first line is: "  let sum = 0;"/);
    assert.match(error, /Closest region: lines 4-6, where 2 of 3 non-blank search lines occur:/);
    assert.ok(error.includes('4 |   let sum = 0;\n5 |   for (const item of items) sum += item.price;\n6 |   return sum;'), error);
    assert.match(error, /copy it from the file as it is now/);
  });

  it('says so when no line of the search text occurs at all', () => {
    const error = failed(applyHunks('a\nb\n', [{ search: '\nzzz\n', replace: 'y' }]));
    assert.match(error, /Its first line is: "zzz"/);
    assert.match(error, /No line of the search text occurs in the file \(2 lines\)/);
  });

  it('handles unicode (astral characters, combining marks) by exact code units', () => {
    const text = 'const greet = "héllo 😀";\nconst e\u0301 = 1;\n';
    const r = applied(applyHunks(text, [{ search: '"héllo 😀"', replace: '"hi 👋🏽"' }]));
    assert.equal(r.text, 'const greet = "hi 👋🏽";\nconst e\u0301 = 1;\n');
    // A precomposed é is a different string from e + combining accent: not silently matched.
    failed(applyHunks(text, [{ search: 'const é = 1;', replace: 'x' }]));
  });

  it('keeps a file without a trailing newline without one', () => {
    const r = applied(applyHunks('first\nlast', [{ search: 'last', replace: 'LAST' }]));
    assert.equal(r.text, 'first\nLAST');
  });

  it('matches a search ending in a newline against a last line without one, and keeps the file without a final newline', () => {
    const r = applied(applyHunks('first\nlast', [{ search: 'first\nlast\n', replace: 'first\nchanged\n' }]));
    assert.equal(r.text, 'first\nchanged');
    assert.ok(r.notes.some((n) => /ends with a newline but the file's last line has none/.test(n)));
  });

  it('reports an empty file plainly', () => {
    const error = failed(applyHunks('', [{ search: 'anything', replace: 'x' }]));
    assert.match(error, /The file is empty\./);
  });

  it('refuses an empty search text and an empty hunk list', () => {
    assert.match(failed(applyHunks('a\n', [{ search: '', replace: 'x' }])), /empty search text/);
    assert.match(failed(applyHunks('', [{ search: '', replace: 'x' }])), /whole-file content/);
    assert.match(failed(applyHunks('a\n', [])), /No hunks/);
  });

  it('never lets a whitespace-only search match loosely', () => {
    // Exactly "\n\n" is absent; a loose match would insert text at the end of the file.
    const error = failed(applyHunks('abc', [{ search: '  \n', replace: 'INSERTED\n' }]));
    assert.match(error, /not found/);
  });

  it('deletes text when the replacement is empty', () => {
    assert.equal(applied(applyHunks('a\nb\nc\n', [{ search: 'b\n', replace: '' }])).text, 'a\nc\n');
  });

  it('notes a hunk that changes nothing', () => {
    const r = applied(applyHunks('a\n', [{ search: 'a', replace: 'a' }]));
    assert.equal(r.text, 'a\n');
    assert.match(r.notes[0], /changes nothing/);
  });
});

describe('applyHunks edge cases', () => {
  it('never treats a tab and spaces as the same indentation, in either direction', () => {
    const tabs = 'if (x) {\n\treturn 1;\n}\n';
    const spaces = 'if (x) {\n    return 1;\n}\n';
    assert.match(failed(applyHunks(tabs, [{ search: '    return 1;', replace: '    return 2;' }])), /not found/);
    assert.match(failed(applyHunks(spaces, [{ search: '\treturn 1;', replace: '\treturn 2;' }])), /not found/);
    assert.equal(applied(applyHunks(tabs, [{ search: '\treturn 1;', replace: '\treturn 2;' }])).text, 'if (x) {\n\treturn 2;\n}\n');
    // Trailing tabs are the tolerated kind of whitespace, and only at line ends.
    assert.equal(applied(applyHunks('a\t\t\nb\n', [{ search: 'a\nb\n', replace: 'A\nb\n' }])).text, 'A\nb\n');
  });

  it('applies a hunk to one of several identical blocks once its search includes a distinguishing line', () => {
    const block = 'try {\n  run();\n} catch (e) {\n  log(e);\n}\n';
    const text = `// first\n${block}// second\n${block}// third\n${block}`;
    assert.match(failed(applyHunks(text, [{ search: block, replace: 'x' }])), /occurs 3 times, starting at lines 2, 8, 14/);
    const r = applied(applyHunks(text, [{ search: `// second\n${block}`, replace: `// second\n${block.replace('log(e)', 'report(e)')}` }]));
    assert.equal(r.text, `// first\n${block}// second\n${block.replace('log(e)', 'report(e)')}// third\n${block}`);
  });

  it('keeps a CRLF file without a final newline as it was at its end', () => {
    const r = applied(applyHunks('a\r\nb\r\nc', [{ search: 'b\nc', replace: 'B\nc' }]));
    assert.equal(r.text, 'a\r\nB\r\nc');
    const r2 = applied(applyHunks('a\r\nlast', [{ search: 'a\nlast\n', replace: 'a\nLAST\n' }]));
    assert.equal(r2.text, 'a\r\nLAST');
  });

  it('matches astral characters and right-to-left text exactly, and refuses a different normalisation', () => {
    const text = 'const flags = "🇫🇷🇩🇪";\nconst he = "שלום";\n';
    const r = applied(applyHunks(text, [{ search: '"שלום"', replace: '"עולם"' }]));
    assert.equal(r.text, 'const flags = "🇫🇷🇩🇪";\nconst he = "עולם";\n');
    // Half of a surrogate pair, or one flag of the pair, is still a plain substring match of code units.
    assert.match(failed(applyHunks(text, [{ search: '"🇫🇷"', replace: 'x' }])), /not found/);
    assert.match(failed(applyHunks('café\n', [{ search: 'cafe\u0301', replace: 'x' }])), /not found/);
  });

  it('cannot apply a hunk to an empty file (new content is whole-file content, not hunks)', () => {
    assert.match(failed(applyHunks('', [{ search: '\n', replace: 'x\n' }])), /The file is empty/);
    // A file of only empty lines is not "empty" but whitespace-only searches are never forgiven.
    assert.match(failed(applyHunks('\n\n', [{ search: '\n', replace: 'x' }])), /occurs 2 times/);
  });

  it('handles very long lines, and shortens them in error messages', () => {
    const long = `const data = "${'x'.repeat(300_000)}";`;
    const text = `head\n${long}\ntail\n`;
    const r = applied(applyHunks(text, [{ search: `${long}\ntail`, replace: `${long}\nTAIL` }]));
    assert.equal(r.text, `head\n${long}\nTAIL\n`);
    const error = failed(applyHunks(text, [{ search: `${long.slice(0, -2)}!";\ntail`, replace: 'x' }]));
    assert.ok(error.length < 2_000, `error message is ${error.length} characters`);
    assert.match(error, /…/);
  });
});

describe('lineDelta', () => {
  it('counts added and removed lines', () => {
    assert.deepEqual(lineDelta('', ''), { added: 0, removed: 0 });
    assert.deepEqual(lineDelta('', 'a\nb\n'), { added: 2, removed: 0 });
    assert.deepEqual(lineDelta('a\nb\n', ''), { added: 0, removed: 2 });
    assert.deepEqual(lineDelta('a\nb\nc\n', 'a\nB\nc\n'), { added: 1, removed: 1 });
    assert.deepEqual(lineDelta('a\nb\nc\n', 'a\nb\nc\n'), { added: 0, removed: 0 });
  });

  it('counts a changed final newline as one line changed', () => {
    assert.deepEqual(lineDelta('a\nb', 'a\nb\n'), { added: 1, removed: 1 });
  });

  it('is minimal on repeated lines', () => {
    assert.deepEqual(lineDelta('a\nb\na\nb\na\n', 'b\na\nb\na\nb\n'), { added: 1, removed: 1 });
    assert.deepEqual(lineDelta('}\n}\n}\n', '}\n}\n}\n}\n'), { added: 1, removed: 0 });
    assert.deepEqual(lineDelta('x\n\n\ny\n\n', '\nx\n\ny\n'), { added: 1, removed: 2 });
  });

  it('agrees with a longest-common-subsequence table on random inputs with many repeats', () => {
    let seed = 12345;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const lines = (count: number): string[] => Array.from({ length: count }, () => ['a', 'b', 'c', '}', ''][random(5)]);
    for (let round = 0; round < 400; round++) {
      const a = lines(random(25));
      const b = random(2) === 0 ? lines(random(25)) : a.filter(() => random(4) !== 0).concat(lines(random(4)));
      const lcs = lcsLength(a, b);
      assert.deepEqual(
        lineDelta(a.map((l) => `${l}\n`).join(''), b.map((l) => `${l}\n`).join('')),
        { added: b.length - lcs, removed: a.length - lcs },
        `a=${JSON.stringify(a)} b=${JSON.stringify(b)}`,
      );
    }
  });

  it('is fast on a 1 MB file with scattered changes and on two unrelated 1 MB files', () => {
    const before = Array.from({ length: 40_000 }, (_, i) => `line ${i % 500} ${i}`).join('\n');
    const after = before
      .split('\n')
      .map((l, i) => (i % 97 === 0 ? `${l} changed` : l))
      .join('\n');
    const t0 = performance.now();
    const delta = lineDelta(before, after);
    assert.equal(delta.added, Math.ceil(40_000 / 97));
    assert.equal(delta.removed, delta.added);
    const unrelated = lineDelta(before, before.replace(/line/g, 'other'));
    assert.deepEqual(unrelated, { added: 40_000, removed: 40_000 });
    assert.ok(performance.now() - t0 < 3000, 'diff took too long');
  });
});

function lcsLength(a: string[], b: string[]): number {
  const table = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      table[i][j] = a[i - 1] === b[j - 1] ? table[i - 1][j - 1] + 1 : Math.max(table[i - 1][j], table[i][j - 1]);
    }
  }
  return table[a.length][b.length];
}

describe('unifiedDiff', () => {
  const fourteen = 'a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\nm\nn\n';

  it('is empty for equal texts', () => {
    assert.equal(unifiedDiff('x.ts', 'same\n', 'same\n'), '');
  });

  it('writes separate hunks for distant changes, as GNU diff -u does', () => {
    const after = fourteen.replace('c\n', 'C\n') + 'added\n';
    assert.equal(
      unifiedDiff('f.txt', fourteen, after),
      [
        '--- a/f.txt',
        '+++ b/f.txt',
        '@@ -1,6 +1,6 @@',
        ' a',
        ' b',
        '-c',
        '+C',
        ' d',
        ' e',
        ' f',
        '@@ -12,3 +12,4 @@',
        ' l',
        ' m',
        ' n',
        '+added',
        '',
      ].join('\n'),
    );
  });

  it('uses the short range forms with zero context', () => {
    const after = fourteen.replace('c\n', 'C\n') + 'added\n';
    assert.equal(unifiedDiff('f', fourteen, after, 0), '--- a/f\n+++ b/f\n@@ -3 +3 @@\n-c\n+C\n@@ -14,0 +15 @@\n+added\n');
  });

  it('merges changes separated by at most twice the context', () => {
    const six = fourteen.replace('b\n', 'B\n').replace('i\n', 'I\n'); // 6 unchanged lines between them
    assert.equal((unifiedDiff('f', fourteen, six).match(/^@@/gm) ?? []).length, 1);
    const seven = fourteen.replace('b\n', 'B\n').replace('j\n', 'J\n'); // 7 unchanged lines between them
    assert.equal((unifiedDiff('f', fourteen, seven).match(/^@@/gm) ?? []).length, 2);
  });

  it('marks lines without a final newline', () => {
    assert.equal(
      unifiedDiff('x', 'one\ntwo', 'one\ntwo\nthree'),
      '--- a/x\n+++ b/x\n@@ -1,2 +1,3 @@\n one\n-two\n\\ No newline at end of file\n+two\n+three\n\\ No newline at end of file\n',
    );
  });

  it('shows a new file and a deleted content with empty ranges', () => {
    assert.equal(unifiedDiff('n', '', 'x\ny\n'), '--- a/n\n+++ b/n\n@@ -0,0 +1,2 @@\n+x\n+y\n');
    assert.equal(unifiedDiff('n', 'x\ny\n', ''), '--- a/n\n+++ b/n\n@@ -1,2 +0,0 @@\n-x\n-y\n');
  });

  it('finds the minimal diff on repeated lines', () => {
    assert.equal(unifiedDiff('r', 'a\nb\na\nb\na\n', 'b\na\nb\na\nb\n'), '--- a/r\n+++ b/r\n@@ -1,5 +1,5 @@\n-a\n b\n a\n b\n a\n+b\n');
  });

  it('produces hunks whose line counts match their headers and that rebuild the new text', () => {
    const before = Array.from({ length: 300 }, (_, i) => `l${i % 7}`).join('\n') + '\n';
    const after = before.replace(/l3\n/g, (m, offset: number) => (offset % 3 === 0 ? 'L3\n' : m)) + 'tail\n';
    const diff = unifiedDiff('p', before, after);
    for (const hunk of diff.split(/^(?=@@)/m).slice(1)) {
      const [, , oldCount = '1', , newCount = '1'] = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/.exec(hunk)!;
      const body = hunk.split('\n').slice(1, -1);
      assert.equal(body.filter((l) => l[0] === ' ' || l[0] === '-').length, Number(oldCount));
      assert.equal(body.filter((l) => l[0] === ' ' || l[0] === '+').length, Number(newCount));
    }
    // Rebuilding the new text from the old one with the diff gives the new text.
    assert.equal(patch(before, diff), after);
  });
});

/** Minimal unified-diff applier for the test above (no fuzz, no "No newline" handling). */
function patch(before: string, diff: string): string {
  const src = before.split('\n');
  const out: string[] = [];
  let at = 0;
  for (const hunk of diff.split(/^(?=@@)/m).slice(1)) {
    const [, start, count] = /^@@ -(\d+)(?:,(\d+))?/.exec(hunk)!;
    const first = count === '0' ? Number(start) : Number(start) - 1;
    while (at < first) out.push(src[at++]);
    for (const line of hunk.split('\n').slice(1, -1)) {
      if (line[0] === ' ') out.push(src[at++]);
      else if (line[0] === '-') at++;
      else if (line[0] === '+') out.push(line.slice(1));
    }
  }
  while (at < src.length) out.push(src[at++]);
  return out.join('\n');
}
