// Which run a chat view shows, how a run reads in a list (Runs tree, history, picker) and the
// history search. Pure, so the host, the webview and unit tests share it.
import { isTerminalRun } from './lifecycle';
import type { RunSummary } from './runState';
import { costText } from './wording';

export interface FollowInput {
  /** Newest first, as listRuns returns them. */
  runs: readonly RunSummary[];
  /** Runs this window drives now. */
  driven: readonly string[];
  /** The run the user pinned in this view: it stays until unpinned (or it no longer exists). */
  pinned?: string;
  /** A run the user asked for just now (a tree click, "Open Panel" on a run, the status bar). */
  requested?: string;
  /** What the view showed before (kept when nothing is active). */
  shown?: string;
}

/**
 * The run a view shows: what the user just asked for, else the pinned run, else the newest run this
 * window drives, else what it showed, else the newest run.
 */
export function runToShow({ runs, driven, pinned, requested, shown }: FollowInput): string | undefined {
  const exists = (id: string | undefined): id is string => id !== undefined && runs.some((run) => run.id === id);
  if (exists(requested)) return requested;
  if (exists(pinned)) return pinned;
  const active = newestActive(runs, driven);
  if (active) return active;
  if (exists(shown)) return shown;
  return runs[0]?.id;
}

/** Whether a view pinned on `pinned` moves to `started`, a run that just started or resumed. */
export function followsStartedRun(started: string, pinned: string | undefined): boolean {
  return pinned === undefined || pinned === started;
}

function newestActive(runs: readonly RunSummary[], driven: readonly string[]): string | undefined {
  let best: RunSummary | undefined;
  for (const run of runs) {
    if (!driven.includes(run.id) || isTerminalRun(run.status)) continue;
    if (!best || run.createdAt > best.createdAt) best = run;
  }
  return best?.id;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * When a run started, short: "14:05:09" today (seconds: runs retried within a minute still differ),
 * "Dec 1 14:05" this year, "Dec 1 2025 14:05" before. Local time.
 */
export function startedText(createdAt: string, now: Date = new Date()): string {
  const at = new Date(createdAt);
  if (Number.isNaN(at.getTime())) return 'unknown time';
  const two = (value: number): string => String(value).padStart(2, '0');
  const time = `${two(at.getHours())}:${two(at.getMinutes())}`;
  if (at.getFullYear() === now.getFullYear() && at.getMonth() === now.getMonth() && at.getDate() === now.getDate()) return `${time}:${two(at.getSeconds())}`;
  const day = `${MONTHS[at.getMonth()]} ${at.getDate()}`;
  return at.getFullYear() === now.getFullYear() ? `${day} ${time}` : `${day} ${at.getFullYear()} ${time}`;
}

function statusWord(run: RunSummary): string {
  if (run.interrupted) return 'interrupted';
  return run.status === 'stopped_budget' ? 'stopped (budget)' : run.status;
}

/**
 * A run's line beside its goal: start time first (runs with the same goal differ there), then the
 * status, the tasks and the cost: "14:05 · completed · 3/3 · $0.0123".
 */
export function runDescription(run: RunSummary, now: Date = new Date(), options: { time?: boolean } = {}): string {
  const parts = [...(options.time === false ? [] : [startedText(run.createdAt, now)]), statusWord(run)];
  if (run.tasksTotal > 0) parts.push(`${run.tasksDone}/${run.tasksTotal}`);
  if (run.usage.calls > 0) parts.push(costText(run.usage));
  return parts.join(' · ');
}

/**
 * A run's label in the Runs tree: start time, then the goal cut short. The time leads because a
 * side bar of the default width cuts the description first, and runs with one goal differ there.
 */
export function runTreeLabel(run: RunSummary, maxGoal: number, now: Date = new Date()): string {
  return `${startedText(run.createdAt, now)} · ${goalLabel(run.goal, maxGoal)}`;
}

/** A goal on one line, cut to `max` characters. */
export function goalLabel(goal: string, max: number): string {
  const flat = goal.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/**
 * The runs whose goal, status, id or start time contain every word of `query` (any case, any
 * order), in the order given. An empty query keeps them all.
 */
export function searchRuns<T extends RunSummary>(runs: readonly T[], query: string, now: Date = new Date()): T[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return [...runs];
  return runs.filter((run) => {
    const text = `${run.goal} ${statusWord(run)} ${run.status} ${run.id} ${startedText(run.createdAt, now)} ${run.createdAt.slice(0, 10)}`.toLowerCase();
    return words.every((word) => text.includes(word));
  });
}
