// Shows a step replay: the new record (the JSON file beside the run's log), a diff of the original
// step's output against the replay's (two read-only virtual documents and vscode.diff, like the
// proposal diffs) and the edits the replayed turn proposed, as unified diffs. Nothing is applied.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ReplayResult, StepRecord } from '../../core';

/** URI scheme of the replay documents (read-only, served from memory). */
export const REPLAY_SCHEME = 'software-maker-replay';

/** Documents kept; the oldest are dropped (a closed diff can be reopened by replaying again). */
const MAX_DOCUMENTS = 60;

/** What was opened for one replay, for tests and for the caller's message. */
export interface ShownReplay {
  record: vscode.Uri;
  original: vscode.Uri;
  replay: vscode.Uri;
  /** The replay's proposed edits; undefined when it proposed none. */
  edits?: vscode.Uri;
}

function pretty(value: unknown): string {
  return value === undefined ? '(no output: the step failed before it finished)\n' : `${JSON.stringify(value, null, 2)}\n`;
}

/** The edits a replay proposed, as one unified diff document. */
export function editsText(record: StepRecord): string | undefined {
  if (!record.edits?.length) return undefined;
  const header = `# Edits proposed by the replay ${record.stepId} of ${record.replayOf ?? '?'} (model ${record.model}).\n# They were NOT applied to the workspace.\n`;
  return `${header}\n${record.edits.map((edit) => edit.diff.trimEnd()).join('\n\n')}\n`;
}

export class ReplayDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly texts = new Map<string, string>();
  private readonly changeEmitter = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changeEmitter.event;
  private readonly registration: vscode.Disposable;

  constructor() {
    this.registration = vscode.workspace.registerTextDocumentContentProvider(REPLAY_SCHEME, this);
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.toString()) ?? 'This replay document is no longer in memory. Replay the step again to see it.\n';
  }

  /**
   * Opens the record, the output diff and the proposed edits of a replay. `runDir` is the run's folder
   * (the record file is `runDir/<artifact>`); `original` is the record of the step that was replayed.
   */
  async show(runId: string, runDir: string, original: StepRecord, result: ReplayResult): Promise<ShownReplay> {
    const base = `/${encodeURIComponent(runId)}/${encodeURIComponent(result.replayId)}`;
    const originalUri = this.put(`${base}/${encodeURIComponent(original.stepId)}.output.json`, pretty(original.result.output));
    const replayUri = this.put(`${base}/${encodeURIComponent(result.replayId)}.output.json`, pretty(result.record.result.output));
    const edits = editsText(result.record);
    const editsUri = edits === undefined ? undefined : this.put(`${base}/proposed-edits.diff`, edits);
    const record = vscode.Uri.file(path.join(runDir, result.artifact));

    await vscode.window.showTextDocument(record, { preview: false, viewColumn: vscode.ViewColumn.Active });
    await vscode.commands.executeCommand(
      'vscode.diff',
      originalUri,
      replayUri,
      `${original.stepId} (${original.model}) ↔ ${result.replayId} (${result.record.model}): output`,
      { preview: false },
    );
    if (editsUri) {
      const document = await vscode.workspace.openTextDocument(editsUri);
      await vscode.languages.setTextDocumentLanguage(document, 'diff').then(undefined, () => undefined);
      await vscode.window.showTextDocument(document, { preview: false, viewColumn: vscode.ViewColumn.Beside });
    }
    return { record, original: originalUri, replay: replayUri, edits: editsUri };
  }

  dispose(): void {
    this.registration.dispose();
    this.changeEmitter.dispose();
    this.texts.clear();
  }

  private put(uriPath: string, text: string): vscode.Uri {
    const uri = vscode.Uri.from({ scheme: REPLAY_SCHEME, path: uriPath });
    const key = uri.toString();
    this.texts.delete(key);
    this.texts.set(key, text);
    while (this.texts.size > MAX_DOCUMENTS) this.texts.delete(this.texts.keys().next().value!);
    this.changeEmitter.fire(uri);
    return uri;
  }
}
