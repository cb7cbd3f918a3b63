// The EditApplier port in VS Code: accepted edits land through one WorkspaceEdit (so the user can
// undo them like any other edit) and are then saved, because the tests that gate the task read the
// disk. A file whose current text is not the text the proposal was made against is never
// overwritten: that is a conflict, reported per file, and nothing is written for it.
import { readFile } from 'node:fs/promises';
import * as vscode from 'vscode';
import { sha256 } from '../core/edits/hunks';
import type { EditApplier, FileWrite, WriteOutcome } from '../core/ports';
import { resolveInWorkspace } from '../core/workspace/paths';
import { findOpenDocument } from './vscodeWorkspace';

const BOM = '\uFEFF';

/** A file that passed the base check and goes into the WorkspaceEdit. */
interface PlannedWrite {
  file: FileWrite;
  rel: string;
  uri: vscode.Uri;
  /** The document that is replaced; undefined for a new file (created with its contents). */
  document?: vscode.TextDocument;
}

/** What a file holds right now, as the user sees it. */
interface CurrentText {
  /** Undefined when the file does not exist (and no document shows it). */
  text: string | undefined;
  /** The open document, when there is one. */
  document?: vscode.TextDocument;
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
      const decided = await checkAgainstBase(file, current);
      if (decided) {
        outcomes.set(file, decided);
        continue;
      }
      if (current.text === undefined) {
        // A new file: created with its contents in one step, which undo removes again.
        edit.createFile(uri, { contents: Buffer.from(file.newText, 'utf8') });
        planned.push({ file, rel, uri });
        continue;
      }
      const document = current.document ?? (await vscode.workspace.openTextDocument(uri));
      if (!current.document && !sameText(document.getText(), current.text)) {
        outcomes.set(file, conflict(file, `${rel} changed on disk while the edit was being prepared; nothing was written. Look at the file and ask for the change again.`));
        continue;
      }
      const newText = document.getText().startsWith(BOM) || !file.newText.startsWith(BOM) ? file.newText : file.newText.slice(1);
      const fullRange = new vscode.Range(document.positionAt(0), document.positionAt(document.getText().length));
      // The document's line endings follow the proposed text, so the saved bytes are the proposed bytes.
      edit.set(uri, [vscode.TextEdit.replace(fullRange, newText), vscode.TextEdit.setEndOfLine(endOfLineOf(newText, document.eol))]);
      planned.push({ file, rel, uri, document });
    }

    if (planned.length > 0) {
      // applyEdit refuses edits to documents that changed since this extension host last saw them.
      const applied = await vscode.workspace.applyEdit(edit);
      for (const write of planned) {
        outcomes.set(
          write.file,
          applied
            ? await saveAndVerify(write)
            : conflict(write.file, `VS Code refused the edit of ${write.rel} (it changed while the edit was being applied); nothing was written. Look at the file and ask for the change again.`),
        );
      }
    }
    return files.map((file) => outcomes.get(file) ?? conflict(file, `${file.path} was not processed.`));
  }

  /** An open document's unsaved text wins; otherwise the disk (a clean document equals the disk). */
  private async currentText(rel: string, abs: string): Promise<CurrentText> {
    const document = findOpenDocument(this.root, rel);
    if (document?.isDirty) return { text: document.getText(), document };
    return { text: await readDisk(abs), document };
  }
}

/** 'already-applied', 'conflict', or undefined when the file may be written. */
async function checkAgainstBase(file: FileWrite, current: CurrentText): Promise<WriteOutcome | undefined> {
  if (current.text === undefined) {
    if (file.kind === 'create') return undefined;
    return conflict(file, `${file.path} was deleted since the edit was proposed; nothing was written. Restore the file or ask for the change again.`);
  }
  const currentHash = sha256(current.text);
  if (currentHash === file.newHash) {
    // Applied before (e.g. before a crash) but maybe not saved: save so the tests see it.
    if (current.document?.isDirty && !(await current.document.save())) {
      throw new Error(`${file.path} already holds the proposed text but could not be saved; save it by hand and resume the run.`);
    }
    return { path: file.path, status: 'already-applied' };
  }
  if (file.kind === 'create') {
    return conflict(file, `${file.path} was created by someone else since the edit was proposed; nothing was written. Delete or rename it, or ask for the change again.`);
  }
  if (currentHash !== file.baseHash) {
    const where = current.document?.isDirty ? 'has unsaved changes in the editor' : 'changed on disk';
    return conflict(file, `${file.path} ${where} since the edit was proposed; nothing was written. Save or revert your changes, then ask for the change again.`);
  }
  return undefined;
}

async function saveAndVerify(write: PlannedWrite): Promise<WriteOutcome> {
  if (write.document) {
    const saved = await write.document.save();
    if (!saved || write.document.isDirty) {
      throw new Error(`The edit of ${write.rel} was applied in the editor but could not be saved; save the file by hand (or undo the edit) and resume the run.`);
    }
  }
  const onDisk = await readDisk(write.uri.fsPath);
  if (onDisk === undefined) {
    throw new Error(`The edit of ${write.rel} was applied but the file is not on disk; check the folder's permissions and resume the run.`);
  }
  // A save participant (format on save, trim whitespace) may have changed the text: that is the
  // user's setting and still a successful write, so it is not an error.
  return { path: write.file.path, status: 'written' };
}

async function readDisk(abs: string): Promise<string | undefined> {
  try {
    return await readFile(abs, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Text as the editor holds it equals the disk text apart from a byte order mark the editor strips. */
function sameText(documentText: string, diskText: string): boolean {
  return documentText === diskText || BOM + documentText === diskText;
}

function endOfLineOf(text: string, fallback: vscode.EndOfLine): vscode.EndOfLine {
  if (text.includes('\r\n')) return vscode.EndOfLine.CRLF;
  if (text.includes('\n')) return vscode.EndOfLine.LF;
  return fallback;
}

function conflict(file: FileWrite, detail: string): WriteOutcome {
  return { path: file.path, status: 'conflict', detail };
}
