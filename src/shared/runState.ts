// Run state is a fold over the run's events. The engine, both hosts and the webview all derive what
// they show from this one function, so there is no second copy of the truth to drift.
import type { EngineEvent, EngineEventOf } from './events';
import type { AuditOutcome, SecurityFinding, Severity } from './security';
import { canTransitionRun, canTransitionTask, IllegalTransitionError, isTerminalRun } from './lifecycle';
import {
  EMPTY_USAGE,
  type ApprovalSubject,
  type FileChange,
  type Plan,
  type PlanTask,
  type ReviewVerdict,
  type Role,
  type RunConfig,
  type RunStatus,
  type TaskStatus,
  type TestReport,
  type Usage,
  type WebFlow,
  type WebFlowResult,
} from './model';

export interface TaskState extends PlanTask {
  status: TaskStatus;
  /** Why the task is in its status, when there is more to say than the status (failure, skip reason). */
  statusReason?: string;
  /** Agent turns started for this task (first try plus fix attempts). */
  attempts: number;
  /** `attempts` when the user last retried the task from dead-letter: the attempt limit counts from here. */
  attemptBase: number;
  lastTest?: TestReport;
  review?: ReviewVerdict;
  usage: Usage;
  /** Model id the user pinned for this task's next attempts (triage: retry with another model). */
  modelOverride?: string;
  /** Signatures of this task's failures, oldest first: repeated ones mean the fixes are going in circles. */
  failureSignatures: string[];
  /** Why the task last failed (statusReason moves on when the next attempt starts). */
  lastFailure?: string;
  /** Git mode: the commit of the task's changes. */
  commit?: string;
  /** Web tester tasks: the acceptance flows, and how they went in the latest attempt that ran them. */
  webFlows?: WebFlow[];
  webResults?: { attempt: number; results: WebFlowResult[] };
}

export interface ProposalState {
  id: string;
  taskId: string;
  files: FileChange[];
  status: 'pending' | 'decided' | 'applied';
  accepted: string[];
  rejected: string[];
  partial?: Record<string, { accepted: number[]; total: number }>;
  reason?: string;
  /** Who decided: the user, or the engine (auto-approval, or a rejection when nobody could be asked). */
  decidedBy?: 'user' | 'auto';
}

export interface StepState {
  stepId: string;
  taskId?: string;
  role: Role;
  attempt: number;
  model: string;
}

export interface PendingApproval {
  approvalId: string;
  subject: ApprovalSubject;
  role: Role;
  taskId?: string;
  stepId?: string;
  at: string;
}

export interface RunState {
  id: string;
  goal: string;
  workspace: string;
  config: RunConfig;
  status: RunStatus;
  statusReason?: string;
  createdAt: string;
  updatedAt: string;
  plan?: Plan;
  /** Tasks by id; `taskOrder` keeps the plan's order. */
  tasks: Record<string, TaskState>;
  taskOrder: string[];
  proposals: Record<string, ProposalState>;
  /** Steps started and not yet finished: what was in flight if the process died. */
  openSteps: Record<string, StepState>;
  /** Every step id started, real steps and replays, oldest first: a new step never reuses one (and overwrites its record). */
  stepIds: string[];
  /** Replays of recorded steps, oldest first: history only, they change no task. */
  replays: { stepId: string; replayOf: string; taskId?: string; model: string; at: string }[];
  usage: Usage;
  usageByRole: Partial<Record<Role, Usage>>;
  /** Checkpoints taken during the run, oldest first. */
  checkpoints: { id: string; label: string; taskId?: string; at: string }[];
  /** Git mode: the branch the run works on. */
  gitBranch?: string;
  /** The suite as it was before any task ran. */
  baselineTest?: TestReport;
  /** The whole-suite run that decided whether the run completed. */
  finalTest?: TestReport;
  /**
   * The budget breach that paused the run (status paused) or stopped it (stopped_budget), while it
   * still holds: the next run.status clears it, and so do new caps (run.budgetsChanged), since the
   * breach was measured against the old ones; a resumed call that still does not fit logs a new one.
   * The VS Code host, the panel and the CLI all read it from here.
   */
  budgetBreach?: EngineEventOf<'budget.exceeded'>;
  /** What the goal came with: @-mentioned files, pasted images (artifacts), the ended run it follows up. */
  goalFiles: string[];
  goalImages: string[];
  followUpOf?: { runId: string; summary: string };
  /** What the user wrote to the run while it was active, oldest first, with the steps it reached. */
  userMessages: UserMessage[];
  /** Approvals asked and not yet answered (a command, an MCP call, a deploy), by approvalId: what waits on the user. */
  pendingApprovals: Record<string, PendingApproval>;
  /** The security gate, once it ran or added a task (absent when it is off). */
  security?: SecurityGateState;
  /** seq of the last event folded in. */
  lastSeq: number;
}

export interface SecurityGateRound {
  round: number;
  mode: 'warn' | 'enforce';
  threshold: Severity;
  files: number;
  findings: SecurityFinding[];
  audit: AuditOutcome;
  blocking: number;
  omitted?: number;
  at: string;
}

export interface SecurityGateState {
  /** Every gate run (security.scanned), oldest first: the last one says what still stands. */
  rounds: SecurityGateRound[];
  /** The tasks the gate added to fix what it found, oldest first. */
  fixTasks: string[];
}

export interface UserMessage {
  seq: number;
  at: string;
  text: string;
  /** For this task's agent; none: for whichever agents are at work (the planner, the running tasks). */
  taskId?: string;
  files: string[];
  images: string[];
  /** Steps whose model calls were given it. */
  deliveredTo: string[];
}

/** Task statuses a run's end leaves unfinished: the fold ends them as cancelled, with the run's reason. */
const UNFINISHED: ReadonlySet<TaskStatus> = new Set(['ready', 'running', 'awaiting-review', 'testing', 'reviewing', 'failed']);

function endUnfinishedTasks(state: RunState, status: RunStatus, reason: string | undefined): void {
  const why = status === 'cancelled' ? 'the run was cancelled' : status === 'stopped_budget' ? 'the run was stopped by its budget' : 'the run ended';
  for (const task of Object.values(state.tasks)) {
    if (!UNFINISHED.has(task.status)) continue;
    task.status = 'cancelled';
    task.statusReason = reason ? `${why}: ${reason}` : why;
  }
}

/** Thrown when a log does not describe a possible run (a bug or a hand-edited log). */
export class InvalidLogError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidLogError';
  }
}

function addUsage(into: Usage, add: Omit<Usage, 'calls' | 'unpricedCalls'> & { priced?: boolean }): void {
  into.calls += 1;
  if (add.priced === false) into.unpricedCalls = (into.unpricedCalls ?? 0) + 1;
  into.inputTokens += add.inputTokens;
  into.outputTokens += add.outputTokens;
  into.cachedInputTokens += add.cachedInputTokens;
  into.usd += add.usd;
}

/**
 * Names every JavaScript object already has (`__proto__`, `constructor`, `hasOwnProperty`, …). As
 * keys of the fold's maps they would reach the prototype instead of a task, so plans may not use
 * them as ids, and a foreign or hand-edited log naming one is refused.
 */
export function isReservedKey(key: string): boolean {
  return key in Object.prototype;
}

/** The fields by which the fold keys its maps (tasks, steps, proposals, usage by role). */
const KEY_FIELDS = ['taskId', 'stepId', 'proposalId', 'role', 'approvalId'] as const;

function refuseReservedKeys(event: EngineEvent): void {
  // Every event of every fold passes here: no arrays, the keys are looked at where they are.
  let reserved: string | undefined;
  const keyed = event as Partial<Record<(typeof KEY_FIELDS)[number], unknown>>;
  for (const field of KEY_FIELDS) {
    const value = keyed[field];
    if (typeof value === 'string' && isReservedKey(value)) reserved ??= value;
  }
  const tasks = event.type === 'plan.accepted' ? event.plan.tasks : event.type === 'task.added' ? [event.task] : undefined;
  for (const task of tasks ?? []) {
    if (isReservedKey(task.id)) reserved ??= task.id;
    for (const dependency of task.dependsOn) if (isReservedKey(dependency)) reserved ??= dependency;
  }
  if (reserved !== undefined) {
    throw new InvalidLogError(
      `Event ${event.seq} (${event.type}) names "${reserved}", which is reserved (every JavaScript object has it): Software Maker never writes such an id, so this log was made or edited elsewhere. Remove the run folder, or fix the event.`,
    );
  }
}

function taskOf(state: RunState, taskId: string, event: EngineEvent): TaskState {
  const task = Object.hasOwn(state.tasks, taskId) ? state.tasks[taskId] : undefined;
  if (!task) throw new InvalidLogError(`Event ${event.seq} (${event.type}) names task "${taskId}", which is not in the plan.`);
  return task;
}

function proposalOf(state: RunState, proposalId: string): ProposalState | undefined {
  return Object.hasOwn(state.proposals, proposalId) ? state.proposals[proposalId] : undefined;
}

/**
 * Folds one event into the state. Mutates and returns `state` (the first event creates it), so
 * callers that need a new reference for rendering copy first. Throws IllegalTransitionError for a
 * transition the lifecycle tables forbid and InvalidLogError for events that cannot follow.
 */
export function applyEvent(state: RunState | undefined, event: EngineEvent): RunState {
  if (event.type === 'run.created') {
    if (state) throw new InvalidLogError(`Event ${event.seq}: a second run.created in one log.`);
    return {
      id: event.runId,
      goal: event.goal,
      workspace: event.workspace,
      config: event.config,
      status: 'queued',
      createdAt: event.at,
      updatedAt: event.at,
      tasks: {},
      taskOrder: [],
      proposals: {},
      openSteps: {},
      stepIds: [],
      replays: [],
      usage: { ...EMPTY_USAGE },
      usageByRole: {},
      checkpoints: [],
      goalFiles: event.files ?? [],
      goalImages: event.images ?? [],
      followUpOf: event.followUpOf,
      userMessages: [],
      pendingApprovals: {},
      lastSeq: event.seq,
    };
  }
  if (!state) throw new InvalidLogError(`Event ${event.seq} (${event.type}) comes before run.created.`);
  if (event.seq !== state.lastSeq + 1) {
    throw new InvalidLogError(`Event numbering jumps from ${state.lastSeq} to ${event.seq}.`);
  }
  refuseReservedKeys(event);
  switch (event.type) {
    case 'run.status':
      if (!canTransitionRun(state.status, event.status)) {
        throw new IllegalTransitionError('run', state.status, event.status, `run ${state.id}`);
      }
      state.status = event.status;
      state.statusReason = event.reason;
      if (isTerminalRun(event.status)) endUnfinishedTasks(state, event.status, event.reason);
      if (isTerminalRun(event.status)) state.pendingApprovals = {};
      // The driver logs the breach, then the pause or stop it causes; any other status moves on from it.
      if (event.status !== 'paused' && event.status !== 'stopped_budget') delete state.budgetBreach;
      break;
    case 'plan.accepted':
      state.plan = event.plan;
      state.tasks = {};
      state.taskOrder = event.plan.tasks.map((task) => task.id);
      for (const task of event.plan.tasks) {
        state.tasks[task.id] = { ...task, status: 'pending', attempts: 0, attemptBase: 0, usage: { ...EMPTY_USAGE }, failureSignatures: [] };
      }
      break;
    case 'task.added': {
      const added = event.task;
      if (!state.plan) throw new InvalidLogError(`Event ${event.seq} adds task "${added.id}" before any plan was accepted.`);
      if (Object.hasOwn(state.tasks, added.id)) throw new InvalidLogError(`Event ${event.seq} adds task "${added.id}", which the plan already has.`);
      for (const dependency of added.dependsOn) taskOf(state, dependency, event);
      state.plan = { ...state.plan, tasks: [...state.plan.tasks, added] };
      state.tasks[added.id] = { ...added, status: 'pending', attempts: 0, attemptBase: 0, usage: { ...EMPTY_USAGE }, failureSignatures: [] };
      state.taskOrder.push(added.id);
      if (event.by === 'security-gate') (state.security ??= { rounds: [], fixTasks: [] }).fixTasks.push(added.id);
      break;
    }
    case 'security.scanned': {
      const { round, mode, threshold, files, findings, audit, blocking, omitted } = event;
      (state.security ??= { rounds: [], fixTasks: [] }).rounds.push({ round, mode, threshold, files, findings, audit, blocking, ...(omitted ? { omitted } : {}), at: event.at });
      break;
    }
    case 'task.status': {
      const task = taskOf(state, event.taskId, event);
      if (!canTransitionTask(task.status, event.status)) {
        throw new IllegalTransitionError('task', task.status, event.status, `task ${task.id}`);
      }
      if (task.status === 'dead_letter' && event.status === 'ready') task.attemptBase = task.attempts;
      task.status = event.status;
      task.statusReason = event.reason;
      if (event.status === 'failed') {
        task.failureSignatures.push(event.signature ?? event.reason ?? 'unknown');
        task.lastFailure = event.reason;
      }
      break;
    }
    case 'task.updated': {
      const task = taskOf(state, event.taskId, event);
      const { model, ...definition } = event.changes;
      Object.assign(task, definition);
      if (model !== undefined) task.modelOverride = model;
      break;
    }
    case 'run.budgetsChanged':
      state.config = { ...state.config, budgets: event.budgets };
      // New caps: the breach was measured against the old ones and may no longer hold.
      delete state.budgetBreach;
      break;
    case 'budget.exceeded':
      state.budgetBreach = event;
      break;
    case 'checkpoint.created':
      state.checkpoints.push({ id: event.checkpointId, label: event.label, taskId: event.taskId, at: event.at });
      break;
    case 'git.branch':
      state.gitBranch = event.branch;
      break;
    case 'git.committed':
      taskOf(state, event.taskId, event).commit = event.sha;
      break;
    case 'step.started':
      state.stepIds.push(event.stepId);
      if (event.replayOf !== undefined) {
        if (event.taskId) taskOf(state, event.taskId, event);
        state.replays.push({ stepId: event.stepId, replayOf: event.replayOf, taskId: event.taskId, model: event.model, at: event.at });
        break;
      }
      state.openSteps[event.stepId] = {
        stepId: event.stepId,
        taskId: event.taskId,
        role: event.role,
        attempt: event.attempt,
        model: event.model,
      };
      if (event.taskId) taskOf(state, event.taskId, event).attempts = event.attempt;
      break;
    case 'step.finished':
      delete state.openSteps[event.stepId];
      // An ask the step left unanswered (cancelled, or the process died) no longer waits on anyone.
      for (const pending of Object.values(state.pendingApprovals)) if (pending.stepId === event.stepId) delete state.pendingApprovals[pending.approvalId];
      break;
    case 'llm.call':
      addUsage(state.usage, event);
      addUsage((state.usageByRole[event.role] ??= { ...EMPTY_USAGE }), event);
      if (event.taskId) addUsage(taskOf(state, event.taskId, event).usage, event);
      break;
    case 'edit.proposed':
      taskOf(state, event.taskId, event);
      state.proposals[event.proposalId] = {
        id: event.proposalId,
        taskId: event.taskId,
        files: event.files,
        status: 'pending',
        accepted: [],
        rejected: [],
      };
      break;
    case 'edit.decided': {
      const proposal = proposalOf(state, event.proposalId);
      if (!proposal) throw new InvalidLogError(`Event ${event.seq} decides unknown proposal ${event.proposalId}.`);
      proposal.status = 'decided';
      proposal.accepted = event.accepted;
      proposal.rejected = event.rejected;
      proposal.partial = event.partial;
      proposal.reason = event.reason;
      proposal.decidedBy = event.by;
      break;
    }
    case 'edit.applied': {
      const proposal = proposalOf(state, event.proposalId);
      if (!proposal) throw new InvalidLogError(`Event ${event.seq} applies unknown proposal ${event.proposalId}.`);
      proposal.status = 'applied';
      break;
    }
    case 'test.finished':
      if (event.phase === 'task' && event.taskId) taskOf(state, event.taskId, event).lastTest = event.report;
      else if (event.phase === 'baseline') state.baselineTest = event.report;
      else if (event.phase === 'final') state.finalTest = event.report;
      break;
    case 'review.finished':
      taskOf(state, event.taskId, event).review = event.verdict;
      break;
    case 'webtest.planned':
      taskOf(state, event.taskId, event).webFlows = event.flows;
      break;
    case 'webtest.flow': {
      const task = taskOf(state, event.taskId, event);
      if (task.webResults?.attempt !== event.attempt) task.webResults = { attempt: event.attempt, results: [] };
      task.webResults.results.push(event.result);
      break;
    }
    case 'approval.requested':
      if (event.taskId) taskOf(state, event.taskId, event);
      state.pendingApprovals[event.approvalId] = { approvalId: event.approvalId, subject: event.subject, role: event.role, taskId: event.taskId, stepId: event.stepId, at: event.at };
      break;
    case 'approval.decided':
      delete state.pendingApprovals[event.approvalId];
      break;
    case 'command.started':
    case 'command.finished':
      if (event.taskId) taskOf(state, event.taskId, event);
      break;
    case 'plan.rejected':
    case 'model.fallback':
    case 'breaker.changed':
    case 'loop.detected':
    case 'checkpoint.restored':
    case 'step.replayed':
    case 'tool.call':
    case 'tool.result':
    case 'test.started':
    case 'artifact.written':
    case 'mcp.server':
    case 'rules.loaded':
      break;
    case 'user.message':
      if (event.taskId) taskOf(state, event.taskId, event);
      state.userMessages.push({ seq: event.seq, at: event.at, text: event.text, taskId: event.taskId, files: event.files ?? [], images: event.images ?? [], deliveredTo: [] });
      break;
    case 'user.delivered':
      state.userMessages.find((message) => message.seq === event.messageSeq)?.deliveredTo.push(event.stepId);
      break;
    case 'agent.text':
    case 'log':
      break;
    default: {
      const unknown: never = event;
      throw new InvalidLogError(`Unknown event type in ${JSON.stringify(unknown).slice(0, 80)}`);
    }
  }
  state.lastSeq = event.seq;
  state.updatedAt = event.at;
  return state;
}

/**
 * Event types whose payload the fold never reads (tool calls and results, agent text: most of a
 * log's bytes). A reader may fold them from their seq and time alone (`applyPayloadFreeEvent`);
 * applyEvent still takes them whole. A test folds logs both ways and compares.
 */
export const PAYLOAD_FREE_TYPES: ReadonlySet<string> = new Set<EngineEvent['type']>(['tool.call', 'tool.result', 'agent.text']);

/** applyEvent for an event of PAYLOAD_FREE_TYPES known only by its type, seq and time. */
export function applyPayloadFreeEvent(state: RunState | undefined, event: { type: string; seq: number; at: string }): RunState {
  if (!PAYLOAD_FREE_TYPES.has(event.type)) throw new InvalidLogError(`Event ${event.seq} (${event.type}) must be folded whole.`);
  if (!state) throw new InvalidLogError(`Event ${event.seq} (${event.type}) comes before run.created.`);
  if (event.seq !== state.lastSeq + 1) throw new InvalidLogError(`Event numbering jumps from ${state.lastSeq} to ${event.seq}.`);
  state.lastSeq = event.seq;
  state.updatedAt = event.at;
  return state;
}

/** Folds a whole log. */
export function foldEvents(events: readonly EngineEvent[]): RunState | undefined {
  let state: RunState | undefined;
  for (const event of events) state = applyEvent(state, event);
  return state;
}

/** A small summary for lists (tree, status bar, CLI status). */
export interface RunSummary {
  id: string;
  goal: string;
  status: RunStatus;
  statusReason?: string;
  createdAt: string;
  updatedAt: string;
  tasksDone: number;
  tasksTotal: number;
  usage: Usage;
  /** Set by the engine (not the fold): the run was not created or adopted on this machine, so it is read-only until adopted. */
  foreign?: boolean;
  /** Set by the engine (not the fold): unfinished and not paused, yet nothing drives it (its window or process stopped): resumable. */
  interrupted?: boolean;
}

export function summarizeRun(state: RunState): RunSummary {
  const tasks = Object.values(state.tasks);
  return {
    id: state.id,
    goal: state.goal,
    status: state.status,
    statusReason: state.statusReason,
    createdAt: state.createdAt,
    updatedAt: state.updatedAt,
    tasksDone: tasks.filter((task) => task.status === 'done').length,
    tasksTotal: tasks.length,
    usage: state.usage,
  };
}

/** Tasks that depend on `taskId`, directly or through others, in plan order (skipping it skips them). */
export function dependentsOf(tasks: Readonly<Record<string, { dependsOn: readonly string[] } | undefined>>, order: readonly string[], taskId: string): string[] {
  const found = new Set<string>();
  let grew = true;
  while (grew) {
    grew = false;
    for (const id of order) {
      if (id === taskId || found.has(id)) continue;
      if (tasks[id]?.dependsOn.some((dep) => dep === taskId || found.has(dep))) {
        found.add(id);
        grew = true;
      }
    }
  }
  return order.filter((id) => found.has(id));
}
