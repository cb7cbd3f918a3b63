import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { NodeWorkspace } from '../../src/core/workspace/nodeWorkspace';
import { compareWalkOrder } from '../../src/core/workspace/ripgrep';
import { tempDir } from './helpers';

const systemRipgrep = (() => {
  try {
    return execFileSync('which', ['rg'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
})();

describe('search_text with ripgrep and with the JavaScript scan', () => {
  let root = '';
  const put = async (rel: string, content: string | Buffer) => {
    await mkdir(dirname(join(root, rel)), { recursive: true });
    await writeFile(join(root, rel), content);
  };

  before(function () {
    // scripts/install-test-deps.sh installs ripgrep: without it these tests would prove nothing.
    if (!systemRipgrep) throw new Error('ripgrep (rg) is not installed: run scripts/install-test-deps.sh');
  });

  beforeEach(async () => {
    root = await tempDir('sm-search-');
    await put('.gitignore', 'dist/\n*.log\n');
    await put('src/a.ts', 'const a = 1;\n// NEEDLE one\nconst b = 2; // NEEDLE two\r\n');
    await put('src/a/b.ts', 'NEEDLE in a folder named like a file\n');
    await put('src/a.js', 'NEEDLE js\n');
    await put('src/Z.ts', 'NEEDLE upper\n');
    await put('.github/ci.yml', 'run: NEEDLE\n');
    await put('dist/out.js', 'NEEDLE built\n');
    await put('debug.log', 'NEEDLE logged\n');
    await put('node_modules/dep/index.js', 'NEEDLE dependency\n');
    await put('.git/config', 'NEEDLE git\n');
    await put('.software-maker/runs/x/events.jsonl', '{"NEEDLE":1}\n');
    await put('image.bin', Buffer.from([0x4e, 0x45, 0x45, 0x44, 0x4c, 0x45, 0, 1, 2]));
    await put('notes/a b.md', 'a NEEDLE with spaces and (a+b) [x]\n');
    for (let index = 0; index < 30; index++) await put(`many/f${String(index).padStart(2, '0')}.txt`, 'NEEDLE\nNEEDLE\n');
  });

  const queries = ['NEEDLE', '(a+b)', '[x]', 'needle', 'const', 'nothing at all', 'NEEDLE two', '.'];

  it('gives the same hits, in the same order, either way (limits included)', async () => {
    const withRipgrep = await NodeWorkspace.open(root, { ripgrep: systemRipgrep });
    const scanning = await NodeWorkspace.open(root, { ripgrep: false });
    for (const query of queries) {
      for (const limit of [1, 5, 100]) {
        assert.deepEqual(await withRipgrep.searchText(query, limit), await scanning.searchText(query, limit), `${query} (limit ${limit})`);
      }
    }
    const hits = await withRipgrep.searchText('NEEDLE', 100);
    const paths = [...new Set(hits.map((hit) => hit.path))];
    assert.deepEqual(paths.slice(0, 6), ['.github/ci.yml', 'many/f00.txt', 'many/f01.txt', 'many/f02.txt', 'many/f03.txt', 'many/f04.txt']);
    assert.deepEqual(paths.slice(-5), ['notes/a b.md', 'src/Z.ts', 'src/a.js', 'src/a.ts', 'src/a/b.ts']);
    for (const hidden of ['dist/out.js', 'debug.log', 'node_modules/dep/index.js', '.git/config', '.software-maker/runs/x/events.jsonl', 'image.bin']) {
      assert.ok(!paths.includes(hidden), `${hidden} is not searched`);
    }
    assert.deepEqual(hits.filter((hit) => hit.path === 'src/a.ts'), [
      { path: 'src/a.ts', line: 2, text: '// NEEDLE one' },
      { path: 'src/a.ts', line: 3, text: 'const b = 2; // NEEDLE two' },
    ]);
    assert.equal(hits.length, 67);
  });

  it('uses ripgrep when it can run, and honours nested .gitignore files there', async () => {
    const calls = join(root, '..', `${root.split('/').pop()}-rg-calls`);
    const wrapper = join(await tempDir('sm-rg-'), 'rg');
    await writeFile(wrapper, `#!/bin/sh\necho called >> '${calls}'\nexec '${systemRipgrep}' "$@"\n`);
    await chmod(wrapper, 0o755);
    await put('src/.gitignore', 'generated.ts\n');
    await put('src/generated.ts', 'NEEDLE generated\n');
    const ws = await NodeWorkspace.open(root, { ripgrep: wrapper });
    const paths = (await ws.searchText('NEEDLE', 100)).map((hit) => hit.path);
    assert.ok(!paths.includes('src/generated.ts'), 'a nested .gitignore hides the file');
    assert.ok(paths.includes('src/a.ts'));
    assert.equal((await readFile(calls, 'utf8')).trim(), 'called');
  });

  it('falls back to the JavaScript scan when ripgrep cannot run, with the same hits', async () => {
    const missing = await NodeWorkspace.open(root, { ripgrep: join(root, 'no-such-rg') });
    const broken = join(await tempDir('sm-rg-'), 'rg');
    await writeFile(broken, '#!/bin/sh\necho "rg: broken" >&2\nexit 2\n');
    await chmod(broken, 0o755);
    const failing = await NodeWorkspace.open(root, { ripgrep: broken });
    const scanning = await NodeWorkspace.open(root, { ripgrep: false });
    const expected = await scanning.searchText('NEEDLE', 100);
    assert.equal(expected.length, 67);
    assert.deepEqual(await missing.searchText('NEEDLE', 100), expected);
    assert.deepEqual(await failing.searchText('NEEDLE', 100), expected);
  });

  it('has no hits for a text with a line break, and finds a carriage return inside a line either way', async () => {
    await put('cr.txt', 'left\rright\n');
    const ws = await NodeWorkspace.open(root, { ripgrep: systemRipgrep });
    assert.deepEqual(await ws.searchText('one\n// NEEDLE', 10), []);
    assert.deepEqual(await ws.searchText('left\rright', 10), [{ path: 'cr.txt', line: 1, text: 'left\rright' }]);
  });

  it('orders paths as the walk lists them', async () => {
    const listed = await (await NodeWorkspace.open(root, { ripgrep: false })).listFiles('', 1000);
    const shuffled = [...listed].reverse();
    assert.deepEqual(shuffled.sort(compareWalkOrder), listed);
    assert.ok(compareWalkOrder('a.js', 'a/b.js') < 0 && compareWalkOrder('a/b.js', 'a0') < 0);
  });
});
