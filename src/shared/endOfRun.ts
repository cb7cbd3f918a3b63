// What a run did, read from its folded state: the files it changed, what the user rejected, the
// tests before and after, the cost. The chat shows it when the run ends; a follow-up run's planner
// is told it (as text). Pure, so the webview, the engine and the CLI read the same thing.
import type { FileChange, TestReport, Usage } from './model';
import type { RunState } from './runState';
import { usageText } from './wording';

export interface ChangedFile {
  path: string;
  kind: FileChange['kind'];
  from?: string;
  /** Tasks whose applied edits touched it, in order. */
  tasks: string[];
  /** Hunks accepted of those proposed, when some were rejected. */
  partial?: { accepted: number; total: number };
}

export interface RejectedEdit {
  taskId: string;
  path: string;
  /** Undefined for a whole file; else how many hunks of how many were rejected. */
  hunks?: { rejected: number; total: number };
  reason?: string;
  by: 'user' | 'auto';
}

export interface EndOfRun {
  runId: string;
  status: RunState['status'];
  reason?: string;
  changed: ChangedFile[];
  rejected: RejectedEdit[];
  testsBefore?: TestReport;
  testsAfter?: TestReport;
  usage: Usage;
  tasksDone: number;
  tasksTotal: number;
  /** The checkpoint taken at the run's start: changed files open as a diff against it. */
  startCheckpoint?: string;
}

export function endOfRun(state: RunState): EndOfRun {
  const changed = new Map<string, ChangedFile>();
  const rejected: RejectedEdit[] = [];
  for (const proposal of Object.values(state.proposals)) {
    if (proposal.status === 'pending') continue;
    for (const file of proposal.files) {
      const partial = proposal.partial?.[file.path];
      if (proposal.status === 'applied' && proposal.accepted.includes(file.path)) {
        const entry = changed.get(file.path) ?? { path: file.path, kind: file.kind, ...(file.from ? { from: file.from } : {}), tasks: [] };
        if (!entry.tasks.includes(proposal.taskId)) entry.tasks.push(proposal.taskId);
        if (partial) entry.partial = { accepted: partial.accepted.length, total: partial.total };
        changed.set(file.path, entry);
      }
      const by = proposal.decidedBy ?? 'user';
      if (proposal.rejected.includes(file.path)) rejected.push({ taskId: proposal.taskId, path: file.path, reason: proposal.reason, by });
      else if (partial) rejected.push({ taskId: proposal.taskId, path: file.path, hunks: { rejected: partial.total - partial.accepted.length, total: partial.total }, reason: proposal.reason, by });
    }
  }
  const tasks = Object.values(state.tasks);
  const start = state.checkpoints.find((checkpoint) => checkpoint.taskId === undefined && checkpoint.label.startsWith('run start'));
  return {
    runId: state.id,
    status: state.status,
    reason: state.statusReason,
    changed: [...changed.values()].sort((a, b) => a.path.localeCompare(b.path)),
    rejected,
    testsBefore: state.baselineTest,
    testsAfter: state.finalTest,
    usage: state.usage,
    tasksDone: tasks.filter((task) => task.status === 'done').length,
    tasksTotal: tasks.length,
    startCheckpoint: start?.id,
  };
}

/** "5 passed, 2 failed" (timed out / the problem when there is one). */
export function testCountsText(report: TestReport | undefined): string {
  if (!report) return 'not run';
  return `${report.passed} passed, ${report.failed} failed${report.timedOut ? ', timed out' : ''}${report.problem && !report.ok ? ` (${report.problem})` : ''}`;
}

/** The summary as plain text: what a follow-up run's planner is told about the run it continues. */
export function endOfRunText(state: RunState): string {
  const summary = endOfRun(state);
  const lines = [
    `Goal: ${state.goal}`,
    `Outcome: ${summary.status}${summary.reason ? ` — ${summary.reason}` : ''} (${summary.tasksDone} of ${summary.tasksTotal} tasks done).`,
  ];
  for (const id of state.taskOrder) {
    const task = state.tasks[id];
    if (task) lines.push(`- ${task.id} [${task.status}] ${task.title}${task.statusReason ? ` — ${task.statusReason}` : ''}`);
  }
  lines.push(summary.changed.length ? `Changed files: ${summary.changed.map((file) => `${file.path} (${file.kind})`).join(', ')}.` : 'No files were changed.');
  for (const entry of summary.rejected) {
    lines.push(`Rejected ${entry.hunks ? `${entry.hunks.rejected} of ${entry.hunks.total} hunks of ` : ''}${entry.path} (${entry.taskId})${entry.reason ? `: ${entry.reason}` : ''}.`);
  }
  lines.push(`Tests before: ${testCountsText(summary.testsBefore)}; after: ${testCountsText(summary.testsAfter)}.`);
  lines.push(`Cost: ${usageText(summary.usage)}.`);
  return lines.join('\n').slice(0, 8_000);
}
