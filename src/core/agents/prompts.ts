// The user prompts of each turn. They are rebuilt from the folded run state for every attempt, so a
// fix attempt carries the task, the parsed failure and the relevant files, never the old transcript.
import type { TestReport } from '../../shared/model';
import type { RunState, TaskState } from '../../shared/runState';
import type { Workspace } from '../ports';
import { summarizeReport } from './tools';

const MAX_FILE_CHARS = 20_000;
const MAX_CONTEXT_CHARS = 60_000;

export function plannerPrompt(goal: string, files: string[], baseline: TestReport | undefined, testCommand: string | undefined): string {
  const parts = [`Goal: ${goal}`, '', `Workspace files (first ${files.length}):`, files.join('\n') || '(empty workspace)'];
  if (testCommand) parts.push('', `Test command: ${testCommand}`);
  if (baseline) parts.push('', 'Test results before any change:', summarizeReport(baseline));
  parts.push('', 'Explore as needed, then call finish with the plan.');
  return parts.join('\n');
}

function taskHeader(state: RunState, task: TaskState): string[] {
  const lines = [
    `Goal of the run: ${state.goal}`,
    '',
    `Your task (${task.id}): ${task.title}`,
    task.description,
    '',
    'Acceptance criteria:',
    ...task.acceptance.map((criterion) => `- ${criterion}`),
    '',
    task.files.length ? `Files you may change: ${task.files.join(', ')}` : 'File scope: not limited.',
  ];
  const deps = task.dependsOn.map((id) => state.tasks[id]).filter((dep): dep is TaskState => !!dep);
  if (deps.length) lines.push('', 'Done before you:', ...deps.map((dep) => `- ${dep.id}: ${dep.title}`));
  return lines;
}

/** Why the previous attempt of a task failed, from what the log recorded. */
export function failureContext(state: RunState, task: TaskState): string[] {
  const lines = [`This is attempt ${task.attempts + 1}. The previous attempt failed: ${task.lastFailure ?? 'unknown reason'}.`];
  const signatures = task.failureSignatures;
  if (signatures.length >= 2 && signatures.at(-1) === signatures.at(-2)) {
    lines.push('The last two attempts ended with the same failure: what was tried does not work. Take a different approach; do not repeat the previous change.');
  }
  if (task.lastTest && !task.lastTest.ok) lines.push('', 'Test results of the previous attempt:', summarizeReport(task.lastTest));
  if (task.review && !task.review.approved) {
    lines.push('', `Reviewer: ${task.review.summary}`, ...task.review.issues.map((issue) => `- ${issue}`));
  }
  const rejected = Object.values(state.proposals).filter((proposal) => proposal.taskId === task.id && proposal.rejected.length);
  const lastRejected = rejected[rejected.length - 1];
  if (lastRejected) {
    lines.push('', `The user rejected your edit of ${lastRejected.rejected.join(', ')}${lastRejected.reason ? `: ${lastRejected.reason}` : '.'}`);
  }
  return lines;
}

/** Current text of the task's concrete files (globs are left to the agent's tools), bounded. */
export async function relevantFiles(workspace: Workspace, paths: string[]): Promise<string[]> {
  const lines: string[] = [];
  let budget = MAX_CONTEXT_CHARS;
  for (const path of [...new Set(paths)]) {
    if (/[*?[{]/.test(path) || budget <= 0) continue;
    let text: string | undefined;
    try {
      text = await workspace.readText(path);
    } catch {
      continue;
    }
    if (text === undefined) continue;
    const shown = text.length > MAX_FILE_CHARS ? `${text.slice(0, MAX_FILE_CHARS)}\n[truncated: ${text.length - MAX_FILE_CHARS} more characters; use read_file]` : text;
    budget -= shown.length;
    lines.push(`--- ${path} ---`, shown);
  }
  return lines;
}

export async function taskPrompt(state: RunState, task: TaskState, attempt: number, workspace: Workspace, touched: string[]): Promise<string> {
  const parts = taskHeader(state, task);
  if (attempt > 1) parts.push('', ...failureContext(state, task));
  const files = await relevantFiles(workspace, [...task.files, ...touched]);
  if (files.length) parts.push('', 'Current content of the relevant files:', ...files);
  parts.push('', 'Do the task with the tools, then call finish.');
  return parts.join('\n');
}

export function reviewPrompt(state: RunState, task: TaskState, diff: string): string {
  const parts = taskHeader(state, task);
  parts.push('', 'The change that was applied:', diff || '(no file changes)');
  if (task.lastTest) parts.push('', 'Tests after the change:', summarizeReport(task.lastTest));
  parts.push('', 'Review it against the acceptance criteria, then call finish with your verdict.');
  return parts.join('\n');
}
