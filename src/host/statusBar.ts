// One status bar item for the run this window is driving (or drove last): its status and progress
// at a glance, its goal and usage on hover, the panel on click. Hidden until there is such a run.
import * as vscode from 'vscode';
import type { EngineApi } from '../core';
import type { RunStatus } from '../shared/model';
import { summarizeRun, type RunSummary } from '../shared/runState';
import { COMMANDS } from './commands';
import { budgetsText } from '../shared/wording';
import { runBudgetText } from './models/usageFormat';
import { truncate, usageText } from './runsTree';

const UPDATE_DEBOUNCE_MS = 100;

const STATUS_ICONS: Record<RunStatus, string> = {
  queued: 'clock',
  planning: 'sync~spin',
  'awaiting-approval': 'question',
  running: 'sync~spin',
  paused: 'debug-pause',
  completed: 'check',
  failed: 'error',
  cancelled: 'circle-slash',
  stopped_budget: 'warning',
};

export class RunStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('softwareMaker.status', vscode.StatusBarAlignment.Left, 10);
  private readonly unsubscribe: () => void;
  /** The run shown: the last one an event arrived for, so a finished run stays visible until the next. */
  private runId: string | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly engine: EngineApi) {
    this.item.name = 'Software Maker';
    this.item.command = COMMANDS.openPanel.id;
    this.runId = engine.activeRunIds()[0];
    this.unsubscribe = engine.onEvent((runId) => {
      // A run that is still going keeps the item until it ends, even if another one logs meanwhile.
      if (this.runId === undefined || this.runId === runId || !engine.activeRunIds().includes(this.runId)) this.runId = runId;
      this.scheduleUpdate();
    });
    this.scheduleUpdate();
  }

  /** Shows this run from now on (a run the user just started or resumed). */
  show(runId: string): void {
    this.runId = runId;
    this.scheduleUpdate();
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.unsubscribe();
    this.item.dispose();
  }

  private scheduleUpdate(): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.update().catch(() => this.item.hide());
    }, UPDATE_DEBOUNCE_MS);
  }

  private async update(): Promise<void> {
    const state = this.runId ? await this.engine.getRun(this.runId) : undefined;
    if (!state) {
      this.item.hide();
      return;
    }
    const summary = summarizeRun(state);
    // With a run cap the spending shows in the text ("$0.42 / $5.00"); otherwise only on hover.
    const budget = runBudgetText(summary.usage, state.config.budgets);
    this.item.text = `$(${STATUS_ICONS[summary.status]}) Software Maker: ${statusText(summary)}${budget ? ` · ${budget}` : ''}`;
    this.item.tooltip = tooltipOf(summary, `Budgets: ${budgetsText(state.config.budgets)}`);
    // Opens the run the item shows (the one this window drives), not whatever the panel showed last.
    this.item.command = { title: 'Show Run', command: COMMANDS.showTask.id, arguments: [summary.id] };
    this.item.backgroundColor =
      summary.status === 'failed'
        ? new vscode.ThemeColor('statusBarItem.errorBackground')
        : summary.status === 'stopped_budget' || summary.status === 'awaiting-approval'
          ? new vscode.ThemeColor('statusBarItem.warningBackground')
          : undefined;
    this.item.show();
  }
}

function statusText(summary: RunSummary): string {
  const status = summary.status === 'stopped_budget' ? 'stopped (budget)' : summary.status;
  return summary.status === 'running' && summary.tasksTotal > 0 ? `${status} ${summary.tasksDone}/${summary.tasksTotal}` : status;
}

function tooltipOf(summary: RunSummary, budgets?: string): vscode.MarkdownString {
  const tooltip = new vscode.MarkdownString();
  tooltip.appendText(truncate(summary.goal, 300));
  tooltip.appendMarkdown('\n\n');
  tooltip.appendText(`${summary.status}${summary.statusReason ? `: ${summary.statusReason}` : ''} · ${summary.tasksDone}/${summary.tasksTotal} tasks done`);
  tooltip.appendMarkdown('\n\n');
  tooltip.appendText(usageText(summary.usage));
  if (budgets) {
    tooltip.appendMarkdown('\n\n');
    tooltip.appendText(budgets);
  }
  tooltip.appendMarkdown('\n\nClick to show this run in the Software Maker panel.');
  return tooltip;
}
