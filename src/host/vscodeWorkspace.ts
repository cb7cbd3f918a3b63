// The Workspace port in VS Code: the files on disk, except that a file open in the editor with
// unsaved changes reads as the editor shows it. Agents must propose edits against what the user
// sees, or every proposal on a dirty file would be a conflict when it is applied.
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { SearchHit, Workspace } from '../core';
import { NodeWorkspace, resolveInWorkspace } from '../core/node';

export class VscodeWorkspace implements Workspace {
  private constructor(private readonly files: NodeWorkspace) {}

  /** Opens the workspace folder (symlinks in its path resolved). Throws WorkspaceError when it is missing. */
  static async open(root: string): Promise<VscodeWorkspace> {
    return new VscodeWorkspace(await NodeWorkspace.open(root, { ripgrep: bundledRipgrep(vscode.env.appRoot) }));
  }

  get root(): string {
    return this.files.root;
  }

  async readText(relPath: string): Promise<string | undefined> {
    // Resolving first keeps the path checks (no escape, no .git) for unsaved documents too.
    const { rel } = await resolveInWorkspace(this.root, relPath);
    const document = findOpenDocument(this.root, rel);
    if (document?.isDirty) return document.getText();
    return this.files.readText(rel);
  }

  listFiles(relDir: string, limit: number): Promise<string[]> {
    return this.files.listFiles(relDir, limit);
  }

  searchText(query: string, limit: number): Promise<SearchHit[]> {
    return this.files.searchText(query, limit);
  }
}

/**
 * The ripgrep VS Code ships for its own search (node_modules, or node_modules.asar.unpacked in
 * older builds), else "rg" on PATH; search_text scans in JavaScript when neither runs.
 */
export function bundledRipgrep(appRoot: string): string {
  const program = process.platform === 'win32' ? 'rg.exe' : 'rg';
  for (const modules of ['node_modules', 'node_modules.asar.unpacked']) {
    const candidate = path.join(appRoot, modules, '@vscode', 'ripgrep', 'bin', program);
    if (existsSync(candidate)) return candidate;
  }
  return 'rg';
}

/**
 * The open text document of a workspace file, if any. `root` is the real path of the folder; the
 * editor may know the file under the folder path as the user opened it (through a symlink), so
 * both spellings are compared.
 */
export function findOpenDocument(root: string, rel: string): vscode.TextDocument | undefined {
  const candidates = new Set<string>([comparable(path.join(root, rel))]);
  for (const folder of vscode.workspace.workspaceFolders ?? []) {
    if (folder.uri.scheme === 'file') candidates.add(comparable(path.join(folder.uri.fsPath, rel)));
  }
  return vscode.workspace.textDocuments.find(
    (document) => document.uri.scheme === 'file' && candidates.has(comparable(document.uri.fsPath)),
  );
}

/** File systems on Windows and macOS are usually case-insensitive. */
function comparable(fsPath: string): string {
  const normal = path.normalize(fsPath);
  return process.platform === 'linux' ? normal : normal.toLowerCase();
}
