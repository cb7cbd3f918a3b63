// The user prompts of each turn. They are rebuilt from the folded run state for every attempt, so a
// fix attempt carries the task, the parsed failure and the relevant files, never the old transcript.
import type { TestReport } from '../../shared/model';
import type { RunState, TaskState, UserMessage } from '../../shared/runState';
import type { Workspace } from '../ports';
import { summarizeReport } from './tools';

const MAX_FILE_CHARS = 20_000;
const MAX_CONTEXT_CHARS = 60_000;

/**
 * What the user wrote to the run for this step (run-wide messages, and the task's own), oldest
 * first; also what a follow-up run carries of the run it continues.
 */
export function userContext(state: RunState, taskId: string | undefined): string[] {
  const lines: string[] = [];
  if (state.followUpOf) lines.push('', `This goal follows up an earlier run (${state.followUpOf.runId}). What that run did:`, state.followUpOf.summary);
  const messages = messagesFor(state, taskId);
  if (messages.length) {
    lines.push('', 'Messages from the user during the run, oldest first (they take precedence over the plan where they conflict):');
    for (const message of messages) lines.push(`- ${message.text.replace(/\n/g, '\n  ')}${message.files.length ? ` (files: ${message.files.join(', ')})` : ''}`);
  }
  return lines;
}

/** The user messages a step of this task (or the planner, for none) is meant to hear. */
export function messagesFor(state: RunState, taskId: string | undefined): UserMessage[] {
  return state.userMessages.filter((message) => message.taskId === undefined || message.taskId === taskId);
}

/** Files the user pointed at (the goal's @-mentions, and the messages' for this task). */
export function mentionedFiles(state: RunState, taskId: string | undefined): string[] {
  return [...new Set([...state.goalFiles, ...messagesFor(state, taskId).flatMap((message) => message.files)])];
}

export function plannerPrompt(goal: string, files: string[], baseline: TestReport | undefined, testCommand: string | undefined, extra: string[] = []): string {
  const parts = [`Goal: ${goal}`, ...extra, '', `Workspace files (first ${files.length}):`, files.join('\n') || '(empty workspace)'];
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
    const accepted = lastRejected.accepted.length ? ` (${lastRejected.accepted.join(', ')} ${lastRejected.accepted.length === 1 ? 'was' : 'were'} accepted and applied)` : '';
    lines.push('', `The user rejected your edit of ${lastRejected.rejected.join(', ')}${accepted}${lastRejected.reason ? `: ${lastRejected.reason}` : '.'}`);
  } else {
    const reasoned = rejectionReasons(state, task.id).at(-1);
    if (reasoned) lines.push('', `The user rejected part of your edit${reasoned.hunks ? ` (${reasoned.hunks})` : ''}: ${reasoned.reason}`);
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

/** The user's rejections of the task's edits that came with a reason (whole files or hunks), oldest first. */
export function rejectionReasons(state: RunState, taskId: string): { reason: string; files: string[]; hunks?: string }[] {
  return Object.values(state.proposals)
    .filter((proposal) => proposal.taskId === taskId && proposal.decidedBy === 'user' && proposal.reason && (proposal.rejected.length || proposal.partial))
    .map((proposal) => ({
      reason: proposal.reason!,
      files: proposal.rejected,
      hunks: proposal.partial ? Object.entries(proposal.partial).map(([path, hunks]) => `${path}: ${hunks.total - hunks.accepted.length} of ${hunks.total} hunks rejected`).join('; ') : undefined,
    }));
}

export async function taskPrompt(state: RunState, task: TaskState, attempt: number, workspace: Workspace, touched: string[]): Promise<string> {
  const parts = taskHeader(state, task);
  parts.push(...userContext(state, task.id));
  if (attempt > 1) parts.push('', ...failureContext(state, task));
  const files = await relevantFiles(workspace, [...task.files, ...touched, ...mentionedFiles(state, task.id)]);
  if (files.length) parts.push('', 'Current content of the relevant files:', ...files);
  parts.push('', 'Do the task with the tools, then call finish.');
  return parts.join('\n');
}

export function reviewPrompt(state: RunState, task: TaskState, diff: string): string {
  const parts = taskHeader(state, task);
  parts.push(...userContext(state, task.id));
  const reasons = rejectionReasons(state, task.id);
  if (reasons.length) {
    parts.push('', 'The user rejected parts of earlier edits of this task; check that the change respects what they said:');
    for (const entry of reasons) parts.push(`- ${entry.files.length ? `${entry.files.join(', ')}: ` : ''}${entry.hunks ? `${entry.hunks}: ` : ''}${entry.reason}`);
  }
  parts.push('', 'The change that was applied:', diff || '(no file changes)');
  if (task.lastTest) parts.push('', 'Tests after the change:', summarizeReport(task.lastTest));
  parts.push('', 'Review it against the acceptance criteria, then call finish with your verdict.');
  return parts.join('\n');
}
