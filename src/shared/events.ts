// The event log's vocabulary. Every state change of a run is one of these, appended to the run's
// events.jsonl before anything else happens; run and task state is a fold over them (runState.ts).
import type {
  ApprovalSubject,
  BudgetBreach,
  Budgets,
  FileChange,
  Plan,
  PlanTask,
  ReviewVerdict,
  Role,
  RunConfig,
  RunStatus,
  TaskStatus,
  TestReport,
  WebFlow,
  WebFlowResult,
} from './model';
import type { AuditOutcome, SecurityFinding, Severity } from './security';

export type TestPhase = 'baseline' | 'task' | 'final';

/** What a user may change of a task: its definition, and the model its next attempts use. */
export interface TaskChanges {
  title?: string;
  description?: string;
  acceptance?: string[];
  files?: string[];
  model?: string;
}

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
  /**
   * `files`: workspace files the user @-mentioned (every task's prompt shows them); `images`:
   * artifacts of pasted images (attachments/…); `followUpOf`: the ended run this one continues, with its summary.
   */
  'run.created': { goal: string; workspace: string; config: RunConfig; files?: string[]; images?: string[]; followUpOf?: { runId: string; summary: string } };
  'run.status': { status: RunStatus; reason?: string };
  /** The planner's plan passed validation and is now the run's plan. */
  'plan.accepted': { plan: Plan; repairs: number };
  /** A plan failed validation; `errors` name the offending tasks. */
  'plan.rejected': { errors: string[]; attempt: number };
  /**
   * `signature` identifies a failure (failing test names, or the reason) so the same failure
   * repeated across attempts is recognised: the fixer is told to change strategy, then the task stops.
   */
  'task.status': { taskId: string; status: TaskStatus; reason?: string; signature?: string };
  /** The user edited a task while triaging it (or before it ran); `model` pins a model id for its next attempts. */
  'task.updated': { taskId: string; changes: TaskChanges };
  /**
   * One agent turn began; `attempt` counts from 1 for the task. `replayOf` is set on a replay (the
   * step it runs again, `attempt` being that step's): replays are history only and never change the
   * task (its attempts, its status).
   */
  'step.started': { stepId: string; taskId?: string; role: Role; attempt: number; model: string; replayOf?: string };
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
    /** False when the model has no known price: its `usd` is 0 but not free. */
    priced?: boolean;
    /** The model that failed before this one served the call. */
    fallbackFrom?: string;
  };
  /** The router moved a call to the next model of the role's chain. */
  'model.fallback': { stepId: string; taskId?: string; role: Role; from: string; to: string; reason: string };
  /** A provider's circuit breaker opened (skipped until `until`) or closed again. */
  'breaker.changed': { key: string; state: 'open' | 'closed'; reason: string; until?: string };
  /** A call was refused because its worst-case cost would break a cap. */
  'budget.exceeded': BudgetBreach & { action: 'pause' | 'stop'; role: Role; taskId?: string };
  /** The user raised or changed the caps of a paused run (the only part of the config that may change). */
  'run.budgetsChanged': { budgets: Budgets };
  /** The same tool call or the same failure came back `count` times. */
  'loop.detected': { kind: 'tool-call' | 'same-failure'; detail: string; count: number; taskId?: string; stepId?: string };
  'tool.call': { stepId: string; taskId?: string; toolCallId: string; tool: string; input: string };
  'tool.result': { stepId: string; taskId?: string; toolCallId: string; tool: string; ok: boolean; output: string };
  /** An agent's edit set went to review. */
  'edit.proposed': { taskId: string; proposalId: string; files: FileChange[] };
  'edit.decided': {
    proposalId: string;
    taskId: string;
    accepted: string[];
    rejected: string[];
    /** Files accepted only in part: the indexes of the accepted hunks (of diffHunks(before, after)) and how many there were. */
    partial?: Record<string, { accepted: number[]; total: number }>;
    reason?: string;
    by: 'user' | 'auto';
  };
  /** Accepted files are on disk (and saved in the editor). */
  'edit.applied': { proposalId: string; taskId: string; files: { path: string; hash: string }[]; alreadyApplied: string[] };
  /**
   * Test runs: `baseline` before any task (failures already there are not blamed on agents),
   * `task` gates one task, `final` is the whole suite before the run may complete.
   */
  'test.started': { phase: TestPhase; taskId?: string; command: string; related?: string[] };
  'test.finished': { phase: TestPhase; taskId?: string; report: TestReport };
  'review.finished': { taskId: string; verdict: ReviewVerdict };
  /** A web tester task's acceptance flows (its first turn writes them; every later attempt is checked against them). */
  'webtest.planned': { taskId: string; flows: WebFlow[] };
  /** One acceptance flow ran in the browser against the dev server; `attempt` is the task's. */
  'webtest.flow': { taskId: string; attempt: number; result: WebFlowResult };
  /** A markdown or JSON artifact was written beside the log. */
  'artifact.written': { name: string; taskId?: string };
  /** A snapshot of the workspace at a task boundary, in the shadow repository. */
  'checkpoint.created': { checkpointId: string; label: string; taskId?: string };
  'checkpoint.restored': { checkpointId: string; restored: string[]; deleted: string[] };
  /** Git mode: the run works on this branch of the user's repository. */
  'git.branch': { branch: string; base: string };
  'git.committed': { taskId: string; sha: string; message: string; files: string[] };
  /** A step was run again from its recorded inputs; the result is the artifact `artifact`. */
  'step.replayed': { stepId: string; artifact: string; model: string; ok: boolean; summary: string };
  /** An agent's words as they streamed, coalesced into bounded pieces; `truncated` counts what the step's cap left out. */
  'agent.text': { stepId: string; taskId?: string; role: Role; text: string; truncated?: number };
  /** The user wrote to an active run: guidance for a task's agent (`taskId`) or for every agent at work. */
  'user.message': { text: string; taskId?: string; files?: string[]; images?: string[] };
  /** A user message (its event's seq) reached an agent's next model call. */
  'user.delivered': { messageSeq: number; stepId: string; taskId?: string };
  /**
   * An action outside edits (a shell command, an MCP tool call, a deploy) needs a yes: `subject` is
   * exactly what is shown to the user (or matched by a rule).
   */
  'approval.requested': { approvalId: string; subject: ApprovalSubject; role: Role; taskId?: string; stepId?: string };
  /** `by: 'rule'` names the setting entry in `rule`; a user's no may carry a reason the agent hears. */
  'approval.decided': { approvalId: string; approved: boolean; by: 'user' | 'rule'; rule?: string; reason?: string; taskId?: string };
  /** An approved command began; `cwd` is workspace-relative ('' = the root). */
  'command.started': {
    commandId: string;
    command: string;
    cwd: string;
    purpose: 'agent' | 'dev-server' | 'deploy' | 'audit';
    role: Role;
    taskId?: string;
    stepId?: string;
    approvalId?: string;
  };
  /** `output` is bounded (head and tail); `exitCode` null with `signal` or `timedOut` when it was stopped. */
  'command.finished': {
    commandId: string;
    exitCode: number | null;
    signal?: string;
    timedOut: boolean;
    durationMs: number;
    output: string;
    truncated: boolean;
    taskId?: string;
  };
  /**
   * The security gate read the run's added lines and audited the dependencies (`round` from 1).
   * Findings are masked, most severe first; `blocking` counts those at or above `threshold` (they loop
   * back in enforce mode); `omitted` the least severe ones left out past the first 200.
   */
  'security.scanned': { round: number; mode: 'warn' | 'enforce'; threshold: Severity; files: number; findings: SecurityFinding[]; audit: AuditOutcome; blocking: number; omitted?: number };
  /** The engine added a task to the plan after planning (`by`: which gate), e.g. a security fix task. */
  'task.added': { task: PlanTask; by: 'security-gate'; reason: string };
  /** An MCP server of the run started and listed `tools` (those offered to agents), or failed to (`error` says why); the run goes on without it. */
  'mcp.server': { server: string; transport: 'stdio' | 'http'; status: 'connected' | 'failed'; tools?: string[]; error?: string };
  /** The repository's rules files (AGENTS.md…) added to every system prompt: characters in each and how many were included (the bound is `limit` in all). */
  'rules.loaded': { files: { path: string; chars: number; included: number; skipped?: string }[]; limit: number };
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
