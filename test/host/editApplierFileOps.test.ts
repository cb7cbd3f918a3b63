// VscodeEditApplier in the real extension host: deletes and renames through WorkspaceEdit, the
// `already-applied` answers a resumed run relies on, and conflicts on unsaved editor text (which is
// never overwritten and never saved).
import * as assert from 'node:assert/strict';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { sha256 } from '../../src/core/edits/hunks';
import type { FileWrite } from '../../src/core/ports';
import { VscodeEditApplier } from '../../src/host/editApplier';
import { VscodeWorkspace } from '../../src/host/vscodeWorkspace';

const deleteWrite = (rel: string, baseText: string): FileWrite => ({ path: rel, kind: 'delete', baseHash: sha256(baseText), newText: '', newHash: sha256('') });
const renameWrite = (from: string, to: string, baseText: string, newText: string): FileWrite => ({
  path: to,
  kind: 'rename',
  from,
  baseHash: sha256(baseText),
  newText,
  newHash: sha256(newText),
});
const modifyWrite = (rel: string, baseText: string, newText: string): FileWrite => ({ path: rel, kind: 'modify', baseHash: sha256(baseText), newText, newHash: sha256(newText) });

async function exists(abs: string): Promise<boolean> {
  return stat(abs).then(
    () => true,
    () => false,
  );
}

describe('VscodeEditApplier: deletes, renames and unsaved documents', function () {
  this.timeout(60_000);
  let workspace: VscodeWorkspace;
  let applier: VscodeEditApplier;
  let dir: string;
  const abs = (rel: string): string => path.join(workspace.root, rel);

  /** Opens `rel` in an editor and types `typed` at its start without saving. */
  async function typeUnsaved(rel: string, typed: string): Promise<vscode.TextDocument> {
    const document = await vscode.workspace.openTextDocument(vscode.Uri.file(abs(rel)));
    const editor = await vscode.window.showTextDocument(document);
    assert.ok(await editor.edit((builder) => builder.insert(new vscode.Position(0, 0), typed)));
    assert.equal(document.isDirty, true);
    return document;
  }

  async function revert(document: vscode.TextDocument): Promise<void> {
    await vscode.window.showTextDocument(document);
    await vscode.commands.executeCommand('workbench.action.files.revert');
  }

  before(async () => {
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'The harness must open a workspace folder.');
    workspace = await VscodeWorkspace.open(folder.uri.fsPath);
    applier = new VscodeEditApplier(workspace.root);
    dir = `sm-applier-ops-${Date.now().toString(36)}`;
    await mkdir(abs(dir), { recursive: true });
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await rm(abs(dir), { recursive: true, force: true });
  });

  describe('delete', () => {
    it('removes the file (never empties it) and answers already-applied the second time', async () => {
      const rel = `${dir}/obsolete.js`;
      await writeFile(abs(rel), 'module.exports = 1;\n');

      assert.deepEqual(await applier.apply([deleteWrite(rel, 'module.exports = 1;\n')]), [{ path: rel, status: 'written' }]);
      assert.equal(await exists(abs(rel)), false, 'the file is gone, not emptied');

      assert.deepEqual(await applier.apply([deleteWrite(rel, 'module.exports = 1;\n')]), [{ path: rel, status: 'already-applied' }]);
    });

    it('removes a file that is open in a clean editor', async () => {
      const rel = `${dir}/open-clean.js`;
      await writeFile(abs(rel), 'open\n');
      await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(vscode.Uri.file(abs(rel))));

      assert.deepEqual(await applier.apply([deleteWrite(rel, 'open\n')]), [{ path: rel, status: 'written' }]);
      assert.equal(await exists(abs(rel)), false);
    });

    it('refuses a file that changed since the proposal and leaves it as it is', async () => {
      const rel = `${dir}/changed.js`;
      await writeFile(abs(rel), 'the user changed this\n');

      const [outcome] = await applier.apply([deleteWrite(rel, 'original\n')]);
      assert.equal(outcome.status, 'conflict');
      assert.equal(outcome.status === 'conflict' && outcome.unsaved, undefined, 'a change on disk is not an unsaved change');
      assert.equal(await readFile(abs(rel), 'utf8'), 'the user changed this\n');
    });

    it('refuses a file with unsaved changes: unsaved conflict, document still dirty, disk untouched', async () => {
      const rel = `${dir}/dirty-delete.js`;
      await writeFile(abs(rel), 'keep me\n');
      const document = await typeUnsaved(rel, '// typing\n');
      try {
        const [outcome] = await applier.apply([deleteWrite(rel, 'keep me\n')]);
        assert.equal(outcome.status, 'conflict');
        assert.equal(outcome.status === 'conflict' && outcome.unsaved, true);
        assert.equal(await readFile(abs(rel), 'utf8'), 'keep me\n');
        assert.equal(document.isDirty, true);
        assert.equal(document.getText(), '// typing\nkeep me\n');
      } finally {
        await revert(document);
      }
    });
  });

  describe('rename', () => {
    it('moves a file unchanged, then answers already-applied', async () => {
      const from = `${dir}/old-name.js`;
      const to = `${dir}/moved/new-name.js`;
      await writeFile(abs(from), 'same text\n');

      assert.deepEqual(await applier.apply([renameWrite(from, to, 'same text\n', 'same text\n')]), [{ path: to, status: 'written' }]);
      assert.equal(await exists(abs(from)), false);
      assert.equal(await readFile(abs(to), 'utf8'), 'same text\n');

      assert.deepEqual(await applier.apply([renameWrite(from, to, 'same text\n', 'same text\n')]), [{ path: to, status: 'already-applied' }]);
    });

    it('moves a file with new content in one edit and saves it', async () => {
      const from = `${dir}/util.js`;
      const to = `${dir}/helpers.js`;
      await writeFile(abs(from), 'exports.a = 1;\nexports.b = 2;\n');
      // Open in an editor: the document moves with the file.
      await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(vscode.Uri.file(abs(from))));

      const outcomes = await applier.apply([renameWrite(from, to, 'exports.a = 1;\nexports.b = 2;\n', 'exports.a = 1;\nexports.b = 3;\n')]);

      assert.deepEqual(outcomes, [{ path: to, status: 'written' }]);
      assert.equal(await exists(abs(from)), false);
      assert.equal(await readFile(abs(to), 'utf8'), 'exports.a = 1;\nexports.b = 3;\n');
      const moved = vscode.workspace.textDocuments.find((doc) => doc.uri.fsPath === abs(to));
      assert.equal(moved?.isDirty ?? false, false, 'the moved document is saved');
    });

    it('never overwrites an existing target', async () => {
      const from = `${dir}/a.js`;
      const to = `${dir}/b.js`;
      await writeFile(abs(from), 'a\n');
      await writeFile(abs(to), 'b\n');

      const [outcome] = await applier.apply([renameWrite(from, to, 'a\n', 'a\n')]);
      assert.equal(outcome.status, 'conflict');
      assert.equal(await readFile(abs(from), 'utf8'), 'a\n');
      assert.equal(await readFile(abs(to), 'utf8'), 'b\n');
    });

    it('refuses a source with unsaved changes', async () => {
      const from = `${dir}/dirty-source.js`;
      const to = `${dir}/dirty-target.js`;
      await writeFile(abs(from), 'source\n');
      const document = await typeUnsaved(from, 'typed ');
      try {
        const [outcome] = await applier.apply([renameWrite(from, to, 'source\n', 'source\n')]);
        assert.equal(outcome.status, 'conflict');
        assert.equal(outcome.status === 'conflict' && outcome.unsaved, true);
        assert.equal(await exists(abs(to)), false);
        assert.equal(await readFile(abs(from), 'utf8'), 'source\n');
        assert.equal(document.getText(), 'typed source\n');
        assert.equal(document.isDirty, true);
      } finally {
        await revert(document);
      }
    });
  });

  describe('unsaved documents', () => {
    it('reports unsaved: true for a modify over unsaved text and never saves the document', async () => {
      const rel = `${dir}/typing.js`;
      await writeFile(abs(rel), 'line 1\nline 2\n');
      const document = await typeUnsaved(rel, 'mine\n');
      try {
        const [outcome] = await applier.apply([modifyWrite(rel, 'line 1\nline 2\n', 'line 1\nline two\n')]);
        assert.equal(outcome.status, 'conflict');
        assert.equal(outcome.status === 'conflict' && outcome.unsaved, true);
        assert.equal(await readFile(abs(rel), 'utf8'), 'line 1\nline 2\n');
        assert.equal(document.getText(), 'mine\nline 1\nline 2\n');
        assert.equal(document.isDirty, true, 'still unsaved');
      } finally {
        await revert(document);
      }
    });

    it('does not save an editor that holds the proposed text unsaved (reports it instead)', async () => {
      const rel = `${dir}/same-as-proposal.js`;
      await writeFile(abs(rel), 'b\n');
      const document = await typeUnsaved(rel, 'a\n');
      try {
        const [outcome] = await applier.apply([modifyWrite(rel, 'b\n', 'a\nb\n')]);
        assert.equal(outcome.status, 'conflict');
        assert.equal(outcome.status === 'conflict' && outcome.unsaved, true);
        assert.equal(await readFile(abs(rel), 'utf8'), 'b\n');
        assert.equal(document.isDirty, true);
      } finally {
        await revert(document);
      }
    });

    it('writes the other files of a set when one conflicts on unsaved text', async () => {
      const dirty = `${dir}/set-dirty.js`;
      const clean = `${dir}/set-clean.js`;
      const gone = `${dir}/set-gone.js`;
      await writeFile(abs(dirty), 'x\n');
      await writeFile(abs(clean), 'y\n');
      await writeFile(abs(gone), 'z\n');
      const document = await typeUnsaved(dirty, 'typed\n');
      try {
        const outcomes = await applier.apply([modifyWrite(dirty, 'x\n', 'x2\n'), modifyWrite(clean, 'y\n', 'y2\n'), deleteWrite(gone, 'z\n')]);
        assert.deepEqual(
          outcomes.map((outcome) => [outcome.path, outcome.status, outcome.status === 'conflict' ? outcome.unsaved : undefined]),
          [
            [dirty, 'conflict', true],
            [clean, 'written', undefined],
            [gone, 'written', undefined],
          ],
        );
        assert.equal(await readFile(abs(clean), 'utf8'), 'y2\n');
        assert.equal(await exists(abs(gone)), false);
        assert.equal(document.getText(), 'typed\nx\n');
      } finally {
        await revert(document);
      }
    });
  });

  describe('auto-save', () => {
    // code-server's default, and a common desktop setting: VS Code saves a dirty document on its own
    // right after our edit, and refuses our save() while its own is in flight.
    const files = (): vscode.WorkspaceConfiguration => vscode.workspace.getConfiguration('files');
    before(async () => {
      await files().update('autoSave', 'afterDelay', vscode.ConfigurationTarget.Workspace);
      await files().update('autoSaveDelay', 1, vscode.ConfigurationTarget.Workspace);
    });
    after(async () => {
      await files().update('autoSave', undefined, vscode.ConfigurationTarget.Workspace);
      await files().update('autoSaveDelay', undefined, vscode.ConfigurationTarget.Workspace);
    });

    it('lands edits of open documents while auto-save saves them too', async () => {
      for (let round = 0; round < 8; round++) {
        const rel = `${dir}/autosaved-${round}.js`;
        await writeFile(abs(rel), 'let n = 1;\n');
        await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(vscode.Uri.file(abs(rel))));
        const outcomes = await applier.apply([modifyWrite(rel, 'let n = 1;\n', 'let n = 2;\n')]);
        assert.deepEqual(outcomes, [{ path: rel, status: 'written' }], `round ${round}`);
        assert.equal(await readFile(abs(rel), 'utf8'), 'let n = 2;\n');
      }
    });
  });
});
