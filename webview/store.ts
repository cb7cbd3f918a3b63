// The panel's state: the snapshot's data plus the active run's events, folded with the shared
// applyEvent into the same RunState the engine and hosts use. Pure TS (no DOM) so it is tested in Node.
import type { EngineEvent } from '../src/shared/events';
import type { ComposerDefaults, HostState, Notice, Snapshot } from '../src/shared/protocol';
import { applyEvent, summarizeRun, type RunState, type RunSummary } from '../src/shared/runState';

/** An error the user has to see; dismissed by id. */
export interface UiError {
  id: number;
  message: string;
}

/** What the views read. `run` is mutated in place by the fold, so renderers key on `revision`. */
export interface ViewState {
  runs: RunSummary[];
  activeRunId?: string;
  /** A run/open in flight: events of this run are buffered until its log arrives. */
  openingRunId?: string;
  /**
   * The active run's log in seq order, from event `olderEvents + 1`. Appended in place (the event log
   * view relies on it); replaced when the older events come.
   */
  events: EngineEvent[];
  /** How many of the log's first events are still to come (run/log); 0 once `events` is the whole log. */
  olderEvents: number;
  run?: RunState;
  canStartGoals: boolean;
  cannotStartReason?: string;
  /** The run this view is pinned to (it does not follow newly started runs). */
  pinnedRunId?: string;
  /** Prompts kept reachable as banners until acted on. */
  notices: Notice[];
  composer: ComposerDefaults;
  selectedTaskId?: string;
  errors: UiError[];
  /**
   * The live stream could not be folded (a gap in seq, or an event the fold refused): the view is
   * stale until the app reloads the run's log with run/open.
   */
  needsResync: boolean;
  /** Bumped on every change. */
  revision: number;
}

export type StoreListener = (state: ViewState) => void;

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Events in seq order without a gap, as the host reads a log or its tail (their first and last say so). */
function isUnbroken(events: readonly EngineEvent[]): boolean {
  return events.length > 0 && events[0]!.seq >= 1 && events[events.length - 1]!.seq - events[0]!.seq === events.length - 1;
}

export interface StoreOptions {
  /**
   * Batches live events per animation frame: each event is folded as it arrives, the views hear
   * of them once per frame (requestAnimationFrame in the panel). Without it, once per event.
   */
  frame?: (flush: () => void) => void;
}

export class Store {
  private readonly listeners = new Set<StoreListener>();
  private framePending = false;
  private buffered: EngineEvent[] = [];
  private nextErrorId = 1;
  private readonly current: ViewState = {
    runs: [],
    events: [],
    olderEvents: 0,
    canStartGoals: false,
    notices: [],
    composer: { models: [], autoApprove: false },
    errors: [],
    needsResync: false,
    revision: 0,
  };

  constructor(private readonly options: StoreOptions = {}) {}

  get state(): ViewState {
    return this.current;
  }

  subscribe(listener: StoreListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Replaces everything with the host's snapshot (the answer to app/ready). */
  loadSnapshot(snapshot: Snapshot): void {
    const s = this.current;
    s.runs = snapshot.runs;
    this.applyHostState(snapshot);
    s.openingRunId = undefined;
    this.buffered = [];
    this.replaceRun(snapshot.activeRunId, snapshot.activeLog, snapshot.activeState);
    this.changed();
  }

  /** The window's side changed (trust granted, a notice, the settings, the pin). */
  setHostState(state: HostState): void {
    this.applyHostState(state);
    this.changed();
  }

  private applyHostState(state: HostState): void {
    const s = this.current;
    s.canStartGoals = state.canStartGoals;
    s.cannotStartReason = state.cannotStartReason;
    s.pinnedRunId = state.pinnedRunId;
    s.notices = state.notices ?? [];
    s.composer = state.composer ?? { models: [], autoApprove: false };
  }

  /**
   * One live event of any run. Events of other runs are ignored (the run list is refreshed by
   * runs/changed); duplicates of what a log already contained are skipped by seq.
   */
  receiveEvent(runId: string, event: EngineEvent): void {
    const s = this.current;
    if (runId === s.openingRunId) {
      this.buffered.push(event);
      return;
    }
    if (runId !== s.activeRunId) {
      // An empty panel follows the first run that starts, wherever it was started from.
      if (s.activeRunId !== undefined || s.openingRunId !== undefined || event.type !== 'run.created') return;
      this.replaceRun(runId, []);
    }
    if (this.fold(event)) this.changedThisFrame();
  }

  /** Starts switching to a run; call finishOpen with its log (from run/open) or failOpen. */
  beginOpen(runId: string): void {
    this.current.openingRunId = runId;
    this.buffered = [];
    this.changed();
  }

  finishOpen(runId: string, events: EngineEvent[], folded?: RunState): void {
    const s = this.current;
    // A later open (the user clicked again) wins; this answer is stale.
    if (s.openingRunId !== runId) return;
    const buffered = this.buffered;
    this.buffered = [];
    s.openingRunId = undefined;
    const sameRun = s.activeRunId === runId;
    const selected = s.selectedTaskId;
    this.replaceRun(runId, events, folded);
    if (sameRun && selected && this.hasTask(selected)) s.selectedTaskId = selected;
    for (const event of buffered) this.fold(event);
    this.changed();
  }

  failOpen(runId: string, message: string): void {
    if (this.current.openingRunId !== runId) return;
    this.current.openingRunId = undefined;
    this.buffered = [];
    this.reportError(message);
  }

  setRuns(runs: RunSummary[]): void {
    this.current.runs = runs;
    this.changed();
  }

  selectTask(taskId: string | undefined): void {
    this.current.selectedTaskId = taskId;
    this.changed();
  }

  reportError(message: string): void {
    const s = this.current;
    // The same failure repeated (a stream of refused events) is one bar, not a wall of them.
    if (!s.errors.some((error) => error.message === message)) s.errors = [...s.errors, { id: this.nextErrorId++, message }];
    this.changed();
  }

  dismissError(id: number): void {
    this.current.errors = this.current.errors.filter((error) => error.id !== id);
    this.changed();
  }

  /** Runs for the picker: the host's list, plus the active run if the list has not caught up with it yet. */
  pickerRuns(): RunSummary[] {
    const { runs, run } = this.current;
    if (!run || runs.some((summary) => summary.id === run.id)) return runs;
    return [summarizeRun(run), ...runs];
  }

  /**
   * The run's events before those the snapshot or run/open brought (run/log's answer). Dropped if the
   * panel has moved on to another run, or they are not exactly the ones missing.
   */
  prependOlder(runId: string, older: EngineEvent[]): void {
    const s = this.current;
    if (runId !== s.activeRunId || s.openingRunId !== undefined || s.olderEvents === 0) return;
    if (older.length !== s.olderEvents || !isUnbroken(older) || older[0]!.seq !== 1) {
      this.reportError(`The older events of run ${runId} did not fit the log shown (${older.length} events for ${s.olderEvents}). Reopen the run to see them.`);
      return;
    }
    s.events = older.concat(s.events);
    s.olderEvents = 0;
    this.changed();
  }

  /**
   * Shows a run from its log, or the log's newest events with the host's folded state of the run
   * (the engine's, from its snapshot): then only the events after that state are folded, the rest is
   * taken as it is, and a run of 100,000 events opens without folding them again; its older events
   * follow (prependOlder). A state the events do not reach, or of another run, is not used, and the
   * log is folded from its first event.
   */
  private replaceRun(runId: string | undefined, events: EngineEvent[], folded?: RunState): void {
    const s = this.current;
    if (s.activeRunId !== runId) s.selectedTaskId = undefined;
    s.activeRunId = runId;
    s.events = [];
    s.olderEvents = 0;
    s.run = undefined;
    s.needsResync = false;
    const first = events[0]?.seq ?? 1;
    const usable = folded !== undefined && folded.id === runId && isUnbroken(events) && folded.lastSeq >= Math.max(1, first - 1) && folded.lastSeq <= events[events.length - 1]!.seq;
    let next = 0;
    if (usable) {
      next = folded.lastSeq - first + 1;
      s.run = folded;
      s.olderEvents = first - 1;
      s.events = next === events.length ? events : events.slice(0, next);
    }
    for (let i = next; i < events.length; i++) {
      if (!this.fold(events[i]!)) break;
    }
    if (s.selectedTaskId && !this.hasTask(s.selectedTaskId)) s.selectedTaskId = undefined;
  }

  // A method, not an inline read: the fold reassigns `run`, which flow analysis cannot see through calls.
  private hasTask(taskId: string): boolean {
    return this.current.run?.tasks[taskId] !== undefined;
  }

  /** Folds one event of the active run. Returns false when the event was skipped or refused. */
  private fold(event: EngineEvent): boolean {
    const s = this.current;
    if (s.needsResync) return false;
    const lastSeq = s.run?.lastSeq ?? 0;
    if (event.seq <= lastSeq) return false;
    if (event.seq !== lastSeq + 1) {
      s.needsResync = true;
      this.changed();
      return false;
    }
    try {
      s.run = applyEvent(s.run, event);
      s.events.push(event);
      return true;
    } catch (error) {
      s.needsResync = true;
      this.reportError(`The panel could not follow run ${event.runId} at event ${event.seq}: ${describe(error)}`);
      return false;
    }
  }

  /** One notification per frame for a stream of live events (with `frame`), else one per event. */
  private changedThisFrame(): void {
    const frame = this.options.frame;
    if (!frame) return this.changed();
    if (this.framePending) return;
    this.framePending = true;
    frame(() => {
      this.framePending = false;
      this.changed();
    });
  }

  private changed(): void {
    this.current.revision++;
    for (const listener of [...this.listeners]) listener(this.current);
  }
}
