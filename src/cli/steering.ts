// Lines typed while a run works are messages to it, as the VS Code chat sends them (engine.sendMessage:
// a `user.message` event, then delivered to the agents at work, `user.delivered`). They come from the
// shared readline (ports.ts), so the answer to an approval question is never taken as one.
import type { Interface } from 'node:readline/promises';
import type { EngineApi } from '../core';
import type { RunState } from '../shared/runState';
import { messageOf } from '../shared/wording';

/** "@t2 use the helper" picks task t2; anything else goes to the task at work. */
const TASK_PREFIX = /^@(\S+)\s+([\s\S]+)$/;

export interface SteeringTarget {
  taskId?: string;
  /** How the echo names where the message went. */
  label: string;
}

/**
 * Where a line without "@task" goes: the one task running, or the run (the planner, or every agent
 * at work when several tasks run at once).
 */
export function steeringTarget(state: Pick<RunState, 'tasks' | 'taskOrder'>): SteeringTarget {
  const running = state.taskOrder.filter((id) => state.tasks[id]?.status === 'running');
  if (running.length === 1) return { taskId: running[0], label: running[0]! };
  if (running.length === 0) return { label: 'the planner' };
  return { label: `the run (${running.join(', ')} at work)` };
}

/** Sends each typed line to the run until the returned function is called. */
export function steerFromLines(
  rl: Interface,
  engine: Pick<EngineApi, 'getRun' | 'sendMessage'>,
  runId: string,
  write: (line: string) => void,
): () => void {
  let queue: Promise<void> = Promise.resolve();
  const send = async (line: string): Promise<void> => {
    const typed = line.trim();
    if (!typed) return;
    const picked = TASK_PREFIX.exec(typed);
    try {
      let target: SteeringTarget;
      if (picked) target = { taskId: picked[1], label: picked[1]! };
      else {
        const state = await engine.getRun(runId);
        target = state ? steeringTarget(state) : { label: 'the run' };
      }
      await engine.sendMessage(runId, { text: picked ? picked[2]! : typed, ...(target.taskId ? { taskId: target.taskId } : {}) });
      write(`→ sent to ${target.label}`);
    } catch (error) {
      write(`✗ not sent: ${messageOf(error)}`);
    }
  };
  // In the order typed, one at a time.
  const onLine = (line: string): void => {
    queue = queue.then(() => send(line));
  };
  rl.on('line', onLine);
  return () => rl.off('line', onLine);
}
