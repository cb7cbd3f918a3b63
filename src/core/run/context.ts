// What the helpers of a run driver (landing edits, running tests) may use of it.
import type { EngineEvent, NewEvent } from '../../shared/events';
import type { RunState } from '../../shared/runState';
import type { HostPorts } from '../ports';

export interface RunContext {
  /** The folded state; live, so helpers see every event as soon as it is appended. */
  readonly state: RunState;
  readonly ports: HostPorts;
  /** Aborted when the run is cancelled, paused by a budget, or no longer driven. */
  readonly signal: AbortSignal;
  /** Checks, appends, folds and publishes an event. */
  emit(event: NewEvent): EngineEvent;
  info(message: string, level?: 'info' | 'warn' | 'error', taskId?: string): void;
  /**
   * Runs work that needs the workspace to hold still: test runs, edits landing, checkpoints. One at a
   * time, in order, so a suite never loads a file another task is halfway through saving.
   */
  exclusive<T>(work: () => Promise<T>): Promise<T>;
}

/** A FIFO mutex: each piece of work starts when the previous one settled (failed or not). */
export function createExclusive(): <T>(work: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(work: () => Promise<T>): Promise<T> => {
    const next = tail.then(work);
    tail = next.catch(() => undefined);
    return next;
  };
}
