// Human-readable lines for the terminal. The wording is the shared one (src/shared/wording.ts);
// this file adds the time, the task names and the terminal's layout.
import type { EngineEvent } from '../shared/events';
import type { RunState, RunSummary } from '../shared/runState';
import { describeEvent, usageText } from '../shared/wording';

/** One event as a terminal line ("14:03:07 t1 done — …"); undefined for debug events unless verbose. */
export function formatEvent(event: EngineEvent, options: { verbose?: boolean } = {}): string | undefined {
  const { level, text } = describeEvent(event, { withTask: true });
  if (level === 'debug' && !options.verbose) return undefined;
  const time = event.at.slice(11, 19);
  // Lines after the first (a plan's tasks) line up under the text, past the time.
  return `${time} ${text.split('\n').join(`\n${' '.repeat(time.length + 1)}`)}`;
}

export function formatRunList(runs: RunSummary[]): string {
  if (runs.length === 0) return 'No runs yet. Start one with: software-maker run "<goal>"\n';
  return runs
    .map((run) => `${run.id}  ${run.status.padEnd(17)} ${run.tasksDone}/${run.tasksTotal} tasks  ${run.usage.calls} calls  ${truncate(run.goal, 60)}`)
    .join('\n') + '\n';
}

export function formatRunDetail(state: RunState): string {
  const lines = [`Run ${state.id}: ${state.status}${state.statusReason ? ` — ${state.statusReason}` : ''}`, `Goal: ${state.goal}`, ''];
  for (const id of state.taskOrder) {
    const task = state.tasks[id]!;
    lines.push(`  ${task.id.padEnd(6)} ${task.status.padEnd(15)} ${task.role.padEnd(11)} ${task.title}${task.attempts > 1 ? ` (${task.attempts} attempts)` : ''}`);
  }
  lines.push('', `Usage: ${usageText(state.usage)}`);
  return lines.join('\n') + '\n';
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
