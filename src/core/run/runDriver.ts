// Drives one run from its current state to the next resting point: planning, the task DAG, the test
// gates and the final report. Every decision is an event appended to the log first; the driver's
// state is only the fold of those events, so a driver built from a log continues where it stopped.
import { join } from 'node:path';
import type { ToolSet } from 'ai';
import type { z } from 'zod';
import type { EngineEvent, NewEvent } from '../../shared/events';
import { canTransitionRun, canTransitionTask, IllegalTransitionError, isTerminalRun } from '../../shared/lifecycle';
import type { Budgets, Role, RunStatus, TaskStatus, TestReport } from '../../shared/model';
import { applyEvent, type RunState, type TaskState } from '../../shared/runState';
import { plannerPrompt, reviewPrompt, taskPrompt } from '../agents/prompts';
import { planSchema, reviewOutputSchema, systemPrompt, workOutputSchema } from '../agents/roles';
import { LoopDetectedError, runAgentTurn, type AgentTurnResult } from '../agents/runAgent';
import { buildTools, toolOutputLimit } from '../agents/tools';
import { BudgetExceededError, BudgetGate } from '../budget';
import type { ShadowCheckpoints } from '../checkpoints/shadowGit';
import { describeChange, EditSet, toWrite } from '../edits/editSet';
import { sha256, unifiedDiff } from '../edits/hunks';
import { applySelectedHunks } from '../edits/review';
import { readLog, type EventLog, type RunLock } from '../log/eventLog';
import type { ProviderContext } from '../models/providers';
import { RunModels } from '../models/registry';
import type { CircuitBreakers } from '../models/router';
import { keyOf } from '../models/scripted';
import { turnModel } from '../models/turnModel';
import { checkPlan, validatePlanGraph } from '../plan/plan';
import type { FileWrite, HostPorts } from '../ports';
import { blockedForever, newlyReady, pickRunnable } from '../scheduler';
import { apiKeyNameOf, refuseSecretText, secretRegistry } from '../secrets';
import { describeFailure, failureSignature, judgeTaskGate } from '../testing/gate';
import { createExclusive, type RunContext } from './context';
import { appliedFiles, EditLanding, proposalIdPrefix, readProposal, type ProposalArtifact } from './landing';
import { freshStepId, replayStep, replayStepIds, scriptedOffsetBefore, stepRecordName, writeRunFile, type ReplayResult, type StepRecord } from './replay';
import { renderPlan, renderReport } from './report';
import { describeTests, RunTests } from './tests';
import { checkTriage, type TriageAction } from './triage';

/** Aborts a run because the user cancelled it. */
export class RunCancelledError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'RunCancelledError';
  }
}

/** Aborts driving because a budget cap would be crossed; the run is paused or stopped_budget already. */
export class BudgetStopError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'BudgetStopError';
  }
}

/** Aborts driving without changing the run (window closing); the run resumes later from its log. */
export class DriverDisposedError extends Error {
  constructor() {
    super('The engine stopped driving this run; it can be resumed.');
    this.name = 'DriverDisposedError';
  }
}

export class PlanRejectedError extends Error {
  constructor(errors: string[]) {
    super(`The planner's plan is still invalid after one repair attempt:\n- ${errors.join('\n- ')}`);
    this.name = 'PlanRejectedError';
  }
}

/** Task statuses a driver continues on resume (the work was under way when the process stopped). */
const IN_FLIGHT: ReadonlySet<TaskStatus> = new Set(['running', 'awaiting-review', 'testing', 'reviewing', 'failed']);

const STAGE_BY_ROLE: Record<Role, string> = {
  planner: 'plan',
  architect: 'design',
  implementer: 'implement',
  tester: 'test',
  reviewer: 'review',
  fixer: 'fix',
  docs: 'docs',
  security: 'security',
};

export interface RunDriverOptions {
  ports: HostPorts;
  runDir: string;
  log: EventLog;
  lock: RunLock;
  state: RunState;
  notify: (event: EngineEvent) => void;
  scriptedLatencyMs?: number;
  /** The log as it was when a resumed run was loaded (empty for a new run). */
  priorEvents?: readonly EngineEvent[];
  /** Circuit breakers shared by every run of the engine (a dead provider is dead for all of them). */
  breakers: CircuitBreakers;
  /** The workspace's shadow repository; undefined when the host has no storage for one. */
  checkpoints: () => Promise<ShadowCheckpoints> | undefined;
  hostModels?: ProviderContext['hostModels'];
  /** A triage decision to apply before driving on (the run was paused waiting for it). */
  triage?: { taskId: string; action: TriageAction };
}

export class RunDriver {
  readonly state: RunState;
  private readonly ports: HostPorts;
  private readonly log: EventLog;
  private readonly abort = new AbortController();
  private readonly models: RunModels;
  private readonly active = new Set<string>();
  private readonly budget = new BudgetGate(() => this.state);
  private wakeUp: (() => void) | undefined;
  private fatal: unknown;
  private approval: { resolve: () => void } | undefined;
  private readonly landing: EditLanding;
  private readonly testing: RunTests;
  private startCheckpoint: Promise<void> | undefined;
  private readonly exclusive = createExclusive();
  private finishedPromise: Promise<RunState> | undefined;

  constructor(private readonly options: RunDriverOptions) {
    this.state = options.state;
    this.ports = options.ports;
    this.log = options.log;
    // Their values are registered as they are read; the names now, so no test command inherits them.
    secretRegistry.registerNames(this.state.config.models.flatMap((spec) => apiKeyNameOf(spec) ?? []));
    this.models = new RunModels(this.state.config, {
      workspaceRoot: this.ports.workspace.root,
      secret: (name) => this.ports.secret(name),
      scriptedLatencyMs: options.scriptedLatencyMs,
      hostModels: options.hostModels,
    });
    this.abort.signal.addEventListener('abort', () => this.wake());
    const context: RunContext = {
      state: this.state,
      ports: this.ports,
      signal: this.abort.signal,
      emit: (event) => this.emit(event),
      info: (message, level, taskId) => this.info(message, level, taskId),
      exclusive: this.exclusive,
    };
    this.landing = new EditLanding(context, options.checkpoints);
    this.testing = new RunTests(context);
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** Starts driving (once); the promise settles when the run rests: terminal, paused or disposed. */
  start(): Promise<RunState> {
    this.finishedPromise ??= this.drive();
    return this.finishedPromise;
  }

  cancel(reason: string): boolean {
    if (isTerminalRun(this.state.status)) return false;
    this.emit({ type: 'run.status', status: 'cancelled', reason });
    this.abort.abort(new RunCancelledError(reason));
    return true;
  }

  approvePlan(): boolean {
    if (this.state.status !== 'awaiting-approval' || !this.approval) return false;
    this.approval.resolve();
    return true;
  }

  async dispose(): Promise<void> {
    if (!this.abort.signal.aborted) this.abort.abort(new DriverDisposedError());
    await this.finishedPromise?.catch(() => undefined);
  }

  // ---- events ------------------------------------------------------------------------------

  /** Checks, appends, folds and publishes one event. Illegal transitions never reach the log. */
  private emit(event: NewEvent): EngineEvent {
    if (isTerminalRun(this.state.status) && event.type !== 'log' && event.type !== 'artifact.written') {
      if (this.abort.signal.aborted) throw this.abort.signal.reason;
      throw new IllegalTransitionError('run', this.state.status, event.type, `run ${this.state.id}`);
    }
    if (event.type === 'run.status' && !canTransitionRun(this.state.status, event.status)) {
      throw new IllegalTransitionError('run', this.state.status, event.status, `run ${this.state.id}`);
    }
    if (event.type === 'task.status') {
      const task = this.state.tasks[event.taskId];
      if (!task || !canTransitionTask(task.status, event.status)) {
        throw new IllegalTransitionError('task', task?.status ?? 'missing', event.status, `task ${event.taskId}`);
      }
    }
    const logged = this.log.append(event);
    applyEvent(this.state, logged);
    this.options.notify(logged);
    return logged;
  }

  private setRun(status: RunStatus, reason?: string): void {
    this.emit({ type: 'run.status', status, reason });
    this.log.sync();
  }

  private setTask(taskId: string, status: TaskStatus, reason?: string): void {
    this.emit({ type: 'task.status', taskId, status, reason });
    if (status === 'done' || status === 'dead_letter') this.log.sync();
  }

  private info(message: string, level: 'info' | 'warn' | 'error' = 'info', taskId?: string): void {
    this.emit({ type: 'log', level, message, taskId });
  }

  private wake(): void {
    const wake = this.wakeUp;
    this.wakeUp = undefined;
    wake?.();
  }

  private nextWake(): Promise<void> {
    return new Promise((resolve) => {
      this.wakeUp = resolve;
      if (this.abort.signal.aborted) resolve();
    });
  }

  // ---- the run -----------------------------------------------------------------------------

  private async drive(): Promise<RunState> {
    try {
      const closed = this.closeStaleSteps();
      if (this.options.triage) this.triage(this.options.triage.taskId, this.options.triage.action);
      if (this.options.priorEvents?.length) this.models.setScriptedConsumed(consumedTurns([...this.options.priorEvents, ...closed]));
      await this.testing.resolve();
      if (this.state.status === 'queued') this.setRun('planning');
      if (this.state.status === 'paused') this.setRun(this.state.plan ? 'running' : 'planning');
      if (this.state.status === 'planning') {
        await this.runBaseline();
        await this.plan();
      }
      if (this.state.status === 'awaiting-approval') await this.waitForApproval();
      if (this.state.status === 'running') {
        await this.runBaseline();
        await this.landing.prepareGitMode();
        // The first snapshot of a large workspace takes seconds: it runs while the first tasks work.
        if (this.state.checkpoints.length === 0) this.startCheckpoint = this.exclusive(() => this.landing.checkpoint(`run start: ${this.state.goal.slice(0, 80)}`));
        await this.executeTasks();
        await this.settleStartCheckpoint();
        if (this.state.status === 'running') await this.finishRun();
      }
    } catch (error) {
      if (!this.abort.signal.aborted) {
        await this.settleStartCheckpoint();
        const message = error instanceof Error ? error.message : String(error);
        this.info(message, 'error');
        if (canTransitionRun(this.state.status, 'failed')) this.setRun('failed', message);
      }
    } finally {
      await this.settleStartCheckpoint();
      if (isTerminalRun(this.state.status)) await this.writeReport().catch(() => undefined);
      await this.log.close();
      await this.options.lock.release();
    }
    return this.state;
  }

  /**
   * The run-start snapshot runs while the first tasks work; its result is an event of the run, so the
   * run must not end (nor its log close) before it settles. Its failure is reported by the landing.
   */
  private async settleStartCheckpoint(): Promise<void> {
    await this.startCheckpoint?.catch(() => undefined);
  }

  /** Steps that were open when the process died and whose task has moved on are closed. */
  private closeStaleSteps(): EngineEvent[] {
    const closed: EngineEvent[] = [];
    for (const step of Object.values(this.state.openSteps)) {
      const task = step.taskId ? this.state.tasks[step.taskId] : undefined;
      const stillRunning = step.role === 'planner' ? this.state.status === 'planning' : task?.status === 'running' || (step.role === 'reviewer' && task?.status === 'reviewing');
      if (!stillRunning) closed.push(this.emit({ type: 'step.finished', stepId: step.stepId, taskId: step.taskId, role: step.role, ok: false, summary: 'interrupted' }));
    }
    return closed;
  }

  private async runBaseline(): Promise<void> {
    if (!this.testing.detected || this.state.baselineTest) return;
    const report = await this.testing.run('baseline');
    this.info(report.ok ? 'Baseline: all tests pass before any change.' : `Baseline: ${describeFailure(report)} before any change; those failures are not blamed on tasks.`);
  }

  private async plan(): Promise<void> {
    const stepId = this.stepIdFor('planner', undefined, 'plan@v1');
    const files = await this.ports.workspace.listFiles('', 200);
    let rejections = 0;
    const turnAbort = new AbortController();
    const tools = buildTools({ workspace: this.ports.workspace, maxOutputChars: await this.toolOutputLimitFor('planner') }, planSchema, (plan) => {
      const errors = validatePlanGraph(plan);
      if (errors.length) {
        rejections++;
        this.emit({ type: 'plan.rejected', errors, attempt: rejections });
        if (rejections > 1) turnAbort.abort(new PlanRejectedError(errors));
      }
      return errors;
    });
    const prompt = plannerPrompt(this.state.goal, files, this.state.baselineTest, this.testing.detected && describeTests(this.testing.detected));
    const step = await this.agentStep({ role: 'planner', stepId, attempt: 1, prompt, tools, stopSignal: turnAbort.signal });
    if (!step.ok) throw new Error(step.message);
    const checked = checkPlan(step.output);
    if (!checked.ok) throw new PlanRejectedError(checked.errors);
    this.emit({ type: 'plan.accepted', plan: checked.plan, repairs: rejections });
    await this.writeArtifact('plan.md', renderPlan(checked.plan));
    this.emit({ type: 'step.finished', stepId, role: 'planner', ok: true, summary: checked.plan.summary });
    this.setRun(this.state.config.requirePlanApproval ? 'awaiting-approval' : 'running');
  }

  private async waitForApproval(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.approval = { resolve };
      this.abort.signal.addEventListener('abort', () => reject(this.abort.signal.reason), { once: true });
    });
    this.approval = undefined;
    this.info('Plan approved.');
    this.setRun('running');
  }

  private async executeTasks(): Promise<void> {
    for (;;) {
      this.abort.signal.throwIfAborted();
      if (this.fatal) throw this.fatal;
      for (const task of newlyReady(this.state)) this.setTask(task.id, 'ready');
      for (const { task, cause } of blockedForever(this.state)) {
        this.setTask(task.id, 'skipped', `its dependency ${cause} did not finish`);
      }
      for (const id of this.state.taskOrder) {
        if (IN_FLIGHT.has(this.state.tasks[id]!.status) && !this.active.has(id)) this.launch(id);
      }
      for (const task of pickRunnable(this.state, this.state.config.concurrency, this.active)) this.launch(task.id);
      if (this.active.size === 0) {
        const dead = this.state.taskOrder.filter((id) => this.state.tasks[id]!.status === 'dead_letter');
        // Nothing else can move: the user decides what happens to the dead letters (retry, skip, edit, take over).
        if (dead.length) this.setRun('paused', `needs triage: ${dead.map((id) => `${id} (${this.state.tasks[id]!.statusReason ?? 'failed'})`).join('; ')}`);
        return;
      }
      await this.nextWake();
    }
  }

  /**
   * Decides what follows a failure: another attempt (the fixer), or dead-letter when attempts are
   * used up, the agent looped, or the same failure keeps coming back. Returns true when the task rests.
   */
  private afterFailure(task: TaskState): boolean {
    const signatures = task.failureSignatures;
    const last = signatures.at(-1) ?? '';
    const attemptsUsed = task.attempts - task.attemptBase;
    let repeats = 0;
    for (let i = signatures.length - 1; i >= 0 && signatures[i] === last && repeats < attemptsUsed; i--) repeats++;
    const allowed = 1 + this.state.config.maxFixAttempts;
    if (last.startsWith('loop:')) {
      this.setTask(task.id, 'dead_letter', `stopped: ${task.statusReason ?? 'the agent looped'}`);
      return true;
    }
    if (repeats >= this.state.config.loopThreshold) {
      const detail = `the same failure ${repeats} times in a row: ${task.statusReason ?? last}`;
      this.emit({ type: 'loop.detected', kind: 'same-failure', detail, count: repeats, taskId: task.id });
      this.setTask(task.id, 'dead_letter', `stopped: ${detail}`);
      return true;
    }
    if (attemptsUsed < allowed) {
      this.setTask(task.id, 'running', `fix attempt ${attemptsUsed} of ${this.state.config.maxFixAttempts}`);
      return false;
    }
    this.setTask(task.id, 'dead_letter', `${allowed} attempt${allowed === 1 ? '' : 's'} failed; last: ${task.statusReason ?? 'unknown'}`);
    return true;
  }

  /**
   * A call was refused by the budget gate: log the breach once, pause or stop the run, and stop all
   * work. The refused step stays open, so a resumed run (after the cap is raised) re-runs it.
   */
  private onBudgetBreach(error: BudgetExceededError): void {
    if (this.abort.signal.aborted) return;
    const action = this.state.config.budgets.onExceed;
    const { breach, spender } = error;
    this.emit({ type: 'budget.exceeded', ...breach, action, role: spender.role, taskId: spender.taskId });
    this.setRun(action === 'stop' ? 'stopped_budget' : 'paused', error.message);
    this.abort.abort(new BudgetStopError(error.message));
  }

  /** New caps for the run (raising them lets a budget-paused run go on when resumed). */
  setBudgets(budgets: Budgets): void {
    this.emit({ type: 'run.budgetsChanged', budgets });
  }

  /** A provider's breaker opened or closed (engine-wide); logged in every run being driven. */
  noteBreaker(change: { key: string; state: 'open' | 'closed' | 'half-open'; reason: string; until?: number }): void {
    if (change.state === 'half-open' || isTerminalRun(this.state.status)) return;
    this.emit({ type: 'breaker.changed', key: change.key, state: change.state, reason: change.reason, until: change.until ? new Date(change.until).toISOString() : undefined });
  }

  private fail(taskId: string, reason: string, signature: string): void {
    this.emit({ type: 'task.status', taskId, status: 'failed', reason, signature });
  }

  /** A user decision about a task (from the tree, the panel or the CLI). Throws TriageError when it does not apply. */
  triage(taskId: string, action: TriageAction): void {
    checkTriage(this.state, taskId, action);
    switch (action.kind) {
      case 'retry':
        if (action.model) {
          this.emit({ type: 'task.updated', taskId, changes: { model: action.model } });
        }
        this.setTask(taskId, 'ready', `retried by the user${action.model ? ` with ${action.model}` : ''}`);
        break;
      case 'skip':
        this.setTask(taskId, 'skipped', 'skipped by the user');
        break;
      case 'takeOver':
        this.setTask(taskId, 'done', 'done by hand');
        break;
      case 'edit':
        this.emit({ type: 'task.updated', taskId, changes: action.changes });
        break;
    }
    this.wake();
  }

  private launch(taskId: string): void {
    this.active.add(taskId);
    this.runTask(taskId)
      .catch((error: unknown) => {
        if (!this.abort.signal.aborted) this.fatal ??= error;
      })
      .finally(() => {
        this.active.delete(taskId);
        this.wake();
      });
  }

  /** Moves one task through its lifecycle until it rests (done, dead-letter, skipped). */
  private async runTask(taskId: string): Promise<void> {
    for (;;) {
      this.abort.signal.throwIfAborted();
      const task = this.state.tasks[taskId]!;
      switch (task.status) {
        case 'ready':
          this.setTask(taskId, 'running');
          break;
        case 'running':
          await this.agentTurn(task);
          break;
        case 'awaiting-review':
          await this.reviewAndApply(task);
          break;
        case 'testing':
          await this.testGate(task);
          break;
        case 'reviewing':
          await this.reviewGate(task);
          break;
        case 'failed':
          if (this.afterFailure(task)) return;
          break;
        default:
          return;
      }
    }
  }

  private async agentTurn(task: TaskState): Promise<void> {
    const open = Object.values(this.state.openSteps).find((step) => step.taskId === task.id && step.role !== 'reviewer');
    const attempt = open?.attempt ?? task.attempts + 1;
    const role: Role = attempt === 1 ? task.role : 'fixer';
    const stepId = open?.stepId ?? freshStepId(this.state.stepIds, `${task.id}:${STAGE_BY_ROLE[role]}@v${attempt}`);
    // The prompt reads the failure of the previous attempt, so build it before the step starts.
    const prompt = await taskPrompt(this.state, task, attempt, this.ports.workspace, this.touchedFiles(task.id));
    const edits = new EditSet(this.ports.workspace, task.files, refuseSecretText);
    const maxOutputChars = await this.toolOutputLimitFor(role, task.modelOverride);
    const tools = buildTools({ workspace: this.ports.workspace, edits, runTests: () => this.testing.quietly(), maxOutputChars }, workOutputSchema);
    const step = await this.agentStep({ role, stepId, taskId: task.id, attempt, prompt, tools, modelId: task.modelOverride });
    if (!step.ok) {
      this.fail(task.id, step.message, step.signature);
      return;
    }
    const output = step.output as z.infer<typeof workOutputSchema>;
    const changed = edits.changed();
    if (changed.length) {
      const proposalId = `${proposalIdPrefix(task.id, attempt)}${this.state.lastSeq + 1}`;
      const artifact: ProposalArtifact = { proposalId, taskId: task.id, files: changed };
      await this.writeArtifact(join('proposals', `${proposalId}.json`), JSON.stringify(artifact), task.id);
      this.emit({ type: 'edit.proposed', taskId: task.id, proposalId, files: changed.map(describeChange) });
      this.setTask(task.id, 'awaiting-review', output.summary);
    } else {
      this.setTask(task.id, 'testing', `no edits: ${output.summary}`);
    }
    this.emit({ type: 'step.finished', stepId, taskId: task.id, role, ok: true, summary: output.summary });
  }

  /**
   * One agent turn as a logged step: step.started, the tool loop, and the step's record (inputs and
   * output, versioned by attempt) beside the log. A failed turn is closed here and reported; a
   * successful one is closed by the caller after it has logged what the output led to.
   */
  private async agentStep(step: {
    role: Role;
    stepId: string;
    taskId?: string;
    attempt: number;
    prompt: string;
    tools: ToolSet;
    /** Ends the turn early with its reason as the error (the planner's repair limit). */
    stopSignal?: AbortSignal;
    /** A model the user pinned for this task, instead of the role's chain. */
    modelId?: string;
  }): Promise<{ ok: true; output: unknown } | { ok: false; message: string; signature: string }> {
    const { role, stepId, taskId, attempt, prompt } = step;
    const chain = step.modelId ? [await this.models.byId(step.modelId)] : await this.models.chainFor(role);
    const system = systemPrompt(role);
    this.emit({ type: 'step.started', stepId, taskId, role, attempt, model: chain.map((entry) => entry.id).join(' > ') });
    const turn = turnModel({
      chain,
      breakers: this.options.breakers,
      timeouts: this.state.config.timeouts,
      stepId,
      role,
      taskId,
      emit: (event) => void this.emit(event),
      budget: this.budget,
      onBudgetBreach: (error) => this.onBudgetBreach(error),
    });
    let result: AgentTurnResult;
    try {
      result = await runAgentTurn({
        role,
        taskId,
        stepId,
        model: turn.model,
        system,
        prompt,
        tools: step.tools,
        maxSteps: this.state.config.maxAgentSteps,
        loopThreshold: this.state.config.loopThreshold,
        signal: step.stopSignal ? AbortSignal.any([this.abort.signal, step.stopSignal]) : this.abort.signal,
        emit: (event) => void this.emit(event),
      });
    } catch (error) {
      if (this.abort.signal.aborted) throw error;
      const message = error instanceof Error ? error.message : String(error);
      this.emit({ type: 'step.finished', stepId, taskId, role, ok: false, summary: message });
      const signature = error instanceof LoopDetectedError ? `loop:${error.detail}` : `error:${message.split('\n')[0]}`;
      return { ok: false, message, signature };
    } finally {
      turn.settle();
    }
    // The model that answered last is the one the record names (a fallback may have served the turn).
    const record: StepRecord = { stepId, role, taskId, attempt, model: turn.answeredBy() ?? chain[0]!.id, system, prompt, result };
    await this.writeArtifact(stepRecordName(stepId), JSON.stringify(record, null, 2), taskId);
    return { ok: true, output: result.output };
  }

  /** The open step of this role and task when it is re-run after a resume; else `wanted`, or the next free version (a replay took it). */
  private stepIdFor(role: Role, taskId: string | undefined, wanted: string): string {
    const open = Object.values(this.state.openSteps).find((step) => step.role === role && step.taskId === taskId);
    return open?.stepId ?? freshStepId(this.state.stepIds, wanted);
  }

  private touchedFiles(taskId: string): string[] {
    return Object.values(this.state.proposals)
      .filter((proposal) => proposal.taskId === taskId)
      .flatMap((proposal) => proposal.files.map((file) => file.path));
  }

  private async reviewAndApply(task: TaskState): Promise<void> {
    const pending = Object.values(this.state.proposals).filter((entry) => entry.taskId === task.id && entry.status !== 'applied').at(-1);
    if (!pending) {
      this.fail(task.id, 'the proposal to review is missing from the log', 'error:missing proposal');
      return;
    }
    const artifact = await readProposal(this.options.runDir, pending.id);
    if (pending.status === 'pending') await this.landing.decide(task, artifact);
    const proposal = this.state.proposals[pending.id]!;
    if (proposal.accepted.length === 0) {
      const who = proposal.decidedBy === 'auto' ? 'the edit was not applied' : 'the user rejected the edit';
      this.fail(task.id, `${who}${proposal.reason ? `: ${proposal.reason}` : ''}`, `rejected:${proposal.reason ?? ''}`);
      return;
    }
    const writes = artifact.files
      .filter((file) => proposal.accepted.includes(file.path))
      .map((file): FileWrite => {
        const write = toWrite(file);
        const hunks = proposal.partial?.[file.path];
        if (!hunks || write.kind !== 'modify') return write;
        const newText = applySelectedHunks(file.before, file.after, new Set(hunks.accepted));
        return { ...write, newText, newHash: sha256(newText) };
      });
    // The snapshot and the write hold the workspace still: no test run reads a half-saved file.
    const { outcomes, rebased } = await this.exclusive(async () => {
      await this.landing.checkpoint(`before ${task.id} (attempt ${task.attempts}): ${task.title}`, task.id);
      return this.landing.applyWithRebase(writes, new Map(artifact.files.map((file) => [file.path, file.before])));
    });
    const conflicts = outcomes.filter((outcome) => outcome.status === 'conflict');
    const written = outcomes.filter((outcome) => outcome.status !== 'conflict');
    if (written.length) {
      this.emit({
        type: 'edit.applied',
        proposalId: proposal.id,
        taskId: task.id,
        files: written.map((outcome) => ({ path: outcome.path, hash: outcome.hash })),
        alreadyApplied: written.filter((outcome) => outcome.status === 'already-applied').map((outcome) => outcome.path),
      });
      this.log.sync();
    }
    for (const path of rebased) this.info(`${path} had changed on disk since the proposal; the accepted hunks still matched and were applied on top of the change.`, 'info', task.id);
    if (conflicts.length) {
      const detail = conflicts.map((outcome) => `${outcome.path} (${outcome.detail})`).join(', ');
      this.fail(task.id, `the file changed since the proposal or could not be written, so it was not overwritten: ${detail}`, `conflict:${detail}`);
      return;
    }
    if (proposal.decidedBy === 'auto' && proposal.rejected.length) {
      // Files nobody could review were held back: the agent hears why on its next attempt.
      this.fail(task.id, `${proposal.rejected.join(', ')} not applied: ${proposal.reason ?? 'it needs a review'}`, `rejected:${proposal.reason ?? ''}`);
      return;
    }
    const partial = Object.entries(proposal.partial ?? {});
    const note = [
      ...partial.map(([path, hunks]) => `${path}: ${hunks.accepted.length} of ${hunks.total} hunks accepted`),
      ...(proposal.rejected.length ? [`rejected: ${proposal.rejected.join(', ')}`] : []),
    ].join('; ');
    this.setTask(task.id, 'testing', note || undefined);
  }

  /**
   * The task's test gate: the tests related to the files it changed first (in the package nearest to
   * them), judged against the baseline. The whole suite runs at the end of the run (finishRun).
   */
  private async testGate(task: TaskState): Promise<void> {
    const next: TaskStatus = this.state.config.reviewGate ? 'reviewing' : 'done';
    if (!this.testing.detected) {
      this.setTask(task.id, next, 'no test gate (tests are off)');
      if (next === 'done') await this.landing.commitTask(task);
      return;
    }
    const { tests, only } = await this.testing.forChanges(appliedFiles(this.state, task.id));
    const report = await this.testing.run('task', task.id, tests, only);
    const verdict = judgeTaskGate(report, this.state.baselineTest);
    if (!verdict.pass) {
      this.fail(task.id, `tests: ${verdict.reason}`, `tests:${failureSignature(report)}`);
      return;
    }
    this.setTask(task.id, next, `tests${only.length ? ` (${only.length} related file${only.length === 1 ? '' : 's'})` : ''}: ${verdict.reason}`);
    if (next === 'done') await this.landing.commitTask(task);
  }

  /** Tool results must fit the smallest context window of the models that may serve the turn. */
  private async toolOutputLimitFor(role: Role, modelOverride?: string): Promise<number> {
    const chain = modelOverride ? [await this.models.byId(modelOverride)] : await this.models.chainFor(role);
    const windows = chain.map((entry) => entry.spec.contextWindow).filter((size): size is number => size !== undefined);
    return toolOutputLimit(windows.length ? Math.min(...windows) : undefined);
  }

  private async reviewGate(task: TaskState): Promise<void> {
    const stepId = this.stepIdFor('reviewer', task.id, `${task.id}:review@v${task.attempts}`);
    const prompt = reviewPrompt(this.state, task, await this.appliedDiff(task.id));
    const tools = buildTools({ workspace: this.ports.workspace, maxOutputChars: await this.toolOutputLimitFor('reviewer') }, reviewOutputSchema);
    const step = await this.agentStep({ role: 'reviewer', stepId, taskId: task.id, attempt: task.attempts, prompt, tools });
    if (!step.ok) {
      this.fail(task.id, `review could not run: ${step.message}`, step.signature);
      return;
    }
    const verdict = step.output as z.infer<typeof reviewOutputSchema>;
    this.emit({ type: 'review.finished', taskId: task.id, verdict });
    this.emit({ type: 'step.finished', stepId, taskId: task.id, role: 'reviewer', ok: true, summary: verdict.summary });
    if (verdict.approved) {
      this.setTask(task.id, 'done', `review: ${verdict.summary}`);
      await this.landing.commitTask(task);
    } else this.fail(task.id, `review asked for changes: ${verdict.issues.join('; ') || verdict.summary}`, `review:${verdict.issues.join('; ')}`);
  }

  /** Unified diff of what the task's accepted proposals changed. */
  private async appliedDiff(taskId: string): Promise<string> {
    const parts: string[] = [];
    for (const proposal of Object.values(this.state.proposals)) {
      if (proposal.taskId !== taskId || proposal.status !== 'applied') continue;
      const artifact = await readProposal(this.options.runDir, proposal.id);
      for (const file of artifact.files) {
        if (proposal.accepted.includes(file.path)) parts.push(unifiedDiff(file.path, file.before, file.after));
      }
    }
    return parts.join('\n');
  }

  private async finishRun(): Promise<void> {
    const tasks = this.state.taskOrder.map((id) => this.state.tasks[id]!);
    const dead = tasks.filter((task) => task.status === 'dead_letter');
    const skipped = tasks.filter((task) => task.status === 'skipped');
    let finalReport: TestReport | undefined;
    if (this.testing.detected) finalReport = await this.testing.run('final');
    if (dead.length) {
      this.setRun('failed', `task${dead.length > 1 ? 's' : ''} ${dead.map((task) => task.id).join(', ')} failed every attempt (dead-letter)${skipped.length ? `; ${skipped.length} skipped` : ''}`);
    } else if (finalReport && !finalReport.ok) {
      this.setRun('failed', `the tests still fail after all tasks: ${describeFailure(finalReport)}`);
    } else {
      this.setRun('completed', finalReport ? `all ${tasks.length} tasks done; ${finalReport.passed} tests pass` : `all ${tasks.length} tasks done (tests off)`);
    }
  }

  // ---- tests -------------------------------------------------------------------------------

  // ---- artifacts ---------------------------------------------------------------------------

  private async writeArtifact(name: string, content: string, taskId?: string): Promise<void> {
    await writeRunFile(this.options.runDir, name, content);
    this.emit({ type: 'artifact.written', name, taskId });
  }

  /** Replays a step of this run while the run is being driven (the driver owns the log). */
  async replay(stepId: string, modelId: string | undefined): Promise<ReplayResult> {
    const { events } = await readLog(this.options.runDir);
    return replayStep({
      runDir: this.options.runDir,
      state: this.state,
      stepId,
      modelId,
      workspace: this.ports.workspace,
      models: replayModels(this.state, events, stepId, this.ports, { scriptedLatencyMs: this.options.scriptedLatencyMs, hostModels: this.options.hostModels }),
      breakers: this.options.breakers,
      signal: this.abort.signal,
      emit: (event) => void this.emit(event),
      writeArtifact: (name, content, taskId) => this.writeArtifact(name, content, taskId),
    });
  }

  private async writeReport(): Promise<void> {
    await this.writeArtifact('report.md', renderReport(this.state));
  }
}

/**
 * Model calls made by steps that finished (or were closed) before a resume, per role/task key.
 * A step still open re-runs from its start, so its calls are not counted.
 */
export function consumedTurns(events: readonly EngineEvent[]): Map<string, number> {
  const finished = new Set(events.filter((event) => event.type === 'step.finished').map((event) => (event.type === 'step.finished' ? event.stepId : '')));
  // A replay's calls went to models of its own: the run's transcript did not move.
  const replays = replayStepIds(events);
  const counts = new Map<string, number>();
  for (const event of events) {
    if (event.type !== 'llm.call' || event.outcome !== 'ok' || !finished.has(event.stepId) || replays.has(event.stepId)) continue;
    const key = keyOf(event.role, event.taskId);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/**
 * Models for a replay: fresh instances, with a scripted transcript starting where the original step
 * started, and the host's models (vscode-lm) where the host has them.
 */
export function replayModels(
  state: RunState,
  events: readonly EngineEvent[],
  stepId: string,
  ports: HostPorts,
  options: { scriptedLatencyMs?: number; hostModels?: ProviderContext['hostModels'] } = {},
): RunModels {
  const models = new RunModels(state.config, { workspaceRoot: ports.workspace.root, secret: (name) => ports.secret(name), scriptedLatencyMs: options.scriptedLatencyMs, hostModels: options.hostModels });
  const started = events.find((event) => event.type === 'step.started' && event.stepId === stepId);
  if (started?.type === 'step.started') {
    models.setScriptedConsumed(new Map([[keyOf(started.role, started.taskId), scriptedOffsetBefore(events, stepId)]]));
  }
  return models;
}
