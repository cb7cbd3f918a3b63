// Human-readable lines for the terminal. The wording is the shared one (src/shared/wording.ts);
// this file adds the time, the task names and the terminal's layout.
import type { EngineEvent } from '../shared/events';
import type { RunState, RunSummary } from '../shared/runState';
import { describeEvent, usageText, visibleControls } from '../shared/wording';

/** What the agents say and the tools they call: debug in the log, shown live by `run` unless --quiet. */
const AGENT_ACTIVITY = new Set<EngineEvent['type']>(['agent.text', 'tool.call']);

/**
 * One event as a terminal line ("14:03:07 t1 done — …"); undefined for debug events unless verbose.
 * `agentActivity`: agent text and tool calls too, each collapsed to one bounded line.
 */
export function formatEvent(event: EngineEvent, options: { verbose?: boolean; agentActivity?: boolean } = {}): string | undefined {
  const activity = AGENT_ACTIVITY.has(event.type) && options.agentActivity === true && !options.verbose;
  const { level, text } = activity && event.type === 'tool.call' ? { level: 'info', text: toolCallLine(event) } : describeEvent(event, { withTask: true, short: activity });
  if (level === 'debug' && !options.verbose && !activity) return undefined;
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

/**
 * A tool call as the live view shows it: the tool and what it acts on, never the rest of its input
 * (an edit's content may hold a secret the security gate later masks; `logs` shows it all).
 */
function toolCallLine(event: Extract<EngineEvent, { type: 'tool.call' }>): string {
  let target: unknown;
  try {
    const input: unknown = JSON.parse(event.input);
    if (input && typeof input === 'object') {
      const fields = input as Record<string, unknown>;
      target = ['path', 'command', 'pattern', 'query', 'url'].map((key) => fields[key]).find((value) => typeof value === 'string');
    }
  } catch {
    // Not JSON: the tool's name alone.
  }
  const on = typeof target === 'string' ? `(${truncate(visibleControls(target).replace(/\s+/g, ' '), 80)})` : '';
  return `${event.taskId ? `${event.taskId} ` : ''}${event.tool}${on}`;
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
