// The EditApplier port in VS Code: accepted edits land through one WorkspaceEdit (so the user can
// undo them like any other edit) and are then saved, because the tests that gate the task read the
// disk. A file whose current text is not the text the proposal was made against is never
// overwritten, deleted or moved: that is a conflict, reported per file, and nothing is written for
// it. A document with unsaved changes is never edited and never saved: its conflict says `unsaved`,
// so the engine does not rebase onto text the user has not saved. A read-only file is never
// replaced, deleted or moved, and a folder that refuses new files is a conflict of that file.
import { constants } from 'node:fs';
import { access, readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ContentWrite, DeleteWrite, EditApplier, FileWrite, RenameWrite, WriteOutcome } from '../core';
import { nearestExisting, resolveInWorkspace, sha256 } from '../core/node';
import { afterApplyHook } from './testHooks';
import { findOpenDocument } from './vscodeWorkspace';
import { messageOf } from '../shared/wording';

const BOM = '\uFEFF';

/** A file that passed its checks and is part of the WorkspaceEdit. */
type PlannedWrite =
  | { kind: 'content'; file: ContentWrite; rel: string; uri: vscode.Uri; document?: vscode.TextDocument }
  | { kind: 'delete'; file: DeleteWrite; rel: string; uri: vscode.Uri }
  | { kind: 'rename'; file: RenameWrite; rel: string; uri: vscode.Uri; fromRel: string; fromUri: vscode.Uri; sourceText: string };

/** What a file holds right now, as the user sees it. */
interface CurrentText {
  /** Undefined when the file does not exist (and no document with unsaved changes shows it). */
  text: string | undefined;
  /** The open document, when there is one. */
  document?: vscode.TextDocument;
  /** The open document has unsaved changes; `text` is the document's text. */
  dirty: boolean;
  /** The disk's text (undefined when the file is not on disk). */
  disk: string | undefined;
}

export class VscodeEditApplier implements EditApplier {
  /** `root` is the real path of the workspace folder (Workspace.root). */
  constructor(private readonly root: string) {}

  async apply(files: FileWrite[]): Promise<WriteOutcome[]> {
    const outcomes = new Map<FileWrite, WriteOutcome>();
    const planned: PlannedWrite[] = [];
    const edit = new vscode.WorkspaceEdit();
    for (const file of files) {
      const { abs, rel } = await resolveInWorkspace(this.root, file.path);
      const uri = vscode.Uri.file(abs);
      const current = await this.currentText(rel, abs);
      let decided: WriteOutcome | PlannedWrite;
      if (file.kind === 'delete') decided = checkDelete(file, rel, uri, current);
      else if (file.kind === 'rename') {
        const from = await resolveInWorkspace(this.root, file.from);
        decided = checkRename(file, rel, uri, current, from.rel, vscode.Uri.file(from.abs), await this.currentText(from.rel, from.abs));
      } else decided = await checkContent(file, rel, uri, current);
      if (!('status' in decided)) decided = (await unwritable(decided)) ?? decided;
      if ('status' in decided) {
        outcomes.set(file, decided);
        continue;
      }
      addToEdit(edit, decided);
      planned.push(decided);
    }

    if (planned.length > 0) {
      // applyEdit refuses edits to documents that changed since this extension host last saw them.
      const applied = await vscode.workspace.applyEdit(edit);
      for (const write of planned) {
        outcomes.set(
          write.file,
          applied
            ? await this.finishWrite(write)
            : conflict(
                write.file,
                `VS Code refused the edit of ${write.rel} (it changed while the edit was being applied, or the disk refused a file of it); nothing was written. Look at the file and its folder's permissions, and ask for the change again.`,
              ),
        );
      }
    }
    const result = files.map((file) => outcomes.get(file) ?? conflict(file, `${file.path} was not processed.`));
    await afterApplyHook(result);
    return result;
  }

  /** An open document's unsaved text wins; otherwise the disk (a clean document equals the disk). */
  private async currentText(rel: string, abs: string): Promise<CurrentText> {
    const document = findOpenDocument(this.root, rel);
    const disk = await readDisk(abs);
    if (document?.isDirty) return { text: document.getText(), document, dirty: true, disk };
    return { text: disk, document, dirty: false, disk };
  }

  /** Saves what the edit changed and checks the disk holds it. */
  private async finishWrite(write: PlannedWrite): Promise<WriteOutcome> {
    const { file, rel } = write;
    if (write.kind === 'delete') {
      if ((await readDisk(write.uri.fsPath)) !== undefined) {
        throw new Error(`VS Code accepted the deletion of ${rel} but the file is still on disk; check the folder's permissions and resume the run.`);
      }
      return { path: file.path, status: 'written' };
    }
    if (write.kind === 'rename') {
      // The moved document (open if the source was, or because the content edit opened it) is ours
      // to save: the source had no unsaved changes, or the rename would have been refused.
      const moved = findOpenDocument(this.root, rel);
      if (moved?.isDirty && !(await moved.save())) {
        throw new Error(`${write.fromRel} was moved to ${rel} but could not be saved; save ${rel} by hand (or undo the edit) and resume the run.`);
      }
      if ((await readDisk(write.fromUri.fsPath)) !== undefined || (await readDisk(write.uri.fsPath)) === undefined) {
        throw new Error(`VS Code accepted the move of ${write.fromRel} to ${rel} but the disk does not show it; check the folder's permissions and resume the run.`);
      }
      return { path: file.path, status: 'written' };
    }
    if (write.document && !(await saveDocument(write.document))) {
      throw new Error(`The edit of ${rel} was applied in the editor but could not be saved; save the file by hand (or undo the edit) and resume the run.`);
    }
    if ((await readDisk(write.uri.fsPath)) === undefined) {
      throw new Error(`The edit of ${rel} was applied but the file is not on disk; check the folder's permissions and resume the run.`);
    }
    // A save participant (format on save, trim whitespace) may have changed the text: that is the
    // user's setting and still a successful write, so it is not an error.
    return { path: file.path, status: 'written' };
  }
}

/**
 * Saves a document our edit made dirty. With auto-save on (code-server's default), VS Code starts its
 * own save right after the edit and refuses ours while that one runs ("refusing to save()
 * recursively"); its save lands the same text, so wait for it and try again before giving up.
 */
async function saveDocument(document: vscode.TextDocument): Promise<boolean> {
  for (let attempt = 1; attempt <= 5; attempt++) {
    const saved = await Promise.resolve(document.save()).catch(() => false);
    if (!document.isDirty) return true;
    if (saved) continue;
    await savedOrTimeout(document, 200 * attempt);
    if (!document.isDirty) return true;
  }
  return false;
}

function savedOrTimeout(document: vscode.TextDocument, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      subscription.dispose();
      resolve();
    };
    const timer = setTimeout(done, ms);
    const subscription = vscode.workspace.onDidSaveTextDocument((saved) => {
      if (saved === document) done();
    });
  });
}

/** Create or modify: 'already-applied', 'conflict', or the planned write. */
async function checkContent(file: ContentWrite, rel: string, uri: vscode.Uri, current: CurrentText): Promise<WriteOutcome | PlannedWrite> {
  if (current.text === undefined) {
    if (file.kind === 'create') return { kind: 'content', file, rel, uri };
    return conflict(file, `${rel} was deleted since the edit was proposed; nothing was written. Restore the file or ask for the change again.`);
  }
  const currentHash = sha256(current.text);
  if (currentHash === file.newHash) {
    // Applied before (e.g. before a crash). An editor holding the text unsaved is left alone: saving
    // it is the user's call, and until then the tests would not see the change.
    if (current.dirty && current.disk !== current.text) {
      return conflict(file, `${rel} holds the proposed text in the editor, but it is not saved; save the file (or revert it), then resume or ask for the change again.`, true);
    }
    return { path: file.path, status: 'already-applied' };
  }
  if (current.dirty) return unsavedConflict(file, rel);
  if (file.kind === 'create') {
    return conflict(file, `${rel} was created by someone else since the edit was proposed; nothing was written. Delete or rename it, or ask for the change again.`);
  }
  if (currentHash !== file.baseHash) {
    return conflict(file, `${rel} changed on disk since the edit was proposed; nothing was written. Look at the file and ask for the change again.`);
  }
  const document = current.document ?? (await vscode.workspace.openTextDocument(uri));
  if (!current.document && !sameText(document.getText(), current.text)) {
    return conflict(file, `${rel} changed on disk while the edit was being prepared; nothing was written. Look at the file and ask for the change again.`);
  }
  return { kind: 'content', file, rel, uri, document };
}

function checkDelete(file: DeleteWrite, rel: string, uri: vscode.Uri, current: CurrentText): WriteOutcome | PlannedWrite {
  if (current.dirty) return unsavedConflict(file, rel, 'deleted');
  if (current.text === undefined) return { path: file.path, status: 'already-applied' };
  if (sha256(current.text) !== file.baseHash) {
    return conflict(file, `${rel} changed since its deletion was proposed; it was not deleted. Look at the file and decide again.`);
  }
  return { kind: 'delete', file, rel, uri };
}

function checkRename(
  file: RenameWrite,
  rel: string,
  uri: vscode.Uri,
  target: CurrentText,
  fromRel: string,
  fromUri: vscode.Uri,
  source: CurrentText,
): WriteOutcome | PlannedWrite {
  if (fromRel === rel) return conflict(file, `The rename of ${rel} names the same path as source and target; nothing was moved. Ask for the change again.`);
  if (source.dirty) return unsavedConflict(file, fromRel, 'moved');
  if (target.dirty) return unsavedConflict(file, rel, 'replaced by the rename');
  if (source.text === undefined && target.text !== undefined && sha256(target.text) === file.newHash) {
    return { path: file.path, status: 'already-applied' };
  }
  if (target.text !== undefined) {
    return conflict(file, `${rel} already exists, and a rename never overwrites a file; nothing was moved. Move or delete ${rel} first, or ask for another target.`);
  }
  if (source.text === undefined) {
    return conflict(file, `${fromRel} was deleted or moved since the rename was proposed; nothing was written. Ask for ${rel} to be created if it is still needed.`);
  }
  if (sha256(source.text) !== file.baseHash) {
    return conflict(file, `${fromRel} changed since the rename was proposed; nothing was moved. Look at the file and ask for the rename again.`);
  }
  return { kind: 'rename', file, rel, uri, fromRel, fromUri, sourceText: source.text };
}

function addToEdit(edit: vscode.WorkspaceEdit, write: PlannedWrite): void {
  switch (write.kind) {
    case 'delete':
      // Only the file: never a folder, never recursively; a file gone meanwhile makes applyEdit fail.
      edit.deleteFile(write.uri, { recursive: false, ignoreIfNotExists: false });
      return;
    case 'rename': {
      edit.renameFile(write.fromUri, write.uri, { overwrite: false, ignoreIfExists: false });
      const sourceText = stripBom(write.sourceText);
      const newText = stripBom(write.file.newText);
      if (newText !== sourceText) {
        // The text edit applies to the moved file, in the same undoable edit as the move.
        edit.set(write.uri, [vscode.TextEdit.replace(fullRangeOf(sourceText), newText), vscode.TextEdit.setEndOfLine(endOfLineOf(newText, vscode.EndOfLine.LF))]);
      }
      return;
    }
    case 'content': {
      const { document } = write;
      if (!document) {
        // A new file: created with its contents in one step, which undo removes again.
        edit.createFile(write.uri, { contents: Buffer.from(write.file.newText, 'utf8') });
        return;
      }
      const newText = document.getText().startsWith(BOM) || !write.file.newText.startsWith(BOM) ? write.file.newText : write.file.newText.slice(1);
      const fullRange = new vscode.Range(document.positionAt(0), document.positionAt(document.getText().length));
      // The document's line endings follow the proposed text, so the saved bytes are the proposed bytes.
      edit.set(write.uri, [vscode.TextEdit.replace(fullRange, newText), vscode.TextEdit.setEndOfLine(endOfLineOf(newText, document.eol))]);
    }
  }
}

/**
 * A planned write the disk would refuse, or the user marked read-only: a conflict naming what to make
 * writable. Undefined when it may go ahead.
 */
async function unwritable(write: PlannedWrite): Promise<WriteOutcome | undefined> {
  const what = write.kind === 'delete' ? 'the deletion' : write.kind === 'rename' ? 'the rename' : 'the edit';
  // The file itself, when it exists: a rename over it (what saving does) would replace a read-only file.
  const existing = write.kind === 'rename' ? write.fromUri : write.kind === 'content' && !write.document ? undefined : write.uri;
  if (existing && (await isReadOnlyFile(existing))) {
    return conflict(write.file, `${write.kind === 'rename' ? write.fromRel : write.rel} is read-only; make it writable to let ${what} land. Nothing was written.`);
  }
  // The folder that gets (or loses) an entry: a new file, a delete, both ends of a move.
  const folders = write.kind === 'rename' ? [write.fromUri, write.uri] : write.kind === 'content' && write.document ? [] : [write.uri];
  for (const uri of folders) {
    const folder = await nearestExisting(path.dirname(uri.fsPath));
    try {
      await access(folder, constants.W_OK);
    } catch (error) {
      return conflict(write.file, `${write.rel}: the folder ${folder} is read-only for VS Code (${messageOf(error)}); make it writable to let ${what} land. Nothing was written.`);
    }
  }
  return undefined;
}

/** No write bit at all (which root would ignore), not writable for this process, or read-only to VS Code. */
async function isReadOnlyFile(uri: vscode.Uri): Promise<boolean> {
  try {
    if (((await stat(uri.fsPath)).mode & 0o222) === 0) return true;
    await access(uri.fsPath, constants.W_OK);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ENOENT';
  }
  const permissions = (await Promise.resolve(vscode.workspace.fs.stat(uri)).catch(() => undefined))?.permissions ?? 0;
  return (permissions & vscode.FilePermission.Readonly) !== 0;
}

async function readDisk(abs: string): Promise<string | undefined> {
  try {
    return await readFile(abs, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}

/** Text as the editor holds it equals the disk text apart from a byte order mark the editor strips. */
function sameText(documentText: string, diskText: string): boolean {
  return documentText === diskText || BOM + documentText === diskText;
}

function stripBom(text: string): string {
  return text.startsWith(BOM) ? text.slice(1) : text;
}

/** The range of all of `text` as a document holding it numbers lines (any line terminator). */
function fullRangeOf(text: string): vscode.Range {
  const lines = text.split(/\r\n|\r|\n/);
  return new vscode.Range(0, 0, lines.length - 1, lines[lines.length - 1].length);
}

function endOfLineOf(text: string, fallback: vscode.EndOfLine): vscode.EndOfLine {
  if (text.includes('\r\n')) return vscode.EndOfLine.CRLF;
  if (text.includes('\n')) return vscode.EndOfLine.LF;
  return fallback;
}

function unsavedConflict(file: FileWrite, rel: string, what = 'changed'): WriteOutcome {
  return conflict(
    file,
    `${rel} has unsaved changes in the editor, so it was not ${what}; nothing was written and your text is untouched. Save or revert your changes, then ask for the change again.`,
    true,
  );
}

function conflict(file: FileWrite, detail: string, unsaved = false): WriteOutcome {
  return unsaved ? { path: file.path, status: 'conflict', detail, unsaved: true } : { path: file.path, status: 'conflict', detail };
}
