// Checkpoints of the workspace in a shadow git repository: its GIT_DIR lives in our storage folder,
// its work tree is the workspace. Nothing here reads or writes the user's own repository: every git
// command runs with GIT_DIR, GIT_WORK_TREE and GIT_INDEX_FILE set to ours, without the user's
// environment (GIT_*) or global/system configuration, without hooks and without signing. Each
// checkpoint is a commit pinned by its own ref, so git never collects it.
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readFile, realpath, rmdir, unlink, writeFile } from 'node:fs/promises';
import { devNull } from 'node:os';
import * as path from 'node:path';
import { runProgram } from '../processGroup';
import { isMissing, relativeInside } from '../workspace/paths';
import { messageOf } from '../../shared/wording';
import { UserError } from '../../shared/errors';

export interface Checkpoint {
  id: string;
  label: string;
  runId: string;
  taskId?: string;
  /** ISO 8601. */
  createdAt: string;
  /** The shadow repository's commit holding the snapshot. */
  commit: string;
}

export interface RestoreReport {
  /** The checkpoint restored. */
  checkpoint: Checkpoint;
  /** Taken just before restoring: restoring it undoes the restore. */
  safety: Checkpoint;
  /** Files written back to their checkpoint text (changed or deleted since). */
  restored: string[];
  /** Files created after the checkpoint, which the restore removed. */
  deleted: string[];
  /**
   * Files of the checkpoint that exist now but are no longer checkpointed (ignored since, or inside
   * a nested repository): they are left as they are.
   */
  skipped: { path: string; reason: string }[];
  /** Files of the checkpoint that already held its text. */
  unchanged: number;
}

export type CheckpointErrorCode = 'git-missing' | 'invalid-storage' | 'not-found' | 'busy' | 'git-failed';

export class CheckpointError extends UserError {
  constructor(
    readonly code: CheckpointErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CheckpointError';
  }
}

export interface ShadowCheckpointsOptions {
  /** The workspace folder (the work tree). */
  workspaceRoot: string;
  /** Folder of the shadow repository (its GIT_DIR); created when missing. Outside the workspace's .git. */
  storageDir: string;
}

const REF_PREFIX = 'refs/software-maker/checkpoints/';
/** The latest checkpoint, parent of the next one: the checkpoints form one history, newest first. */
const HEAD_REF = 'refs/software-maker/head';
const META_PREFIX = 'software-maker-checkpoint: ';
const AUTHOR = { name: 'Software Maker', email: 'checkpoints@software-maker.invalid' };

/** Never checkpointed, at any depth: git internals, dependencies and our own run state. */
const FIXED_EXCLUDES = ['.git', 'node_modules', '.software-maker'];
const NESTED_MARKER = '# Nested git repositories (they have their own history; not checkpointed here):';

/**
 * Every conversion git could apply between the work tree and the snapshot is switched off, so a
 * restore writes back the exact bytes: no end-of-line conversion, no clean/smudge filters (LFS), no
 * $Id$ expansion, no re-encoding, whatever the workspace's .gitattributes say (info/attributes wins).
 */
const ATTRIBUTES = '* -text -filter -ident -working-tree-encoding\n';

/** Settings passed with -c on every command; they hold even on a git too old for GIT_CONFIG_GLOBAL. */
const COMMAND_CONFIG = ['core.autocrlf=false', 'core.safecrlf=false', 'core.fsmonitor=false', 'commit.gpgSign=false', 'core.quotePath=false'];

export class ShadowCheckpoints {
  /** One git operation at a time: they share the shadow index. */
  private queue: Promise<unknown> = Promise.resolve();
  private nested: Set<string>;
  /** The newest checkpoint (HEAD_REF), once read: this instance is the one writing it. */
  private head: { commit: string | undefined } | undefined;
  /**
   * True while HEAD_REF holds the work tree as it is, except the files in `dirty`: after a full
   * snapshot by this instance, until a restore rewrites the tree. Only then can a checkpoint be
   * built from the files a landing touches instead of a scan.
   */
  private base = false;
  /** Files written by landings since the newest checkpoint read them. */
  private dirty = new Set<string>();
  /** Full snapshots asked for and still scanning: what a landing overwrites meanwhile is kept for them. */
  private readonly scans = new Set<Scan>();
  /** The checkpoint folder relative to the workspace when it is inside it (then it is excluded too). */
  private storageRel: string | undefined;

  private constructor(
    private readonly root: string,
    private readonly gitDir: string,
    private readonly git: GitCommand,
    nested: Set<string>,
  ) {
    this.nested = nested;
  }

  /** Opens (creating it the first time) the shadow repository of a workspace. Throws CheckpointError. */
  static async open(options: ShadowCheckpointsOptions): Promise<ShadowCheckpoints> {
    let root: string;
    try {
      root = await realpath(options.workspaceRoot);
    } catch (error) {
      throw new CheckpointError('invalid-storage', `The workspace folder ${options.workspaceRoot} cannot be opened (${messageOf(error)}); open an existing folder.`, { cause: error });
    }
    await mkdir(options.storageDir, { recursive: true }).catch((error: unknown) => {
      throw new CheckpointError('invalid-storage', `The checkpoint folder ${options.storageDir} cannot be created (${messageOf(error)}); choose a writable folder.`, { cause: error });
    });
    const gitDir = await realpath(options.storageDir);
    const inside = relativeInside(root, gitDir);
    if (inside === '') {
      throw new CheckpointError('invalid-storage', `The checkpoint folder ${gitDir} is the workspace folder itself; give a folder of its own (e.g. in the extension's storage).`);
    }
    if (inside !== undefined && inside.split('/').some((segment) => segment.toLowerCase() === '.git')) {
      throw new CheckpointError('invalid-storage', `The checkpoint folder ${gitDir} is inside the workspace's .git folder, which checkpoints never touch; give a folder elsewhere.`);
    }
    if (relativeInside(gitDir, root) !== undefined) {
      throw new CheckpointError('invalid-storage', `The workspace ${root} is inside the checkpoint folder ${gitDir}; give a checkpoint folder outside the workspace.`);
    }

    // Only what git needs to find itself and read file names: the user's GIT_DIR, GIT_INDEX_FILE,
    // GIT_CONFIG_* must never reach the shadow repository, and an EDITOR, PAGER or askpass program
    // from the user's shell has no business in non-interactive snapshots (simple-git refuses them).
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(process.env)) {
      if (value !== undefined && isPassedThrough(key)) env[key] = value;
    }
    Object.assign(env, {
      GIT_DIR: gitDir,
      GIT_WORK_TREE: root,
      GIT_INDEX_FILE: path.join(gitDir, 'index'),
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: devNull,
      GIT_AUTHOR_NAME: AUTHOR.name,
      GIT_AUTHOR_EMAIL: AUTHOR.email,
      GIT_COMMITTER_NAME: AUTHOR.name,
      GIT_COMMITTER_EMAIL: AUTHOR.email,
      GIT_TERMINAL_PROMPT: '0',
      // Paths are file names, never patterns: a file named "*.ts" restores only itself.
      GIT_LITERAL_PATHSPECS: '1',
    });
    // git itself, not through a wrapper: a snapshot is a few short commands, and their start-up is
    // most of what one costs.
    const git: GitCommand = { env, config: [...COMMAND_CONFIG, `core.hooksPath=${path.join(gitDir, 'no-hooks')}`].flatMap((setting) => ['-c', setting]) };

    const shadow = new ShadowCheckpoints(root, gitDir, git, new Set());
    await shadow.initialise(inside);
    return shadow;
  }

  /**
   * Snapshots the workspace as it is now: a scan of the whole tree (git's stat cache makes a repeat
   * cheap; the first one hashes every file). Landings meanwhile do not wait for it: what they
   * overwrite is handed in by beforeWrite, so the snapshot holds the tree as it was when asked.
   */
  create(label: string, meta: { runId: string; taskId?: string }): Promise<Checkpoint> {
    const scan: Scan = { guarded: new Map() };
    this.scans.add(scan);
    return this.exclusive(() => this.snapshot(label, meta, scan)).finally(() => this.scans.delete(scan));
  }

  /**
   * The checkpoint before a landing writes `paths` (call it while the workspace holds still, and
   * write only after it resolved). Built without a scan: the newest checkpoint plus the files the
   * run's landings wrote since and the files about to be written, read now. So it costs one git
   * process whatever the size of the tree; edits made outside the run since the last full snapshot
   * are not in it (a restore's safety checkpoint scans, so a rollback never loses them).
   * `checkpoint` settles when the commit exists: at once, or, while a full snapshot is still
   * scanning (`deferred`), after it, whose turn it waits for. Unless it `scans` the tree itself, the
   * write need not wait for it: what it holds was read before this resolved.
   */
  async beforeWrite(label: string, meta: { runId: string; taskId?: string }, paths: readonly string[]): Promise<{ checkpoint: Promise<Checkpoint>; deferred: boolean; scans: boolean }> {
    const scans = [...this.scans];
    const touched = [...new Set([...this.dirty, ...paths])].filter((rel) => this.checkpointable(rel));
    const entries = this.base || scans.length ? await this.readEntries(touched) : undefined;
    if (!entries) {
      // No snapshot to build on (a fresh instance, a restore since), or a file that is not plain: scan.
      // The landing writes once the scan is done, so its files are the next checkpoint's to read.
      const checkpoint = this.create(label, meta).then((taken) => {
        this.dirty = new Set(paths);
        return taken;
      });
      return { checkpoint, deferred: false, scans: true };
    }
    for (const scan of scans) {
      for (const rel of paths) if (entries.has(rel) && !scan.guarded.has(rel)) scan.guarded.set(rel, entries.get(rel)!);
    }
    this.dirty = new Set(paths);
    return { checkpoint: this.exclusive(() => this.compose(label, meta, entries)), deferred: scans.length > 0, scans: false };
  }

  /** The tree may have changed outside the run since the newest checkpoint (a resume): the next one scans. */
  forgetBase(): void {
    this.base = false;
  }

  /** Every checkpoint, oldest first. */
  list(): Promise<Checkpoint[]> {
    return this.exclusive(() => this.readCheckpoints());
  }

  /**
   * Puts the checkpointed files back as they were: files changed or deleted since are restored and
   * files created since are removed. Ignored files, nested repositories and .git are never touched.
   * A safety checkpoint is taken first, so the restore itself can be undone.
   */
  restore(id: string): Promise<RestoreReport> {
    return this.exclusive(async () => {
      const checkpoint = await this.find(id);
      const safety = await this.snapshot(`Before restoring "${checkpoint.label}"`, { runId: checkpoint.runId, taskId: checkpoint.taskId });
      const changes = parseNameStatus(await this.run(['diff-tree', '-r', '-z', '--no-renames', '--name-status', safety.commit, checkpoint.commit]));
      const toRestore: string[] = [];
      const toDelete = changes.filter((change) => change.status === 'D').map((change) => change.path);
      const skipped: RestoreReport['skipped'] = [];
      // Deletions first: a file created since may stand where a folder of the checkpoint goes, or the reverse.
      for (const rel of toDelete) await this.removeFile(rel);
      for (const change of changes) {
        if (change.status === 'D') continue;
        if (change.status === 'A' && (await this.exists(change.path))) {
          // On disk but not in the snapshot just taken: ignored now, or in a nested repository.
          skipped.push({ path: change.path, reason: 'It exists but is no longer checkpointed (ignored since, or inside a nested git repository); it was left as it is.' });
        } else {
          toRestore.push(change.path);
        }
      }
      if (toRestore.length) {
        const list = path.join(this.gitDir, `restore-${randomBytes(6).toString('hex')}.paths`);
        await writeFile(list, toRestore.map((p) => `${p}\0`).join(''));
        try {
          await this.run(['checkout', checkpoint.commit, `--pathspec-from-file=${list}`, '--pathspec-file-nul']);
        } finally {
          await unlink(list).catch(() => undefined);
        }
      }
      // The tree no longer is the newest checkpoint plus the run's writes: the next one scans.
      this.base = false;
      // The shadow index follows the work tree, so the next checkpoint only re-reads what changed.
      await this.addAll();
      const total = (await this.run(['ls-tree', '-r', '-z', '--name-only', checkpoint.commit])).split('\0').filter(Boolean).length;
      return {
        checkpoint,
        safety,
        restored: toRestore,
        deleted: toDelete,
        skipped,
        unchanged: total - toRestore.length - skipped.length,
      };
    });
  }

  /** A file's text as the checkpoint holds it; undefined when the checkpoint has no such file. */
  fileAt(id: string, rel: string): Promise<string | undefined> {
    return this.exclusive(async () => {
      const checkpoint = await this.find(id);
      this.abs(rel);
      const listed = await this.run(['ls-tree', '-z', '--name-only', checkpoint.commit, '--', rel]);
      if (!listed.split('\0').includes(rel)) return undefined;
      return this.run(['cat-file', 'blob', `${checkpoint.commit}:${rel}`]);
    });
  }

  /** Workspace files that differ from the checkpoint now (changed, created or deleted since). */
  diffSince(id: string): Promise<string[]> {
    return this.exclusive(async () => {
      const checkpoint = await this.find(id);
      await this.addAll();
      return (await this.run(['diff', '--cached', '--no-renames', '--name-only', '-z', checkpoint.commit])).split('\0').filter(Boolean);
    });
  }

  // ------------------------------------------------------------------------------------------

  private async initialise(storageRel: string | undefined): Promise<void> {
    let initialised = true;
    try {
      await lstat(path.join(this.gitDir, 'HEAD'));
    } catch (error) {
      if (!isMissing(error)) throw new CheckpointError('invalid-storage', `The checkpoint folder ${this.gitDir} cannot be read (${messageOf(error)}).`, { cause: error });
      initialised = false;
    }
    if (!initialised) {
      // No template: the shadow repository starts without sample hooks or anything else to run.
      await this.run(['init', '--quiet', '--template=']);
      for (const [key, value] of [
        ['core.bare', 'false'],
        ['core.logAllRefUpdates', 'false'],
        ['core.untrackedCache', 'true'],
        ['gc.auto', '0'],
        ['maintenance.auto', 'false'],
      ]) {
        await this.run(['config', key, value]);
      }
    }
    await mkdir(path.join(this.gitDir, 'info'), { recursive: true });
    await writeFile(path.join(this.gitDir, 'info', 'attributes'), ATTRIBUTES);
    const excludeFile = path.join(this.gitDir, 'info', 'exclude');
    let previous = '';
    try {
      previous = await readFile(excludeFile, 'utf8');
    } catch (error) {
      if (!isMissing(error)) throw error;
    }
    const marker = previous.indexOf(NESTED_MARKER);
    if (marker !== -1) {
      for (const line of previous.slice(marker + NESTED_MARKER.length).split('\n')) {
        if (line.startsWith('/')) this.nested.add(unescapePattern(line.slice(1).replace(/\/$/, '')));
      }
    }
    this.storageRel = storageRel;
    await this.writeExcludes();
  }

  private async writeExcludes(): Promise<void> {
    const lines = ['# Written by Software Maker: never checkpointed.', ...FIXED_EXCLUDES];
    if (this.storageRel) lines.push(`/${escapePattern(this.storageRel)}/`);
    lines.push(NESTED_MARKER, ...[...this.nested].sort().map((rel) => `/${escapePattern(rel)}/`));
    await writeFile(path.join(this.gitDir, 'info', 'exclude'), `${lines.join('\n')}\n`);
  }

  private async snapshot(label: string, meta: { runId: string; taskId?: string }, scan?: Scan): Promise<Checkpoint> {
    try {
      await this.addAll();
    } finally {
      if (scan) this.scans.delete(scan);
    }
    // Files a landing overwrote while git was reading the tree go in as they were before it.
    if (scan?.guarded.size) await this.stage(scan.guarded);
    else this.dirty = new Set();
    const tree = (await this.run(['write-tree'])).trim();
    const parent = await this.headCommit();
    const { record, message } = describeCheckpoint(label, meta);
    const commit = (await this.run(['commit-tree', tree, ...(parent ? ['-p', parent] : []), '--no-gpg-sign', '-m', message])).trim();
    await this.run(['update-ref', '--stdin', '-z'], `create ${REF_PREFIX}${record.id}\0${commit}\0update ${HEAD_REF}\0${commit}\0\0`);
    this.head = { commit };
    this.base = true;
    return { ...record, commit };
  }

  /** A checkpoint from the newest one and the given files, in one fast-import (no index, no scan). */
  private async compose(label: string, meta: { runId: string; taskId?: string }, entries: ReadonlyMap<string, FileEntry | null>): Promise<Checkpoint> {
    const parent = await this.headCommit();
    if (!this.base || !parent) {
      throw new CheckpointError('git-failed', 'The full snapshot this checkpoint builds on could not be taken, so this checkpoint was not either; the next full snapshot (run start, or a rollback) starts over.');
    }
    const { record, message } = describeCheckpoint(label, meta);
    const chunks: Buffer[] = [];
    const line = (text: string) => chunks.push(Buffer.from(text, 'utf8'));
    const data = (body: Buffer) => {
      line(`data ${body.length}\n`);
      chunks.push(body);
      line('\n');
    };
    line(`commit ${HEAD_REF}\nmark :1\ncommitter ${AUTHOR.name} <${AUTHOR.email}> ${Math.floor(Date.now() / 1000)} +0000\n`);
    data(Buffer.from(message, 'utf8'));
    line(`from ${parent}\n`);
    for (const [rel, entry] of entries) {
      if (entry) {
        line(`M ${entry.mode} inline ${quoteImportPath(rel)}\n`);
        data(entry.content);
      } else line(`D ${quoteImportPath(rel)}\n`);
    }
    line(`reset ${REF_PREFIX}${record.id}\nfrom :1\n\nget-mark :1\ndone\n`);
    const commit = (await this.run(['fast-import', '--quiet', '--done', '--force'], Buffer.concat(chunks))).trim();
    if (!/^[0-9a-f]{40,64}$/.test(commit)) throw new CheckpointError('git-failed', `Checkpoint command "git fast-import" answered "${commit.slice(0, 200)}" instead of a commit id in ${this.gitDir}.`);
    this.head = { commit };
    return { ...record, commit };
  }

  /** Puts files into the shadow index as given (content, or absent), for a snapshot being taken. */
  private async stage(entries: ReadonlyMap<string, FileEntry | null>): Promise<void> {
    const lines: string[] = [];
    for (const [rel, entry] of entries) {
      if (!entry) {
        lines.push(`0 ${'0'.repeat(40)}\t${rel}\0`);
        continue;
      }
      const blob = (await this.run(['hash-object', '-w', '--stdin'], entry.content)).trim();
      lines.push(`${entry.mode} ${blob}\t${rel}\0`);
    }
    await this.run(['update-index', '-z', '--index-info'], lines.join(''));
  }

  /** The files' content and mode now (null: absent); undefined when one is not a plain file. */
  private async readEntries(paths: readonly string[]): Promise<Map<string, FileEntry | null> | undefined> {
    const entries = new Map<string, FileEntry | null>();
    for (const rel of paths) {
      const abs = this.abs(rel);
      let stats;
      try {
        stats = await lstat(abs);
      } catch (error) {
        if (isMissing(error) || (error as NodeJS.ErrnoException).code === 'ENOTDIR') {
          entries.set(rel, null);
          continue;
        }
        throw error;
      }
      if (!stats.isFile()) return undefined;
      entries.set(rel, { mode: stats.mode & 0o111 ? '100755' : '100644', content: await readFile(abs) });
    }
    return entries;
  }

  /** Whether a full snapshot would take the file: not excluded, not in a nested repository. */
  private checkpointable(rel: string): boolean {
    const segments = rel.split('/');
    if (segments.some((segment) => FIXED_EXCLUDES.includes(segment))) return false;
    const under = (folder: string) => rel === folder || rel.startsWith(`${folder}/`);
    if (this.storageRel && under(this.storageRel)) return false;
    return ![...this.nested].some(under);
  }

  private async headCommit(): Promise<string | undefined> {
    this.head ??= { commit: await this.resolveRef(HEAD_REF) };
    return this.head.commit;
  }

  /**
   * Brings the shadow index in line with the work tree, leaving out nested repositories and files
   * the workspace ignores now (ignore rules do not apply to files already in an index).
   */
  private async addAll(): Promise<void> {
    await this.run(['add', '--all', '--', '.']);
    // git adds a folder holding its own repository as a gitlink (a bare commit id, no content):
    // exclude it instead, so a restore never confuses it with files.
    const gitlinks = (await this.run(['ls-files', '--stage', '-z']))
      .split('\0')
      .filter((entry) => entry.startsWith('160000 '))
      .map((entry) => entry.slice(entry.indexOf('\t') + 1));
    const ignored = (await this.run(['ls-files', '--cached', '--ignored', '--exclude-standard', '-z'])).split('\0').filter(Boolean);
    const drop = [...gitlinks, ...ignored];
    if (drop.length === 0) return;
    const list = path.join(this.gitDir, `drop-${randomBytes(6).toString('hex')}.paths`);
    await writeFile(list, drop.map((p) => `${p}\0`).join(''));
    try {
      // --cached: only the shadow index changes; -f: a gitlink's "staged content" is no reason to keep it.
      await this.run(['rm', '--cached', '-r', '-q', '-f', '--ignore-unmatch', `--pathspec-from-file=${list}`, '--pathspec-file-nul']);
    } finally {
      await unlink(list).catch(() => undefined);
    }
    if (gitlinks.length) {
      for (const rel of gitlinks) this.nested.add(rel);
      await this.writeExcludes();
    }
  }

  private async readCheckpoints(): Promise<Checkpoint[]> {
    const out = await this.run(['for-each-ref', '--format=%(objectname)%00%(contents)%00', REF_PREFIX]);
    const checkpoints: Checkpoint[] = [];
    for (const record of out.split('\0\n')) {
      const [commit, contents] = record.split('\0');
      if (!commit || contents === undefined) continue;
      const line = contents.split('\n').find((l) => l.startsWith(META_PREFIX));
      if (!line) continue;
      try {
        const meta = JSON.parse(line.slice(META_PREFIX.length)) as Omit<Checkpoint, 'commit'>;
        checkpoints.push({ ...meta, commit: commit.trim() });
      } catch {
        // A ref someone else wrote under our prefix: not one of ours, so not listed.
      }
    }
    return checkpoints.sort((x, y) => x.createdAt.localeCompare(y.createdAt) || x.id.localeCompare(y.id));
  }

  private async find(id: string): Promise<Checkpoint> {
    if (!/^[A-Za-z0-9._-]+$/.test(id)) throw new CheckpointError('not-found', `There is no checkpoint "${id}": ids are like those list() returns.`);
    const checkpoint = (await this.readCheckpoints()).find((c) => c.id === id);
    if (!checkpoint) throw new CheckpointError('not-found', `There is no checkpoint "${id}" in ${this.gitDir}; list the checkpoints to pick one that exists.`);
    return checkpoint;
  }

  private async resolveRef(ref: string): Promise<string | undefined> {
    try {
      return (await this.run(['rev-parse', '--verify', '-q', `${ref}^{commit}`])).trim() || undefined;
    } catch {
      return undefined;
    }
  }

  private async exists(rel: string): Promise<boolean> {
    try {
      await lstat(this.abs(rel));
      return true;
    } catch (error) {
      if (isMissing(error)) return false;
      throw error;
    }
  }

  /** Removes a file created since the checkpoint, then the folders that removal left empty. */
  private async removeFile(rel: string): Promise<void> {
    const abs = this.abs(rel);
    try {
      await unlink(abs);
    } catch (error) {
      if (!isMissing(error)) throw new CheckpointError('git-failed', `Removing ${rel}, created after the checkpoint, failed (${messageOf(error)}); the restore stopped. Check the folder's permissions; the safety checkpoint holds the state before the restore.`, { cause: error });
    }
    for (let dir = path.dirname(abs); dir !== this.root && relativeInside(this.root, dir) !== undefined; dir = path.dirname(dir)) {
      try {
        await rmdir(dir);
      } catch {
        break; // not empty (or not ours to remove): stop climbing
      }
    }
  }

  private abs(rel: string): string {
    const abs = path.join(this.root, ...rel.split('/'));
    const inside = relativeInside(this.root, abs);
    if (inside === undefined || inside === '') throw new CheckpointError('git-failed', `git named the path ${rel}, which is not inside the workspace; nothing was changed there.`);
    return abs;
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async run(args: string[], input?: string | Buffer): Promise<string> {
    try {
      return await runGit(this.git, this.root, args, input);
    } catch (error) {
      const message = messageOf(error);
      if (/ENOENT/.test(message) && /spawn/.test(message)) {
        throw new CheckpointError('git-missing', 'git was not found on the PATH. Install git (2.32 or newer) to use checkpoints.', { cause: error });
      }
      if (/index\.lock|\.lock': File exists/.test(message)) {
        throw new CheckpointError('busy', `Another checkpoint operation is using ${this.gitDir} (${message.trim()}). Wait for it to finish; if no Software Maker is running, delete the .lock file named above.`, { cause: error });
      }
      throw new CheckpointError('git-failed', `Checkpoint command "git ${args[0]}" failed in ${this.gitDir}: ${message.trim()}`, { cause: error });
    }
  }
}

interface FileEntry {
  mode: '100644' | '100755';
  content: Buffer;
}

interface Scan {
  /** Files landings overwrote while the snapshot was under way, as they were before. */
  guarded: Map<string, FileEntry | null>;
}

function describeCheckpoint(label: string, meta: { runId: string; taskId?: string }): { record: Omit<Checkpoint, 'commit'>; message: string } {
  const createdAt = new Date().toISOString();
  const id = `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  const oneLineLabel = label.replace(/\s+/g, ' ').trim() || 'checkpoint';
  const record = { id, label: oneLineLabel, runId: meta.runId, ...(meta.taskId !== undefined ? { taskId: meta.taskId } : {}), createdAt };
  return { record, message: `${oneLineLabel}\n\n${META_PREFIX}${JSON.stringify(record)}\n` };
}

/** A path as fast-import reads it: C-style quoted when it starts with a quote or holds a line break. */
function quoteImportPath(rel: string): string {
  if (!/^"|[\n\\]/.test(rel)) return rel;
  return `"${rel.replace(/[\\"]/g, (c) => `\\${c}`).replace(/\n/g, '\\n')}"`;
}

/** How the shadow repository's git is started: its environment and the settings passed with -c. */
interface GitCommand {
  env: Record<string, string>;
  config: string[];
}

/** Runs git, feeding it `input`; resolves with its output, rejects with what it said on a failure. */
async function runGit(git: GitCommand, cwd: string, args: string[], input?: string | Buffer): Promise<string> {
  // git may exit before reading all of its input (a failure): that is reported by its exit code.
  const { code, signal, stdout, stderr } = await runProgram('git', [...git.config, ...args], { cwd, env: git.env, input });
  const out = stdout.toString('utf8');
  if (code === 0) return out;
  throw new Error(stderr.toString('utf8').trim() || out.trim() || `git exited with ${code ?? signal}`);
}

function parseNameStatus(out: string): { status: string; path: string }[] {
  const parts = out.split('\0');
  const changes: { status: string; path: string }[] = [];
  for (let i = 0; i + 1 < parts.length; i += 2) {
    if (parts[i] === '') break;
    changes.push({ status: parts[i][0], path: parts[i + 1] });
  }
  return changes;
}

/** A path as a gitignore pattern that matches only itself. */
function escapePattern(rel: string): string {
  return rel.replace(/[\\*?[\]!#]/g, (c) => `\\${c}`).replace(/ $/, '\\ ');
}

function unescapePattern(pattern: string): string {
  return pattern.replace(/\\(.)/g, '$1');
}

/** Environment variables the shadow repository's git may see: program lookup, home, temp, locale. */
function isPassedThrough(key: string): boolean {
  const upper = key.toUpperCase();
  return ['PATH', 'HOME', 'USERPROFILE', 'TMPDIR', 'TEMP', 'TMP', 'LANG', 'LANGUAGE', 'SYSTEMROOT', 'COMSPEC', 'PATHEXT'].includes(upper) || upper.startsWith('LC_');
}
