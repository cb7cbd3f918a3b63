// The engine's public surface, as the hosts use it. Implemented by Engine in engine.ts.
import type { EngineEvent } from '../shared/events';
import type { Budgets, RunConfig } from '../shared/model';
import type { ImageInput, TriageDecision } from '../shared/protocol';
import type { UserMessageInput } from './run/guidance';
import type { RunState, RunSummary } from '../shared/runState';
import type { Checkpoint, RestoreReport } from './checkpoints/shadowGit';
import type { ReplayResult } from './run/replay';

export interface StartRunOptions {
  allowConcurrent?: boolean;
  /** Workspace files the goal @-mentions (every prompt shows them). */
  files?: string[];
  /** Pasted images (refused unless every model of the run's roles takes images). */
  images?: ImageInput[];
  /** An ended run this one follows up: its summary goes to the planner. */
  followUpOf?: string;
}

export type EventListener = (runId: string, event: EngineEvent) => void;

export interface RunHandle {
  runId: string;
  /** Settles with the final state when the run reaches a terminal status or pauses. Never rejects. */
  finished: Promise<RunState>;
}

/** Where a run came from, and what driving it would use (core/trust.ts). */
export interface RunOrigin {
  runId: string;
  /** Created or adopted on this machine. Other runs are read-only until adopted. */
  own: boolean;
  /** One line per endpoint and key name, transcript, test command or task, and auto-approval its config names. */
  uses: string[];
  /** Names exactly what `uses` shows (the run's run.created event): adoptRun takes it back. */
  digest: string;
}

export interface EngineApi {
  /** Every event of every run this engine drives, after it is in the log. Returns an unsubscribe function. */
  onEvent(listener: EventListener): () => void;
  /** Summaries of all runs in the runs folder, newest first (rebuilt from the logs); `foreign` marks runs not created or adopted here. */
  listRuns(): Promise<RunSummary[]>;
  /** Current state of a run (folded from its log). Undefined for an unknown id. */
  getRun(runId: string): Promise<RunState | undefined>;
  /** The whole log of a run. */
  readEvents(runId: string): Promise<EngineEvent[]>;
  /**
   * Creates a run for a goal with a config snapshot and starts it. When another run of the workspace
   * is in progress (a live lock, any process), the host's `confirm` port is asked first, unless
   * `allowConcurrent`; no answer or "no" throws ConcurrentRunError.
   */
  startRun(goal: string, config: RunConfig, options?: StartRunOptions): Promise<RunHandle>;
  /**
   * A message from the user to a run this engine drives: logged, then given to the agents at work
   * (the task's, or all of them) at their next model call. Refused for a run that ended or is not driven here.
   */
  sendMessage(runId: string, message: UserMessageInput): Promise<number>;
  /** Continues a run that was interrupted (window closed, crash) or paused. Refused for a run this machine did not create or adopt. */
  resumeRun(runId: string): Promise<RunHandle>;
  /** Where a run came from and what driving it would use: shown to the user before adoptRun. */
  describeRunOrigin(runId: string): Promise<RunOrigin>;
  /** Makes a run created elsewhere this machine's own, after the user accepted what describeRunOrigin showed (`digest`). */
  adoptRun(runId: string, digest: string): Promise<void>;
  cancelRun(runId: string, reason?: string): Promise<boolean>;
  approvePlan(runId: string): Promise<boolean>;
  /**
   * A user decision about a task: retry (optionally with another model), skip, take over (mark done)
   * or edit. A run paused for triage is resumed with the decision applied first.
   */
  triageTask(runId: string, taskId: string, action: TriageDecision): Promise<RunHandle>;
  /**
   * Runs one recorded step again from its inputs (optionally with another model) and stores the
   * result as the stage's next version beside the previous ones, with a diff. Never edits the workspace.
   */
  replayStep(runId: string, stepId: string, options?: { model?: string }): Promise<ReplayResult>;
  /** Changes a run's caps (the only part of its config that may change); resume a budget-paused run after raising them. */
  setBudgets(runId: string, budgets: Budgets): Promise<void>;
  /** A file's text at a checkpoint (the "before" of a run's diff); undefined when the checkpoint has no such file. */
  checkpointFile(checkpointId: string, path: string): Promise<string | undefined>;
  /** Checkpoints of this workspace, oldest first (all runs). */
  listCheckpoints(): Promise<Checkpoint[]>;
  /**
   * Restores the workspace to a checkpoint (files created since are removed; a safety checkpoint is
   * taken first so the rollback itself can be undone). Refused while a run is being driven.
   */
  rollback(checkpointId: string): Promise<RestoreReport>;
  /** Runs this engine is driving right now. */
  activeRunIds(): string[];
  /** Cancels nothing; stops driving runs (they resume later from their logs) and releases locks. */
  dispose(): Promise<void>;
}
