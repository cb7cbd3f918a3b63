import { strict as assert } from 'node:assert';
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { NodeWorkspace } from '../../src/core/workspace/nodeWorkspace';
import { isBinary, MAX_FILE_BYTES, resolveInWorkspace, WorkspaceError, type WorkspaceErrorCode } from '../../src/core/workspace/paths';

async function rejectsWith(promise: Promise<unknown>, code: WorkspaceErrorCode, messagePart?: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof WorkspaceError, `expected a WorkspaceError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (messagePart) assert.match(error.message, messagePart);
    return true;
  });
}

describe('resolveInWorkspace', () => {
  let base: string;
  let root: string;
  let outside: string;

  beforeEach(async () => {
    base = await realpath(await mkdtemp(path.join(tmpdir(), 'sm-paths-')));
    root = path.join(base, 'ws');
    outside = path.join(base, 'outside');
    await mkdir(path.join(root, 'src'), { recursive: true });
    await mkdir(outside);
    await writeFile(path.join(root, 'src', 'a.ts'), 'export const a = 1;\n');
    await writeFile(path.join(outside, 'secret.txt'), 'secret\n');
  });

  afterEach(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it('resolves a relative path to an absolute one under the real root', async () => {
    assert.deepEqual(await resolveInWorkspace(root, 'src/a.ts'), { abs: path.join(root, 'src', 'a.ts'), rel: 'src/a.ts' });
  });

  it('normalises backslashes, "./" and inner ".." segments', async () => {
    assert.equal((await resolveInWorkspace(root, 'src\\a.ts')).rel, 'src/a.ts');
    assert.equal((await resolveInWorkspace(root, './src/../src/a.ts')).rel, 'src/a.ts');
    assert.equal((await resolveInWorkspace(root, 'src//lib/')).rel, 'src/lib');
  });

  it('accepts a file that does not exist yet, in folders that do not exist yet', async () => {
    const r = await resolveInWorkspace(root, 'new/deep/file.ts');
    assert.equal(r.rel, 'new/deep/file.ts');
    assert.equal(r.abs, path.join(root, 'new', 'deep', 'file.ts'));
  });

  it('accepts an absolute path inside the workspace and makes it relative', async () => {
    assert.equal((await resolveInWorkspace(root, path.join(root, 'src', 'a.ts'))).rel, 'src/a.ts');
  });

  it('rejects an absolute path outside the workspace', async () => {
    await rejectsWith(resolveInWorkspace(root, path.join(outside, 'secret.txt')), 'outside', /outside the workspace/);
    await rejectsWith(resolveInWorkspace(root, '/etc/passwd'), 'outside');
  });

  it('rejects ".." escapes, also hidden behind backslashes or inner segments', async () => {
    await rejectsWith(resolveInWorkspace(root, '../outside/secret.txt'), 'outside', /\.\./);
    await rejectsWith(resolveInWorkspace(root, 'src/../../outside/secret.txt'), 'outside');
    await rejectsWith(resolveInWorkspace(root, '..\\outside\\secret.txt'), 'outside');
    await rejectsWith(resolveInWorkspace(root, '..'), 'outside');
  });

  it('rejects empty paths, NUL bytes and the root itself', async () => {
    await rejectsWith(resolveInWorkspace(root, ''), 'invalid', /empty/);
    await rejectsWith(resolveInWorkspace(root, '   '), 'invalid', /empty/);
    await rejectsWith(resolveInWorkspace(root, 'src/a.ts\0.png'), 'invalid', /NUL/);
    await rejectsWith(resolveInWorkspace(root, '.'), 'invalid', /workspace folder itself/);
    await rejectsWith(resolveInWorkspace(root, 'src/..'), 'invalid');
  });

  it('refuses anything inside .git or .software-maker, at any depth and in any case', async () => {
    await rejectsWith(resolveInWorkspace(root, '.git/config'), 'forbidden', /\.git/);
    await rejectsWith(resolveInWorkspace(root, '.git'), 'forbidden');
    await rejectsWith(resolveInWorkspace(root, 'vendor/lib/.git/HEAD'), 'forbidden');
    await rejectsWith(resolveInWorkspace(root, '.GIT/config'), 'forbidden');
    await rejectsWith(resolveInWorkspace(root, '.software-maker/runs/1.jsonl'), 'forbidden', /\.software-maker/);
    await rejectsWith(resolveInWorkspace(root, 'src/.software-maker'), 'forbidden');
  });

  it('allows names that merely start like forbidden folders', async () => {
    assert.equal((await resolveInWorkspace(root, '.gitignore')).rel, '.gitignore');
    assert.equal((await resolveInWorkspace(root, '.github/workflows/ci.yml')).rel, '.github/workflows/ci.yml');
    assert.equal((await resolveInWorkspace(root, '.software-maker.json')).rel, '.software-maker.json');
  });

  it('rejects a path through a symlinked folder that points outside, existing file or not', async () => {
    await symlink(outside, path.join(root, 'link'));
    await rejectsWith(resolveInWorkspace(root, 'link/secret.txt'), 'symlink-escape', /symbolic link/);
    await rejectsWith(resolveInWorkspace(root, 'link/new/file.txt'), 'symlink-escape');
    await rejectsWith(resolveInWorkspace(root, 'link'), 'symlink-escape');
  });

  it('rejects a symlinked file that points outside', async () => {
    await symlink(path.join(outside, 'secret.txt'), path.join(root, 'src', 'secret.txt'));
    await rejectsWith(resolveInWorkspace(root, 'src/secret.txt'), 'symlink-escape');
  });

  it('rejects a dangling symlink, which a write would follow anywhere', async () => {
    await symlink(path.join(outside, 'not-yet.txt'), path.join(root, 'dangling.txt'));
    await rejectsWith(resolveInWorkspace(root, 'dangling.txt'), 'symlink-escape', /does not exist/);
  });

  it('accepts symlinks that stay inside, but not ones leading into .git', async () => {
    await symlink(path.join(root, 'src'), path.join(root, 'alias'));
    assert.deepEqual(await resolveInWorkspace(root, 'alias/a.ts'), { abs: path.join(root, 'alias', 'a.ts'), rel: 'alias/a.ts' });
    await mkdir(path.join(root, '.git'));
    await symlink(path.join(root, '.git'), path.join(root, 'gitdir'));
    await rejectsWith(resolveInWorkspace(root, 'gitdir/config'), 'forbidden');
  });

  it('works when the root itself is given through a symlink', async () => {
    const linkedRoot = path.join(base, 'linked-root');
    await symlink(root, linkedRoot);
    const r = await resolveInWorkspace(linkedRoot, 'src/a.ts');
    assert.equal(r.abs, path.join(root, 'src', 'a.ts'));
    assert.equal((await resolveInWorkspace(linkedRoot, path.join(linkedRoot, 'src/a.ts'))).rel, 'src/a.ts');
  });
});

describe('isBinary', () => {
  it('is false for UTF-8 text, including multi-byte characters', () => {
    assert.equal(isBinary(Buffer.from('const s = "héllo wörld €😀";\n', 'utf8')), false);
    assert.equal(isBinary(Buffer.alloc(0)), false);
  });

  it('is true for a NUL byte in the first 8000 bytes', () => {
    assert.equal(isBinary(Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0x01])), true);
    const late = Buffer.concat([Buffer.alloc(7999, 0x61), Buffer.from([0])]);
    assert.equal(isBinary(late), true);
  });

  it('is false for a NUL byte after the first 8000 bytes (the check looks at the head only)', () => {
    assert.equal(isBinary(Buffer.concat([Buffer.alloc(8000, 0x61), Buffer.from([0])])), false);
  });

  it('is true for bytes that are not valid UTF-8', () => {
    assert.equal(isBinary(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a])), true); // "café" in Latin-1
  });

  it('does not mistake a multi-byte character cut at byte 8000 for invalid UTF-8', () => {
    const buf = Buffer.concat([Buffer.alloc(7999, 0x61), Buffer.from('€', 'utf8')]);
    assert.equal(isBinary(buf), false);
  });
});

describe('NodeWorkspace', () => {
  let root: string;

  beforeEach(async () => {
    root = await realpath(await mkdtemp(path.join(tmpdir(), 'sm-ws-')));
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function put(rel: string, content: string | Buffer): Promise<void> {
    await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await writeFile(path.join(root, rel), content);
  }

  it('opens an existing folder through a symlink with its real path as root', async () => {
    const link = `${root}-link`;
    await symlink(root, link);
    try {
      assert.equal((await NodeWorkspace.open(link)).root, root);
    } finally {
      await rm(link);
    }
  });

  it('refuses to open a missing folder or a file', async () => {
    await rejectsWith(NodeWorkspace.open(path.join(root, 'missing')), 'invalid', /does not exist/);
    await put('file.txt', 'x');
    await rejectsWith(NodeWorkspace.open(path.join(root, 'file.txt')), 'invalid', /not a folder/);
  });

  it('reads text, keeping a BOM so the bytes can be written back unchanged', async () => {
    await put('a.txt', 'hello\n');
    await put('bom.txt', '\uFEFFwith bom\n');
    const ws = await NodeWorkspace.open(root);
    assert.equal(await ws.readText('a.txt'), 'hello\n');
    assert.equal(await ws.readText('bom.txt'), '\uFEFFwith bom\n');
  });

  it('returns undefined for a missing file, also under a missing folder or a file used as a folder', async () => {
    await put('a.txt', 'hello\n');
    const ws = await NodeWorkspace.open(root);
    assert.equal(await ws.readText('missing.txt'), undefined);
    assert.equal(await ws.readText('no/such/dir.txt'), undefined);
    assert.equal(await ws.readText('a.txt/child'), undefined);
  });

  it('refuses binary files, oversized files, folders and forbidden paths', async () => {
    await put('img.png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00]));
    await put('big.txt', Buffer.alloc(MAX_FILE_BYTES + 1, 0x61));
    await put('exact.txt', Buffer.alloc(MAX_FILE_BYTES, 0x61));
    await put('.git/config', '[core]\n');
    await mkdir(path.join(root, 'dir'));
    const ws = await NodeWorkspace.open(root);
    await rejectsWith(ws.readText('img.png'), 'binary', /binary/);
    await rejectsWith(ws.readText('big.txt'), 'too-large', new RegExp(String(MAX_FILE_BYTES)));
    assert.equal((await ws.readText('exact.txt'))?.length, MAX_FILE_BYTES);
    await rejectsWith(ws.readText('dir'), 'invalid', /folder/);
    await rejectsWith(ws.readText('.git/config'), 'forbidden');
    await rejectsWith(ws.readText('../x'), 'outside');
  });

  it('lists files recursively in sorted full-path order, skipping .git, node_modules and .software-maker', async () => {
    for (const f of ['b.ts', 'a.txt', 'a/z.ts', 'a/b/c.ts', 'a-b.ts', 'node_modules/x/index.js', 'src/node_modules/y.js', '.git/HEAD', '.software-maker/log', '.github/ci.yml']) {
      await put(f, 'x\n');
    }
    const ws = await NodeWorkspace.open(root);
    const files = await ws.listFiles('', 100);
    assert.deepEqual(files, ['.github/ci.yml', 'a-b.ts', 'a.txt', 'a/b/c.ts', 'a/z.ts', 'b.ts']);
    assert.deepEqual(files, [...files].sort());
    assert.deepEqual(await ws.listFiles('a', 100), ['a/b/c.ts', 'a/z.ts']);
    assert.deepEqual(await ws.listFiles('.', 2), ['.github/ci.yml', 'a-b.ts']);
    assert.deepEqual(await ws.listFiles('', 0), []);
    assert.deepEqual(await ws.listFiles('missing', 10), []);
    await rejectsWith(ws.listFiles('.git', 10), 'forbidden');
  });

  it('honours simple patterns of a top-level .gitignore', async () => {
    await put('.gitignore', '# build output\ndist/\n*.log\n/coverage\ndocs/*.tmp\n!keep.log\n\n');
    for (const f of ['dist/app.js', 'src/dist/x.js', 'src/dist.ts', 'app.log', 'src/deep/debug.log', 'coverage/index.html', 'src/coverage/keep.ts', 'docs/a.tmp', 'docs/sub/b.tmp', 'src/main.ts']) {
      await put(f, 'x\n');
    }
    const ws = await NodeWorkspace.open(root);
    assert.deepEqual(await ws.listFiles('', 100), ['.gitignore', 'docs/sub/b.tmp', 'src/coverage/keep.ts', 'src/dist.ts', 'src/main.ts']);
  });

  it('does not follow symlinked folders, and lists linked files only when they point inside', async () => {
    const outside = await realpath(await mkdtemp(path.join(tmpdir(), 'sm-out-')));
    try {
      await writeFile(path.join(outside, 'secret.txt'), 'secret\n');
      await put('src/a.ts', 'a\n');
      await symlink(outside, path.join(root, 'out'));
      await symlink(path.join(outside, 'secret.txt'), path.join(root, 'secret.txt'));
      await symlink(path.join(root, 'src', 'a.ts'), path.join(root, 'alias.ts'));
      await symlink(path.join(root, 'src'), path.join(root, 'srclink'));
      const ws = await NodeWorkspace.open(root);
      assert.deepEqual(await ws.listFiles('', 100), ['alias.ts', 'src/a.ts']);
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });

  it('searches text files for a plain substring with 1-based line numbers', async () => {
    await put('src/a.ts', 'const a = 1;\n  // TODO: fix (a+b)\nconst b = 2;\r\n// TODO again\n');
    await put('src/b.ts', 'nothing here\n');
    await put('img.bin', Buffer.from([0x00, 0x54, 0x4f, 0x44, 0x4f]));
    await put('huge.txt', `TODO ${'x'.repeat(MAX_FILE_BYTES)}`);
    await put('node_modules/x.js', '// TODO hidden\n');
    const ws = await NodeWorkspace.open(root);
    assert.deepEqual(await ws.searchText('TODO', 10), [
      { path: 'src/a.ts', line: 2, text: '// TODO: fix (a+b)' },
      { path: 'src/a.ts', line: 4, text: '// TODO again' },
    ]);
    assert.deepEqual(await ws.searchText('(a+b)', 10), [{ path: 'src/a.ts', line: 2, text: '// TODO: fix (a+b)' }]);
    assert.equal((await ws.searchText('TODO', 1)).length, 1);
    assert.deepEqual(await ws.searchText('todo', 10), [], 'search is case-sensitive');
    await rejectsWith(ws.searchText('', 10), 'invalid');
  });

  it('trims hit text to 200 characters around the match on long lines', async () => {
    const line = `${'a'.repeat(500)}NEEDLE${'b'.repeat(500)}`;
    await put('min.js', `${line}\n`);
    const ws = await NodeWorkspace.open(root);
    const [hit] = await ws.searchText('NEEDLE', 10);
    assert.equal(hit.text.length, 200);
    assert.ok(hit.text.includes('NEEDLE'));
    assert.ok(hit.text.startsWith('…') && hit.text.endsWith('…'));
  });
});
