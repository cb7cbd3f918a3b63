// Dead-letter triage and step replay in VS Code: the commands behind the Runs tree's menus of a
// dead-lettered task (Retry, Retry with Another Model…, Skip, Edit Task…, Mark Done) and "Replay
// Step…", and the same decisions for the panel. Every decision goes through engine.triageTask,
// which resumes a run paused for triage; the resumed run is followed like a new goal.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { readStepRecord, type EngineApi, type ReplayResult, type RunHandle } from '../../core';
import type { EngineEvent, TaskChanges } from '../../shared/events';
import { isTerminalRun } from '../../shared/lifecycle';
import type { Budgets } from '../../shared/model';
import { describeTriageDecision, type TriageDecision } from '../../shared/protocol';
import { dependentsOf, type RunState, type TaskState } from '../../shared/runState';
import { COMMANDS } from '../commands';
import { ReplayDocuments, type ShownReplay } from './replayDocuments';
import { messageOf } from '../../shared/wording';

/** The few UI calls the commands make; the VS Code window by default, scripted in tests. */
export interface TriageUi {
  quickPick<T extends vscode.QuickPickItem>(items: T[], options: { title: string; placeHolder: string }): Promise<T | undefined>;
  inputBox(options: vscode.InputBoxOptions): Promise<string | undefined>;
  /** A modal question with one action; true when the user chose it. */
  confirm(message: string, detail: string, action: string): Promise<boolean>;
  info(message: string): void;
  error(message: string): void;
}

export const windowUi: TriageUi = {
  quickPick: async (items, options) => vscode.window.showQuickPick(items, { ...options, ignoreFocusOut: true, matchOnDescription: true }),
  inputBox: async (options) => vscode.window.showInputBox({ ignoreFocusOut: true, ...options }),
  confirm: async (message, detail, action) => (await vscode.window.showWarningMessage(message, { modal: true, detail }, action)) === action,
  info: (message) => void vscode.window.showInformationMessage(message),
  error: (message) => void vscode.window.showErrorMessage(message),
};

export interface TriageDeps {
  engine: EngineApi;
  /** The runs folder: a run's files are in `<runsDir>/<runId>/`. */
  runsDir: string;
  /** Follows a run the decision resumed (progress notification, status bar, tree). */
  follow(handle: RunHandle, title: string): void;
  /** False (with the reason) where runs may not be driven (untrusted workspace). */
  canRun(): { ok: boolean; reason?: string };
  /** The run the user is looking at (the panel's), offered first where a run is picked. */
  currentRunId?(): string | undefined;
  ui?: TriageUi;
}

/** A task a command acts on. */
export interface TaskTarget {
  runId: string;
  taskId: string;
}

/** (runId, taskId) strings, or a Runs-tree task node ({ runId, taskId }). */
export function taskTargetOf(first: unknown, second?: unknown): TaskTarget | undefined {
  if (typeof first === 'string' && first && typeof second === 'string' && second) return { runId: first, taskId: second };
  if (typeof first === 'object' && first !== null) {
    const node = first as { runId?: unknown; taskId?: unknown };
    if (typeof node.runId === 'string' && typeof node.taskId === 'string') return { runId: node.runId, taskId: node.taskId };
  }
  return undefined;
}

/** The model the task's last step used (its pinned model, else the last step.started's). */
function lastModelOf(task: TaskState, events: readonly EngineEvent[]): string | undefined {
  if (task.modelOverride) return task.modelOverride;
  for (let i = events.length - 1; i >= 0; i--) {
    const event = events[i]!;
    if (event.type === 'step.started' && event.taskId === task.id && event.replayOf === undefined) return event.model;
  }
  return undefined;
}

function clip(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** Acceptance criteria are typed on one line, separated by this. */
const CRITERIA_SEPARATOR = ' | ';

export class TriageCommands implements vscode.Disposable {
  private readonly ui: TriageUi;
  private readonly documents: ReplayDocuments;

  constructor(private readonly deps: TriageDeps) {
    this.ui = deps.ui ?? windowUi;
    this.documents = new ReplayDocuments();
  }

  register(): vscode.Disposable[] {
    const c = COMMANDS;
    return [
      this,
      vscode.commands.registerCommand(c.retryTask.id, (a?: unknown, b?: unknown) => this.retry(taskTargetOf(a, b))),
      vscode.commands.registerCommand(c.retryTaskWithModel.id, (a?: unknown, b?: unknown) => this.retryWithModel(taskTargetOf(a, b))),
      vscode.commands.registerCommand(c.skipTask.id, (a?: unknown, b?: unknown) => this.skip(taskTargetOf(a, b))),
      vscode.commands.registerCommand(c.editTask.id, (a?: unknown, b?: unknown) => this.edit(taskTargetOf(a, b))),
      vscode.commands.registerCommand(c.markTaskDone.id, (a?: unknown, b?: unknown) => this.markDone(taskTargetOf(a, b))),
      vscode.commands.registerCommand(c.replayStep.id, (a?: unknown, b?: unknown) => this.replayCommand(a, b)),
    ];
  }

  dispose(): void {
    this.documents.dispose();
  }

  // ---- the commands ------------------------------------------------------------------------

  /** Retry: the task gets fresh attempts with the model it had. Resolves true when the run resumed. */
  async retry(target?: TaskTarget): Promise<boolean> {
    const chosen = target ?? (await this.pickTask('Retry which task?', ['dead_letter']));
    if (!chosen) return false;
    return this.decideAndReport(chosen, { kind: 'retry' });
  }

  async retryWithModel(target?: TaskTarget, model?: string): Promise<boolean> {
    const chosen = target ?? (await this.pickTask('Retry which task with another model?', ['dead_letter']));
    if (!chosen) return false;
    const picked = model ?? (await this.pickModel(chosen, `Retry ${chosen.taskId} with which model?`, 'its attempts so far'));
    if (!picked) return false;
    return this.decideAndReport(chosen, { kind: 'retry', model: picked });
  }

  async skip(target?: TaskTarget): Promise<boolean> {
    const chosen = target ?? (await this.pickTask('Skip which task?', ['dead_letter']));
    if (!chosen) return false;
    const state = await this.run(chosen.runId);
    if (!state) return false;
    const task = state.tasks[chosen.taskId];
    const dependents = dependentsOf(state.tasks, state.taskOrder, chosen.taskId);
    const detail =
      (dependents.length
        ? `Tasks that depend on it are skipped too: ${dependents.map((id) => `${id} (${state.tasks[id]?.title ?? ''})`).join(', ')}. `
        : 'No other task depends on it. ') + 'A run whose tests still fail at the end does not complete.';
    const ok = await this.ui.confirm(`Skip ${chosen.taskId}${task ? ` "${clip(task.title, 60)}"` : ''}?`, detail, 'Skip');
    if (!ok) return false;
    return this.decideAndReport(chosen, { kind: 'skip' });
  }

  async markDone(target?: TaskTarget): Promise<boolean> {
    const chosen = target ?? (await this.pickTask('Mark which task done (you take it over)?', ['dead_letter']));
    if (!chosen) return false;
    const ok = await this.ui.confirm(
      `Mark ${chosen.taskId} done by hand?`,
      'Software Maker takes your word for it: the task is not tested or reviewed again, and the tasks that depend on it start on the workspace as it is now. The final test run still decides whether the run completes.',
      'Mark Done',
    );
    if (!ok) return false;
    return this.decideAndReport(chosen, { kind: 'takeOver' });
  }

  /**
   * Edit Task…: title, description and acceptance criteria in three prefilled input boxes (Escape
   * cancels the whole edit); a dead-lettered task is then retried with it when the user says so.
   */
  async edit(target?: TaskTarget, changes?: TaskChanges): Promise<boolean> {
    const chosen = target ?? (await this.pickTask('Edit which task?', ['dead_letter', 'pending', 'ready']));
    if (!chosen) return false;
    const state = await this.run(chosen.runId);
    const task = state?.tasks[chosen.taskId];
    if (!state || !task) {
      this.ui.error(`Software Maker: run ${chosen.runId} has no task ${chosen.taskId}.`);
      return false;
    }
    const edited = changes ?? (await this.askChanges(task));
    if (!edited) return false;
    if (Object.keys(edited).length === 0) {
      this.ui.info(`Software Maker: ${task.id} is unchanged.`);
      return false;
    }
    const handle = await this.decide(chosen, { kind: 'edit', changes: edited });
    if (!handle || task.status !== 'dead_letter') return handle !== undefined;
    const retry = await this.ui.quickPick(
      [
        { label: '$(debug-restart) Retry it now', retry: true },
        { label: '$(debug-pause) Keep it in dead-letter', description: 'retry or skip it later', retry: false },
      ],
      { title: `Software Maker: ${task.id} edited`, placeHolder: `Retry ${task.id} with the new definition?` },
    );
    if (!retry?.retry) return true;
    // The edit resumed the run, which pauses again at once (the task is still dead-lettered).
    await handle.finished;
    return this.decideAndReport(chosen, { kind: 'retry' });
  }

  /** "Replay Step…": arguments (runId, stepId) or a task node (its steps are offered), else pickers. */
  async replayCommand(first?: unknown, second?: unknown): Promise<ShownReplay | undefined> {
    const check = this.deps.canRun();
    if (!check.ok) {
      this.ui.error(`Software Maker cannot replay steps here: ${check.reason ?? 'runs cannot be driven in this window.'}`);
      return undefined;
    }
    let runId: string | undefined;
    let stepId: string | undefined;
    let taskId: string | undefined;
    if (typeof first === 'string' && first) {
      runId = first;
      if (typeof second === 'string' && second) stepId = second;
    } else {
      const target = taskTargetOf(first);
      runId = target?.runId;
      taskId = target?.taskId;
    }
    runId ??= await this.pickRun();
    if (!runId) return undefined;
    stepId ??= await this.pickStep(runId, taskId);
    if (!stepId) return undefined;
    const model = await this.pickModel({ runId }, `Replay ${stepId} with which model?`, 'the original step', stepId);
    if (!model) return undefined;
    try {
      const shown = await this.replay(runId, stepId, model.startsWith('=') ? undefined : model);
      return shown.shown;
    } catch (error) {
      this.ui.error(`Software Maker could not replay ${stepId}: ${messageOf(error)}`);
      return undefined;
    }
  }

  // ---- shared with the panel ---------------------------------------------------------------

  /**
   * Applies a decision and follows the run it resumes. Throws a user-facing Error (the panel shows
   * it); resolves with the handle, or undefined when the run was already being followed.
   */
  async decideOrThrow(target: TaskTarget, action: TriageDecision): Promise<RunHandle | undefined> {
    const check = this.deps.canRun();
    if (!check.ok) throw new Error(check.reason ?? 'Runs cannot be driven in this window.');
    const wasDriven = this.deps.engine.activeRunIds().includes(target.runId);
    const handle = await this.deps.engine.triageTask(target.runId, target.taskId, action);
    if (!wasDriven) {
      const state = await this.deps.engine.getRun(target.runId);
      this.deps.follow(handle, state?.goal ?? target.runId);
    }
    return handle;
  }

  /** Runs a step again and opens its record, the output diff and its proposed edits. */
  async replay(runId: string, stepId: string, model?: string): Promise<{ result: ReplayResult; shown: ShownReplay }> {
    // A replay calls a model: like every decision, only in a trusted workspace.
    const check = this.deps.canRun();
    if (!check.ok) throw new Error(check.reason ?? 'Steps cannot be replayed in this window.');
    const runDir = path.join(this.deps.runsDir, runId);
    const original = await readStepRecord(runDir, stepId);
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Software Maker: replaying ${stepId}${model ? ` with ${model}` : ''}…` },
      () => this.deps.engine.replayStep(runId, stepId, model ? { model } : undefined),
    );
    const shown = await this.documents.show(runId, runDir, original, result);
    const edits = result.record.edits?.length ? ` It proposed edits to ${result.record.edits.length} file(s); they were not applied.` : '';
    this.ui.info(`Software Maker: replay ${result.replayId} of ${stepId} (${result.record.model}) ${result.ok ? 'finished' : 'failed'}: ${clip(result.summary, 200).replace(/\.$/, '')}.${edits}`);
    return { result, shown };
  }

  /** New caps for a run; with `resume`, a paused run not driven here resumes (and is followed). */
  async setBudgets(runId: string, budgets: Budgets, resume: boolean): Promise<boolean> {
    const check = this.deps.canRun();
    if (!check.ok) throw new Error(check.reason ?? 'Runs cannot be driven in this window.');
    await this.deps.engine.setBudgets(runId, budgets);
    if (!resume || this.deps.engine.activeRunIds().includes(runId)) return false;
    const state = await this.deps.engine.getRun(runId);
    if (!state || state.status !== 'paused') return false;
    const handle = await this.deps.engine.resumeRun(runId);
    this.deps.follow(handle, state.goal);
    return true;
  }

  // ---- helpers -----------------------------------------------------------------------------

  private async decide(target: TaskTarget, action: TriageDecision): Promise<RunHandle | undefined> {
    try {
      return await this.decideOrThrow(target, action);
    } catch (error) {
      this.ui.error(`Software Maker could not ${describeTriageDecision(action)} ${target.taskId}: ${messageOf(error)}`);
      return undefined;
    }
  }

  private async decideAndReport(target: TaskTarget, action: TriageDecision): Promise<boolean> {
    return (await this.decide(target, action)) !== undefined;
  }

  private async run(runId: string): Promise<RunState | undefined> {
    const state = await this.deps.engine.getRun(runId);
    if (!state) this.ui.error(`Software Maker: there is no run ${runId} (it may have been deleted).`);
    return state;
  }

  /** A task of a run that has not ended, in one of `statuses`; undefined when cancelled or none. */
  private async pickTask(placeHolder: string, statuses: readonly TaskState['status'][]): Promise<TaskTarget | undefined> {
    const items: (vscode.QuickPickItem & TaskTarget)[] = [];
    for (const summary of await this.deps.engine.listRuns()) {
      if (isTerminalRun(summary.status)) continue;
      const state = await this.deps.engine.getRun(summary.id);
      for (const id of state?.taskOrder ?? []) {
        const task = state!.tasks[id]!;
        if (!statuses.includes(task.status)) continue;
        items.push({
          label: `${task.id}: ${clip(task.title, 70)}`,
          description: `${task.status} · ${clip(summary.goal, 50)}`,
          detail: task.statusReason ? clip(task.statusReason, 160) : undefined,
          runId: summary.id,
          taskId: task.id,
        });
      }
    }
    if (items.length === 0) {
      this.ui.info(statuses.length === 1 && statuses[0] === 'dead_letter' ? 'Software Maker: no task is in dead-letter.' : 'Software Maker: no task can be edited now.');
      return undefined;
    }
    const picked = await this.ui.quickPick(items, { title: 'Software Maker', placeHolder });
    return picked ? { runId: picked.runId, taskId: picked.taskId } : undefined;
  }

  /**
   * A configured model of the run. For a replay (`stepId`), the first item keeps the step's own model
   * and is returned as "=<id>".
   */
  private async pickModel(target: { runId: string; taskId?: string }, placeHolder: string, lastWhat: string, stepId?: string): Promise<string | undefined> {
    const state = await this.run(target.runId);
    if (!state) return undefined;
    const events = await this.deps.engine.readEvents(target.runId);
    const task = target.taskId ? state.tasks[target.taskId] : undefined;
    const started = stepId ? events.find((event) => event.type === 'step.started' && event.stepId === stepId) : undefined;
    const last = started?.type === 'step.started' ? started.model : task ? lastModelOf(task, events) : undefined;
    const items: (vscode.QuickPickItem & { id: string })[] = state.config.models.map((model) => ({
      label: model.id,
      description: [model.provider, 'model' in model && model.model ? model.model : undefined].filter(Boolean).join(' · '),
      detail: model.id === last ? `used for ${lastWhat}` : undefined,
      id: model.id,
    }));
    if (stepId && last) items.unshift({ label: `$(history) Same model (${last})`, description: 'as recorded', id: `=${last}` });
    else if (last && items.length > 1) {
      // The model that just failed goes last: the point is to try another.
      items.sort((a, b) => Number(a.id === last) - Number(b.id === last));
    }
    if (items.length === 0) {
      this.ui.error(`Software Maker: run ${target.runId} has no configured models.`);
      return undefined;
    }
    const picked = await this.ui.quickPick(items, { title: 'Software Maker', placeHolder });
    return picked?.id;
  }

  private async pickRun(): Promise<string | undefined> {
    const runs = await this.deps.engine.listRuns();
    if (runs.length === 0) {
      this.ui.info('Software Maker: there are no runs yet.');
      return undefined;
    }
    const current = this.deps.currentRunId?.() ?? this.deps.engine.activeRunIds()[0];
    const ordered = [...runs.filter((run) => run.id === current), ...runs.filter((run) => run.id !== current)];
    const picked = await this.ui.quickPick(
      ordered.map((run) => ({
        label: clip(run.goal, 80),
        description: `${run.status} · ${run.tasksDone}/${run.tasksTotal}${run.id === current ? ' · shown now' : ''}`,
        detail: run.id,
        runId: run.id,
      })),
      { title: 'Software Maker: Replay Step', placeHolder: 'Replay a step of which run?' },
    );
    return picked?.runId;
  }

  private async pickStep(runId: string, taskId?: string): Promise<string | undefined> {
    const events = await this.deps.engine.readEvents(runId);
    const finished = new Map<string, { ok: boolean; summary: string }>();
    for (const event of events) if (event.type === 'step.finished') finished.set(event.stepId, event);
    const seen = new Set<string>();
    const items: (vscode.QuickPickItem & { stepId: string })[] = [];
    for (const event of events) {
      if (event.type !== 'step.started' || seen.has(event.stepId) || (taskId !== undefined && event.taskId !== taskId)) continue;
      seen.add(event.stepId);
      const end = finished.get(event.stepId);
      items.push({
        label: event.stepId,
        description: `${event.role} · attempt ${event.attempt} · ${event.model}`,
        detail: end ? `${end.ok ? 'ok' : 'failed'}: ${clip(end.summary, 140)}` : 'not finished',
        stepId: event.stepId,
      });
    }
    if (items.length === 0) {
      this.ui.info(`Software Maker: ${taskId ? `task ${taskId}` : `run ${runId}`} has no recorded steps yet.`);
      return undefined;
    }
    const picked = await this.ui.quickPick(items.reverse(), { title: 'Software Maker: Replay Step', placeHolder: 'Replay which step? (newest first)' });
    return picked?.stepId;
  }

  private async askChanges(task: TaskState): Promise<TaskChanges | undefined> {
    const title = await this.ui.inputBox({
      title: `Edit ${task.id} (1/3): title`,
      value: task.title,
      prompt: 'The task in a line.',
      validateInput: (value) => (value.trim() ? undefined : 'The title cannot be empty.'),
    });
    if (title === undefined) return undefined;
    const description = await this.ui.inputBox({
      title: `Edit ${task.id} (2/3): description`,
      value: task.description,
      prompt: 'What the agent should do, and anything it got wrong so far.',
    });
    if (description === undefined) return undefined;
    const criteria = await this.ui.inputBox({
      title: `Edit ${task.id} (3/3): acceptance criteria`,
      value: task.acceptance.join(CRITERIA_SEPARATOR),
      prompt: `Separate criteria with "${CRITERIA_SEPARATOR.trim()}".`,
      validateInput: (value) => (splitCriteria(value).length ? undefined : 'Give at least one acceptance criterion.'),
    });
    if (criteria === undefined) return undefined;
    const changes: TaskChanges = {};
    if (title.trim() !== task.title) changes.title = title.trim();
    if (description.trim() !== task.description.trim()) changes.description = description.trim();
    const acceptance = splitCriteria(criteria);
    if (acceptance.join('\n') !== task.acceptance.join('\n')) changes.acceptance = acceptance;
    return changes;
  }
}

export function splitCriteria(text: string): string[] {
  return text
    .split(CRITERIA_SEPARATOR.trim())
    .map((criterion) => criterion.trim())
    .filter(Boolean);
}

