// The "Runs" view: runs (newest first) → their tasks → the files of a task's pending proposal.
// It keeps no run state of its own: every refresh asks the engine, whose state is the fold of the
// run's event log, and the reviewer, which knows which proposals wait for the user.
import * as vscode from 'vscode';
import type { EngineApi } from '../core';
import { isTerminalRun } from '../shared/lifecycle';
import type { RunStatus, TaskStatus } from '../shared/model';
import { runDescription, runTreeLabel } from '../shared/runList';
import type { RunSummary, TaskState } from '../shared/runState';
import { COMMANDS } from './commands';
import type { DiffReviewer, PendingFile, PendingHunk } from './diffReviewer';
import { DisposableStore } from './disposables';
import { countsLabel } from './review/hunkDecisions';
import { compactUsage, usageText as sharedUsageText } from '../shared/wording';

export const RUNS_VIEW_ID = 'softwareMaker.runs';

const REFRESH_DEBOUNCE_MS = 100;
// Short enough that the time and most of the goal show at the default side bar width (the tooltip has it all).
const GOAL_LABEL_CHARS = 22;

/** A run; `contextValue` words: `cancellable` (not ended), `resumable` (interrupted, not driven), `foreign` (not created here). */
export interface RunNode {
  kind: 'run';
  runId: string;
  summary: RunSummary;
  driven: boolean;
}

export interface TaskNode {
  kind: 'task';
  runId: string;
  taskId: string;
  task: TaskState;
  files: PendingFile[];
}

export interface FileNode {
  kind: 'file';
  runId: string;
  taskId: string;
  file: PendingFile;
  /** The proposal document: accept/reject take it from the element they are invoked on. */
  resourceUri: vscode.Uri;
}

/** A hunk of a pending modified file; accept/reject-hunk take `resourceUri` and `hunkIndex` from it. */
export interface HunkNode {
  kind: 'hunk';
  runId: string;
  taskId: string;
  file: PendingFile;
  hunk: PendingHunk;
  hunkIndex: number;
  resourceUri: vscode.Uri;
}

export interface MessageNode {
  kind: 'message';
  text: string;
}

export type RunsTreeNode = RunNode | TaskNode | FileNode | HunkNode | MessageNode;

/** Statuses a run can be resumed from after the window that drove it closed. */
const RESUMABLE_STATUSES: readonly RunStatus[] = ['queued', 'planning', 'running', 'paused'];

const FILE_KIND_LABELS: Record<PendingFile['kind'], string> = { create: 'new file', modify: 'modified', delete: 'deleted', rename: 'moved' };

const RUN_ICONS: Record<RunStatus, [string, string?]> = {
  queued: ['clock'],
  planning: ['sync~spin'],
  'awaiting-approval': ['question', 'notificationsWarningIcon.foreground'],
  running: ['sync~spin'],
  paused: ['debug-pause', 'notificationsWarningIcon.foreground'],
  completed: ['check', 'testing.iconPassed'],
  failed: ['error', 'testing.iconFailed'],
  cancelled: ['circle-slash'],
  stopped_budget: ['warning', 'notificationsWarningIcon.foreground'],
};

const TASK_ICONS: Record<TaskStatus, [string, string?]> = {
  pending: ['circle-outline'],
  ready: ['circle-large-outline'],
  running: ['sync~spin'],
  'awaiting-review': ['eye', 'notificationsInfoIcon.foreground'],
  testing: ['beaker'],
  reviewing: ['comment-discussion'],
  done: ['check', 'testing.iconPassed'],
  failed: ['error', 'testing.iconFailed'],
  dead_letter: ['error', 'testing.iconErrored'],
  skipped: ['debug-step-over'],
  cancelled: ['circle-slash'],
};

export class RunsTreeProvider implements vscode.TreeDataProvider<RunsTreeNode>, vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<RunsTreeNode | undefined>();
  readonly onDidChangeTreeData = this.changeEmitter.event;
  private readonly disposables = new DisposableStore();
  private refreshTimer: NodeJS.Timeout | undefined;
  private readonly view: vscode.TreeView<RunsTreeNode>;

  constructor(
    private readonly engine: EngineApi,
    private readonly reviewer: DiffReviewer,
  ) {
    this.view = vscode.window.createTreeView(RUNS_VIEW_ID, { treeDataProvider: this, showCollapseAll: true });
    const unsubscribe = engine.onEvent(() => this.scheduleRefresh());
    this.disposables.add(this.changeEmitter, this.view, { dispose: unsubscribe }, reviewer.onDidChangePending(() => this.scheduleRefresh()));
    this.updateBadge();
  }

  /** Redraws now (the "Refresh Runs" command). */
  refresh(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = undefined;
    this.updateBadge();
    this.changeEmitter.fire(undefined);
  }

  /** Redraws soon: a burst of events (a tool loop) becomes one redraw. */
  scheduleRefresh(): void {
    this.refreshTimer ??= setTimeout(() => this.refresh(), REFRESH_DEBOUNCE_MS);
  }

  async getChildren(node?: RunsTreeNode): Promise<RunsTreeNode[]> {
    try {
      if (!node) return await this.runNodes();
      if (node.kind === 'run') return await this.taskNodes(node.runId);
      if (node.kind === 'task') {
        return node.files.map((file) => ({ kind: 'file', runId: node.runId, taskId: node.taskId, file, resourceUri: file.proposalUri }));
      }
      if (node.kind === 'file' && !node.file.decision) {
        return node.file.hunks.map((hunk) => ({ kind: 'hunk', runId: node.runId, taskId: node.taskId, file: node.file, hunk, hunkIndex: hunk.index, resourceUri: node.file.proposalUri }));
      }
      return [];
    } catch (error) {
      return [{ kind: 'message', text: `Could not read the runs: ${error instanceof Error ? error.message : String(error)}` }];
    }
  }

  getTreeItem(node: RunsTreeNode): vscode.TreeItem {
    switch (node.kind) {
      case 'run':
        return runItem(node);
      case 'task':
        return taskItem(node);
      case 'file':
        return this.fileItem(node);
      case 'hunk':
        return this.hunkItem(node);
      case 'message': {
        const item = new vscode.TreeItem(node.text);
        item.iconPath = new vscode.ThemeIcon('warning');
        return item;
      }
    }
  }

  dispose(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.disposables.dispose();
  }

  private async runNodes(): Promise<RunsTreeNode[]> {
    const driven = new Set(this.engine.activeRunIds());
    const runs = await this.engine.listRuns();
    return runs.map((summary) => ({ kind: 'run', runId: summary.id, summary, driven: driven.has(summary.id) }));
  }

  private async taskNodes(runId: string): Promise<RunsTreeNode[]> {
    const state = await this.engine.getRun(runId);
    if (!state) return [{ kind: 'message', text: 'This run no longer exists. Refresh the view.' }];
    const pending = this.reviewer.pending().filter((review) => review.runId === runId);
    return state.taskOrder
      .map((taskId) => state.tasks[taskId])
      .filter((task): task is TaskState => task !== undefined)
      .map((task) => ({
        kind: 'task',
        runId,
        taskId: task.id,
        task,
        files: pending.filter((review) => review.taskId === task.id).flatMap((review) => review.files),
      }));
  }

  private fileItem(node: FileNode): vscode.TreeItem {
    const { file } = node;
    const hunked = !file.decision && file.hunks.length > 1;
    const item = new vscode.TreeItem(file.path, hunked ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
    item.id = `file:${node.runId}/${node.taskId}/${file.proposalUri.query}/${file.path}`;
    item.resourceUri = file.proposalUri;
    item.iconPath = vscode.ThemeIcon.File;
    const kind = FILE_KIND_LABELS[file.kind];
    const hunks = file.counts ? ` · ${countsLabel(file.counts)}` : '';
    const risk = file.changesWhatRuns ? '⚠ changes what runs · ' : '';
    item.description = file.decision ? `${risk}${kind} · ${file.decision}${hunks}` : `${risk}${kind}${hunks}`;
    item.tooltip = file.changesWhatRuns
      ? `${file.path} (${kind}) changes what will be executed:\n${file.changesWhatRuns.map((reason) => `• ${reason}`).join('\n')}\nWaiting for your review. Click to see the diff.`
      : `${file.path} (${kind}): proposed change, waiting for your review. Click to see the diff.`;
    item.contextValue = file.decision ? 'proposalFile decided' : 'proposalFile';
    item.command = this.reviewer.diffCommand(file.proposalUri);
    return item;
  }

  private hunkItem(node: HunkNode): vscode.TreeItem {
    const { hunk } = node;
    const item = new vscode.TreeItem(`Hunk ${hunk.index + 1}: ${hunk.label}`, vscode.TreeItemCollapsibleState.None);
    item.id = `hunk:${node.runId}/${node.taskId}/${node.file.proposalUri.query}/${node.file.path}#${hunk.index}`;
    item.description = hunk.decision ?? 'pending';
    item.iconPath = hunk.decision === 'accepted' ? themeIcon(['check', 'testing.iconPassed']) : hunk.decision === 'rejected' ? themeIcon(['close', 'testing.iconFailed']) : themeIcon(['circle-outline']);
    item.tooltip = `${node.file.path}, hunk ${hunk.index + 1} (${hunk.label}): ${hunk.decision ?? 'waiting for your review'}. Click to see the diff.`;
    item.contextValue = hunk.decision ? `proposalHunk ${hunk.decision}` : 'proposalHunk';
    item.command = this.reviewer.diffCommand(node.file.proposalUri);
    return item;
  }

  private updateBadge(): void {
    const waiting = this.reviewer.pending().reduce((count, review) => count + review.files.filter((file) => !file.decision).length, 0);
    this.view.badge = waiting > 0 ? { value: waiting, tooltip: `${waiting} proposed file change(s) waiting for review` } : undefined;
  }
}

function runItem(node: RunNode): vscode.TreeItem {
  const { summary } = node;
  const item = new vscode.TreeItem(
    runTreeLabel(summary, GOAL_LABEL_CHARS),
    summary.tasksTotal === 0
      ? vscode.TreeItemCollapsibleState.None
      : node.driven
        ? vscode.TreeItemCollapsibleState.Expanded
        : vscode.TreeItemCollapsibleState.Collapsed,
  );
  item.id = `run:${summary.id}`;
  // "14:05 · Fix the tests" / "completed · 3/3 · $0.01": the start time is in the label, which the
  // default side bar width keeps; the status icon says the status when the description is cut.
  item.description = runDescription(summary, undefined, { time: false });
  item.iconPath = themeIcon(RUN_ICONS[summary.status]);
  const words = ['run'];
  if (!isTerminalRun(summary.status)) words.push('cancellable');
  if (summary.foreign) {
    // Not created here: read-only until adopted ("Adopt Run…"), so nothing offers to drive it.
    words.push('foreign');
    item.description = `${item.description} · not created here`;
  } else {
    if (!node.driven && RESUMABLE_STATUSES.includes(summary.status)) words.push('resumable');
    // "Raise Budget and Resume" (a paused run may be waiting on a budget).
    if (summary.status === 'paused') words.push('paused');
  }
  item.contextValue = words.join(' ');
  const tooltip = new vscode.MarkdownString(undefined, true);
  tooltip.appendMarkdown(`**${escapeMarkdown(summary.goal)}**\n\n`);
  tooltip.appendMarkdown(`$(${RUN_ICONS[summary.status][0].replace('~spin', '')}) ${summary.status}`);
  if (summary.statusReason) tooltip.appendMarkdown(`: ${escapeMarkdown(summary.statusReason)}`);
  tooltip.appendMarkdown(`\n\nTasks: ${summary.tasksDone}/${summary.tasksTotal} done\n\n`);
  tooltip.appendMarkdown(`Started ${new Date(summary.createdAt).toLocaleString()} · ${usageText(summary.usage)}\n\n`);
  tooltip.appendMarkdown(`Run id: \`${summary.id}\``);
  item.tooltip = tooltip;
  return item;
}

function taskItem(node: TaskNode): vscode.TreeItem {
  const { task } = node;
  const item = new vscode.TreeItem(
    `${task.id}: ${task.title}`,
    node.files.length > 0 ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None,
  );
  item.id = `task:${node.runId}/${task.id}`;
  const usage = compactUsage(task.usage);
  item.description = [task.status, task.attempts > 1 ? `attempt ${task.attempts}` : undefined, usage].filter(Boolean).join(' · ');
  item.iconPath = themeIcon(TASK_ICONS[task.status]);
  // Words for the menus: `reviewable` (edits wait), `deadLetter` (triage: retry, skip, edit, mark done), `editable`.
  const words = ['task'];
  if (node.files.some((file) => !file.decision)) words.push('reviewable');
  if (task.status === 'dead_letter') words.push('deadLetter');
  if (task.status === 'dead_letter' || task.status === 'pending' || task.status === 'ready') words.push('editable');
  item.contextValue = words.join(' ');
  item.tooltip = taskTooltip(task);
  item.command = { title: 'Show Task', command: COMMANDS.showTask.id, arguments: [node.runId, task.id] };
  return item;
}

function taskTooltip(task: TaskState): vscode.MarkdownString {
  const tooltip = new vscode.MarkdownString(undefined, true);
  tooltip.appendMarkdown(`**${escapeMarkdown(`${task.id}: ${task.title}`)}**\n\n`);
  tooltip.appendMarkdown(`Role: ${task.role} · Status: ${task.status}`);
  if (task.statusReason) tooltip.appendMarkdown(` (${escapeMarkdown(task.statusReason)})`);
  tooltip.appendMarkdown(` · Attempts: ${task.attempts}\n\n`);
  if (task.status === 'dead_letter') tooltip.appendMarkdown('**Needs triage**: right-click to retry (with another model), edit, skip or mark it done.\n\n');
  if (task.acceptance.length > 0) {
    tooltip.appendMarkdown('Acceptance criteria:\n');
    for (const criterion of task.acceptance) tooltip.appendMarkdown(`- ${escapeMarkdown(criterion)}\n`);
    tooltip.appendMarkdown('\n');
  }
  const test = task.lastTest;
  if (test) {
    const verdict = test.ok ? 'passed' : test.timedOut ? 'timed out' : 'failed';
    tooltip.appendMarkdown(`Last test run: **${verdict}** · ${test.passed} passed, ${test.failed} failed, ${test.skipped} skipped`);
    if (test.problem) tooltip.appendMarkdown(` · ${escapeMarkdown(test.problem)}`);
    tooltip.appendMarkdown('\n\n');
  }
  if (task.review) tooltip.appendMarkdown(`Review: ${task.review.approved ? 'approved' : 'changes requested'}: ${escapeMarkdown(task.review.summary)}\n\n`);
  tooltip.appendMarkdown(usageText(task.usage));
  return tooltip;
}

function themeIcon([id, color]: [string, string?]): vscode.ThemeIcon {
  return new vscode.ThemeIcon(id, color ? new vscode.ThemeColor(color) : undefined);
}

/** Calls, tokens and USD for tooltips; "unknown cost" for calls of models without a price (never $0). */
export function usageText(usage: RunSummary['usage']): string {
  return sharedUsageText(usage, { tokens: 'total', explain: true });
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>$]/g, (char) => `\\${char}`);
}
