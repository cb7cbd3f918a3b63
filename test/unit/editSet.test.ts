import { strict as assert } from 'node:assert';
import { mkdir, mkdtemp, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { z } from 'zod';
import { buildTools } from '../../src/core/agents/tools';
import { sha256 } from '../../src/core/edits/hunks';
import { describeChange, EditRejected, EditSet, toWrite, type StagedFile } from '../../src/core/edits/editSet';
import { NodeEditApplier } from '../../src/core/edits/nodeApplier';
import { NodeWorkspace } from '../../src/core/workspace/nodeWorkspace';

function rejected(pattern: RegExp) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof EditRejected, `expected EditRejected, got ${String(error)}`);
    assert.match(error.message, pattern);
    return true;
  };
}

describe('EditSet deletes and renames', () => {
  let root: string;
  let edits: EditSet;
  const calc = 'exports.add = (a, b) => a - b;\n';

  beforeEach(async () => {
    root = await realpath(await mkdtemp(path.join(tmpdir(), 'sm-editset-')));
    await mkdir(path.join(root, 'src'));
    await writeFile(path.join(root, 'src', 'calc.js'), calc);
    await writeFile(path.join(root, 'src', 'old.js'), 'old\n');
    edits = new EditSet(await NodeWorkspace.open(root));
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('stages a delete with the hash of the text it deletes', async () => {
    const { file } = await edits.stageDelete('src/old.js');
    assert.deepEqual(file, { path: 'src/old.js', kind: 'delete', before: 'old\n', after: '', baseHash: sha256('old\n') });
    assert.deepEqual(describeChange(file!), { path: 'src/old.js', kind: 'delete', baseHash: sha256('old\n'), newHash: sha256(''), added: 0, removed: 1 });
    assert.deepEqual(toWrite(file!), { path: 'src/old.js', kind: 'delete', baseHash: sha256('old\n'), newText: '', newHash: sha256('') });
    assert.deepEqual(edits.changed(), [file]);
  });

  it('refuses to delete a missing file or a path outside the workspace, and to edit a file it deletes', async () => {
    await assert.rejects(edits.stageDelete('src/missing.js'), rejected(/does not exist, so it cannot be deleted/));
    await assert.rejects(edits.stageDelete('../x.js'), rejected(/outside the workspace/));
    await assert.rejects(edits.stageDelete('.git/config'), rejected(/may not read or edit/));
    await edits.stageDelete('src/old.js');
    await assert.rejects(edits.stage({ path: 'src/old.js', content: 'new\n' }), rejected(/staged for deletion in this turn/));
    await assert.rejects(edits.stage({ path: 'src/old.js', hunks: [{ search: 'old', replace: 'new' }] }), rejected(/staged for deletion/));
  });

  it('deleting a file this turn modified deletes it as it is on disk; deleting a file this turn created un-stages it', async () => {
    await edits.stage({ path: 'src/calc.js', hunks: [{ search: 'a - b', replace: 'a + b' }] });
    const { file, notes } = await edits.stageDelete('src/calc.js');
    assert.equal(file?.before, calc);
    assert.equal(file?.baseHash, sha256(calc));
    assert.match(notes[0], /changes staged for src\/calc\.js in this turn are dropped/);

    await edits.stage({ path: 'src/new.js', content: 'new\n' });
    const dropped = await edits.stageDelete('src/new.js');
    assert.equal(dropped.file, undefined);
    assert.match(dropped.notes[0], /no longer proposed/);
    assert.deepEqual(
      edits.changed().map((f) => [f.kind, f.path]),
      [['delete', 'src/calc.js']],
    );
  });

  it('stages a rename with the hash of its source; later hunks go to the new path', async () => {
    const { file } = await edits.stageRename('src/calc.js', 'lib/calc.js');
    assert.deepEqual(file, { path: 'lib/calc.js', kind: 'rename', from: 'src/calc.js', before: calc, after: calc, baseHash: sha256(calc) });
    await edits.stage({ path: 'lib/calc.js', hunks: [{ search: 'a - b', replace: 'a + b' }] });
    await assert.rejects(edits.stage({ path: 'src/calc.js', hunks: [{ search: 'a - b', replace: 'a + b' }] }), rejected(/renamed to lib\/calc\.js in this turn; propose changes to lib\/calc\.js/));
    const [staged] = edits.changed();
    assert.deepEqual(describeChange(staged), { path: 'lib/calc.js', kind: 'rename', from: 'src/calc.js', baseHash: sha256(calc), newHash: sha256(calc.replace('a - b', 'a + b')), added: 1, removed: 1 });
    assert.deepEqual(toWrite(staged), { path: 'lib/calc.js', kind: 'rename', from: 'src/calc.js', baseHash: sha256(calc), newText: calc.replace('a - b', 'a + b'), newHash: sha256(calc.replace('a - b', 'a + b')) });
  });

  it('keeps changes staged before the rename, follows chains, and cancels a rename back', async () => {
    await edits.stage({ path: 'src/calc.js', hunks: [{ search: 'a - b', replace: 'a + b' }] });
    await edits.stageRename('src/calc.js', 'a.js');
    const { file, notes } = await edits.stageRename('a.js', 'b.js');
    assert.equal(file.kind === 'rename' && file.from, 'src/calc.js');
    assert.equal(file.after, calc.replace('a - b', 'a + b'));
    assert.match(notes[0], /was itself renamed from src\/calc\.js/);
    const back = await edits.stageRename('b.js', 'src/calc.js');
    assert.equal(back.file.kind, 'modify');
    assert.deepEqual(
      edits.changed().map((f) => [f.kind, f.path]),
      [['modify', 'src/calc.js']],
    );
  });

  it('moves a new file of this turn as a new file, and deletes the source when the target of a rename is deleted', async () => {
    await edits.stage({ path: 'draft.js', content: 'draft\n' });
    const moved = await edits.stageRename('draft.js', 'src/final.js');
    assert.equal(moved.file.kind, 'create');
    await edits.stageRename('src/old.js', 'src/renamed.js');
    const { file } = await edits.stageDelete('src/renamed.js');
    assert.deepEqual(file, { path: 'src/old.js', kind: 'delete', before: 'old\n', after: '', baseHash: sha256('old\n') });
    assert.deepEqual(
      edits.changed().map((f) => [f.kind, f.path]).sort(),
      [
        ['create', 'src/final.js'],
        ['delete', 'src/old.js'],
      ],
    );
  });

  it('refuses a rename onto an existing or staged path, from a missing or deleted file, and to itself', async () => {
    await assert.rejects(edits.stageRename('src/calc.js', 'src/old.js'), rejected(/already exists; a rename never overwrites/));
    await assert.rejects(edits.stageRename('src/calc.js', 'src'), rejected(/exists and cannot be replaced/));
    await assert.rejects(edits.stageRename('src/missing.js', 'x.js'), rejected(/does not exist, so it cannot be renamed/));
    await assert.rejects(edits.stageRename('src/calc.js', './src/calc.js'), rejected(/cannot be renamed to itself/));
    await edits.stage({ path: 'new.js', content: 'n\n' });
    await assert.rejects(edits.stageRename('src/calc.js', 'new.js'), rejected(/already has a change staged/));
    await edits.stageDelete('src/old.js');
    await assert.rejects(edits.stageRename('src/old.js', 'y.js'), rejected(/staged for deletion/));
    await assert.rejects(edits.stageRename('src/calc.js', '.software-maker/x.js'), rejected(/may not read or edit/));
  });

  it('lands through the applier: deletes and renames of a turn, then already-applied on a second try', async () => {
    await edits.stageDelete('src/old.js');
    await edits.stageRename('src/calc.js', 'lib/calc.js');
    await edits.stage({ path: 'lib/calc.js', hunks: [{ search: 'a - b', replace: 'a + b' }] });
    const writes = edits.changed().map(toWrite);
    const applier = new NodeEditApplier(root);
    assert.deepEqual(
      (await applier.apply(writes)).map((o) => o.status),
      ['written', 'written'],
    );
    await assert.rejects(stat(path.join(root, 'src/old.js')), { code: 'ENOENT' });
    await assert.rejects(stat(path.join(root, 'src/calc.js')), { code: 'ENOENT' });
    assert.equal(await readFile(path.join(root, 'lib/calc.js'), 'utf8'), calc.replace('a - b', 'a + b'));
    assert.deepEqual(
      (await applier.apply(writes)).map((o) => o.status),
      ['already-applied', 'already-applied'],
    );
  });

  it('offers delete_file and rename_file tools next to propose_edit, and only with an edit set', async () => {
    const workspace = await NodeWorkspace.open(root);
    const tools = buildTools({ workspace, edits }, z.object({ summary: z.string() }));
    assert.ok(tools.propose_edit && tools.delete_file && tools.rename_file);
    assert.equal(buildTools({ workspace }, z.object({})).delete_file, undefined);
    const options = { toolCallId: 'c1', messages: [], context: undefined };
    const run = async (name: string, input: unknown): Promise<unknown> => {
      const execute = tools[name].execute;
      assert.ok(execute);
      return execute(input, options);
    };
    assert.equal(await run('rename_file', { from: 'src/calc.js', to: 'lib/calc.js' }), 'Staged rename of src/calc.js to lib/calc.js for review.');
    assert.equal(await run('delete_file', { path: 'src/old.js' }), 'Staged deletion of src/old.js for review.');
    assert.equal(await run('propose_edit', { path: 'lib/calc.js', hunks: [{ search: 'a - b', replace: 'a + b' }] }), 'Staged rename of src/calc.js to lib/calc.js for review.');
    await assert.rejects(Promise.resolve(run('delete_file', { path: 'nope.js' })), /does not exist/);
    const kinds = edits.changed().map((f: StagedFile) => f.kind).sort();
    assert.deepEqual(kinds, ['delete', 'rename']);
  });
});

describe('EditSet under concurrent tool calls (one model reply, several calls at once)', () => {
  let root: string;
  let edits: EditSet;
  const calc = 'function add(a, b) {\n  return a - b;\n}\n\nfunction multiply(a, b) {\n  return a * b;\n}\n';

  beforeEach(async () => {
    root = await realpath(await mkdtemp(path.join(tmpdir(), 'sm-editset-race-')));
    await mkdir(path.join(root, 'src'));
    await writeFile(path.join(root, 'src', 'calc.js'), calc);
    edits = new EditSet(await NodeWorkspace.open(root));
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('stages two edits of one file started together in order: both hunks are kept', async () => {
    await Promise.all([
      edits.stage({ path: 'src/calc.js', hunks: [{ search: 'a - b', replace: 'a + b' }] }),
      edits.stage({ path: 'src/calc.js', hunks: [{ search: 'a * b', replace: 'b * a' }] }),
      edits.stage({ path: 'src/calc.js', hunks: [{ search: 'function add', replace: 'function plus' }] }),
    ]);
    assert.equal(edits.changed().length, 1);
    assert.equal(edits.changed()[0]!.after, calc.replace('a - b', 'a + b').replace('a * b', 'b * a').replace('function add', 'function plus'));
    assert.equal(edits.changed()[0]!.before, calc);
  });

  it('an edit and a rename started together: the edit moves with the file', async () => {
    await Promise.all([edits.stage({ path: 'src/calc.js', hunks: [{ search: 'a - b', replace: 'a + b' }] }), edits.stageRename('src/calc.js', 'lib/calc.js')]);
    assert.deepEqual(
      edits.changed().map((file) => [file.kind, file.path, file.after]),
      [['rename', 'lib/calc.js', calc.replace('a - b', 'a + b')]],
    );
  });

  it('a rename and then an edit of the old path started together: the edit gets a clear error, nothing is dropped silently', async () => {
    const [renamed, edited] = await Promise.allSettled([edits.stageRename('src/calc.js', 'lib/calc.js'), edits.stage({ path: 'src/calc.js', hunks: [{ search: 'a - b', replace: 'a + b' }] })]);
    assert.equal(renamed.status, 'fulfilled');
    assert.ok(edited.status === 'rejected' && edited.reason instanceof EditRejected && /renamed to lib\/calc\.js in this turn/.test(edited.reason.message), String((edited as PromiseRejectedResult).reason));
    assert.deepEqual(edits.changed().map((file) => [file.kind, file.path, file.kind === 'rename' ? file.from : undefined]), [['rename', 'lib/calc.js', 'src/calc.js']]);
  });

  it('a delete and an edit of one file started together: the later call is refused or says what it dropped', async () => {
    const [deleted, edited] = await Promise.allSettled([edits.stageDelete('src/calc.js'), edits.stage({ path: 'src/calc.js', hunks: [{ search: 'a - b', replace: 'a + b' }] })]);
    assert.equal(deleted.status, 'fulfilled');
    assert.ok(edited.status === 'rejected' && /staged for deletion in this turn/.test(String(edited.reason)));
    assert.deepEqual(edits.changed().map((file) => file.kind), ['delete']);

    const fresh = new EditSet(await NodeWorkspace.open(root));
    const [edit, drop] = await Promise.all([fresh.stage({ path: 'src/calc.js', hunks: [{ search: 'a - b', replace: 'a + b' }] }), fresh.stageDelete('src/calc.js')]);
    assert.equal(edit.file.kind, 'modify');
    assert.match(drop.notes.join(' '), /changes staged for src\/calc\.js in this turn are dropped/);
    assert.deepEqual(fresh.changed().map((file) => [file.kind, file.before]), [['delete', calc]]);
  });

  it('a refused call does not stop the ones queued behind it', async () => {
    const results = await Promise.allSettled([
      edits.stage({ path: 'src/calc.js', hunks: [{ search: 'not in the file', replace: 'x' }] }),
      edits.stage({ path: 'src/calc.js', hunks: [{ search: 'a - b', replace: 'a + b' }] }),
    ]);
    assert.deepEqual(results.map((result) => result.status), ['rejected', 'fulfilled']);
    assert.equal(edits.changed()[0]!.after, calc.replace('a - b', 'a + b'));
  });
});

describe('EditSet within the task’s planned file scope', () => {
  let root: string;

  beforeEach(async () => {
    root = await realpath(await mkdtemp(path.join(tmpdir(), 'sm-editset-scope-')));
    await mkdir(path.join(root, 'src', 'deep'), { recursive: true });
    await mkdir(path.join(root, 'test'));
    await writeFile(path.join(root, 'src', 'calc.js'), 'a - b\n');
    await writeFile(path.join(root, 'src', 'deep', 'x.js'), 'x\n');
    await writeFile(path.join(root, 'test', 'calc.test.js'), 't\n');
    await writeFile(path.join(root, 'package.json'), '{}\n');
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const scoped = async (scope: string[]): Promise<EditSet> => new EditSet(await NodeWorkspace.open(root), scope);

  it('refuses edits, new files, deletes and renames outside the scope, naming the scope and why', async () => {
    const edits = await scoped(['src/calc.js', 'test/*.test.js']);
    const outside = rejected(/package\.json is outside this task's file scope \(src\/calc\.js, test\/\*\.test\.js\).*scheduled.*disjoint/);
    await assert.rejects(edits.stage({ path: 'package.json', hunks: [{ search: '{}', replace: '{"x":1}' }] }), outside);
    await assert.rejects(edits.stage({ path: 'src/new.js', content: 'n\n' }), rejected(/src\/new\.js is outside this task's file scope/));
    await assert.rejects(edits.stageDelete('package.json'), outside);
    await assert.rejects(edits.stageRename('src/calc.js', 'lib/calc.js'), rejected(/lib\/calc\.js is outside this task's file scope/));
    await assert.rejects(edits.stageRename('package.json', 'src/calc2.js'), outside);
    await assert.rejects(edits.stage({ path: 'test/deep/a.test.js', content: 'n\n' }), rejected(/outside this task's file scope/));
    assert.equal(edits.size, 0);
  });

  it('allows what the scope names: exact paths, globs, and folders with everything under them', async () => {
    const edits = await scoped(['src/calc.js', 'test/*.test.js', 'src/deep/', './docs']);
    await edits.stage({ path: 'src/calc.js', hunks: [{ search: 'a - b', replace: 'a + b' }] });
    await edits.stage({ path: 'test/new.test.js', content: 'n\n' });
    await edits.stageRename('src/deep/x.js', 'src/deep/more/y.js');
    await edits.stage({ path: 'docs/api/index.md', content: '# API\n' });
    await edits.stageDelete('test/calc.test.js');
    assert.equal(edits.size, 5);
  });

  it('an empty scope allows anywhere (such a task runs alone)', async () => {
    const edits = await scoped([]);
    await edits.stage({ path: 'package.json', hunks: [{ search: '{}', replace: '{"x":1}' }] });
    assert.equal(edits.size, 1);
  });
});
