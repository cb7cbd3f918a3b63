// The engine: creates, resumes and lists runs; each run is driven by a RunDriver over its own log.
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { EngineEvent, NewEvent } from '../shared/events';
import { isTerminalRun } from '../shared/lifecycle';
import type { Budgets, RunConfig } from '../shared/model';
import type { TriageDecision } from '../shared/protocol';
import { applyEvent, foldEvents, summarizeRun, type RunState, type RunSummary } from '../shared/runState';
import { budgetsSchema, runConfigSchema } from './config';
import type { EngineApi, EventListener, RunHandle, RunOrigin, StartRunOptions } from './engineApi';
import { checkMentionedFiles, GuidanceError, imageRefusal, storeImages, type UserMessageInput } from './run/guidance';
import { endOfRunText } from '../shared/endOfRun';
import { ROLES } from '../shared/model';
import { EVENTS_FILE, EventLog, liveLockHolder, readLog, RunLock, type LoadedLog } from './log/eventLog';
import { readRunState, writeRunSnapshot } from './log/snapshot';
import type { HostPorts } from './ports';
import { preflightModels } from './models/registry';
import type { ProviderContext } from './models/providers';
import { ShadowCheckpoints, type Checkpoint, type RestoreReport } from './checkpoints/shadowGit';
import { CircuitBreakers, type CircuitBreakerOptions } from './models/breakers';
import { replayModels, replayStep, writeRunFile, type ReplayResult } from './run/replay';
import { RunDriver } from './run/runDriver';
import { checkTransition } from './run/transitions';
import { checkTriage } from './run/triage';
import { ensureRunsDir, listRunIds, newRunId } from './runsDir';
import { registeringSecrets } from './secrets';
import { runCreatedDigest, trustDigest, trustSurfaceOf, TrustRecords } from './trust';
import { UserError } from '../shared/errors';

export interface EngineOptions {
  ports: HostPorts;
  runsDir: string;
  /** Simulated latency of scripted models (the benchmark). */
  scriptedLatencyMs?: number;
  /** Where problems with individual run folders are reported (a corrupt log must not hide the others). */
  warn?: (message: string) => void;
  /** Breaker thresholds and clock (tests). */
  breakerOptions?: Omit<CircuitBreakerOptions, 'onChange'>;
  /**
   * Where the shadow repository of checkpoints lives: the extension's workspace storage in VS Code,
   * the user's state folder in the CLI. Without it, runs take no checkpoints (and say so).
   */
  storageDir?: string;
  /** Models only the host can make (vscode.lm chat models). */
  hostModels?: ProviderContext['hostModels'];
  /**
   * Where this machine records the runs it created or adopted (outside the workspace): runs not
   * recorded there are read-only until adopted. Default: storageDir; without either, the record
   * lasts as long as the engine.
   */
  recordsDir?: string;
}

export class RollbackRefusedError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'RollbackRefusedError';
  }
}

/** A run this machine did not create or adopt was asked to do work: it is read-only until adopted. */
export class ForeignRunError extends UserError {
  constructor(readonly runId: string) {
    super(
      `Run ${runId} was not created on this machine (it came with the workspace, or its run.created event changed since), so it is read-only here: ` +
        `status and logs work, but it is not resumed, retried, skipped, replayed or given new budgets with the endpoints, keys and commands its log names. ` +
        `To drive it anyway, adopt it after reading what it would use: software-maker adopt ${runId} (in VS Code: "Software Maker: Adopt Run…").`,
    );
    this.name = 'ForeignRunError';
  }
}

/** Another run of the workspace holds a live lock, and nobody confirmed starting a second one. */
export class ConcurrentRunError extends UserError {
  constructor(readonly active: ActiveRun[]) {
    super(
      `Another run of this workspace is in progress (${describeActive(active)}). Two runs editing one workspace can overwrite each other's work, ` +
        'so none was started. Wait for it to end or cancel it, or start this one anyway after confirming.',
    );
    this.name = 'ConcurrentRunError';
  }
}

/** A run some process (this one or another) is driving right now. */
export interface ActiveRun {
  runId: string;
  /** Who holds its lock: pid, host, since when. */
  holder: string;
}

function describeActive(active: readonly ActiveRun[]): string {
  return active.map((run) => `run ${run.runId}, ${run.holder}`).join('; ');
}

export class UnknownRunError extends UserError {
  constructor(runId: string) {
    super(`There is no run "${runId}". List runs with "software-maker status" or in the Software Maker view.`);
    this.name = 'UnknownRunError';
  }
}

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,120}$/;
/** Run folders listRuns reads at once. */
const LIST_PARALLEL_READS = 16;

/** A run's log opened for appending, with its lock held and its folded state. */
interface OpenedLog {
  runDir: string;
  lock: RunLock;
  loaded: LoadedLog;
  state: RunState;
  log: EventLog;
}

export class Engine implements EngineApi {
  private readonly listeners = new Set<EventListener>();
  private readonly drivers = new Map<string, RunDriver>();
  /** One breaker per endpoint for all runs: a provider that is down is down for every run. */
  private readonly breakers: CircuitBreakers;
  private checkpointStore: Promise<ShadowCheckpoints> | undefined;
  private readonly records: TrustRecords;

  constructor(private readonly options: EngineOptions) {
    // Every key the engine reads is registered before use, so every writer redacts it (core/secrets.ts).
    this.options = { ...options, ports: registeringSecrets(options.ports) };
    this.records = new TrustRecords(options.recordsDir ?? options.storageDir);
    this.breakers = new CircuitBreakers({
      ...options.breakerOptions,
      onChange: (change) => {
        for (const driver of this.drivers.values()) driver.noteBreaker(change);
      },
    });
  }

  onEvent(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async listRuns(): Promise<RunSummary[]> {
    const summaries: RunSummary[] = [];
    const runIds = await listRunIds(this.options.runsDir);
    // A few runs at a time: the reads of one run wait on the disk, not on the CPU.
    let next = 0;
    const readNext = async (): Promise<void> => {
      for (let runId = runIds[next++]; runId !== undefined; runId = runIds[next++]) await this.summarizeStored(runId, summaries);
    };
    await Promise.all(Array.from({ length: Math.min(LIST_PARALLEL_READS, runIds.length) }, readNext));
    // Newest first; the id (creation order too) settles runs created in the same millisecond.
    return summaries.sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
  }

  /** Adds the summary of one run folder to `into`; a folder that cannot be read is warned about, not fatal. */
  private async summarizeStored(runId: string, into: RunSummary[]): Promise<void> {
    try {
      const driven = this.drivers.get(runId)?.state;
      if (driven) {
        into.push(summarizeRun(driven));
        return;
      }
      if (!RUN_ID.test(runId)) return;
      // The snapshot plus the log's tail (core/log/snapshot.ts): a list costs what changed since.
      const folded = await readRunState(this.runDir(runId), { rewrite: true });
      if (!folded) return;
      const { state } = folded;
      // Unfinished and not paused, yet nobody holds its lock: the window or process driving it stopped.
      const interrupted = !isTerminalRun(state.status) && state.status !== 'paused' && !(await liveLockHolder(this.runDir(runId)).catch(() => undefined));
      into.push({ ...summarizeRun(state), ...((await this.isOwn(runId, folded.created)) ? {} : { foreign: true }), ...(interrupted ? { interrupted } : {}) });
    } catch (error) {
      this.options.warn?.(`Run ${runId} could not be read: ${(error as Error).message}`);
    }
  }

  async getRun(runId: string): Promise<RunState | undefined> {
    const driver = this.drivers.get(runId);
    if (driver) return driver.state;
    if (!RUN_ID.test(runId)) return undefined;
    return (await readRunState(this.runDir(runId), { rewrite: true }))?.state;
  }

  async readEvents(runId: string): Promise<EngineEvent[]> {
    if (!RUN_ID.test(runId)) throw new UnknownRunError(runId);
    return (await readLog(this.runDir(runId))).events;
  }

  async sendMessage(runId: string, message: UserMessageInput): Promise<number> {
    const driver = this.drivers.get(runId);
    if (driver) return driver.sendMessage(message);
    const state = await this.getRun(runId);
    if (!state) throw new UnknownRunError(runId);
    if (isTerminalRun(state.status)) throw new GuidanceError(`Run ${runId} has ended (${state.status}); a message now starts a follow-up run.`);
    throw new GuidanceError(`Run ${runId} is not running in this window (${state.status}); resume it first, then write to it.`);
  }

  async startRun(goal: string, config: RunConfig, options: StartRunOptions = {}): Promise<RunHandle> {
    const trimmed = goal.trim();
    if (!trimmed) throw new Error('The goal is empty. Say what you want built or changed.');
    const checked = runConfigSchema.safeParse(config);
    if (!checked.success) throw new Error(`Invalid run configuration: ${checked.error.issues[0]?.message}`);
    await preflightModels(config, { workspaceRoot: this.options.ports.workspace.root, secret: (name) => this.options.ports.secret(name), hostModels: this.options.hostModels });
    const active = await this.activeRuns();
    if (active.length && !options.allowConcurrent) {
      const question = 'Another run of this workspace is in progress. Start this one too?';
      const detail = `${describeActive(active)}. Two runs editing one workspace can overwrite each other's work.`;
      if (!(await this.options.ports.confirm?.(question, detail))) throw new ConcurrentRunError(active);
    }
    const files = options.files?.length ? await checkMentionedFiles(this.options.ports.workspace, options.files) : [];
    if (options.images?.length) {
      const refusal = imageRefusal(config, ROLES.filter((role) => config.roles[role]?.length));
      if (refusal) throw new GuidanceError(refusal);
    }
    const followUpOf = options.followUpOf ? await this.followUpSummary(options.followUpOf) : undefined;
    await ensureRunsDir(this.options.runsDir);
    const runId = newRunId(this.options.ports.clock.now());
    const runDir = this.runDir(runId);
    await mkdir(runDir, { recursive: true });
    const images = options.images?.length ? await storeImages(runDir, options.images, 'goal') : [];
    const lock = await RunLock.acquire(runDir);
    const log = EventLog.openForAppend(runDir, runId, { events: [], validBytes: 0 }, this.options.ports.clock);
    const first = log.append({
      type: 'run.created',
      goal: trimmed,
      workspace: this.options.ports.workspace.root,
      config,
      ...(files.length ? { files } : {}),
      ...(images.length ? { images } : {}),
      ...(followUpOf ? { followUpOf } : {}),
    });
    log.sync();
    // A run this machine made is its own: resumable, retriable, replayable here without asking.
    await this.records.remember('run', runId, runCreatedDigest(first)).catch((error: unknown) => {
      this.options.warn?.(`Run ${runId} could not be recorded as created here (${(error as Error).message}); adopt it to resume it later.`);
    });
    const state = foldEvents([first])!;
    const driver = this.track(runDir, log, lock, state);
    this.publish(runId, first);
    return { runId, finished: driver.start() };
  }

  /** What a follow-up run is told about the ended run it continues. */
  private async followUpSummary(runId: string): Promise<{ runId: string; summary: string }> {
    const state = await this.getRun(runId);
    if (!state) throw new UnknownRunError(runId);
    if (!isTerminalRun(state.status)) throw new GuidanceError(`Run ${runId} has not ended (${state.status}); write to it instead of starting a follow-up.`);
    return { runId, summary: endOfRunText(state) };
  }

  async triageTask(runId: string, taskId: string, action: TriageDecision): Promise<RunHandle> {
    const driver = this.drivers.get(runId);
    if (driver) {
      driver.triage(taskId, action);
      return { runId, finished: driver.start() };
    }
    if (!RUN_ID.test(runId)) throw new UnknownRunError(runId);
    const folded = await readRunState(this.runDir(runId), { rewrite: true });
    if (!folded) throw new UnknownRunError(runId);
    await this.requireOwn(runId, [folded.created]);
    checkTriage(folded.state, taskId, action);
    return this.resumeRun(runId, { taskId, action });
  }

  async resumeRun(runId: string, triage?: { taskId: string; action: TriageDecision }): Promise<RunHandle> {
    const existing = this.drivers.get(runId);
    if (existing) {
      if (triage) existing.triage(triage.taskId, triage.action);
      return { runId, finished: existing.start() };
    }
    const check = (folded: RunState) => {
      if (isTerminalRun(folded.status)) throw new Error(`Run ${runId} has already ended (${folded.status}); start a new goal instead.`);
    };
    // A scripted model replays its transcript from the turns the log already used, so it needs the
    // whole log: read it here, where a corrupt line refuses the resume without writing.
    const { runDir, lock, loaded, state, log } = await this.openRunFromSnapshot(runId, { own: true }, check, (folded) => folded.config.models.some((model) => model.provider === 'scripted'));
    try {
      const notes: string[] = [];
      if (loaded.tornLine) {
        notes.push(`Dropped a torn last line (line ${loaded.tornLine.lineNumber}, ${loaded.tornLine.bytes} bytes) from the log: the process stopped mid-write. The step it belonged to runs again.`);
      }
      notes.push(`Resuming the run from event ${state.lastSeq} (${state.status}).`);
      const resumeEvents = notes.map((message, index) =>
        log.append({ type: 'log', level: index === 0 && loaded.tornLine ? 'warn' : 'info', message }),
      );
      for (const event of resumeEvents) applyEvent(state, event);
      for (const event of resumeEvents) this.publish(runId, event);
      const driver = this.track(runDir, log, lock, state, loaded.events, triage);
      return { runId, finished: driver.start() };
    } catch (error) {
      await log.close();
      await lock.release();
      throw error;
    }
  }

  async setBudgets(runId: string, budgets: Budgets): Promise<void> {
    const checked = budgetsSchema.safeParse(budgets);
    if (!checked.success) throw new Error(`Invalid budgets: ${checked.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
    const driver = this.drivers.get(runId);
    if (driver) {
      driver.setBudgets(checked.data as Budgets);
      return;
    }
    await this.withRunLog(runId, { own: true }, async ({ state, emit }) => {
      if (isTerminalRun(state.status)) throw new Error(`Run ${runId} has ended (${state.status}); its budgets can no longer change.`);
      emit({ type: 'run.budgetsChanged', budgets: checked.data as Budgets });
    });
  }

  async replayStep(runId: string, stepId: string, options: { model?: string } = {}): Promise<ReplayResult> {
    const driver = this.drivers.get(runId);
    if (driver) return driver.replay(stepId, options.model);
    return this.withRunLog(runId, { own: true, wholeLog: true }, async ({ runDir, state, events, emit }) => {
      const controller = new AbortController();
      return replayStep({
        runDir,
        state,
        stepId,
        modelId: options.model,
        workspace: this.options.ports.workspace,
        models: replayModels(state, events, stepId, this.options.ports, { scriptedLatencyMs: this.options.scriptedLatencyMs, hostModels: this.options.hostModels }),
        breakers: this.breakers,
        signal: controller.signal,
        emit,
        writeArtifact: async (name, content, taskId) => {
          await writeRunFile(runDir, name, content);
          emit({ type: 'artifact.written', name, taskId });
        },
      });
    });
  }

  /**
   * What driving the run would use (models with their endpoints and key names, transcripts, the test
   * command or task, auto-approval), and whether this machine created or adopted it. Adopting means
   * accepting exactly this: `digest` names it.
   */
  async describeRunOrigin(runId: string): Promise<RunOrigin> {
    if (!RUN_ID.test(runId)) throw new UnknownRunError(runId);
    const { events } = await readLog(this.runDir(runId));
    const state = foldEvents(events);
    if (!state) throw new UnknownRunError(runId);
    return { runId, own: await this.isOwn(runId, events), uses: trustSurfaceOf(state.config), digest: runCreatedDigest(events[0]) };
  }

  /**
   * Makes a run this machine's own, after the user read what describeRunOrigin showed (`digest`):
   * from now on it is driven with its own config. Refused when the run changed since it was shown.
   */
  async adoptRun(runId: string, digest: string): Promise<void> {
    const origin = await this.describeRunOrigin(runId);
    if (origin.digest !== digest) {
      throw new Error(`Run ${runId}'s log changed since it was shown (its run.created event is not the one you read), so it was not adopted. Look at what it would use again and adopt that.`);
    }
    await this.records.remember('run', runId, digest);
    await this.withRunLog(runId, {}, async ({ emit }) => {
      emit({ type: 'log', level: 'info', message: `Adopted on this machine: the user accepted what it uses (${trustDigest(origin.uses).slice(0, 12)}).` });
    }).catch((error: unknown) => this.options.warn?.(`Run ${runId} is adopted, but its log could not record it: ${(error as Error).message}`));
  }

  /** Runs of the workspace some process drives right now (their lock is live), this engine's included. */
  async activeRuns(): Promise<ActiveRun[]> {
    const active: ActiveRun[] = [];
    for (const runId of await listRunIds(this.options.runsDir)) {
      const holder = await liveLockHolder(this.runDir(runId)).catch(() => undefined);
      if (holder) active.push({ runId, holder });
    }
    return active;
  }

  private async isOwn(runId: string, events: readonly EngineEvent[] | EngineEvent | undefined): Promise<boolean> {
    const created = Array.isArray(events) ? events[0] : (events as EngineEvent | undefined);
    return this.drivers.has(runId) || this.records.has('run', runId, runCreatedDigest(created));
  }

  private async requireOwn(runId: string, events: readonly EngineEvent[]): Promise<void> {
    if (!(await this.isOwn(runId, events))) throw new ForeignRunError(runId);
  }

  /**
   * Appends to the log of a run no driver holds (replays, notes), under the run's lock; `own`: only a
   * run of this machine's; `wholeLog`: the session gets every event (a replay), else its state comes
   * from the snapshot and `events` is empty. Like the driver, it checks each transition before appending.
   */
  private async withRunLog<T>(
    runId: string,
    access: { own?: boolean; wholeLog?: boolean },
    work: (session: { runDir: string; state: RunState; events: readonly EngineEvent[]; emit: (event: NewEvent) => void }) => Promise<T>,
  ): Promise<T> {
    const { runDir, lock, loaded, state, log } = access.wholeLog ? await this.openRunLog(runId, access) : await this.openRunFromSnapshot(runId, access);
    try {
      return await work({
        runDir,
        state,
        events: loaded.events,
        emit: (event) => {
          checkTransition(state, event);
          const logged = log.append(event);
          applyEvent(state, logged);
          this.publish(runId, logged);
        },
      });
    } finally {
      await log.close();
      if (state.lastSeq === log.lastSeq) await writeRunSnapshot(runDir, state, log.bytes).catch(() => undefined);
      await lock.release();
    }
  }

  /**
   * A run's log opened for appending, its state from the snapshot plus the tail (or one fold that
   * skips tool payloads) when that covers the whole log: no events are handed on then. Anything else
   * (a torn last line, a log that grew while it was read, `wholeLog` saying so) reads the whole log
   * under the same lock, as openRunLog does.
   */
  private openRunFromSnapshot(runId: string, access: { own?: boolean }, check?: (state: RunState) => void, wholeLog?: (state: RunState) => boolean): Promise<OpenedLog> {
    return this.underRunLock(runId, async (runDir, lock) => {
      const folded = await readRunState(runDir, { rewrite: true });
      if (!folded) throw new UnknownRunError(runId);
      const whole = folded.coveredBytes === (await stat(join(runDir, EVENTS_FILE))).size;
      if (!whole || wholeLog?.(folded.state)) return this.loadRunLog(runId, runDir, lock, access, check);
      if (access.own) await this.requireOwn(runId, [folded.created]);
      check?.(folded.state);
      const loaded: LoadedLog = { events: [], validBytes: folded.coveredBytes };
      return { runDir, lock, loaded, state: folded.state, log: EventLog.openForAppend(runDir, runId, loaded, this.options.ports.clock, folded.state.lastSeq) };
    });
  }

  /**
   * Takes a run's lock, reads and folds its log and opens it for appending. `check` may refuse the
   * folded state; on any failure the lock is released again.
   */
  private openRunLog(runId: string, access: { own?: boolean }, check?: (state: RunState) => void): Promise<OpenedLog> {
    return this.underRunLock(runId, (runDir, lock) => this.loadRunLog(runId, runDir, lock, access, check));
  }

  /** `open` with the run's lock held; the lock is released again when it throws. */
  private async underRunLock(runId: string, open: (runDir: string, lock: RunLock) => Promise<OpenedLog>): Promise<OpenedLog> {
    if (!RUN_ID.test(runId)) throw new UnknownRunError(runId);
    const runDir = this.runDir(runId);
    const lock = await RunLock.acquire(runDir);
    try {
      return await open(runDir, lock);
    } catch (error) {
      await lock.release();
      throw error;
    }
  }

  private async loadRunLog(runId: string, runDir: string, lock: RunLock, access: { own?: boolean }, check?: (state: RunState) => void): Promise<OpenedLog> {
    const loaded = await readLog(runDir);
    const state = foldEvents(loaded.events);
    if (!state) throw new UnknownRunError(runId);
    if (access.own) await this.requireOwn(runId, loaded.events);
    check?.(state);
    return { runDir, lock, loaded, state, log: EventLog.openForAppend(runDir, runId, loaded, this.options.ports.clock) };
  }

  /** The workspace's shadow repository, opened on first use; undefined without a storage folder. */
  checkpoints(): Promise<ShadowCheckpoints> | undefined {
    if (!this.options.storageDir) return undefined;
    if (!this.checkpointStore) {
      const opening = ShadowCheckpoints.open({ workspaceRoot: this.options.ports.workspace.root, storageDir: join(this.options.storageDir, 'checkpoints') });
      // A failed open is not cached: the next call tries again (git may have been installed meanwhile).
      opening.catch(() => {
        if (this.checkpointStore === opening) this.checkpointStore = undefined;
      });
      this.checkpointStore = opening;
    }
    return this.checkpointStore;
  }

  async checkpointFile(checkpointId: string, path: string): Promise<string | undefined> {
    const store = this.checkpoints();
    if (!store) throw new RollbackRefusedError('Checkpoints are not available here (no storage folder), so there is no "before" to compare with.');
    return (await store).fileAt(checkpointId, path);
  }

  async listCheckpoints(): Promise<Checkpoint[]> {
    const store = this.checkpoints();
    return store ? (await store).list() : [];
  }

  async rollback(checkpointId: string): Promise<RestoreReport> {
    const store = this.checkpoints();
    if (!store) throw new RollbackRefusedError('Checkpoints are not available here (no storage folder), so there is nothing to roll back to.');
    if (this.drivers.size) {
      throw new RollbackRefusedError(`Runs are in progress (${[...this.drivers.keys()].join(', ')}). Cancel or wait for them before rolling back, so no agent writes over the restored files.`);
    }
    // A run another process (a terminal, another window) drives would write over the restored files too.
    const active = await this.activeRuns();
    if (active.length) {
      throw new RollbackRefusedError(`A run of this workspace is in progress in another process (${describeActive(active)}). Cancel it or wait for it to end, then roll back, so no agent writes over the restored files.`);
    }
    const report = await (await store).restore(checkpointId);
    const runId = report.checkpoint.runId;
    const runs = await listRunIds(this.options.runsDir);
    if (runs.includes(runId)) {
      await this.withRunLog(runId, {}, async ({ emit }) => {
        emit({ type: 'checkpoint.restored', checkpointId, restored: report.restored, deleted: report.deleted });
      }).catch((error: unknown) => this.options.warn?.(`The rollback worked, but run ${runId}'s log could not record it: ${(error as Error).message}`));
    }
    return report;
  }

  async cancelRun(runId: string, reason = 'cancelled by the user'): Promise<boolean> {
    const driver = this.drivers.get(runId);
    if (!driver) return false;
    const cancelled = driver.cancel(reason);
    await driver.start();
    return cancelled;
  }

  async approvePlan(runId: string): Promise<boolean> {
    return this.drivers.get(runId)?.approvePlan() ?? false;
  }

  activeRunIds(): string[] {
    return [...this.drivers.keys()];
  }

  async dispose(): Promise<void> {
    await Promise.all([...this.drivers.values()].map((driver) => driver.dispose()));
    this.drivers.clear();
  }

  private runDir(runId: string): string {
    return join(this.options.runsDir, runId);
  }

  private track(
    runDir: string,
    log: EventLog,
    lock: RunLock,
    state: RunState,
    priorEvents: readonly EngineEvent[] = [],
    triage?: { taskId: string; action: TriageDecision },
  ): RunDriver {
    const driver = new RunDriver({
      ports: this.options.ports,
      runDir,
      log,
      lock,
      state,
      notify: (event) => this.publish(state.id, event),
      scriptedLatencyMs: this.options.scriptedLatencyMs,
      priorEvents,
      triage,
      breakers: this.breakers,
      checkpoints: () => this.checkpoints(),
      hostModels: this.options.hostModels,
    });
    this.drivers.set(state.id, driver);
    void driver.start().finally(() => {
      if (this.drivers.get(state.id) === driver) this.drivers.delete(state.id);
    });
    return driver;
  }

  private publish(runId: string, event: EngineEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(runId, event);
      } catch (error) {
        this.options.warn?.(`An event listener failed: ${(error as Error).message}`);
      }
    }
  }
}
