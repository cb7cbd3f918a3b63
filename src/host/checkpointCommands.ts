// "Software Maker: Roll Back…": pick a checkpoint (taken before each task's edits landed), read what
// restoring it does, confirm in a modal dialog, restore, and read what changed. Also the `confirm`
// port the engine asks before it switches branches over uncommitted changes in git mode.
import * as vscode from 'vscode';
import type { Checkpoint, EngineApi, HostPorts, RestoreReport } from '../core';
import { COMMANDS } from './commands';
import { truncate } from './runsTree';
import { messageOf } from '../shared/wording';

/** Files listed by name in a dialog before "and N more". */
const LISTED_FILES = 8;

/** The engine, and (when the engine exposes its checkpoint store) what differs from a checkpoint now. */
export interface CheckpointCommandsOptions {
  engine: EngineApi;
  /** Workspace files that differ from the checkpoint now; undefined when it cannot be known beforehand. */
  diffSince?: (checkpointId: string) => Promise<string[]>;
  /** The command that cancels a run (offered when a run blocks the rollback). */
  cancelRunCommand?: string;
  /** False (with the reason) where the workspace may not be changed (untrusted): asked before anything is picked. */
  canRun?: () => { ok: boolean; reason?: string };
}

/** The engine's checkpoint store, when this engine has one (Engine.checkpoints()). */
export function diffSinceOf(engine: EngineApi): CheckpointCommandsOptions['diffSince'] {
  const withStore = engine as EngineApi & { checkpoints?: () => Promise<{ diffSince(id: string): Promise<string[]> }> | undefined };
  if (typeof withStore.checkpoints !== 'function') return undefined;
  return async (id) => {
    const store = withStore.checkpoints?.();
    if (!store) throw new Error('no checkpoint store');
    return (await store).diffSince(id);
  };
}

export function registerCheckpointCommands(options: CheckpointCommandsOptions): vscode.Disposable {
  return vscode.commands.registerCommand(COMMANDS.rollBack.id, () => rollBack(options));
}

/** The `confirm` port: a modal warning; anything but the confirming button (Cancel, Escape, closing it) is no. */
export function confirmWithModal(): NonNullable<HostPorts['confirm']> {
  return async (question, detail) => {
    const yes = /branch/i.test(question) ? 'Switch branch' : 'Continue';
    const choice = await vscode.window.showWarningMessage(question, { modal: true, detail }, { title: yes }, { title: 'Cancel', isCloseAffordance: true });
    return choice?.title === yes;
  };
}

async function rollBack(options: CheckpointCommandsOptions): Promise<void> {
  const { engine } = options;
  const check = options.canRun?.() ?? { ok: true };
  if (!check.ok) {
    void vscode.window.showErrorMessage(check.reason ?? 'Software Maker cannot roll back here.');
    return;
  }
  const active = engine.activeRunIds();
  if (active.length > 0) {
    const cancel = options.cancelRunCommand ? 'Cancel Run…' : undefined;
    const choice = await vscode.window.showErrorMessage(
      `Software Maker cannot roll back while a run is in progress (${active.join(', ')}): its agents would write over the restored files. Cancel the run or wait for it to end, then roll back.`,
      ...(cancel ? [cancel] : []),
    );
    if (choice && options.cancelRunCommand) await vscode.commands.executeCommand(options.cancelRunCommand, active.length === 1 ? active[0] : undefined);
    return;
  }
  let checkpoints: Checkpoint[];
  let goals: Map<string, string>;
  try {
    checkpoints = await engine.listCheckpoints();
    goals = new Map((await engine.listRuns()).map((run) => [run.id, run.goal]));
  } catch (error) {
    void vscode.window.showErrorMessage(`Software Maker could not list the checkpoints: ${messageOf(error)}`);
    return;
  }
  if (checkpoints.length === 0) {
    void vscode.window.showInformationMessage(
      'Software Maker: there are no checkpoints yet. One is taken before each task’s edits land (setting "softwareMaker.checkpoints"; needs git on the PATH).',
    );
    return;
  }

  const picked = await vscode.window.showQuickPick(
    [...checkpoints].reverse().map((checkpoint) => ({
      label: checkpoint.label,
      description: `${checkpoint.taskId ? `${checkpoint.taskId} · ` : ''}${new Date(checkpoint.createdAt).toLocaleString()}`,
      detail: `Run: ${truncate((goals.get(checkpoint.runId) ?? checkpoint.runId).replace(/\s+/g, ' '), 100)}`,
      checkpoint,
    })),
    { title: 'Software Maker: Roll Back', placeHolder: 'Which checkpoint? The workspace goes back to how it was then (newest first).', matchOnDescription: true, matchOnDetail: true },
  );
  if (!picked) return;
  const { checkpoint } = picked;

  if (!(await confirmRollback(options, checkpoint, goals.get(checkpoint.runId)))) return;

  let report: RestoreReport;
  try {
    report = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Software Maker: rolling back to "${checkpoint.label}"…` }, () =>
      engine.rollback(checkpoint.id),
    );
  } catch (error) {
    void vscode.window.showErrorMessage(`Software Maker did not roll back: ${messageOf(error)}`);
    return;
  }
  const undo = 'Undo Rollback';
  const choice = await vscode.window.showInformationMessage(summaryOf(report), undo);
  if (choice !== undo) return;
  try {
    const undone = await engine.rollback(report.safety.id);
    void vscode.window.showInformationMessage(`Software Maker: rollback undone. ${countsOf(undone)}`);
  } catch (error) {
    void vscode.window.showErrorMessage(`Software Maker could not undo the rollback: ${messageOf(error)}. The state before it is the checkpoint "${report.safety.label}" (Roll Back… lists it).`);
  }
}

/** The modal dialog that says what the rollback will do. */
async function confirmRollback(options: CheckpointCommandsOptions, checkpoint: Checkpoint, goal: string | undefined): Promise<boolean> {
  const lines: string[] = [];
  lines.push(`Taken ${new Date(checkpoint.createdAt).toLocaleString()}${goal ? ` in the run "${truncate(goal.replace(/\s+/g, ' '), 80)}"` : ''}${checkpoint.taskId ? ` (task ${checkpoint.taskId})` : ''}.`);
  let changed: string[] | undefined;
  try {
    changed = await options.diffSince?.(checkpoint.id);
  } catch {
    changed = undefined;
  }
  if (changed === undefined) {
    lines.push('Files changed or deleted since then are restored, and files created since then are removed.');
  } else if (changed.length === 0) {
    lines.push('No file differs from the checkpoint now: nothing will change.');
  } else {
    lines.push(
      `${changed.length} file${changed.length === 1 ? '' : 's'} differ${changed.length === 1 ? 's' : ''} from the checkpoint: changed or deleted ones are restored, ones created since are removed.`,
      listFiles(changed),
    );
  }
  const dirty = vscode.workspace.textDocuments.filter((document) => document.isDirty && document.uri.scheme === 'file');
  if (dirty.length > 0) {
    lines.push(`Unsaved changes in ${dirty.length} open file${dirty.length === 1 ? '' : 's'} are not part of any checkpoint; save or revert them first.`);
  }
  lines.push(
    'Your own git repository (commits, index, stashes, branches) and ignored files such as node_modules are not touched.',
    'A safety checkpoint of the current state is taken first: roll back to it to undo this.',
  );
  const confirm = 'Roll Back';
  const choice = await vscode.window.showWarningMessage(`Roll back the workspace to "${checkpoint.label}"?`, { modal: true, detail: lines.join('\n\n') }, confirm);
  return choice === confirm;
}

function summaryOf(report: RestoreReport): string {
  const skipped = report.skipped.length ? ` ${report.skipped.length} file(s) left as they are (no longer checkpointed): ${report.skipped.map((entry) => entry.path).slice(0, 3).join(', ')}.` : '';
  return `Software Maker: rolled back to "${report.checkpoint.label}". ${countsOf(report)}${skipped} The state before the rollback is the checkpoint "${report.safety.label}".`;
}

function countsOf(report: RestoreReport): string {
  return `${report.restored.length} file(s) restored, ${report.deleted.length} removed, ${report.unchanged} unchanged.`;
}

function listFiles(paths: string[]): string {
  const shown = paths.slice(0, LISTED_FILES).map((file) => `• ${file}`);
  if (paths.length > LISTED_FILES) shown.push(`… and ${paths.length - LISTED_FILES} more`);
  return shown.join('\n');
}

