// Run state is a fold over the run's events. The engine, both hosts and the webview all derive what
// they show from this one function, so there is no second copy of the truth to drift.
import type { EngineEvent } from './events';
import { canTransitionRun, canTransitionTask, IllegalTransitionError } from './lifecycle';
import {
  EMPTY_USAGE,
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
  /** seq of the last event folded in. */
  lastSeq: number;
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
const KEY_FIELDS = ['taskId', 'stepId', 'proposalId', 'role'] as const;

function refuseReservedKeys(event: EngineEvent): void {
  const keys: string[] = [];
  for (const field of KEY_FIELDS) {
    const value: unknown = (event as Partial<Record<(typeof KEY_FIELDS)[number], unknown>>)[field];
    if (typeof value === 'string') keys.push(value);
  }
  if (event.type === 'plan.accepted') for (const task of event.plan.tasks) keys.push(task.id, ...task.dependsOn);
  const reserved = keys.find(isReservedKey);
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
      break;
    case 'plan.accepted':
      state.plan = event.plan;
      state.tasks = {};
      state.taskOrder = event.plan.tasks.map((task) => task.id);
      for (const task of event.plan.tasks) {
        state.tasks[task.id] = { ...task, status: 'pending', attempts: 0, attemptBase: 0, usage: { ...EMPTY_USAGE }, failureSignatures: [] };
      }
      break;
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
    case 'plan.rejected':
    case 'model.fallback':
    case 'breaker.changed':
    case 'budget.exceeded':
    case 'loop.detected':
    case 'checkpoint.restored':
    case 'step.replayed':
    case 'tool.call':
    case 'tool.result':
    case 'test.started':
    case 'artifact.written':
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
