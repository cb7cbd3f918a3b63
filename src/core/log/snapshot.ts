// A run's snapshot: the folded RunState and the byte length of events.jsonl it covers, next to the
// log. It is a cache, never the truth: a reader folds the log's tail onto it, and a snapshot that is
// missing, of another version, unreadable, or that no longer matches the log (the log is shorter,
// its bytes at the covered end differ, the run it describes is not the log's run.created) is
// ignored for a fold of the whole log. So listing runs and reading one costs what changed since.
import { createHash, randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { EngineEvent, EngineEventOf } from '../../shared/events';
import { applyEvent, applyPayloadFreeEvent, isReservedKey, PAYLOAD_FREE_TYPES, type RunState } from '../../shared/runState';
import { EVENTS_FILE, EventLogError } from './eventLog';

export const SNAPSHOT_FILE = 'snapshot.json';
/** Bump whenever RunState changes shape: a snapshot of another version is folded anew. */
export const SNAPSHOT_VERSION = 1;
/** The log's bytes just before the covered end (its last event's seq, time and run id) are checked. */
const ANCHOR_BYTES = 128;
/** A tail longer than this is folded into a new snapshot by the reader. */
const REWRITE_TAIL_BYTES = 256 * 1024;

interface SnapshotFile {
  version: number;
  coveredBytes: number;
  anchorSha256: string;
  state: RunState;
}

export interface FoldedRun {
  state: RunState;
  /** The log's first event, read from the log itself (never the snapshot): what trust is decided on. */
  created: EngineEventOf<'run.created'>;
  /** Bytes of events.jsonl folded (up to the end of the last whole event). */
  coveredBytes: number;
  /** Where the fold started: a snapshot, or the log's first byte. */
  source: 'snapshot' | 'log';
  /** Events folded from the log (after the snapshot, if one was used), and of those, folded without parsing their payload. */
  foldedEvents: number;
  payloadFree: number;
}

/**
 * The run's state, from its snapshot plus the log's tail, or from the whole log. Undefined for an
 * empty or missing log. A torn last line is left out, as readLog does; a corrupt line elsewhere
 * throws EventLogError. `rewrite`: store a fresh snapshot when the old one was unusable or far behind.
 */
export async function readRunState(runDir: string, options: { rewrite?: boolean } = {}): Promise<FoldedRun | undefined> {
  let file: FileHandle;
  try {
    file = await open(join(runDir, EVENTS_FILE), 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let folded: FoldedRun | undefined;
  /** Bytes folded from the log itself (all of them without a snapshot). */
  let tailBytes = 0;
  try {
    const size = (await file.stat()).size;
    if (size === 0) return undefined;
    const snapshot = await readSnapshotFile(runDir);
    const usable = snapshot && snapshot.coveredBytes <= size ? await checkedAgainstLog(file, snapshot) : undefined;
    if (usable) {
      const tail = await readRange(file, usable.snapshot.coveredBytes, size);
      const result = foldLines(tail, usable.snapshot.state, join(runDir, EVENTS_FILE));
      tailBytes = result.validBytes;
      folded = {
        state: result.state!,
        created: usable.created,
        coveredBytes: usable.snapshot.coveredBytes + result.validBytes,
        source: 'snapshot',
        foldedEvents: result.events,
        payloadFree: result.payloadFree,
      };
    } else {
      const whole = await readRange(file, 0, size);
      const result = foldLines(whole, undefined, join(runDir, EVENTS_FILE));
      if (!result.state || !result.created) return undefined;
      tailBytes = result.validBytes;
      folded = { state: result.state, created: result.created, coveredBytes: result.validBytes, source: 'log', foldedEvents: result.events, payloadFree: result.payloadFree };
    }
  } finally {
    await file.close();
  }
  if (options.rewrite && (folded.source === 'log' || tailBytes > REWRITE_TAIL_BYTES)) {
    // A cache that cannot be written (read-only folder, full disk) only costs the next reader time.
    await writeRunSnapshot(runDir, folded.state, folded.coveredBytes).catch(() => undefined);
  }
  return folded;
}

/**
 * Stores `state` as the fold of the first `coveredBytes` of the run's log, atomically (a temp file
 * renamed over the old snapshot), so a reader sees the old snapshot or the new one, never half.
 */
export async function writeRunSnapshot(runDir: string, state: RunState, coveredBytes: number): Promise<void> {
  if (coveredBytes <= 0) return;
  const file = await open(join(runDir, EVENTS_FILE), 'r');
  let anchor: Buffer;
  try {
    anchor = await readRange(file, Math.max(0, coveredBytes - ANCHOR_BYTES), coveredBytes);
  } finally {
    await file.close();
  }
  if (anchor.length === 0 || anchor[anchor.length - 1] !== 0x0a) return;
  const snapshot: SnapshotFile = { version: SNAPSHOT_VERSION, coveredBytes, anchorSha256: sha256(anchor), state };
  const target = join(runDir, SNAPSHOT_FILE);
  const temp = `${target}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temp, JSON.stringify(snapshot));
    await rename(temp, target);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}

async function readSnapshotFile(runDir: string): Promise<SnapshotFile | undefined> {
  let raw: string;
  try {
    raw = await readFile(join(runDir, SNAPSHOT_FILE), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const value = JSON.parse(raw) as Partial<SnapshotFile> | null;
    if (!value || value.version !== SNAPSHOT_VERSION || typeof value.coveredBytes !== 'number' || typeof value.anchorSha256 !== 'string') return undefined;
    return isStateShaped(value.state) ? (value as SnapshotFile) : undefined;
  } catch {
    return undefined;
  }
}

/** Enough of RunState's shape that folding onto it cannot reach a prototype or a missing map. */
function isStateShaped(state: unknown): state is RunState {
  if (!state || typeof state !== 'object') return false;
  const value = state as Record<string, unknown>;
  const maps = ['tasks', 'proposals', 'openSteps', 'usageByRole'];
  if (typeof value.id !== 'string' || typeof value.status !== 'string' || typeof value.lastSeq !== 'number' || !Array.isArray(value.taskOrder)) return false;
  for (const name of maps) {
    const map = value[name];
    if (!map || typeof map !== 'object' || Array.isArray(map) || Object.keys(map).some(isReservedKey)) return false;
  }
  return true;
}

/**
 * The snapshot, when the log still starts with the run.created it describes and still has the same
 * bytes where the snapshot ends. The run's identity and config (what trust is decided on) come from
 * the log: a snapshot whose config differs from run.created's, budgets aside, is not used.
 */
async function checkedAgainstLog(file: FileHandle, snapshot: SnapshotFile): Promise<{ snapshot: SnapshotFile; created: EngineEventOf<'run.created'> } | undefined> {
  const anchor = await readRange(file, Math.max(0, snapshot.coveredBytes - ANCHOR_BYTES), snapshot.coveredBytes);
  if (sha256(anchor) !== snapshot.anchorSha256) return undefined;
  const created = await readFirstEvent(file);
  if (created?.type !== 'run.created') return undefined;
  const state = snapshot.state;
  if (state.id !== created.runId || state.goal !== created.goal || state.workspace !== created.workspace || state.createdAt !== created.at) return undefined;
  if (JSON.stringify({ ...state.config, budgets: undefined }) !== JSON.stringify({ ...created.config, budgets: undefined })) return undefined;
  return { snapshot, created };
}

async function readFirstEvent(file: FileHandle): Promise<EngineEvent | undefined> {
  const chunks: Buffer[] = [];
  for (let position = 0; ; ) {
    const chunk = Buffer.alloc(64 * 1024);
    const { bytesRead } = await file.read(chunk, 0, chunk.length, position);
    if (bytesRead === 0) break;
    const end = chunk.subarray(0, bytesRead).indexOf(0x0a);
    chunks.push(chunk.subarray(0, end === -1 ? bytesRead : end));
    if (end !== -1) break;
    position += bytesRead;
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as EngineEvent;
  } catch {
    return undefined;
  }
}

async function readRange(file: FileHandle, start: number, end: number): Promise<Buffer> {
  const buffer = Buffer.alloc(Math.max(0, end - start));
  let filled = 0;
  while (filled < buffer.length) {
    const { bytesRead } = await file.read(buffer, filled, buffer.length - filled, start + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * How the log writer starts a payload-free event: its type, then its ids (stepId, taskId, the tool
 * call's id, the agent's role), then the payload. The ids are checked like the fold checks them.
 */
const PAYLOAD_FREE_HEADER = new RegExp(
  `^\\{"type":"(${[...PAYLOAD_FREE_TYPES].map((type) => type.replace('.', '\\.')).join('|')})","stepId":"([^"\\\\]*)"(?:,"taskId":"([^"\\\\]*)")?(?:,"toolCallId":"[^"\\\\]*")?(?:,"role":"([^"\\\\]*)")?,`,
);
/** At most this much of a line is decoded to read its header. */
const HEADER_BYTES = 600;
const SEQ_KEY = Buffer.from('"seq":');
/**
 * Literal texts that, between a header and the trailer, would mean the line is not as the writer
 * wrote it: a second top-level type or id field (JSON.parse keeps the last one). Inside the payload
 * string every quote is escaped, so none of these appears there literally.
 */
const FORGERY_MARKS = ['"type":', 'Id":', '"role":'].map((mark) => Buffer.from(mark));

interface FoldedLines {
  state: RunState | undefined;
  created?: EngineEventOf<'run.created'>;
  /** Bytes of `buffer` up to the end of its last whole event. */
  validBytes: number;
  events: number;
  payloadFree: number;
}

/**
 * Folds the lines of `buffer` onto `state`. Events the fold reads only by seq and time (tool calls
 * and results, agent text) are folded from their header and the `"seq":…,"at":…,"runId":…}` the log
 * writer puts at the end of every line, without parsing their payload; a line that does not look
 * exactly like that is parsed whole.
 */
function foldLines(buffer: Buffer, start: RunState | undefined, path: string): FoldedLines {
  // Where each mark occurs next: the searches only move forward, so each mark costs one pass.
  const nextMark = FORGERY_MARKS.map(() => -1);
  const markAfter = (index: number, from: number): number => {
    if (nextMark[index] !== Infinity && nextMark[index]! < from) {
      const found = buffer.indexOf(FORGERY_MARKS[index]!, from);
      nextMark[index] = found === -1 ? Infinity : found;
    }
    return nextMark[index]!;
  };
  const result: FoldedLines = { state: start, validBytes: 0, events: 0, payloadFree: 0 };
  for (let lineStart = 0; lineStart < buffer.length; ) {
    const newline = buffer.indexOf(0x0a, lineStart);
    const lineEnd = newline === -1 ? buffer.length : newline;
    const next = newline === -1 ? buffer.length : newline + 1;
    const header = payloadFreeHeader(buffer, lineStart, lineEnd, markAfter);
    if (header) {
      result.state = applyPayloadFreeEvent(result.state, header);
      result.payloadFree++;
      result.events++;
      result.validBytes = next;
    } else {
      const line = buffer.toString('utf8', lineStart, lineEnd);
      if (line.trim() !== '') {
        let event: EngineEvent;
        try {
          event = JSON.parse(line) as EngineEvent;
        } catch {
          if (buffer.subarray(next).toString('utf8').trim() !== '') throw new EventLogError(`${path}: an event after byte ${lineStart} is not valid JSON and is not the last line: the log is corrupt.`);
          break;
        }
        result.state = applyEvent(result.state, event);
        if (event.type === 'run.created') result.created = event;
        result.events++;
        result.validBytes = next;
      }
    }
    lineStart = next;
  }
  return result;
}

function payloadFreeHeader(
  buffer: Buffer,
  lineStart: number,
  lineEnd: number,
  markAfter: (index: number, from: number) => number,
): { type: string; seq: number; at: string } | undefined {
  // The cheap test first: most lines that are not payload-free fail on their first bytes.
  if (buffer[lineStart] !== 0x7b || buffer[lineStart + 9] !== 0x74 && buffer[lineStart + 9] !== 0x61) return undefined;
  const head = buffer.toString('latin1', lineStart, Math.min(lineEnd, lineStart + HEADER_BYTES));
  const match = PAYLOAD_FREE_HEADER.exec(head);
  if (!match) return undefined;
  // The fold refuses ids every object has (__proto__, constructor…): such a line is parsed whole, and refused.
  if ([match[2], match[3], match[4]].some((id) => id !== undefined && isReservedKey(id))) return undefined;
  const seqAt = buffer.lastIndexOf(SEQ_KEY, lineEnd - 1);
  const headerEnd = lineStart + match[0].length;
  if (seqAt < headerEnd) return undefined;
  for (let index = 0; index < FORGERY_MARKS.length; index++) if (markAfter(index, headerEnd) < seqAt) return undefined;
  let trailer: unknown;
  try {
    trailer = JSON.parse(`{${buffer.toString('utf8', seqAt, lineEnd)}`);
  } catch {
    return undefined;
  }
  const value = trailer as { seq?: unknown; at?: unknown; runId?: unknown };
  if (Object.keys(value).length !== 3 || typeof value.seq !== 'number' || typeof value.at !== 'string' || typeof value.runId !== 'string') return undefined;
  return { type: match[1]!, seq: value.seq, at: value.at };
}
