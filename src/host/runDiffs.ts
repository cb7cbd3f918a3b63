// What a run changed, opened from its end-of-run summary: a file as a diff between the run's start
// checkpoint (a read-only virtual document) and the file as it is now, and the run's report.md.
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { EngineApi } from '../core';
import { endOfRun } from '../shared/endOfRun';

/** URI scheme of a file as a checkpoint holds it: software-maker-checkpoint:/<path>?<checkpoint id>. */
export const CHECKPOINT_SCHEME = 'software-maker-checkpoint';

const DELETED = 'deleted';

export class RunDiffs implements vscode.Disposable {
  private readonly registration: vscode.Disposable;

  constructor(
    private readonly engine: EngineApi,
    private readonly workspaceRoot: string,
    private readonly runsDir: string,
  ) {
    this.registration = vscode.workspace.registerTextDocumentContentProvider(CHECKPOINT_SCHEME, {
      // A path the checkpoint does not hold (a file the run created) reads as empty.
      provideTextDocumentContent: async (uri) => (uri.query === DELETED ? '' : ((await this.engine.checkpointFile(uri.query, uri.path.replace(/^\//, ''))) ?? '')),
    });
  }

  /** Opens `path` as changed by the run: the run's start checkpoint on the left, the workspace on the right. */
  async openFileDiff(runId: string, path: string): Promise<boolean> {
    const state = await this.engine.getRun(runId);
    if (!state) throw new Error(`There is no run "${runId}".`);
    const summary = endOfRun(state);
    const file = summary.changed.find((entry) => entry.path === path);
    if (!file) throw new Error(`Run ${runId} did not change ${path}.`);
    if (!summary.startCheckpoint) throw new Error(`Run ${runId} has no start checkpoint (checkpoints were off or unavailable), so there is no "before" to compare ${path} with.`);
    const before = vscode.Uri.from({ scheme: CHECKPOINT_SCHEME, path: `/${file.from ?? path}`, query: summary.startCheckpoint });
    // A file the run deleted has no "now": an empty document of the same scheme stands in.
    const after = file.kind === 'delete' ? vscode.Uri.from({ scheme: CHECKPOINT_SCHEME, path: `/${path}`, query: DELETED }) : vscode.Uri.file(join(this.workspaceRoot, path));
    await vscode.commands.executeCommand('vscode.diff', before, after, `${path} (since the start of run ${runId})`, { preview: true });
    return true;
  }

  async openReport(runId: string): Promise<boolean> {
    const uri = vscode.Uri.file(join(this.runsDir, runId, 'report.md'));
    try {
      await vscode.workspace.fs.stat(uri);
    } catch {
      throw new Error(`Run ${runId} has no report.md yet: it is written when the run ends.`);
    }
    await vscode.commands.executeCommand('markdown.showPreview', uri).then(undefined, () => vscode.window.showTextDocument(uri));
    return true;
  }

  /** Workspace files whose path contains `query` (case-insensitive), for @-mention completion. */
  async findFiles(query: string): Promise<string[]> {
    const found = await vscode.workspace.findFiles('**/*', '{**/node_modules/**,**/.git/**,**/.software-maker/**}', 2_000);
    const needle = query.toLowerCase();
    return found
      .map((uri) => vscode.workspace.asRelativePath(uri, false).replace(/\\/g, '/'))
      .filter((path) => path.toLowerCase().includes(needle))
      .sort((a, b) => a.length - b.length || a.localeCompare(b))
      .slice(0, 20);
  }

  dispose(): void {
    this.registration.dispose();
  }
}
