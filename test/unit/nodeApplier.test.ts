import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, realpath, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { FileWrite } from '../../src/core/ports';
import { sha256 } from '../../src/core/edits/hunks';
import { EditApplyError, NodeEditApplier } from '../../src/core/edits/nodeApplier';
import { WorkspaceError } from '../../src/core/workspace/paths';
import { makeFolderReadOnly } from './helpers';

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

/** Every *.sm-tmp file under `dir`, relative to it. */
async function tempFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return entries.filter((entry) => entry.endsWith('.sm-tmp'));
}

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
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

  it('reports a write the disk refuses as a conflict of that file, leaving no temp file', async () => {
    await writeFile(path.join(root, 'plain'), 'a file, not a folder\n');
    const [refused, written] = await applier.apply([create('plain/child.ts', 'x\n'), modify('src/a.ts', 'export const a = 1;\n', 'export const a = 5;\n')]);
    assert.ok(refused.status === 'conflict' && /^plain\/child\.ts could not be written \(.*\): check the folder's permissions and free space\. Nothing was changed\.$/.test(refused.detail), JSON.stringify(refused));
    assert.equal(written.status, 'written', 'the other file of the set still lands');
    assert.deepEqual(await tempFiles(root), []);
  });

  it('refuses to replace, delete or move a read-only file: a conflict that says how to let the edit land', async () => {
    await chmod(path.join(root, 'src', 'a.ts'), 0o444);
    await writeFile(path.join(root, 'b.ts'), 'b\n');
    await chmod(path.join(root, 'b.ts'), 0o444);
    const outcomes = await applier.apply([modify('src/a.ts', 'export const a = 1;\n', 'x\n'), remove('b.ts', 'b\n')]);
    assert.deepEqual(outcomes, [
      { path: 'src/a.ts', status: 'conflict', detail: 'src/a.ts is read-only; make it writable to let the edit land. Nothing was written.' },
      { path: 'b.ts', status: 'conflict', detail: 'b.ts is read-only; make it writable to let the deletion land. Nothing was written.' },
    ]);
    const [moved] = await applier.apply([move('src/a.ts', 'lib/a.ts', 'export const a = 1;\n')]);
    assert.ok(moved.status === 'conflict' && /^src\/a\.ts is read-only; make it writable to let the rename land/.test(moved.detail));
    assert.equal(await read('src/a.ts'), 'export const a = 1;\n');
    assert.equal(await read('b.ts'), 'b\n');
    await assert.rejects(stat(path.join(root, 'lib', 'a.ts')), { code: 'ENOENT' });
    await chmod(path.join(root, 'src', 'a.ts'), 0o644);
    assert.equal((await applier.apply([modify('src/a.ts', 'export const a = 1;\n', 'x\n')]))[0]!.status, 'written', 'writable again, it lands');
  });

  it('a read-only folder is a conflict of the files in it, and the rest of the set lands', async function () {
    await mkdir(path.join(root, 'locked'));
    await writeFile(path.join(root, 'locked', 'l.ts'), 'l\n');
    const unlock = await makeFolderReadOnly(path.join(root, 'locked'));
    if (!unlock) return this.skip();
    try {
      const outcomes = await applier.apply([create('locked/new.ts', 'n\n'), modify('locked/l.ts', 'l\n', 'm\n'), remove('locked/l.ts', 'l\n'), modify('src/a.ts', 'export const a = 1;\n', 'ok\n')]);
      assert.deepEqual(outcomes.map((o) => o.status), ['conflict', 'conflict', 'conflict', 'written']);
      for (const outcome of outcomes.slice(0, 3)) {
        assert.ok(outcome.status === 'conflict' && /\((EACCES|EPERM)\b.*\): the folder \(or file\) is read-only for Software Maker; make it writable to let the edit land\. Nothing was changed\.$/.test(outcome.detail), outcome.status === 'conflict' ? outcome.detail : '');
      }
      assert.equal(await read('locked/l.ts'), 'l\n');
      assert.equal(await read('src/a.ts'), 'ok\n');
    } finally {
      await unlock();
    }
  });

  it('writes the temp file in .software-maker/tmp, never beside the user\'s file, and ignores that folder for git', async () => {
    const seen: string[] = [];
    const hooked = new NodeEditApplier(root, {
      tempWritten: async (temp) => {
        seen.push(temp, ...(await readdir(path.join(root, 'src'))));
      },
    });
    await hooked.apply([modify('src/a.ts', 'export const a = 1;\n', 'export const a = 2;\n'), move('src/a.ts', 'lib/a.ts', 'export const a = 2;\n')]);
    assert.equal(path.dirname(seen[0]!), path.join(root, '.software-maker', 'tmp'));
    assert.deepEqual(seen.slice(1, 2), ['a.ts'], 'nothing but the file itself in its folder while it is written');
    assert.equal(await readFile(path.join(root, '.software-maker', '.gitignore'), 'utf8'), '*\n');
    assert.deepEqual(await readdir(path.join(root, '.software-maker', 'tmp')), []);
  });

  it('removes the temp files of a process that died, and only those', async () => {
    const dir = path.join(root, '.software-maker', 'tmp');
    await mkdir(dir, { recursive: true });
    const dead = await deadPid();
    await writeFile(path.join(dir, `${dead}.0123456789ab.a.ts.sm-tmp`), 'x');
    await writeFile(path.join(dir, `1.0123456789ab.a.ts.sm-tmp`), 'pid 1 is alive');
    await writeFile(path.join(dir, 'notes.txt'), 'not ours');
    await applier.apply([]);
    assert.deepEqual((await readdir(dir)).sort(), ['1.0123456789ab.a.ts.sm-tmp', 'notes.txt']);
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
