// What the helpers of a run driver (landing edits, running tests) may use of it.
import type { EngineEvent, NewEvent } from '../../shared/events';
import type { RunStatus, TaskStatus } from '../../shared/model';
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
   * Runs work that changes the workspace or needs all of it to itself: edits landing, the baseline
   * and final suites, an agent's whole-suite run. Alone, in order: nothing else of the gate runs.
   */
  exclusive<T>(work: () => Promise<T>): Promise<T>;
  /**
   * Runs work that only reads the workspace: a task's test gate. Any number at once (the scheduler
   * never runs two tasks whose file scopes overlap), never beside exclusive work.
   */
  shared<T>(work: () => Promise<T>): Promise<T>;
  /**
   * Runs a landing that cannot be seen half done: one file, written by an applier whose files appear
   * whole or not at all (EditApplier.atomicFiles). One landing at a time (so checkpoints chain), but
   * beside test gates: a suite reads the file before or after, never half of it.
   */
  landing<T>(work: () => Promise<T>): Promise<T>;
}

/** What the driver's steps (planning, a task's turn, its gates) use of it besides the RunContext. */
export interface StepContext extends RunContext {
  /** The run's folder: its log, step records and proposals. */
  readonly runDir: string;
  /** Changes the run's status and makes the log durable (a milestone). */
  setRun(status: RunStatus, reason?: string): void;
  /** Changes a task's status; done and dead-letter make the log durable. */
  setTask(taskId: string, status: TaskStatus, reason?: string): void;
  /** Fails a task with the reason its next attempt hears and the signature that spots repeats. */
  fail(taskId: string, reason: string, signature: string): void;
  /** Writes a file beside the log (keys redacted) and logs artifact.written. */
  writeArtifact(name: string, content: string, taskId?: string): Promise<void>;
  /** Makes what was appended so far durable (an edit reached the disk). */
  sync(): void;
}

export interface WorkspaceGate {
  exclusive<T>(work: () => Promise<T>): Promise<T>;
  shared<T>(work: () => Promise<T>): Promise<T>;
  landing<T>(work: () => Promise<T>): Promise<T>;
}

type GateKind = 'exclusive' | 'shared' | 'landing';

/** Which kinds of work may run at the same time: test gates together, and beside one whole-file landing. */
function compatible(a: GateKind, b: GateKind): boolean {
  if (a === 'exclusive' || b === 'exclusive') return false;
  return a === 'shared' || b === 'shared';
}

/**
 * A first-come gate over the workspace: a piece of work starts when it is compatible with all work
 * running and with all work that asked before it, so nothing overtakes work it would hold up (a
 * landing never starves behind a stream of test runs). Each piece is released when it settles,
 * failed or not.
 */
export function createWorkspaceGate(): WorkspaceGate {
  const waiting: { kind: GateKind; start: () => void }[] = [];
  const running: GateKind[] = [];
  const pump = (): void => {
    for (let i = 0; i < waiting.length; ) {
      const next = waiting[i]!;
      const free = running.every((kind) => compatible(kind, next.kind)) && waiting.slice(0, i).every((ahead) => compatible(ahead.kind, next.kind));
      if (!free) {
        i++;
        continue;
      }
      waiting.splice(i, 1);
      running.push(next.kind);
      next.start();
    }
  };
  const enter = <T>(kind: GateKind, work: () => Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      waiting.push({
        kind,
        start: () => {
          let result: Promise<T>;
          try {
            result = work();
          } catch (error) {
            result = Promise.reject(error);
          }
          result.then(resolve, reject).finally(() => {
            running.splice(running.indexOf(kind), 1);
            pump();
          });
        },
      });
      pump();
    });
  return { exclusive: (work) => enter('exclusive', work), shared: (work) => enter('shared', work), landing: (work) => enter('landing', work) };
}
