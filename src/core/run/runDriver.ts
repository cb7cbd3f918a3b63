// Drives one run from its current state to the next resting point: planning, the task DAG, the test
// gates and the final report. Every decision is an event appended to the log first; the driver's
// state is only the fold of those events, so a driver built from a log continues where it stopped.
// The steps it schedules live beside it: planning.ts, taskTurn.ts (a task's agent turn), gates.ts
// (review and landing of edits, the test gate, the reviewer), each turn logged by agentStep.ts.
import type { EngineEvent, NewEvent } from '../../shared/events';
import { canTransitionRun, IllegalTransitionError, isTerminalRun } from '../../shared/lifecycle';
import type { Budgets, RunStatus, TaskStatus, TestReport } from '../../shared/model';
import type { TriageDecision } from '../../shared/protocol';
import { applyEvent, type RunState, type TaskState } from '../../shared/runState';
import { BudgetExceededError, BudgetGate } from '../budget';
import type { ShadowCheckpoints } from '../checkpoints/shadowGit';
import { readLog, type EventLog, type RunLock } from '../log/eventLog';
import { writeRunSnapshot } from '../log/snapshot';
import type { CircuitBreakers } from '../models/breakers';
import type { ProviderContext } from '../models/providers';
import { RunModels } from '../models/registry';
import { keyOf } from '../models/scripted';
import type { HostPorts } from '../ports';
import { blockedForever, newlyReady, pickRunnable } from '../scheduler';
import { apiKeyNameOf, secretRegistry } from '../secrets';
import { describeFailure } from '../testing/gate';
import { AgentSteps } from './agentStep';
import { createWorkspaceGate, type StepContext } from './context';
import { Guidance, type UserMessageInput } from './guidance';
import { reviewAndApply, reviewGate, testGate } from './gates';
import { EditLanding } from './landing';
import { plan } from './planning';
import { replayModels, replayStep, replayStepIds, writeRunFile, type ReplayResult } from './replay';
import { renderReport } from './report';
import { runSecurityGate, securityBlocker } from './securityGate';
import { agentTurn } from './taskTurn';
import { RunTests } from './tests';
import { TurnExtras } from './turnExtras';
import { checkTransition } from './transitions';
import { checkTriage } from './triage';
import { messageOf } from '../../shared/wording';

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

/** Task statuses a driver continues on resume (the work was under way when the process stopped). */
const IN_FLIGHT: ReadonlySet<TaskStatus> = new Set(['running', 'awaiting-review', 'testing', 'reviewing', 'failed']);

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
  triage?: { taskId: string; action: TriageDecision };
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
  private readonly steps: AgentSteps;
  private readonly guidance: Guidance;
  private readonly extras: TurnExtras;
  private readonly context: StepContext;
  private startCheckpoint: Promise<void> | undefined;
  private readonly gate = createWorkspaceGate();
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
    this.context = {
      state: this.state,
      ports: this.ports,
      signal: this.abort.signal,
      emit: (event) => this.emit(event),
      info: (message, level, taskId) => this.info(message, level, taskId),
      exclusive: this.gate.exclusive,
      shared: this.gate.shared,
      landing: this.gate.landing,
      runDir: options.runDir,
      setRun: (status, reason) => this.setRun(status, reason),
      setTask: (taskId, status, reason) => this.setTask(taskId, status, reason),
      fail: (taskId, reason, signature) => this.fail(taskId, reason, signature),
      writeArtifact: (name, content, taskId) => this.writeArtifact(name, content, taskId),
      sync: () => this.log.sync(),
    };
    this.landing = new EditLanding(this.context, options.checkpoints);
    this.testing = new RunTests(this.context);
    this.extras = new TurnExtras(this.context);
    this.guidance = new Guidance(this.context);
    this.steps = new AgentSteps(this.context, this.models, { breakers: options.breakers, budget: this.budget, onBudgetBreach: (error) => this.onBudgetBreach(error), guidance: this.guidance }, this.extras);
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

  /** A message from the user to the run while it works (see guidance.ts); returns its event's seq. */
  sendMessage(input: UserMessageInput): Promise<number> {
    return this.guidance.send(input);
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
    // Work still in flight when the run ended (a cancel, a budget stop) must not change it; only
    // notes and its report follow. Replays and rollbacks of an ended run go through Engine.withRunLog.
    if (isTerminalRun(this.state.status) && event.type !== 'log' && event.type !== 'artifact.written') {
      if (this.abort.signal.aborted) throw this.abort.signal.reason;
      throw new IllegalTransitionError('run', this.state.status, event.type, `run ${this.state.id}`);
    }
    checkTransition(this.state, event);
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
      await this.extras.open();
      if (this.state.status === 'queued') this.setRun('planning');
      if (this.state.status === 'paused') this.setRun(this.state.plan ? 'running' : 'planning');
      if (this.state.status === 'planning') {
        // Nothing edits the tree while the baseline runs and the planner thinks, so the first snapshot
        // is taken then, off the tasks' path. A plan that waits for approval waits for its snapshot too:
        // the user may edit files in between.
        if (!this.state.config.requirePlanApproval) this.beginStartCheckpoint();
        await this.runBaseline();
        await plan(this.context, this.steps, this.testing);
      }
      if (this.state.status === 'awaiting-approval') await this.waitForApproval();
      if (this.state.status === 'running') {
        await this.runBaseline();
        await this.landing.prepareGitMode();
        if (this.state.checkpoints.length === 0) this.beginStartCheckpoint();
        else if (!this.startCheckpoint) await this.landing.resuming();
        await this.executeTasks();
        await this.settleStartCheckpoint();
        // The security gate follows the tasks; a fix task it adds runs like any other, then the gate again.
        while (this.state.status === 'running' && (await runSecurityGate(this.context))) await this.executeTasks();
        if (this.state.status === 'running') await this.finishRun();
      }
    } catch (error) {
      if (!this.abort.signal.aborted) {
        await this.settleStartCheckpoint();
        const message = messageOf(error);
        this.info(message, 'error');
        if (canTransitionRun(this.state.status, 'failed')) this.setRun('failed', message);
      }
    } finally {
      await this.settleStartCheckpoint();
      // MCP servers (stdio processes) end with the drive, whatever ended it.
      await this.extras.close().catch(() => undefined);
      if (isTerminalRun(this.state.status)) await this.writeReport().catch(() => undefined);
      await this.log.close();
      // The next list, status or resume starts from here instead of folding the whole log (a cache:
      // one that fails to write only costs time). Only a state that folded every logged event counts.
      if (this.state.lastSeq === this.log.lastSeq) await writeRunSnapshot(this.options.runDir, this.state, this.log.bytes).catch(() => undefined);
      await this.options.lock.release();
    }
    return this.state;
  }

  /**
   * The first snapshot of a large workspace takes seconds: it runs outside the gate while the planner
   * or the first tasks work; landings meanwhile hand the store what they overwrite (landing.ts), so it
   * records the tree as it was when asked and never makes a landing wait.
   */
  private beginStartCheckpoint(): void {
    this.startCheckpoint ??= this.landing.checkpoint(`run start: ${this.state.goal.slice(0, 80)}`);
  }

  /**
   * The run-start snapshot runs while the first tasks work, and the checkpoints of landings made
   * meanwhile are recorded once it is done; their results are events of the run, so the run must not
   * end (nor its log close) before they settle. Their failures are reported by the landing.
   */
  private async settleStartCheckpoint(): Promise<void> {
    await this.startCheckpoint?.catch(() => undefined);
    await this.landing.settleCheckpoints();
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
  triage(taskId: string, action: TriageDecision): void {
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
          await agentTurn(this.context, this.steps, this.testing, task);
          break;
        case 'awaiting-review':
          await reviewAndApply(this.context, this.landing, task);
          break;
        case 'testing':
          await testGate(this.context, this.testing, this.landing, task);
          break;
        case 'reviewing':
          await reviewGate(this.context, this.steps, this.landing, task);
          break;
        case 'failed':
          if (this.afterFailure(task)) return;
          break;
        default:
          return;
      }
    }
  }

  private async finishRun(): Promise<void> {
    const tasks = this.state.taskOrder.map((id) => this.state.tasks[id]!);
    const dead = tasks.filter((task) => task.status === 'dead_letter');
    const skipped = tasks.filter((task) => task.status === 'skipped');
    let finalReport: TestReport | undefined;
    if (this.testing.detected) finalReport = await this.testing.run('final');
    if (dead.length) {
      this.setRun('failed', `task${dead.length > 1 ? 's' : ''} ${dead.map((task) => task.id).join(', ')} failed every attempt (dead-letter)${skipped.length ? `; ${skipped.length} skipped` : ''}`);
    } else if (securityBlocker(this.context)) {
      this.setRun('failed', securityBlocker(this.context));
  } else if (finalReport && !finalReport.ok) {
      this.setRun('failed', `the tests still fail after all tasks: ${describeFailure(finalReport)}`);
    } else {
      this.setRun('completed', finalReport ? `all ${tasks.length} tasks done; ${finalReport.passed} tests pass` : `all ${tasks.length} tasks done (tests off)`);
    }
  }

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
function consumedTurns(events: readonly EngineEvent[]): Map<string, number> {
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
