// Writes accepted edits to disk (CLI host and tests). A write, delete or rename happens only when the
// file still holds the text the proposal was made against; anything else is reported, never
// overwritten. A rename never replaces an existing target. A read-only file is never replaced, and a
// write the disk refuses is a conflict of that file alone, so one task fails, not the run.
//
// Each file is written to a temp file first and renamed into place. Temp files live in
// `.software-maker/tmp/` (ours, ignored), never beside the user's files, so a kill at any moment
// leaves nothing in their tree; the next applier removes the ones whose process is gone.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, chmod, link, lstat, mkdir, readdir, readFile, realpath, rename, stat, unlink, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { ContentWrite, DeleteWrite, EditApplier, FileWrite, RenameWrite, WriteOutcome } from '../ports';
import { isMissing, MAX_FILE_BYTES, resolveInWorkspace } from '../workspace/paths';
import { sha256 } from './hunks';
import { messageOf } from '../../shared/wording';

const EMPTY_HASH = sha256('');
/** Software Maker's own folder in the workspace (runs, temp files); agents cannot see or edit it. */
const STATE_DIR = '.software-maker';
const TEMP_SUFFIX = '.sm-tmp';

/** Only for tests: a point to stop at (and be killed at) while an edit is being written. */
export interface ApplierTestHooks {
  /** The new text is in the temp file, which is not renamed into place yet. */
  tempWritten?(temp: string): Promise<void>;
}

/** The edit set is malformed: an engine bug, and nothing of the set was written. */
export class EditApplyError extends Error {
  constructor(
    message: string,
    readonly path: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'EditApplyError';
  }
}

type Current = { exists: false } | { exists: true; text: string; mode: number; target: string } | { exists: 'unreadable'; detail: string };

export class NodeEditApplier implements EditApplier {
  /** Each file is written to a temp file and renamed into place. */
  readonly atomicFiles = true;
  private staleRemoved: Promise<void> | undefined;
  private tempDir: Promise<string | undefined> | undefined;

  constructor(
    private readonly root: string,
    private readonly testHooks: ApplierTestHooks = {},
  ) {}

  /**
   * Removes the temp files of appliers whose process is gone (killed while writing). Runs once per
   * applier, before its first write; hosts may call it at start. Never touches another live process's.
   */
  removeStaleTempFiles(): Promise<void> {
    this.staleRemoved ??= (async () => {
      const dir = path.join(this.root, STATE_DIR, 'tmp');
      const names = await readdir(dir).catch(() => [] as string[]);
      for (const name of names) {
        const pid = Number(/^(\d+)\.[0-9a-f]{12}\..*\.sm-tmp$/.exec(name)?.[1]);
        if (!pid || pid === process.pid || isAlive(pid)) continue;
        await unlink(path.join(dir, name)).catch(() => undefined);
      }
    })();
    return this.staleRemoved;
  }

  /**
   * Checks every path and hash first (throwing WorkspaceError or EditApplyError before anything is
   * written), then writes each file atomically. Files are independent: a conflict on one does not stop the others.
   */
  async apply(files: FileWrite[]): Promise<WriteOutcome[]> {
    const resolved: { file: FileWrite; abs: string; rel: string; fromAbs: string }[] = [];
    for (const file of files) {
      const { abs, rel } = await resolveInWorkspace(this.root, file.path);
      if (sha256(file.newText) !== file.newHash) {
        throw new EditApplyError(`The edit for ${rel} is inconsistent: newHash is not the sha256 of newText. This is an engine bug; nothing was written.`, rel);
      }
      if (file.kind === 'create' && file.baseHash !== EMPTY_HASH) {
        throw new EditApplyError(`The edit creating ${rel} has a baseHash other than the hash of the empty text. This is an engine bug; nothing was written.`, rel);
      }
      if (file.kind === 'delete' && file.newText !== '') {
        throw new EditApplyError(`The edit deleting ${rel} carries new text. This is an engine bug; nothing was written.`, rel);
      }
      let fromAbs = abs;
      if (file.kind === 'rename') {
        const from = await resolveInWorkspace(this.root, file.from);
        if (from.rel === rel) throw new EditApplyError(`The edit renaming ${rel} names the same path as source and target. This is an engine bug; nothing was written.`, rel);
        fromAbs = from.abs;
      }
      resolved.push({ file, abs, rel, fromAbs });
    }

    await this.removeStaleTempFiles();
    const outcomes: WriteOutcome[] = [];
    for (const { file, abs, fromAbs } of resolved) {
      if (file.kind === 'delete') outcomes.push(await this.applyDelete(file, abs));
      else if (file.kind === 'rename') outcomes.push(await this.applyRename(file, fromAbs, abs));
      else outcomes.push(await this.applyOne(file, abs));
    }
    return outcomes;
  }

  private async applyDelete(file: DeleteWrite, abs: string): Promise<WriteOutcome> {
    const current = await readCurrent(abs);
    if (current.exists === false) return { path: file.path, status: 'already-applied' };
    if (current.exists === 'unreadable') return { path: file.path, status: 'conflict', detail: `${file.path}: ${current.detail} It was not deleted.` };
    const currentHash = sha256(current.text);
    if (currentHash !== file.baseHash) {
      return {
        path: file.path,
        status: 'conflict',
        detail: `${file.path} changed since the deletion was proposed (expected sha256 ${file.baseHash.slice(0, 12)}…, found ${currentHash.slice(0, 12)}…); it was not deleted. Re-read the file and decide again.`,
      };
    }
    if (await isReadOnly(current)) return readOnlyConflict(file.path, file.path, 'the deletion');
    try {
      // Last look right before the unlink: a save between the check and here must not be lost.
      if (stateKey(await readCurrent(abs)) !== stateKey(current)) {
        return { path: file.path, status: 'conflict', detail: `${file.path} changed while it was being deleted; it was not deleted. Re-read the file and decide again.` };
      }
      // A link inside the workspace is removed itself: the path the agent named goes, its target stays.
      await unlink(abs);
    } catch (error) {
      if (isMissing(error)) return { path: file.path, status: 'already-applied' };
      return refusedConflict(file.path, `${file.path} could not be deleted`, error);
    }
    return { path: file.path, status: 'written' };
  }

  private async applyRename(file: RenameWrite, fromAbs: string, toAbs: string): Promise<WriteOutcome> {
    const source = await readCurrent(fromAbs);
    const target = await readCurrent(toAbs);
    if (source.exists === false && target.exists === true && sha256(target.text) === file.newHash) {
      return { path: file.path, status: 'already-applied' };
    }
    if (target.exists !== false) {
      return { path: file.path, status: 'conflict', detail: `${file.path} already exists, and a rename never overwrites a file; nothing was moved. Move or delete ${file.path} first, or propose another target.` };
    }
    if (source.exists === 'unreadable') return { path: file.path, status: 'conflict', detail: `${file.from}: ${source.detail} Nothing was moved.` };
    if (source.exists === false) {
      return { path: file.path, status: 'conflict', detail: `${file.from} was deleted or moved since the rename was proposed; nothing was written. Propose creating ${file.path} if it is still needed.` };
    }
    const sourceHash = sha256(source.text);
    if (sourceHash !== file.baseHash) {
      return {
        path: file.path,
        status: 'conflict',
        detail: `${file.from} changed since the rename was proposed (expected sha256 ${file.baseHash.slice(0, 12)}…, found ${sourceHash.slice(0, 12)}…); nothing was moved. Re-read the file and propose the rename again.`,
      };
    }
    if (await isReadOnly(source)) return readOnlyConflict(file.path, file.from, 'the rename');

    let temp: string | undefined;
    let targetWritten = false;
    try {
      temp = await this.tempFor(toAbs);
      await writeFile(temp, file.newText, { encoding: 'utf8', flag: 'wx' });
      await chmod(temp, source.mode);
      await this.testHooks.tempWritten?.(temp);
      if (stateKey(await readCurrent(fromAbs)) !== stateKey(source)) {
        await unlink(temp);
        return { path: file.path, status: 'conflict', detail: `${file.from} changed while it was being renamed; nothing was moved. Re-read the file and propose the rename again.` };
      }
      // New folders only now, so a kill before this point leaves the user's tree as it was.
      await mkdir(path.dirname(toAbs), { recursive: true });
      // link() fails when the target exists: unlike rename(), it cannot replace a file created meanwhile.
      try {
        await link(temp, toAbs);
        await unlink(temp);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
          await unlink(temp);
          return { path: file.path, status: 'conflict', detail: `${file.path} was created while the rename was being written; nothing was moved. Move or delete ${file.path} first, or propose another target.` };
        }
        // File systems without hard links: check once more, then a plain rename.
        if (!(await isAbsent(toAbs))) {
          await unlink(temp);
          return { path: file.path, status: 'conflict', detail: `${file.path} was created while the rename was being written; nothing was moved.` };
        }
        await rename(temp, toAbs);
      }
      targetWritten = true;
      await unlink(fromAbs);
    } catch (error) {
      if (temp) await unlink(temp).catch(() => undefined);
      // The target must not stay behind as a copy while the source is still there.
      if (targetWritten) await unlink(toAbs).catch(() => undefined);
      return refusedConflict(file.path, `${file.from} could not be moved to ${file.path}`, error);
    }
    return { path: file.path, status: 'written' };
  }

  private async applyOne(file: ContentWrite, abs: string): Promise<WriteOutcome> {
    const current = await readCurrent(abs);
    if (current.exists === 'unreadable') return { path: file.path, status: 'conflict', detail: current.detail };
    const currentText = current.exists ? current.text : '';
    const currentHash = sha256(currentText);
    // A missing file "holds" '' too, but an empty new file must still be created.
    if (currentHash === file.newHash && current.exists) return { path: file.path, status: 'already-applied' };
    if (currentHash !== file.baseHash) {
      return { path: file.path, status: 'conflict', detail: conflictDetail(file, current.exists, currentHash) };
    }
    // A rename over it would succeed (the folder is writable), but the user marked it read-only.
    if (current.exists && (await isReadOnly(current))) return readOnlyConflict(file.path, file.path, 'the edit');

    const target = current.exists ? current.target : abs;
    let temp: string | undefined;
    try {
      temp = await this.tempFor(target);
      await writeFile(temp, file.newText, { encoding: 'utf8', flag: 'wx' });
      // Keep an executable script executable.
      if (current.exists) await chmod(temp, current.mode);
      await this.testHooks.tempWritten?.(temp);
      // Last look before the rename: the user may have saved the file while we wrote the temp file.
      if (stateKey(await readCurrent(abs)) !== stateKey(current)) {
        await unlink(temp);
        return { path: file.path, status: 'conflict', detail: `${file.path} changed while the edit was being written; nothing was written. Re-read the file and propose the edit again.` };
      }
      // New folders only now, so a kill before this point leaves the user's tree as it was.
      await mkdir(path.dirname(target), { recursive: true });
      await rename(temp, target);
    } catch (error) {
      if (temp) await unlink(temp).catch(() => undefined);
      return refusedConflict(file.path, `${file.path} could not be written`, error);
    }
    return { path: file.path, status: 'written' };
  }

  /**
   * A fresh temp path for `target` on its file system (a rename cannot cross one): in our temp
   * folder, or beside the target when that folder is on another device or cannot be made.
   */
  private async tempFor(target: string): Promise<string> {
    const name = `${process.pid}.${randomBytes(6).toString('hex')}.${path.basename(target)}${TEMP_SUFFIX}`;
    const own = await this.ownTempDir();
    const dir = await nearestExisting(path.dirname(target));
    if (own && (await sameDevice(own, dir))) return path.join(own, name);
    // Beside the target (its folder is created first): the rare mount inside a workspace.
    await mkdir(path.dirname(target), { recursive: true });
    return path.join(path.dirname(target), `.${name}`);
  }

  private ownTempDir(): Promise<string | undefined> {
    this.tempDir ??= (async () => {
      const dir = path.join(this.root, STATE_DIR, 'tmp');
      try {
        await mkdir(dir, { recursive: true });
        // As for the runs folder: visible, never committed.
        await writeFile(path.join(this.root, STATE_DIR, '.gitignore'), '*\n', { flag: 'wx' }).catch(() => undefined);
        return dir;
      } catch {
        return undefined;
      }
    })();
    return this.tempDir;
  }
}

async function readCurrent(abs: string): Promise<Current> {
  try {
    // Write through a link inside the workspace rather than replacing the link with a file.
    const target = await realpath(abs);
    const info = await stat(target);
    if (info.isDirectory()) return { exists: 'unreadable', detail: `A folder now exists at this path; nothing was written.` };
    if (info.size > MAX_FILE_BYTES) {
      return { exists: 'unreadable', detail: `The file is now ${info.size} bytes, over the ${MAX_FILE_BYTES}-byte limit, so it changed since the proposal; nothing was written.` };
    }
    const text = (await readFile(target)).toString('utf8');
    return { exists: true, text, mode: info.mode & 0o7777, target };
  } catch (error) {
    if (isMissing(error)) return { exists: false };
    throw error;
  }
}

async function isAbsent(abs: string): Promise<boolean> {
  try {
    await lstat(abs);
    return false;
  } catch (error) {
    if (isMissing(error)) return true;
    throw error;
  }
}

function stateKey(current: Current): string {
  if (current.exists === true) return `file:${sha256(current.text)}`;
  return current.exists === false ? 'missing' : 'unreadable';
}

/** Read-only to the user: no write bit at all (what root would ignore), or not writable for this process. */
async function isReadOnly(current: { target: string; mode: number }): Promise<boolean> {
  if ((current.mode & 0o222) === 0) return true;
  try {
    await access(current.target, constants.W_OK);
    return false;
  } catch {
    return true;
  }
}

function readOnlyConflict(path: string, readOnlyPath: string, what: string): WriteOutcome {
  return { path, status: 'conflict', detail: `${readOnlyPath} is read-only; make it writable to let ${what} land. Nothing was written.` };
}

/** The disk refused a write: a conflict of this file only, so its task fails and the run goes on. */
function refusedConflict(path: string, what: string, error: unknown): WriteOutcome {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const advice = code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
    ? 'the folder (or file) is read-only for Software Maker; make it writable to let the edit land'
    : "check the folder's permissions and free space";
  return { path, status: 'conflict', detail: `${what} (${messageOf(error)}): ${advice}. Nothing was changed.` };
}

/** `dir` or its closest ancestor that exists (the folder a new file's folders will be made in). */
export async function nearestExisting(dir: string): Promise<string> {
  for (let current = dir; ; current = path.dirname(current)) {
    if (!(await isAbsent(current)) || path.dirname(current) === current) return current;
  }
}

async function sameDevice(a: string, b: string): Promise<boolean> {
  try {
    return (await stat(a)).dev === (await stat(b)).dev;
  } catch {
    return false;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, it is just not ours to signal.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function conflictDetail(file: ContentWrite, exists: boolean, currentHash: string): string {
  const found = currentHash.slice(0, 12);
  const expected = file.baseHash.slice(0, 12);
  if (file.kind === 'create') {
    return `${file.path} was created by someone else since the proposal (it now has content with sha256 ${found}…); nothing was written. Read the file and propose a modification instead.`;
  }
  if (!exists) {
    return `${file.path} was deleted since the proposal; nothing was written. Propose creating it if it is still needed.`;
  }
  return `${file.path} changed since the proposal (expected sha256 ${expected}…, found ${found}…); nothing was written. Re-read the file and propose the edit again.`;
}
