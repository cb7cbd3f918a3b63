import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { commitTask, currentBranch, GitModeError, isDirty, isRepo, prepareRunBranch, runBranchName, uncommittedChanges } from '../../src/core/checkpoints/gitMode';

function git(cwd: string, args: string[]): string {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('GIT_')));
  return execFileSync('git', args, { cwd, encoding: 'utf8', env });
}

async function put(root: string, rel: string, text: string): Promise<void> {
  await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
  await writeFile(path.join(root, rel), text);
}

function rejectsWith(code: string, pattern?: RegExp) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof GitModeError, `expected a GitModeError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (pattern) assert.match(error.message, pattern);
    return true;
  };
}

describe('git mode', function () {
  this.timeout(60_000);
  let base: string;
  let root: string;
  let remote: string;

  beforeEach(async () => {
    base = await realpath(await mkdtemp(path.join(tmpdir(), 'sm-gitmode-')));
    root = path.join(base, 'repo');
    remote = path.join(base, 'remote.git');
    await mkdir(root);
    git(base, ['init', '-q', '--bare', remote]);
    git(root, ['init', '-q', '-b', 'main']);
    git(root, ['config', 'user.name', 'Repo User']);
    git(root, ['config', 'user.email', 'user@example.com']);
    git(root, ['config', 'commit.gpgSign', 'false']);
    await put(root, '.gitignore', '.software-maker/\nbuild/\n');
    await put(root, 'src/calc.js', 'exports.add = (a, b) => a - b;\n');
    await put(root, 'README.md', '# calc\n');
    git(root, ['add', '.']);
    git(root, ['commit', '-q', '-m', 'initial']);
    git(root, ['remote', 'add', 'origin', remote]);
    git(root, ['push', '-q', 'origin', 'main']);
  });

  afterEach(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it('tells a repository from a plain folder, and reads the branch', async () => {
    assert.equal(await isRepo(root), true);
    assert.equal(await isRepo(path.join(root, 'src')), true);
    const plain = path.join(base, 'plain');
    await mkdir(plain);
    assert.equal(await isRepo(plain), false);
    assert.equal(await currentBranch(root), 'main');
    git(root, ['checkout', '-q', '--detach']);
    assert.equal(await currentBranch(root), undefined);
  });

  it('names the branch after the goal and the run', () => {
    assert.equal(runBranchName('Fix add() so the tests pass!', '20250101-120000Z-a1b2c3'), 'software-maker/fix-add-so-the-tests-pass-a1b2c3');
    assert.equal(runBranchName('Übersetze die Fehlermeldungen ins Französische und prüfe alles noch einmal', 'r-1', 'sm/'), 'sm/ubersetze-die-fehlermeldungen-ins-r1');
    assert.equal(runBranchName('???', 'abc'), 'software-maker/run-abc');
  });

  it('creates and switches to the run branch from HEAD, and is idempotent for the same run', async () => {
    const head = git(root, ['rev-parse', 'HEAD']).trim();
    const made = await prepareRunBranch({ root, runId: '20250101-120000Z-a1b2c3', goal: 'Fix add()' });
    assert.deepEqual(made, { branch: 'software-maker/fix-add-a1b2c3', base: head, created: true });
    assert.equal(git(root, ['symbolic-ref', '--short', 'HEAD']).trim(), 'software-maker/fix-add-a1b2c3');
    assert.equal(git(root, ['rev-parse', 'HEAD']).trim(), head);
    // Resuming the run on its branch (after a commit) reports the original base.
    await put(root, 'src/calc.js', 'exports.add = (a, b) => a + b;\n');
    await commitTask({ root, taskId: 't1', title: 'Fix add()', files: ['src/calc.js'] });
    const again = await prepareRunBranch({ root, runId: '20250101-120000Z-a1b2c3', goal: 'Fix add()' });
    assert.deepEqual(again, { branch: 'software-maker/fix-add-a1b2c3', base: head, created: false });
    // The branch exists but the user switched away: refused, not switched behind their back.
    git(root, ['checkout', '-q', 'main']);
    await assert.rejects(prepareRunBranch({ root, runId: '20250101-120000Z-a1b2c3', goal: 'Fix add()' }), rejectsWith('branch-exists', /git switch software-maker\/fix-add-a1b2c3/));
  });

  it('refuses a dirty tree unless allowed, listing the changes; its own .software-maker folder does not count', async () => {
    await put(root, '.software-maker/runs/r/events.jsonl', '{}\n');
    await rm(path.join(root, '.gitignore'));
    git(root, ['commit', '-q', '-am', 'stop ignoring']);
    assert.equal(await isDirty(root), false, '.software-maker alone is not dirty');

    await put(root, 'README.md', '# calc, edited\n');
    await put(root, 'notes.txt', 'mine\n');
    assert.equal(await isDirty(root), true);
    assert.deepEqual(await uncommittedChanges(root), [' M README.md', '?? notes.txt']);
    await assert.rejects(prepareRunBranch({ root, runId: 'r1', goal: 'g' }), (error: unknown) => {
      rejectsWith('dirty', /uncommitted changes \( M README\.md, \?\? notes\.txt\).*Commit or stash/)(error);
      assert.deepEqual((error as GitModeError).paths, [' M README.md', '?? notes.txt']);
      return true;
    });
    assert.equal(git(root, ['symbolic-ref', '--short', 'HEAD']).trim(), 'main', 'still on main');

    const made = await prepareRunBranch({ root, runId: 'r1', goal: 'g', allowDirty: true });
    assert.equal(made.created, true);
    assert.equal(await readFile(path.join(root, 'README.md'), 'utf8'), '# calc, edited\n', 'the user changes stay, uncommitted');
    assert.equal(await isDirty(root), true);
  });

  it('refuses a repository without commits and one in the middle of a merge', async () => {
    const empty = path.join(base, 'empty');
    await mkdir(empty);
    git(empty, ['init', '-q']);
    await assert.rejects(prepareRunBranch({ root: empty, runId: 'r', goal: 'g' }), rejectsWith('no-commits', /Make a first commit/));
    const plain = path.join(base, 'plain');
    await mkdir(plain);
    await assert.rejects(prepareRunBranch({ root: plain, runId: 'r', goal: 'g' }), rejectsWith('not-a-repo'));
    await writeFile(path.join(root, '.git', 'MERGE_HEAD'), `${git(root, ['rev-parse', 'HEAD']).trim()}\n`);
    await assert.rejects(prepareRunBranch({ root, runId: 'r', goal: 'g' }), rejectsWith('operation-in-progress', /merge is in progress/));
  });

  it("commits exactly the task's files with the task's message, leaving the user's other changes as they were", async () => {
    await prepareRunBranch({ root, runId: '20250101-120000Z-a1b2c3', goal: 'Fix add()' });
    await put(root, 'lib/util.js', 'exports.u = 1;\n');
    git(root, ['add', 'lib/util.js']);
    git(root, ['commit', '-q', '-m', 'user commit with util']);
    // The user's own work in progress: a staged change and an unstaged change, not the task's.
    await put(root, 'staged.txt', 'user staged\n');
    git(root, ['add', 'staged.txt']);
    await put(root, 'README.md', '# calc (user, unstaged)\n');
    // The task: a modification, a new file in a new folder, a rename (both paths), an ignored file.
    await put(root, 'src/calc.js', 'exports.add = (a, b) => a + b;\n');
    await put(root, 'test/calc.test.js', 'require("../src/calc");\n');
    await put(root, 'build/out.js', 'built\n');
    await rm(path.join(root, 'lib/util.js'));
    await put(root, 'lib/helpers.js', 'exports.u = 1;\n');

    const result = await commitTask({
      root,
      taskId: 't1',
      title: 'Fix add()',
      body: 'add() subtracted; it adds now.',
      runId: '20250101-120000Z-a1b2c3',
      files: ['src/calc.js', 'test/calc.test.js', 'lib/util.js', 'lib/helpers.js', 'build/out.js', 'src/calc.js'],
    });
    assert.ok(result.commit);
    assert.deepEqual(result.files.sort(), ['lib/helpers.js', 'lib/util.js', 'src/calc.js', 'test/calc.test.js']);
    assert.deepEqual(result.skipped.map((s) => s.path), ['build/out.js']);
    assert.equal(git(root, ['log', '-1', '--format=%B']).trim(), 't1: Fix add()\n\nadd() subtracted; it adds now.\n\nSoftware-Maker-Run: 20250101-120000Z-a1b2c3\nSoftware-Maker-Task: t1');
    assert.equal(git(root, ['log', '-1', '--format=%an <%ae>']).trim(), 'Repo User <user@example.com>');
    assert.equal(git(root, ['show', 'HEAD:src/calc.js']), 'exports.add = (a, b) => a + b;\n');
    // The user's staged file is still staged (not committed), their unstaged edit still unstaged.
    assert.equal(git(root, ['status', '--porcelain=v1']), ' M README.md\nA  staged.txt\n');
    assert.equal(git(root, ['diff', '--cached', '--name-only']), 'staged.txt\n');

    // Nothing changed since: nothing to commit, no empty commit.
    const head = git(root, ['rev-parse', 'HEAD']).trim();
    assert.deepEqual(await commitTask({ root, taskId: 't2', title: 'Nothing', files: ['src/calc.js'] }), { commit: undefined, files: [], skipped: [] });
    assert.equal(git(root, ['rev-parse', 'HEAD']).trim(), head);
  });

  it('commits tasks that finish at the same time one after another, each commit with its own files and named by its own task', async () => {
    await prepareRunBranch({ root, runId: '20250101-120000Z-a1b2c3', goal: 'Parallel tasks' });
    const tasks = ['t1', 't2', 't3', 't4', 't5', 't6'];
    for (const id of tasks) await put(root, `src/${id}.js`, `exports.${id} = true;\n`);
    const results = await Promise.all(tasks.map((id) => commitTask({ root, taskId: id, title: `Add ${id}`, files: [`src/${id}.js`] })));
    results.forEach((result, index) => {
      const id = tasks[index]!;
      assert.ok(result.commit, `a commit of ${id}`);
      assert.deepEqual(result.files, [`src/${id}.js`]);
      assert.equal(git(root, ['show', '--name-only', '--format=%s', result.commit]).trim(), `${id}: Add ${id}\n\nsrc/${id}.js`);
    });
    assert.equal(new Set(results.map((result) => result.commit)).size, tasks.length, 'six distinct commits');
    assert.equal(git(root, ['rev-list', '--count', 'main..HEAD']).trim(), String(tasks.length));
  });

  it('commits paths relative to the workspace when the workspace is a subfolder of the repository, and refuses paths outside it', async () => {
    const ws = path.join(root, 'src');
    await put(root, 'src/calc.js', 'exports.add = (a, b) => a + b;\n');
    await put(root, 'src/*.js', 'a file with a star in its name\n');
    const result = await commitTask({ root: ws, taskId: 't1', title: 'Fix', files: ['calc.js', '*.js'] });
    assert.deepEqual(result.files.sort(), ['src/*.js', 'src/calc.js']);
    await assert.rejects(commitTask({ root: ws, taskId: 't1', title: 'x', files: ['../README.md'] }), rejectsWith('invalid-path'));
    await assert.rejects(commitTask({ root, taskId: 't1', title: 'x', files: ['.git/config'] }), rejectsWith('invalid-path'));
  });

  it("runs the user's hooks, and reports a refusing hook with its output, leaving the files uncommitted and the index as it was", async () => {
    const trace = path.join(base, 'trace');
    await put(root, '.git/hooks/pre-commit', `#!/bin/sh\necho pre-commit >> "${trace}"\nif grep -q FORBIDDEN src/calc.js; then echo "lint: FORBIDDEN found" >&2; exit 1; fi\n`);
    await chmod(path.join(root, '.git/hooks/pre-commit'), 0o755);
    await put(root, 'src/calc.js', 'exports.add = (a, b) => a + b;\n');
    await commitTask({ root, taskId: 't1', title: 'Fix add()', files: ['src/calc.js'] });
    assert.equal(await readFile(trace, 'utf8'), 'pre-commit\n', 'the hook ran');

    const head = git(root, ['rev-parse', 'HEAD']).trim();
    await put(root, 'src/calc.js', 'FORBIDDEN\n');
    await put(root, 'src/new.js', 'new\n');
    await assert.rejects(commitTask({ root, taskId: 't2', title: 'Bad', files: ['src/calc.js', 'src/new.js'] }), rejectsWith('hook-failed', /pre-commit hook refused the commit[\s\S]*lint: FORBIDDEN found/));
    assert.equal(git(root, ['rev-parse', 'HEAD']).trim(), head);
    assert.equal(git(root, ['status', '--porcelain=v1']), ' M src/calc.js\n?? src/new.js\n', 'new file back to untracked, nothing staged');
  });

  it("passes no provider key to the user's hooks", async () => {
    const dump = path.join(base, 'hook-env');
    await put(root, '.git/hooks/pre-commit', `#!/bin/sh\nenv > "${dump}"\n`);
    await chmod(path.join(root, '.git/hooks/pre-commit'), 0o755);
    const saved = process.env.ANTHROPIC_API_KEY;
    process.env.ANTHROPIC_API_KEY = 'sk-ant-hook-test-cccccccccccccccc';
    try {
      await put(root, 'src/calc.js', 'exports.add = (a, b) => a + b;\n');
      await commitTask({ root, taskId: 't1', title: 'Fix add()', files: ['src/calc.js'] });
    } finally {
      if (saved === undefined) delete process.env.ANTHROPIC_API_KEY;
      else process.env.ANTHROPIC_API_KEY = saved;
    }
    const env = await readFile(dump, 'utf8');
    assert.match(env, /^PATH=/m, 'the hook ran with an environment');
    assert.ok(!env.includes('ANTHROPIC_API_KEY') && !env.includes('sk-ant-hook-test'), 'the key reached the hook');
  });

  it('never pushes: the remote is untouched by a run', async () => {
    const remoteRefs = (): string => git(remote, ['for-each-ref', '--format=%(refname) %(objectname)']);
    const before = remoteRefs();
    const remoteFiles = async (): Promise<string[]> => (await readdir(remote, { recursive: true })).map(String).sort();
    const filesBefore = await remoteFiles();
    await prepareRunBranch({ root, runId: 'r-abcdef', goal: 'Fix add()' });
    await put(root, 'src/calc.js', 'exports.add = (a, b) => a + b;\n');
    await commitTask({ root, taskId: 't1', title: 'Fix add()', files: ['src/calc.js'] });
    await put(root, 'README.md', '# calc\n\nFixed.\n');
    await commitTask({ root, taskId: 't2', title: 'Docs', files: ['README.md'] });
    assert.equal(remoteRefs(), before);
    assert.deepEqual(await remoteFiles(), filesBefore);
    assert.equal(git(root, ['log', '--format=%s', 'main..HEAD']), 't2: Docs\nt1: Fix add()\n');
    assert.equal(git(root, ['for-each-ref', '--format=%(refname)', 'refs/remotes/']), 'refs/remotes/origin/main\n');
  });
});
