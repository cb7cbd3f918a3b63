import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, readlink, realpath, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CheckpointError, ShadowCheckpoints } from '../../src/core/checkpoints/shadowGit';

/** git in a user's repository, as the user would run it (their GIT_* variables left out). */
function userGit(cwd: string, args: string[]): string {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('GIT_')));
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: { ...env, GIT_AUTHOR_NAME: 'User', GIT_AUTHOR_EMAIL: 'user@example.com', GIT_COMMITTER_NAME: 'User', GIT_COMMITTER_EMAIL: 'user@example.com' },
  });
}

function shadowGit(storage: string, args: string[]): string {
  return execFileSync('git', ['--git-dir', storage, ...args], { encoding: 'utf8' });
}

async function put(root: string, rel: string, text: string | Buffer): Promise<void> {
  await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
  await writeFile(path.join(root, rel), text);
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/** Every file under a folder (relative path → sha256 of its bytes), following nothing. */
async function treeHash(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (rel: string): Promise<void> => {
    for (const entry of await readdir(path.join(dir, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) await walk(child);
      else out.set(child, createHash('sha256').update(await readFile(path.join(dir, child))).digest('hex'));
    }
  };
  await walk('');
  return out;
}

describe('ShadowCheckpoints', function () {
  this.timeout(120_000);
  let base: string;
  let root: string;
  let storage: string;

  beforeEach(async () => {
    base = await realpath(await mkdtemp(path.join(tmpdir(), 'sm-cp-')));
    root = path.join(base, 'ws');
    storage = path.join(base, 'storage', 'checkpoints');
    await mkdir(root);
  });

  afterEach(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it("works whatever editor, pager or askpass program the user's shell sets", async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { EDITOR: 'vim', VISUAL: 'vi', PAGER: 'less', GIT_EDITOR: 'nano', GIT_PAGER: 'more', SSH_ASKPASS: '/bin/false', GIT_SSH_COMMAND: 'ssh -v' });
    try {
      await put(root, 'a.txt', 'one\n');
      const store = await ShadowCheckpoints.open({ workspaceRoot: root, storageDir: storage });
      const checkpoint = await store.create('with a busy environment', { runId: 'r' });
      await put(root, 'a.txt', 'two\n');
      await store.restore(checkpoint.id);
      assert.equal(await readFile(path.join(root, 'a.txt'), 'utf8'), 'one\n');
    } finally {
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
      Object.assign(process.env, saved);
    }
  });

  it('creates and restores checkpoints in a folder that is not a git repository', async () => {
    await put(root, 'src/a.ts', 'export const a = 1;\n');
    await put(root, 'src/crlf.txt', 'one\r\ntwo\r\n');
    await put(root, 'bin/run.sh', '#!/bin/sh\necho hi\n');
    await chmod(path.join(root, 'bin/run.sh'), 0o755);
    await put(root, 'data.bin', Buffer.from([0, 1, 2, 255, 13, 10]));
    const cp = await ShadowCheckpoints.open({ workspaceRoot: root, storageDir: storage });
    const first = await cp.create('before t1', { runId: 'run-1', taskId: 't1' });
    assert.match(first.commit, /^[0-9a-f]{40}$/);
    assert.equal(first.label, 'before t1');
    assert.equal(first.taskId, 't1');
    assert.ok(!Number.isNaN(Date.parse(first.createdAt)));

    // The agent's task: a modification, a deletion, a new file in a new folder, a mode change.
    await put(root, 'src/a.ts', 'export const a = 2;\n');
    await rm(path.join(root, 'src/crlf.txt'));
    await put(root, 'src/new/b.ts', 'export const b = 1;\n');
    await chmod(path.join(root, 'bin/run.sh'), 0o644);
    assert.deepEqual((await cp.diffSince(first.id)).sort(), ['bin/run.sh', 'src/a.ts', 'src/crlf.txt', 'src/new/b.ts']);

    const report = await cp.restore(first.id);
    assert.deepEqual(report.restored.sort(), ['bin/run.sh', 'src/a.ts', 'src/crlf.txt']);
    assert.deepEqual(report.deleted, ['src/new/b.ts']);
    assert.deepEqual(report.skipped, []);
    assert.equal(report.unchanged, 1); // data.bin
    assert.equal(await readFile(path.join(root, 'src/a.ts'), 'utf8'), 'export const a = 1;\n');
    assert.deepEqual(await readFile(path.join(root, 'src/crlf.txt')), Buffer.from('one\r\ntwo\r\n'));
    assert.equal((await stat(path.join(root, 'bin/run.sh'))).mode & 0o777, 0o755);
    assert.equal(await exists(path.join(root, 'src/new')), false, 'the folder the removal emptied is gone');
    assert.deepEqual(await cp.diffSince(first.id), []);

    // The safety checkpoint undoes the restore.
    const undo = await cp.restore(report.safety.id);
    assert.deepEqual(undo.restored.sort(), ['bin/run.sh', 'src/a.ts', 'src/new/b.ts']);
    assert.deepEqual(undo.deleted, ['src/crlf.txt']);
    assert.equal(await readFile(path.join(root, 'src/new/b.ts'), 'utf8'), 'export const b = 1;\n');
    assert.equal(await exists(path.join(root, 'src/crlf.txt')), false);

    const listed = await cp.list();
    assert.deepEqual(
      listed.map((c) => c.id),
      [first.id, report.safety.id, undo.safety.id],
    );
    assert.deepEqual(listed[0], first);
  });

  it('restores files with unusual names (spaces, quotes, glob characters, unicode, a newline) and symlinks', async () => {
    const names = ['with space.txt', 'quote"d.txt', '*.ts', '[abc].md', 'ünïcødé 😀.txt', 'line\nbreak.txt', ' leading.txt', '#hash.txt', '!bang.txt'];
    for (const name of names) await put(root, `odd/${name}`, `${name}\n`);
    await put(root, 'target.txt', 'target\n');
    await symlink('target.txt', path.join(root, 'link.txt'));
    const cp = await ShadowCheckpoints.open({ workspaceRoot: root, storageDir: storage });
    const first = await cp.create('start', { runId: 'r' });
    for (const name of names) await put(root, `odd/${name}`, 'changed\n');
    await rm(path.join(root, 'link.txt'));
    await put(root, 'odd/*.new', 'created\n');
    const report = await cp.restore(first.id);
    assert.deepEqual(report.restored.sort(), ['link.txt', ...names.map((n) => `odd/${n}`)].sort());
    assert.deepEqual(report.deleted, ['odd/*.new']);
    for (const name of names) assert.equal(await readFile(path.join(root, 'odd', name), 'utf8'), `${name}\n`);
    assert.equal(await readlink(path.join(root, 'link.txt')), 'target.txt');
  });

  it('restores a file where a folder was created since, and a folder where a file was', async () => {
    await put(root, 'thing', 'a file\n');
    await put(root, 'dir/inner.txt', 'inner\n');
    const cp = await ShadowCheckpoints.open({ workspaceRoot: root, storageDir: storage });
    const first = await cp.create('start', { runId: 'r' });
    await rm(path.join(root, 'thing'));
    await put(root, 'thing/child.txt', 'child\n');
    await rm(path.join(root, 'dir'), { recursive: true });
    await put(root, 'dir', 'now a file\n');
    const report = await cp.restore(first.id);
    assert.deepEqual(report.deleted.sort(), ['dir', 'thing/child.txt']);
    assert.deepEqual(report.restored.sort(), ['dir/inner.txt', 'thing']);
    assert.equal(await readFile(path.join(root, 'thing'), 'utf8'), 'a file\n');
    assert.equal(await readFile(path.join(root, 'dir/inner.txt'), 'utf8'), 'inner\n');
  });

  it('pins every checkpoint with its own ref, so none can be garbage-collected', async () => {
    await put(root, 'a.txt', 'a\n');
    const cp = await ShadowCheckpoints.open({ workspaceRoot: root, storageDir: storage });
    const one = await cp.create('one', { runId: 'r' });
    await put(root, 'a.txt', 'b\n');
    const two = await cp.create('two', { runId: 'r' });
    const refs = shadowGit(storage, ['for-each-ref', '--format=%(refname) %(objectname)', 'refs/software-maker/checkpoints/']);
    assert.equal(refs, `refs/software-maker/checkpoints/${one.id} ${one.commit}\nrefs/software-maker/checkpoints/${two.id} ${two.commit}\n`);
    shadowGit(storage, ['gc', '--prune=now', '--quiet']);
    assert.equal(shadowGit(storage, ['cat-file', '-t', one.commit]).trim(), 'commit');
    assert.equal(shadowGit(storage, ['show', `${one.commit}:a.txt`]), 'a\n');
    assert.equal(shadowGit(storage, ['log', '--format=%an <%ae>', '-1', two.commit]).trim(), 'Software Maker <checkpoints@software-maker.invalid>');
    // A second instance (a later session) sees the same checkpoints.
    const reopened = await ShadowCheckpoints.open({ workspaceRoot: root, storageDir: storage });
    assert.deepEqual(await reopened.list(), [one, two]);
  });

  it('skips node_modules, .software-maker, ignored files and the storage folder, and restore leaves them alone', async () => {
    await put(root, '.gitignore', 'dist/\n*.log\n');
    await put(root, 'pkg/.gitignore', 'secret.txt\n');
    await put(root, 'src/a.ts', 'a\n');
    await put(root, 'node_modules/lib/index.js', 'module.exports = 1;\n');
    await put(root, '.software-maker/runs/r/events.jsonl', '{}\n');
    await put(root, 'dist/out.js', 'built\n');
    await put(root, 'debug.log', 'log 1\n');
    await put(root, 'pkg/secret.txt', 'secret 1\n');
    const inside = path.join(root, '.cache', 'sm-checkpoints');
    const cp = await ShadowCheckpoints.open({ workspaceRoot: root, storageDir: inside });
    const first = await cp.create('start', { runId: 'r' });
    const files = shadowGit(inside, ['ls-tree', '-r', '--name-only', first.commit]).trim().split('\n');
    assert.deepEqual(files.sort(), ['.gitignore', 'pkg/.gitignore', 'src/a.ts']);

    await put(root, 'node_modules/lib/index.js', 'module.exports = 2;\n');
    await put(root, 'node_modules/new.js', 'new\n');
    await put(root, 'dist/out.js', 'built 2\n');
    await put(root, 'debug.log', 'log 2\n');
    await put(root, 'pkg/secret.txt', 'secret 2\n');
    await put(root, '.software-maker/runs/r/events.jsonl', '{}\n{}\n');
    await put(root, 'src/a.ts', 'changed\n');
    const report = await cp.restore(first.id);
    assert.deepEqual(report.restored, ['src/a.ts']);
    assert.deepEqual(report.deleted, []);
    assert.equal(await readFile(path.join(root, 'node_modules/lib/index.js'), 'utf8'), 'module.exports = 2;\n');
    assert.equal(await readFile(path.join(root, 'node_modules/new.js'), 'utf8'), 'new\n');
    assert.equal(await readFile(path.join(root, 'dist/out.js'), 'utf8'), 'built 2\n');
    assert.equal(await readFile(path.join(root, 'debug.log'), 'utf8'), 'log 2\n');
    assert.equal(await readFile(path.join(root, 'pkg/secret.txt'), 'utf8'), 'secret 2\n');
    assert.equal(await readFile(path.join(root, '.software-maker/runs/r/events.jsonl'), 'utf8'), '{}\n{}\n');
  });

  it('leaves a file that became ignored after the checkpoint as it is, and reports it', async () => {
    await put(root, 'config.env', 'A=1\n');
    const cp = await ShadowCheckpoints.open({ workspaceRoot: root, storageDir: storage });
    const first = await cp.create('start', { runId: 'r' });
    await put(root, '.gitignore', 'config.env\n');
    await put(root, 'config.env', 'A=2\n');
    const report = await cp.restore(first.id);
    assert.deepEqual(report.skipped.map((s) => s.path), ['config.env']);
    assert.deepEqual(report.deleted, ['.gitignore']);
    assert.equal(await readFile(path.join(root, 'config.env'), 'utf8'), 'A=2\n');
  });

  it('keeps bytes exact whatever the workspace .gitattributes say (eol, filters)', async () => {
    await put(root, '.gitattributes', '* text=auto eol=crlf\n*.txt filter=nonexistent\n');
    await put(root, 'lf.txt', 'a\nb\n');
    await put(root, 'crlf.md', 'a\r\nb\r\n');
    const cp = await ShadowCheckpoints.open({ workspaceRoot: root, storageDir: storage });
    const first = await cp.create('start', { runId: 'r' });
    await put(root, 'lf.txt', 'changed\n');
    await put(root, 'crlf.md', 'changed\n');
    await cp.restore(first.id);
    assert.deepEqual(await readFile(path.join(root, 'lf.txt')), Buffer.from('a\nb\n'));
    assert.deepEqual(await readFile(path.join(root, 'crlf.md')), Buffer.from('a\r\nb\r\n'));
  });

  it('never touches the user repository: HEAD, index, refs, stash, status, config and hooks stay byte for byte', async () => {
    userGit(root, ['init', '-q', '-b', 'main']);
    await put(root, '.gitignore', 'ignored.txt\n');
    await put(root, 'a.txt', 'a1\n');
    await put(root, 'b.txt', 'b1\n');
    userGit(root, ['add', '.']);
    userGit(root, ['commit', '-q', '-m', 'first']);
    // A user hook that would leave a trace if any git command ran it.
    await put(root, '.git/hooks/post-checkout', `#!/bin/sh\necho ran >> "${path.join(base, 'hook-trace')}"\n`);
    await chmod(path.join(root, '.git/hooks/post-checkout'), 0o755);
    await put(root, '.git/hooks/pre-commit', `#!/bin/sh\necho ran >> "${path.join(base, 'hook-trace')}"\n`);
    await chmod(path.join(root, '.git/hooks/pre-commit'), 0o755);
    // A stash, a staged change, an unstaged change, an untracked file and an ignored file.
    await put(root, 'a.txt', 'a-stashed\n');
    userGit(root, ['stash', '-q']);
    await put(root, 'a.txt', 'a-staged\n');
    userGit(root, ['add', 'a.txt']);
    await put(root, 'b.txt', 'b-unstaged\n');
    await put(root, 'untracked.txt', 'u\n');
    await put(root, 'ignored.txt', 'i\n');

    const snapshot = async (): Promise<Record<string, string>> => ({
      status: userGit(root, ['status', '--porcelain=v1', '--untracked-files=all']),
      stash: userGit(root, ['stash', 'list']),
      refs: userGit(root, ['for-each-ref', '--format=%(refname) %(objectname)']),
      head: await readFile(path.join(root, '.git/HEAD'), 'utf8'),
      dotGit: JSON.stringify([...(await treeHash(path.join(root, '.git')))].sort()),
    });
    const before = await snapshot();

    const cp = await ShadowCheckpoints.open({ workspaceRoot: root, storageDir: storage });
    const first = await cp.create('start', { runId: 'r' });
    const tree = shadowGit(storage, ['ls-tree', '-r', '--name-only', first.commit]).trim().split('\n').sort();
    // The working tree as it is (staged and unstaged text alike), never .git, never ignored files.
    assert.deepEqual(tree, ['.gitignore', 'a.txt', 'b.txt', 'untracked.txt']);
    assert.equal(shadowGit(storage, ['show', `${first.commit}:a.txt`]), 'a-staged\n');

    await put(root, 'b.txt', 'agent change\n');
    await put(root, 'new.txt', 'agent file\n');
    const report = await cp.restore(first.id);
    assert.deepEqual(report.restored, ['b.txt']);
    assert.deepEqual(report.deleted, ['new.txt']);

    assert.deepEqual(await snapshot(), before);
    assert.equal(await exists(path.join(base, 'hook-trace')), false, 'no user hook ran');
    assert.equal(await readFile(path.join(root, 'ignored.txt'), 'utf8'), 'i\n');
  });

  it('leaves nested repositories (submodule-like folders) out instead of adding them as gitlinks', async () => {
    await put(root, 'top.txt', 'top\n');
    await put(root, 'vendor/lib/file.txt', 'nested 1\n');
    userGit(path.join(root, 'vendor/lib'), ['init', '-q']);
    userGit(path.join(root, 'vendor/lib'), ['add', '.']);
    userGit(path.join(root, 'vendor/lib'), ['commit', '-q', '-m', 'nested']);
    const nestedBefore = JSON.stringify([...(await treeHash(path.join(root, 'vendor/lib/.git')))].sort());

    const cp = await ShadowCheckpoints.open({ workspaceRoot: root, storageDir: storage });
    const first = await cp.create('start', { runId: 'r' });
    const entries = shadowGit(storage, ['ls-tree', '-r', first.commit]);
    assert.doesNotMatch(entries, /160000/, 'no gitlink');
    assert.deepEqual(shadowGit(storage, ['ls-tree', '-r', '--name-only', first.commit]).trim().split('\n'), ['top.txt']);

    await put(root, 'vendor/lib/file.txt', 'nested 2\n');
    await put(root, 'top.txt', 'top 2\n');
    const second = await cp.create('later', { runId: 'r' });
    assert.doesNotMatch(shadowGit(storage, ['ls-tree', '-r', second.commit]), /160000/);
    const report = await cp.restore(first.id);
    assert.deepEqual(report.restored, ['top.txt']);
    assert.equal(await readFile(path.join(root, 'vendor/lib/file.txt'), 'utf8'), 'nested 2\n');
    assert.equal(JSON.stringify([...(await treeHash(path.join(root, 'vendor/lib/.git')))].sort()), nestedBefore);
  });

  it('ignores the GIT_* variables of the environment it runs in', async () => {
    userGit(root, ['init', '-q']);
    await put(root, 'a.txt', 'a\n');
    const saved = { GIT_DIR: process.env.GIT_DIR, GIT_INDEX_FILE: process.env.GIT_INDEX_FILE, GIT_WORK_TREE: process.env.GIT_WORK_TREE };
    process.env.GIT_DIR = path.join(root, '.git');
    process.env.GIT_INDEX_FILE = path.join(root, '.git', 'index');
    process.env.GIT_WORK_TREE = base;
    try {
      const cp = await ShadowCheckpoints.open({ workspaceRoot: root, storageDir: storage });
      const first = await cp.create('start', { runId: 'r' });
      assert.equal(shadowGit(storage, ['show', `${first.commit}:a.txt`]), 'a\n');
    } finally {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
    assert.equal(await exists(path.join(root, '.git', 'index')), false, "the user's index was not created");
  });

  it("ignores the user's global git configuration: hooks, signing, line-ending conversion", async () => {
    const home = path.join(base, 'home');
    const hooks = path.join(base, 'global-hooks');
    for (const hook of ['post-checkout', 'pre-commit', 'post-commit', 'reference-transaction']) {
      await put(hooks, hook, `#!/bin/sh\necho ${hook} >> "${path.join(base, 'hook-trace')}"\n`);
      await chmod(path.join(hooks, hook), 0o755);
    }
    await put(home, '.gitconfig', `[core]\n\thooksPath = ${hooks}\n\tautocrlf = true\n[commit]\n\tgpgSign = true\n[user]\n\tsigningKey = DOESNOTEXIST\n`);
    await put(root, 'crlf.txt', 'a\r\nb\r\n');
    await put(root, 'lf.txt', 'a\nb\n');
    const saved = { HOME: process.env.HOME, XDG_CONFIG_HOME: process.env.XDG_CONFIG_HOME };
    process.env.HOME = home;
    process.env.XDG_CONFIG_HOME = path.join(home, '.config');
    try {
      const cp = await ShadowCheckpoints.open({ workspaceRoot: root, storageDir: storage });
      const first = await cp.create('start', { runId: 'r' });
      await put(root, 'crlf.txt', 'x\n');
      await put(root, 'lf.txt', 'x\n');
      await cp.restore(first.id);
    } finally {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
    assert.equal(await exists(path.join(base, 'hook-trace')), false, 'no global hook ran');
    assert.deepEqual(await readFile(path.join(root, 'crlf.txt')), Buffer.from('a\r\nb\r\n'));
    assert.deepEqual(await readFile(path.join(root, 'lf.txt')), Buffer.from('a\nb\n'));
  });

  it('refuses a storage folder inside .git or equal to the workspace, and an unknown checkpoint id, with typed errors', async () => {
    await mkdir(path.join(root, '.git'));
    await assert.rejects(ShadowCheckpoints.open({ workspaceRoot: root, storageDir: path.join(root, '.git', 'sm') }), (e: unknown) => e instanceof CheckpointError && e.code === 'invalid-storage' && /\.git/.test(e.message));
    await assert.rejects(ShadowCheckpoints.open({ workspaceRoot: root, storageDir: root }), (e: unknown) => e instanceof CheckpointError && e.code === 'invalid-storage');
    const cp = await ShadowCheckpoints.open({ workspaceRoot: root, storageDir: storage });
    await assert.rejects(cp.restore('nope'), (e: unknown) => e instanceof CheckpointError && e.code === 'not-found' && /list the checkpoints/.test(e.message));
    await assert.rejects(cp.diffSince('../x'), (e: unknown) => e instanceof CheckpointError && e.code === 'not-found');
  });

  it('serialises concurrent calls on one instance', async () => {
    await put(root, 'a.txt', 'a\n');
    const cp = await ShadowCheckpoints.open({ workspaceRoot: root, storageDir: storage });
    const made = await Promise.all(Array.from({ length: 5 }, (_, i) => cp.create(`c${i}`, { runId: 'r' })));
    assert.equal(new Set(made.map((c) => c.id)).size, 5);
    assert.equal((await cp.list()).length, 5);
  });

  it('stays fast on a workspace of 20,000 files (timing printed)', async () => {
    for (let d = 0; d < 200; d++) {
      const dir = path.join(root, 'src', `pkg${d}`);
      await mkdir(dir, { recursive: true });
      await Promise.all(Array.from({ length: 100 }, (_, f) => writeFile(path.join(dir, `file${f}.ts`), `export const v${d}_${f} = ${d * 100 + f};\n// ${'x'.repeat(200)}\n`)));
    }
    // A heavy node_modules that must not be hashed.
    for (let d = 0; d < 50; d++) {
      const dir = path.join(root, 'node_modules', `dep${d}`);
      await mkdir(dir, { recursive: true });
      await Promise.all(Array.from({ length: 100 }, (_, f) => writeFile(path.join(dir, `m${f}.js`), 'module.exports = 1;\n')));
    }
    const cp = await ShadowCheckpoints.open({ workspaceRoot: root, storageDir: storage });
    let t0 = performance.now();
    const first = await cp.create('first', { runId: 'r' });
    const firstMs = performance.now() - t0;
    for (let i = 0; i < 10; i++) await writeFile(path.join(root, 'src', `pkg${i}`, 'file0.ts'), `changed ${i}\n`);
    t0 = performance.now();
    await cp.create('second', { runId: 'r' });
    const secondMs = performance.now() - t0;
    t0 = performance.now();
    const report = await cp.restore(first.id);
    const restoreMs = performance.now() - t0;
    assert.equal(report.restored.length, 10);
    assert.equal(report.unchanged, 19_990);
    assert.equal(shadowGit(storage, ['ls-tree', '-r', '--name-only', first.commit]).trim().split('\n').length, 20_000);
    console.log(
      `      20,000 files (+5,000 in node_modules): first create ${firstMs.toFixed(0)} ms, next create (10 changed) ${secondMs.toFixed(0)} ms, restore ${restoreMs.toFixed(0)} ms`,
    );
    assert.ok(secondMs < 10_000, `a checkpoint of an unchanged large workspace took ${secondMs} ms`);
  });

  describe('checkpoints before a write (beforeWrite)', () => {
    const fileAtCommit = (commit: string, rel: string) => shadowGit(storage, ['show', `${commit}:${rel}`]);
    const filesAt = (commit: string) => shadowGit(storage, ['ls-tree', '-r', '-z', '--name-only', commit]).split('\0').filter(Boolean).sort();

    it('holds the newest snapshot plus what the run wrote since and the files about to be written, modes included', async () => {
      await put(root, 'a.txt', 'a0\n');
      await put(root, 'b.txt', 'b0\n');
      await put(root, 'bin/run.sh', '#!/bin/sh\n');
      await chmod(path.join(root, 'bin/run.sh'), 0o755);
      const cp = await ShadowCheckpoints.open({ workspaceRoot: root, storageDir: storage });
      const start = await cp.create('start', { runId: 'r' });
      // First landing: a.txt, and a file it creates.
      const first = await cp.beforeWrite('before t1', { runId: 'r', taskId: 't1' }, ['a.txt', 'new.txt']);
      assert.equal(first.deferred, false);
      const c1 = await first.checkpoint;
      assert.deepEqual(filesAt(c1.commit), filesAt(start.commit), 'nothing landed yet: the start tree');
      await put(root, 'a.txt', 'a1\n');
      await put(root, 'new.txt', 'new\n');
      // Second landing deletes b.txt; the first one's files are read as they are now.
      const c2 = await (await cp.beforeWrite('before t2', { runId: 'r', taskId: 't2' }, ['b.txt'])).checkpoint;
      await rm(path.join(root, 'b.txt'));
      const c3 = await (await cp.beforeWrite('before t3', { runId: 'r', taskId: 't3' }, ['a.txt'])).checkpoint;
      assert.equal(fileAtCommit(c2.commit, 'a.txt'), 'a1\n');
      assert.equal(fileAtCommit(c2.commit, 'new.txt'), 'new\n');
      assert.equal(fileAtCommit(c2.commit, 'b.txt'), 'b0\n');
      assert.deepEqual(filesAt(c3.commit), ['a.txt', 'bin/run.sh', 'new.txt']);
      assert.match(shadowGit(storage, ['ls-tree', c3.commit, 'bin/run.sh']), /^100755 /, 'the executable bit is kept');
      assert.deepEqual(
        (await cp.list()).map((c) => c.label),
        ['start', 'before t1', 'before t2', 'before t3'],
      );
      // A rollback to one of them is what a full snapshot would have given.
      await cp.restore(c2.id);
      assert.equal(await readFile(path.join(root, 'a.txt'), 'utf8'), 'a1\n');
      assert.equal(await readFile(path.join(root, 'b.txt'), 'utf8'), 'b0\n');
      assert.equal(await readFile(path.join(root, 'new.txt'), 'utf8'), 'new\n');
    });

    it('on a fresh instance, after a restore and when told the tree changed (a resume), scans instead', async () => {
      await put(root, 'a.txt', 'a0\n');
      const cp = await ShadowCheckpoints.open({ workspaceRoot: root, storageDir: storage });
      await put(root, 'outside.txt', 'made by the user\n');
      const c1 = await (await cp.beforeWrite('before t1', { runId: 'r' }, ['a.txt'])).checkpoint;
      assert.deepEqual(filesAt(c1.commit), ['a.txt', 'outside.txt']);
      // What that landing writes after the scan is read by the next checkpoint.
      await put(root, 'a.txt', 'a1\n');
      const next = await (await cp.beforeWrite('before t1b', { runId: 'r' }, ['outside.txt'])).checkpoint;
      assert.equal(fileAtCommit(next.commit, 'a.txt'), 'a1\n');
      await cp.restore(c1.id);
      await put(root, 'after-restore.txt', 'x\n');
      const c2 = await (await cp.beforeWrite('before t2', { runId: 'r' }, ['a.txt'])).checkpoint;
      assert.deepEqual(filesAt(c2.commit), ['a.txt', 'after-restore.txt', 'outside.txt']);
      // A run resumed after a rest: what the user did meanwhile is scanned in too.
      await put(root, 'while-paused.txt', 'y\n');
      const unscanned = await (await cp.beforeWrite('before t3', { runId: 'r' }, ['a.txt'])).checkpoint;
      assert.ok(!filesAt(unscanned.commit).includes('while-paused.txt'), 'built on the newest checkpoint: no scan');
      cp.forgetBase();
      const c4 = await (await cp.beforeWrite('before t4', { runId: 'r' }, ['a.txt'])).checkpoint;
      assert.ok(filesAt(c4.commit).includes('while-paused.txt'));
    });

    it('a landing during a full snapshot does not wait for it, and the snapshot holds the files as they were when it was asked for', async () => {
      for (let i = 0; i < 300; i++) await put(root, `src/f${i}.txt`, `${i}\n`);
      const cp = await ShadowCheckpoints.open({ workspaceRoot: root, storageDir: storage });
      const start = cp.create('run start', { runId: 'r' });
      const landing = await cp.beforeWrite('before t1', { runId: 'r', taskId: 't1' }, ['src/f7.txt', 'src/created.txt']);
      assert.equal(landing.deferred, true, 'the snapshot was still scanning');
      // The landing writes at once, whatever git is reading.
      await put(root, 'src/f7.txt', 'landed\n');
      await put(root, 'src/created.txt', 'created\n');
      const [started, before] = await Promise.all([start, landing.checkpoint]);
      assert.equal(fileAtCommit(started.commit, 'src/f7.txt'), '7\n');
      assert.ok(!filesAt(started.commit).includes('src/created.txt'));
      assert.equal(fileAtCommit(before.commit, 'src/f7.txt'), '7\n');
      const next = await (await cp.beforeWrite('before t2', { runId: 'r', taskId: 't2' }, ['src/f8.txt'])).checkpoint;
      assert.equal(fileAtCommit(next.commit, 'src/f7.txt'), 'landed\n');
      assert.equal(fileAtCommit(next.commit, 'src/created.txt'), 'created\n');
      assert.deepEqual((await cp.list()).map((c) => c.label), ['run start', 'before t1', 'before t2']);
    });

    it('leaves out what a full snapshot leaves out, and takes unusual names', async () => {
      await put(root, 'a.txt', 'a\n');
      const cp = await ShadowCheckpoints.open({ workspaceRoot: root, storageDir: storage });
      await cp.create('start', { runId: 'r' });
      const odd = ['"quoted.txt', 'line\nbreak.txt', 'back\\slash.txt', 'with space.txt'];
      const c1 = await (await cp.beforeWrite('t1', { runId: 'r' }, [...odd, 'node_modules/x.js'])).checkpoint;
      for (const name of odd) await put(root, name, `${name}\n`);
      await put(root, 'node_modules/x.js', 'x\n');
      const c2 = await (await cp.beforeWrite('t2', { runId: 'r' }, ['a.txt'])).checkpoint;
      assert.deepEqual(filesAt(c1.commit), ['a.txt']);
      assert.deepEqual(filesAt(c2.commit), ['a.txt', ...odd].sort());
      for (const name of odd) assert.equal(fileAtCommit(c2.commit, name), `${name}\n`);
    });
  });
});
