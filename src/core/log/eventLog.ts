// Append-only, numbered event log of one run (events.jsonl). The log is the truth: state is folded
// from it, so an event is appended (and, at milestones, fsynced) before anyone acts on it.
import { appendFileSync, closeSync, existsSync, fsync, fsyncSync, openSync, readFileSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { readFile, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { EngineEvent, NewEvent } from '../../shared/events';
import type { Clock } from '../ports';
import { redactSecrets } from './redact';

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

export class RunLockedError extends Error {
  constructor(
    readonly runDir: string,
    readonly holder: string,
  ) {
    super(`Run ${runDir} is being driven by another process (${holder}). Close the other window or terminal, or wait for it to finish.`);
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

  private constructor(
    readonly runDir: string,
    readonly runId: string,
    lastSeq: number,
    private readonly clock: Clock,
  ) {
    this.seq = lastSeq;
    this.fd = openSync(join(runDir, EVENTS_FILE), 'a');
  }

  /**
   * Opens a log to continue it. A torn tail is cut off first (and kept in events.jsonl.torn), so
   * the next event starts on a clean line and the log stays readable.
   */
  static openForAppend(runDir: string, runId: string, loaded: LoadedLog, clock: Clock): EventLog {
    const path = join(runDir, EVENTS_FILE);
    if (loaded.tornLine && existsSync(path)) {
      const whole = readFileSync(path);
      writeFileSync(`${path}.torn`, whole.subarray(loaded.validBytes));
      truncateSync(path, loaded.validBytes);
      if (loaded.validBytes > 0 && whole[loaded.validBytes - 1] !== 0x0a) appendFileSync(path, '\n');
    }
    const last = loaded.events[loaded.events.length - 1];
    return new EventLog(runDir, runId, last?.seq ?? 0, clock);
  }

  /** Appends one event and returns it as logged. Anything that looks like an API key is redacted. */
  append(event: NewEvent): EngineEvent {
    if (this.fd === undefined) throw new EventLogError(`The log of run ${this.runId} is closed.`);
    const logged = { ...redactSecrets(event), seq: this.seq + 1, at: this.clock.now().toISOString(), runId: this.runId } as EngineEvent;
    writeSync(this.fd, JSON.stringify(logged) + '\n');
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

/** Exclusive lock of a run folder. A lock whose process is gone (crash) is taken over. */
export class RunLock {
  private constructor(private readonly path: string) {}

  static async acquire(runDir: string): Promise<RunLock> {
    const path = join(runDir, LOCK_FILE);
    const me = JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() });
    for (let tries = 0; tries < 2; tries++) {
      try {
        await writeFile(path, me, { flag: 'wx' });
        return new RunLock(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const holder = await readFile(path, 'utf8').catch(() => '');
        if (!isStale(holder)) throw new RunLockedError(runDir, describeHolder(holder));
        await unlink(path).catch(() => undefined);
      }
    }
    throw new RunLockedError(runDir, 'unknown');
  }

  async release(): Promise<void> {
    await unlink(this.path).catch(() => undefined);
  }
}

function isStale(holderJson: string): boolean {
  try {
    const holder = JSON.parse(holderJson) as { pid?: number; host?: string };
    if (holder.host !== hostname() || typeof holder.pid !== 'number') return false;
    if (holder.pid === process.pid) return false;
    process.kill(holder.pid, 0);
    return false;
  } catch (error) {
    // ESRCH: no such process, so the holder died without releasing. Unparsable: a torn lock write.
    return (error as NodeJS.ErrnoException).code === 'ESRCH' || error instanceof SyntaxError;
  }
}

function describeHolder(holderJson: string): string {
  try {
    const holder = JSON.parse(holderJson) as { pid?: number; host?: string; since?: string };
    return `pid ${holder.pid} on ${holder.host} since ${holder.since}`;
  } catch {
    return 'unknown holder';
  }
}
