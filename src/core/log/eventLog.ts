// Append-only, numbered event log of one run (events.jsonl). The log is the truth: state is folded
// from it, so an event is appended (and, at milestones, fsynced) before anyone acts on it.
import { appendFileSync, closeSync, existsSync, fstatSync, fsync, fsyncSync, openSync, readFileSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { link, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { EngineEvent, NewEvent } from '../../shared/events';
import type { Clock } from '../ports';
import { redactSecrets } from './redact';
import { UserError } from '../../shared/errors';

export const EVENTS_FILE = 'events.jsonl';
export const LOCK_FILE = 'run.lock';

export interface LoadedLog {
  events: EngineEvent[];
  /** Set when the last line was cut off mid-write and dropped. */
  tornLine?: { lineNumber: number; bytes: number };
  /** Length in bytes of the log up to the end of the last whole event. */
  validBytes: number;
}

export class EventLogError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EventLogError';
  }
}

export class RunLockedError extends UserError {
  constructor(
    readonly runDir: string,
    /** Who holds the lock, as the user needs to find it (pid, host, since when). */
    readonly holder: string,
    /** The lock file: deleting it is how a lock nobody uses any more is cleared. */
    readonly lockPath: string,
    message?: string,
  ) {
    super(
      message ??
        `Run ${runDir} is being driven by another process (${holder}). Close the other window or terminal, or wait for it to finish. ` +
          `If you are sure no process uses this run any more, delete ${lockPath} and try again.`,
    );
    this.name = 'RunLockedError';
  }
}

/**
 * Reads a log. A last line that does not parse is a write the process did not finish (crash, killed
 * window): it is dropped and reported, never fatal. A bad line anywhere else is corruption and throws.
 */
export async function readLog(runDir: string): Promise<LoadedLog> {
  let raw: string;
  try {
    raw = await readFile(join(runDir, EVENTS_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { events: [], validBytes: 0 };
    throw error;
  }
  const lines = raw.split('\n');
  const events: EngineEvent[] = [];
  let tornLine: LoadedLog['tornLine'];
  let validBytes = 0;
  let offset = 0;
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!;
    const lineBytes = Buffer.byteLength(line) + (index < lines.length - 1 ? 1 : 0);
    offset += lineBytes;
    if (line.trim() === '') continue;
    try {
      events.push(JSON.parse(line) as EngineEvent);
      validBytes = offset;
    } catch {
      const isLast = lines.slice(index + 1).every((rest) => rest.trim() === '');
      if (!isLast) throw new EventLogError(`${join(runDir, EVENTS_FILE)} line ${index + 1} is not valid JSON and is not the last line: the log is corrupt.`);
      tornLine = { lineNumber: index + 1, bytes: Buffer.byteLength(line) };
    }
  }
  return { events, tornLine, validBytes };
}

/** The writer of one run's log. Only the holder of the run's lock may create one. */
export class EventLog {
  private fd: number | undefined;
  private seq: number;
  private syncing: Promise<void> | undefined;
  private syncAgain = false;
  /** Length of the log in bytes: what a snapshot of the state folded so far covers. */
  private length: number;

  private constructor(
    readonly runDir: string,
    readonly runId: string,
    lastSeq: number,
    private readonly clock: Clock,
  ) {
    this.seq = lastSeq;
    this.fd = openSync(join(runDir, EVENTS_FILE), 'a');
    this.length = fstatSync(this.fd).size;
  }

  /** Bytes of the log written so far, this writer's events included (they stay readable after close). */
  get bytes(): number {
    return this.length;
  }

  /** seq of the last event in the log. */
  get lastSeq(): number {
    return this.seq;
  }

  /**
   * Opens a log to continue it. A torn tail is cut off first (and kept in events.jsonl.torn), so
   * the next event starts on a clean line and the log stays readable.
   */
  /** `lastSeq`: the seq to continue from when `loaded` holds no events (a resume from the snapshot). */
  static openForAppend(runDir: string, runId: string, loaded: LoadedLog, clock: Clock, lastSeq?: number): EventLog {
    const path = join(runDir, EVENTS_FILE);
    if (loaded.tornLine && existsSync(path)) {
      const whole = readFileSync(path);
      writeFileSync(`${path}.torn`, whole.subarray(loaded.validBytes));
      truncateSync(path, loaded.validBytes);
      if (loaded.validBytes > 0 && whole[loaded.validBytes - 1] !== 0x0a) appendFileSync(path, '\n');
    }
    const last = loaded.events[loaded.events.length - 1];
    return new EventLog(runDir, runId, last?.seq ?? lastSeq ?? 0, clock);
  }

  /** Appends one event and returns it as logged. Anything that looks like an API key is redacted. */
  append(event: NewEvent): EngineEvent {
    if (this.fd === undefined) throw new EventLogError(`The log of run ${this.runId} is closed.`);
    const logged = { ...redactSecrets(event), seq: this.seq + 1, at: this.clock.now().toISOString(), runId: this.runId } as EngineEvent;
    const line = JSON.stringify(logged) + '\n';
    writeSync(this.fd, line);
    this.length += Buffer.byteLength(line);
    this.seq = logged.seq;
    return logged;
  }

  /**
   * Asks for the log to reach the disk: called at milestones (task done, edit applied, run end).
   * The fsync runs off the event loop and requests coalesce, so a milestone never stalls the agents;
   * safety does not hang on it, because a resumed run recognises applied edits by content hash.
   */
  sync(): void {
    if (this.fd === undefined) return;
    if (this.syncing) {
      this.syncAgain = true;
      return;
    }
    const fd = this.fd;
    this.syncing = new Promise<void>((resolve) => {
      fsync(fd, () => {
        this.syncing = undefined;
        resolve();
        if (this.syncAgain) {
          this.syncAgain = false;
          this.sync();
        }
      });
    });
  }

  /** Waits for pending syncs, forces the rest to disk and closes. */
  async close(): Promise<void> {
    while (this.syncing) await this.syncing;
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    fsyncSync(fd);
    closeSync(fd);
  }
}

/** What a lock file records about its holder: enough to tell a live holder from a stale file. */
interface LockRecord {
  pid: number;
  host: string;
  since: string;
  /** The holder's start time in clock ticks after boot (/proc/<pid>/stat), where the system has /proc. */
  startTime?: string;
  /** Random per acquisition: a release never deletes a lock another process took over meanwhile. */
  token?: string;
}

type LockInspection =
  | { kind: 'free' }
  | { kind: 'stale'; raw: string }
  /** A lock whose content is not written yet (or torn): look again shortly. */
  | { kind: 'unreadable-young' }
  | { kind: 'held'; error: RunLockedError };

/** A torn or empty lock older than this is a write that never finished (crash), not one in progress. */
const UNREADABLE_LOCK_GRACE_MS = 2000;
const LOCK_RETRY_MS = 100;
/** Acquire gives up after this many looks (about 3 s): it never blocks forever. */
const LOCK_TRIES = 30;

/**
 * Exclusive lock of a run folder. A lock is stale, and taken over, when its process is gone (crash)
 * or its pid now belongs to another process (the recorded start time differs). A lock from another
 * host cannot be checked from here: it is reported with its host, age and the file to delete.
 */
export class RunLock {
  private constructor(
    private readonly path: string,
    private readonly token: string,
  ) {}

  static async acquire(runDir: string): Promise<RunLock> {
    const path = join(runDir, LOCK_FILE);
    const token = randomBytes(12).toString('hex');
    const me: LockRecord = { pid: process.pid, host: hostname(), since: new Date().toISOString(), startTime: await processStartTime(process.pid), token };
    for (let tries = 0; tries < LOCK_TRIES; tries++) {
      try {
        await writeFile(path, JSON.stringify(me), { flag: 'wx' });
        return new RunLock(path, token);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const found = await inspectLock(runDir);
      if (found.kind === 'held') throw found.error;
      if (found.kind === 'unreadable-young') await new Promise((resolve) => setTimeout(resolve, LOCK_RETRY_MS));
      if (found.kind === 'stale') await removeStaleLock(path, found.raw, token);
    }
    throw new RunLockedError(runDir, 'a lock that kept changing while it was read', path);
  }

  async release(): Promise<void> {
    const raw = await readFile(this.path, 'utf8').catch(() => '');
    if (parseLock(raw)?.token !== this.token) return;
    await unlink(this.path).catch(() => undefined);
  }
}

/**
 * Who drives the run in `runDir` right now, or undefined when nobody does (no lock, or a stale one).
 * For refusing work that must not happen under a live run (a rollback from a second process).
 */
export async function liveLockHolder(runDir: string): Promise<string | undefined> {
  const found = await inspectLock(runDir);
  if (found.kind === 'held') return found.error.holder;
  if (found.kind === 'unreadable-young') return 'a process that is taking the lock right now';
  return undefined;
}

async function inspectLock(runDir: string): Promise<LockInspection> {
  const path = join(runDir, LOCK_FILE);
  let raw: string;
  let modified: number;
  try {
    [raw, modified] = await Promise.all([readFile(path, 'utf8'), stat(path).then((info) => info.mtimeMs)]);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'free' };
    throw error;
  }
  const holder = parseLock(raw);
  if (!holder) return Date.now() - modified < UNREADABLE_LOCK_GRACE_MS ? { kind: 'unreadable-young' } : { kind: 'stale', raw };
  const described = describeHolder(holder);
  if (holder.host !== hostname()) {
    return {
      kind: 'held',
      error: new RunLockedError(
        runDir,
        described,
        path,
        `Run ${runDir} is locked by a process on another machine (${described}); this machine cannot tell whether it still runs. ` +
          `If no process on ${holder.host} uses this run any more, delete ${path} and try again.`,
      ),
    };
  }
  return (await isLiveHolder(holder)) ? { kind: 'held', error: new RunLockedError(runDir, described, path) } : { kind: 'stale', raw };
}

/** Same host: the pid must exist and, where /proc tells, be the same process that wrote the lock. */
async function isLiveHolder(holder: LockRecord): Promise<boolean> {
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    // EPERM: the process exists but belongs to another user; ESRCH: it is gone.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (holder.startTime === undefined) return true;
  const now = await processStartTime(holder.pid);
  // No /proc (macOS, Windows): a live pid is taken as the holder, the message says how to clear it.
  return now === undefined || now === holder.startTime;
}

/**
 * Takes a stale lock out of the way. Renamed (atomic) rather than deleted, then checked: if another
 * process replaced the stale lock with its fresh one in between, that one is put back.
 */
async function removeStaleLock(path: string, staleRaw: string, token: string): Promise<void> {
  const aside = `${path}.stale-${token}`;
  try {
    await rename(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  const moved = await readFile(aside, 'utf8').catch(() => staleRaw);
  if (moved !== staleRaw) await link(aside, path).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
}

function parseLock(raw: string): LockRecord | undefined {
  try {
    const value = JSON.parse(raw) as Partial<LockRecord> | null;
    if (!value || typeof value.pid !== 'number' || typeof value.host !== 'string') return undefined;
    return { pid: value.pid, host: value.host, since: String(value.since ?? 'an unknown time'), startTime: typeof value.startTime === 'string' ? value.startTime : undefined, token: typeof value.token === 'string' ? value.token : undefined };
  } catch {
    return undefined;
  }
}

function describeHolder(holder: LockRecord): string {
  const since = Date.parse(holder.since);
  const age = Number.isNaN(since) ? '' : `, ${describeAge(Date.now() - since)} ago`;
  return `pid ${holder.pid} on ${holder.host} since ${holder.since}${age}`;
}

function describeAge(ms: number): string {
  const minutes = Math.max(0, Math.round(ms / 60_000));
  if (minutes < 1) return 'less than a minute';
  if (minutes < 120) return `${minutes} min`;
  const hours = Math.round(minutes / 60);
  return hours < 48 ? `${hours} h` : `${Math.round(hours / 24)} days`;
}

/** Field 22 of /proc/<pid>/stat (after the command name, which may hold spaces and parentheses). */
async function processStartTime(pid: number): Promise<string | undefined> {
  try {
    const line = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = line.slice(line.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}
