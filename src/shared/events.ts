// The event log's vocabulary. Every state change of a run is one of these, appended to the run's
// events.jsonl before anything else happens; run and task state is a fold over them (runState.ts).
import type {
  FileChange,
  Plan,
  ReviewVerdict,
  Role,
  RunConfig,
  RunStatus,
  TaskStatus,
  TestReport,
} from './model';

export type TestPhase = 'baseline' | 'task' | 'final';

/** Fields every event has once it is in the log. */
export interface EventEnvelope {
  /** 1-based, gap-free position in the run's log. */
  seq: number;
  /** ISO-8601 time of the append. */
  at: string;
  runId: string;
}

/** Event payloads, keyed by type. */
export interface EventPayloads {
  /** First event of every run. */
  'run.created': { goal: string; workspace: string; config: RunConfig };
  'run.status': { status: RunStatus; reason?: string };
  /** The planner's plan passed validation and is now the run's plan. */
  'plan.accepted': { plan: Plan; repairs: number };
  /** A plan failed validation; `errors` name the offending tasks. */
  'plan.rejected': { errors: string[]; attempt: number };
  'task.status': { taskId: string; status: TaskStatus; reason?: string };
  /** One agent turn began; `attempt` counts from 1 for the task. */
  'step.started': { stepId: string; taskId?: string; role: Role; attempt: number; model: string };
  'step.finished': { stepId: string; taskId?: string; role: Role; ok: boolean; summary: string };
  /** One model call (a step has one per tool-loop iteration). */
  'llm.call': {
    stepId: string;
    taskId?: string;
    role: Role;
    model: string;
    provider: string;
    inputTokens: number;
    outputTokens: number;
    cachedInputTokens: number;
    usd: number;
    latencyMs: number;
    outcome: 'ok' | 'error' | 'aborted';
    error?: string;
  };
  'tool.call': { stepId: string; taskId?: string; toolCallId: string; tool: string; input: string };
  'tool.result': { stepId: string; taskId?: string; toolCallId: string; tool: string; ok: boolean; output: string };
  /** An agent's edit set went to review. */
  'edit.proposed': { taskId: string; proposalId: string; files: FileChange[] };
  'edit.decided': {
    proposalId: string;
    taskId: string;
    accepted: string[];
    rejected: string[];
    reason?: string;
    by: 'user' | 'auto';
  };
  /** Accepted files are on disk (and saved in the editor). */
  'edit.applied': { proposalId: string; taskId: string; files: { path: string; hash: string }[]; alreadyApplied: string[] };
  /**
   * Test runs: `baseline` before any task (failures already there are not blamed on agents),
   * `task` gates one task, `final` is the whole suite before the run may complete.
   */
  'test.started': { phase: TestPhase; taskId?: string; command: string };
  'test.finished': { phase: TestPhase; taskId?: string; report: TestReport };
  'review.finished': { taskId: string; verdict: ReviewVerdict };
  /** A markdown or JSON artifact was written beside the log. */
  'artifact.written': { name: string; taskId?: string };
  /** Something a human should know that changes no state. */
  'log': { level: 'info' | 'warn' | 'error'; message: string; taskId?: string };
}

export type EventType = keyof EventPayloads;

/** A logged event of one type. */
export type EngineEventOf<T extends EventType> = EventEnvelope & { type: T } & EventPayloads[T];

/** Any logged event. */
export type EngineEvent = { [T in EventType]: EngineEventOf<T> }[EventType];

/** What the engine hands the log to append; the log adds the envelope. */
export type NewEvent = { [T in EventType]: { type: T } & EventPayloads[T] }[EventType];
