import { strict as assert } from 'node:assert';
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, realpath, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { FileWrite } from '../../src/core/ports';
import { sha256 } from '../../src/core/edits/hunks';
import { EditApplyError, NodeEditApplier } from '../../src/core/edits/nodeApplier';
import { WorkspaceError } from '../../src/core/workspace/paths';

function modify(p: string, before: string, after: string): FileWrite {
  return { path: p, kind: 'modify', baseHash: sha256(before), newText: after, newHash: sha256(after) };
}

function create(p: string, text: string): FileWrite {
  return { path: p, kind: 'create', baseHash: sha256(''), newText: text, newHash: sha256(text) };
}

function remove(p: string, before: string): FileWrite {
  return { path: p, kind: 'delete', baseHash: sha256(before), newText: '', newHash: sha256('') };
}

function move(from: string, to: string, before: string, after = before): FileWrite {
  return { path: to, kind: 'rename', from, baseHash: sha256(before), newText: after, newHash: sha256(after) };
}

describe('NodeEditApplier', () => {
  let root: string;
  let applier: NodeEditApplier;

  beforeEach(async () => {
    root = await realpath(await mkdtemp(path.join(tmpdir(), 'sm-apply-')));
    applier = new NodeEditApplier(root);
    await mkdir(path.join(root, 'src'));
    await writeFile(path.join(root, 'src', 'a.ts'), 'export const a = 1;\n');
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const read = (rel: string): Promise<string> => readFile(path.join(root, rel), 'utf8');

  it('writes a modification made against the current text, leaving no temp file behind', async () => {
    const outcomes = await applier.apply([modify('src/a.ts', 'export const a = 1;\n', 'export const a = 2;\n')]);
    assert.deepEqual(outcomes, [{ path: 'src/a.ts', status: 'written' }]);
    assert.equal(await read('src/a.ts'), 'export const a = 2;\n');
    assert.deepEqual(await readdir(path.join(root, 'src')), ['a.ts']);
  });

  it('reports already-applied when the file already holds the new text, without writing', async () => {
    await writeFile(path.join(root, 'src', 'a.ts'), 'export const a = 2;\n');
    const before = (await stat(path.join(root, 'src', 'a.ts'))).mtimeMs;
    await new Promise((r) => setTimeout(r, 20));
    const outcomes = await applier.apply([modify('src/a.ts', 'export const a = 1;\n', 'export const a = 2;\n')]);
    assert.deepEqual(outcomes, [{ path: 'src/a.ts', status: 'already-applied' }]);
    assert.equal((await stat(path.join(root, 'src', 'a.ts'))).mtimeMs, before);
  });

  it('reports a conflict and leaves the file untouched when it changed after the proposal', async () => {
    const proposal = modify('src/a.ts', 'export const a = 1;\n', 'export const a = 2;\n');
    await writeFile(path.join(root, 'src', 'a.ts'), 'export const a = 1; // user edit\n');
    const [outcome] = await applier.apply([proposal]);
    assert.equal(outcome.status, 'conflict');
    assert.ok(outcome.status === 'conflict' && /changed since the proposal.*nothing was written/.test(outcome.detail), JSON.stringify(outcome));
    assert.equal(await read('src/a.ts'), 'export const a = 1; // user edit\n');
  });

  it('reports a conflict when the file to modify was deleted', async () => {
    await rm(path.join(root, 'src', 'a.ts'));
    const [outcome] = await applier.apply([modify('src/a.ts', 'export const a = 1;\n', 'x\n')]);
    assert.ok(outcome.status === 'conflict' && /deleted/.test(outcome.detail), JSON.stringify(outcome));
    await assert.rejects(stat(path.join(root, 'src', 'a.ts')), { code: 'ENOENT' });
  });

  it('creates a file in new subfolders', async () => {
    const outcomes = await applier.apply([create('lib/deep/new.ts', 'export {};\n')]);
    assert.deepEqual(outcomes, [{ path: 'lib/deep/new.ts', status: 'written' }]);
    assert.equal(await read('lib/deep/new.ts'), 'export {};\n');
  });

  it('creates over an existing empty file, reports already-applied when it holds the text, and a conflict otherwise', async () => {
    await writeFile(path.join(root, 'empty.ts'), '');
    await writeFile(path.join(root, 'same.ts'), 'same\n');
    await writeFile(path.join(root, 'taken.ts'), 'someone else\n');
    const outcomes = await applier.apply([create('empty.ts', 'one\n'), create('same.ts', 'same\n'), create('taken.ts', 'mine\n')]);
    assert.deepEqual(outcomes.slice(0, 2), [
      { path: 'empty.ts', status: 'written' },
      { path: 'same.ts', status: 'already-applied' },
    ]);
    assert.ok(outcomes[2].status === 'conflict' && /created by someone else/.test(outcomes[2].detail), JSON.stringify(outcomes[2]));
    assert.equal(await read('empty.ts'), 'one\n');
    assert.equal(await read('taken.ts'), 'someone else\n');
  });

  it('creates an empty new file', async () => {
    assert.deepEqual(await applier.apply([create('blank.txt', '')]), [{ path: 'blank.txt', status: 'written' }]);
    assert.equal(await read('blank.txt'), '');
  });

  it('handles each file on its own: a conflict on one does not stop the others', async () => {
    await writeFile(path.join(root, 'b.ts'), 'b\n');
    const outcomes = await applier.apply([modify('src/a.ts', 'stale\n', 'x\n'), modify('b.ts', 'b\n', 'B\n')]);
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['conflict', 'written'],
    );
    assert.equal(await read('b.ts'), 'B\n');
  });

  it('checks every path before writing anything', async () => {
    await writeFile(path.join(root, 'b.ts'), 'b\n');
    await assert.rejects(applier.apply([modify('b.ts', 'b\n', 'B\n'), create('../escape.ts', 'x\n')]), (e: unknown) => e instanceof WorkspaceError && e.code === 'outside');
    await assert.rejects(applier.apply([modify('b.ts', 'b\n', 'B\n'), create('.git/hooks/pre-commit', 'x\n')]), (e: unknown) => e instanceof WorkspaceError && e.code === 'forbidden');
    assert.equal(await read('b.ts'), 'b\n');
  });

  it('refuses an inconsistent edit set (hash not matching the text, create with a base) before writing anything', async () => {
    const bad: FileWrite = { ...modify('src/a.ts', 'export const a = 1;\n', 'x\n'), newHash: sha256('y\n') };
    await assert.rejects(applier.apply([bad]), (e: unknown) => e instanceof EditApplyError && /newHash/.test(e.message));
    const badCreate: FileWrite = { ...create('n.ts', 'n\n'), baseHash: sha256('x') };
    await assert.rejects(applier.apply([badCreate]), EditApplyError);
    assert.equal(await read('src/a.ts'), 'export const a = 1;\n');
    await assert.rejects(stat(path.join(root, 'n.ts')), { code: 'ENOENT' });
  });

  it('keeps the mode of an executable file', async () => {
    await writeFile(path.join(root, 'run.sh'), '#!/bin/sh\necho 1\n');
    await chmod(path.join(root, 'run.sh'), 0o755);
    await applier.apply([modify('run.sh', '#!/bin/sh\necho 1\n', '#!/bin/sh\necho 2\n')]);
    assert.equal((await stat(path.join(root, 'run.sh'))).mode & 0o777, 0o755);
  });

  it('writes through a symlink that stays inside the workspace instead of replacing the link', async () => {
    await symlink(path.join(root, 'src', 'a.ts'), path.join(root, 'alias.ts'));
    const [outcome] = await applier.apply([modify('alias.ts', 'export const a = 1;\n', 'export const a = 3;\n')]);
    assert.equal(outcome.status, 'written');
    assert.ok((await lstat(path.join(root, 'alias.ts'))).isSymbolicLink());
    assert.equal(await read('src/a.ts'), 'export const a = 3;\n');
  });

  it('throws an EditApplyError when the disk refuses the write, leaving no temp file', async () => {
    await writeFile(path.join(root, 'plain'), 'a file, not a folder\n');
    await assert.rejects(applier.apply([create('plain/child.ts', 'x\n')]), (e: unknown) => e instanceof EditApplyError && /Writing plain\/child\.ts failed/.test(e.message));
    await chmod(path.join(root, 'src'), 0o555);
    try {
      if (process.getuid?.() === 0) return; // root ignores folder permissions
      await assert.rejects(applier.apply([modify('src/a.ts', 'export const a = 1;\n', 'x\n')]), EditApplyError);
      assert.deepEqual(await readdir(path.join(root, 'src')), ['a.ts']);
      assert.equal(await read('src/a.ts'), 'export const a = 1;\n');
    } finally {
      await chmod(path.join(root, 'src'), 0o755);
    }
  });

  it('writes CRLF and BOM text byte for byte', async () => {
    const text = '\uFEFFline1\r\nline2\r\n';
    await applier.apply([create('win.txt', text)]);
    assert.deepEqual(await readFile(path.join(root, 'win.txt')), Buffer.from(text, 'utf8'));
  });

  describe('deletes', () => {
    it('deletes a file that still holds the text the deletion was proposed against', async () => {
      assert.deepEqual(await applier.apply([remove('src/a.ts', 'export const a = 1;\n')]), [{ path: 'src/a.ts', status: 'written' }]);
      await assert.rejects(stat(path.join(root, 'src', 'a.ts')), { code: 'ENOENT' });
    });

    it('refuses to delete a file the user changed since, leaving it as it is', async () => {
      await writeFile(path.join(root, 'src', 'a.ts'), 'export const a = 1; // mine\n');
      const [outcome] = await applier.apply([remove('src/a.ts', 'export const a = 1;\n')]);
      assert.ok(outcome.status === 'conflict' && /changed since the deletion was proposed.*it was not deleted/.test(outcome.detail), JSON.stringify(outcome));
      assert.equal(await read('src/a.ts'), 'export const a = 1; // mine\n');
    });

    it('reports already-applied when the file is already gone', async () => {
      await rm(path.join(root, 'src', 'a.ts'));
      assert.deepEqual(await applier.apply([remove('src/a.ts', 'export const a = 1;\n')]), [{ path: 'src/a.ts', status: 'already-applied' }]);
    });

    it('refuses to delete a folder that now stands at the path', async () => {
      await mkdir(path.join(root, 'dir'));
      const [outcome] = await applier.apply([remove('dir', 'x\n')]);
      assert.equal(outcome.status, 'conflict');
      assert.ok((await stat(path.join(root, 'dir'))).isDirectory());
    });

    it('removes a link inside the workspace, not the file it points to', async () => {
      await symlink(path.join(root, 'src', 'a.ts'), path.join(root, 'alias.ts'));
      assert.deepEqual(await applier.apply([remove('alias.ts', 'export const a = 1;\n')]), [{ path: 'alias.ts', status: 'written' }]);
      await assert.rejects(lstat(path.join(root, 'alias.ts')), { code: 'ENOENT' });
      assert.equal(await read('src/a.ts'), 'export const a = 1;\n');
    });

    it('refuses a malformed delete (new text) before anything is written', async () => {
      const bad = { ...remove('src/a.ts', 'export const a = 1;\n'), newText: 'x', newHash: sha256('x') } as unknown as FileWrite;
      await assert.rejects(applier.apply([bad]), EditApplyError);
      assert.equal(await read('src/a.ts'), 'export const a = 1;\n');
    });
  });

  describe('renames', () => {
    it('moves a file into a new folder, keeping its mode, with or without a change of text', async () => {
      await writeFile(path.join(root, 'run.sh'), '#!/bin/sh\n');
      await chmod(path.join(root, 'run.sh'), 0o755);
      const outcomes = await applier.apply([move('src/a.ts', 'lib/deep/a.ts', 'export const a = 1;\n'), move('run.sh', 'bin/run.sh', '#!/bin/sh\n', '#!/bin/sh\necho 2\n')]);
      assert.deepEqual(outcomes, [
        { path: 'lib/deep/a.ts', status: 'written' },
        { path: 'bin/run.sh', status: 'written' },
      ]);
      assert.equal(await read('lib/deep/a.ts'), 'export const a = 1;\n');
      assert.equal(await read('bin/run.sh'), '#!/bin/sh\necho 2\n');
      assert.equal((await stat(path.join(root, 'bin/run.sh'))).mode & 0o777, 0o755);
      await assert.rejects(stat(path.join(root, 'src', 'a.ts')), { code: 'ENOENT' });
      await assert.rejects(stat(path.join(root, 'run.sh')), { code: 'ENOENT' });
      assert.deepEqual((await readdir(path.join(root, 'lib/deep'))).filter((f) => f.endsWith('.sm-tmp')), []);
    });

    it('never overwrites an existing target', async () => {
      await writeFile(path.join(root, 'b.ts'), 'someone else\n');
      const [outcome] = await applier.apply([move('src/a.ts', 'b.ts', 'export const a = 1;\n')]);
      assert.ok(outcome.status === 'conflict' && /already exists, and a rename never overwrites/.test(outcome.detail), JSON.stringify(outcome));
      assert.equal(await read('b.ts'), 'someone else\n');
      assert.equal(await read('src/a.ts'), 'export const a = 1;\n');
    });

    it('refuses when the source changed or disappeared since the proposal', async () => {
      await writeFile(path.join(root, 'src', 'a.ts'), 'export const a = 1; // mine\n');
      const [changed] = await applier.apply([move('src/a.ts', 'b.ts', 'export const a = 1;\n')]);
      assert.ok(changed.status === 'conflict' && /src\/a\.ts changed since the rename was proposed/.test(changed.detail), JSON.stringify(changed));
      await assert.rejects(stat(path.join(root, 'b.ts')), { code: 'ENOENT' });
      await rm(path.join(root, 'src', 'a.ts'));
      const [gone] = await applier.apply([move('src/a.ts', 'b.ts', 'export const a = 1;\n')]);
      assert.ok(gone.status === 'conflict' && /was deleted or moved since/.test(gone.detail), JSON.stringify(gone));
    });

    it('reports already-applied when the source is gone and the target holds the new text', async () => {
      await rm(path.join(root, 'src', 'a.ts'));
      await writeFile(path.join(root, 'b.ts'), 'export const b = 1;\n');
      const outcomes = await applier.apply([move('src/a.ts', 'b.ts', 'export const a = 1;\n', 'export const b = 1;\n')]);
      assert.deepEqual(outcomes, [{ path: 'b.ts', status: 'already-applied' }]);
      // Source back but target there too (half done by someone else): a conflict, nothing overwritten.
      await writeFile(path.join(root, 'src', 'a.ts'), 'export const a = 1;\n');
      const [again] = await applier.apply([move('src/a.ts', 'b.ts', 'export const a = 1;\n', 'export const b = 1;\n')]);
      assert.equal(again.status, 'conflict');
    });

    it('refuses a rename out of or into forbidden places before anything moves', async () => {
      await assert.rejects(applier.apply([move('src/a.ts', '.git/x', 'export const a = 1;\n')]), (e: unknown) => e instanceof WorkspaceError && e.code === 'forbidden');
      await assert.rejects(applier.apply([move('../outside.ts', 'x.ts', '')]), (e: unknown) => e instanceof WorkspaceError && e.code === 'outside');
      await assert.rejects(applier.apply([move('src/a.ts', 'src/a.ts', 'export const a = 1;\n')]), EditApplyError);
      assert.equal(await read('src/a.ts'), 'export const a = 1;\n');
    });
  });
});
