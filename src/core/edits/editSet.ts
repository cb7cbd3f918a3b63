// The edits one agent turn proposes, staged in memory. Each file keeps the text it was computed
// against (and its hash), so applying later can tell a user's change from ours. Deletes and renames
// are staged the same way: a delete remembers the text it deletes, a rename the text of its source.
import type { FileChange } from '../../shared/model';
import type { FileWrite, Workspace } from '../ports';
import { MAX_FILE_BYTES, resolveInWorkspace } from '../workspace/paths';
import { inFileScope } from './glob';
import { applyHunks, lineDelta, sha256, type Hunk } from './hunks';

interface StagedBase {
  /** Where the file ends up (for a delete: the file deleted). */
  path: string;
  /** The text the proposal was made against ('' for a new file; the source's text for a rename). */
  before: string;
  /** The proposed text ('' for a delete). */
  after: string;
  /** sha256 of `before`. */
  baseHash: string;
}

export type StagedFile =
  | (StagedBase & { kind: 'create' | 'modify' })
  | (StagedBase & { kind: 'delete' })
  | (StagedBase & { kind: 'rename'; from: string });

export type EditRequest = { path: string; hunks: Hunk[] } | { path: string; content: string };

export class EditRejected extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EditRejected';
  }
}

export class EditSet {
  /** Keyed by the path each file ends up at (the target for a rename, the deleted path for a delete). */
  private readonly files = new Map<string, StagedFile>();
  /**
   * The tail of the operations in flight. A model reply with several tool calls runs them at once,
   * and each operation reads, awaits the disk and then writes the map: two of them interleaved would
   * compute from the same staged text and one would be lost. One queue for the whole set (not one
   * per path), because a rename touches two paths.
   */
  private tail: Promise<unknown> = Promise.resolve();

  /**
   * `scope` is the task's planned file scope (paths, folders or globs; empty means anywhere). Tasks
   * run in parallel only on disjoint scopes, so a change outside it is refused back to the agent.
   */
  constructor(
    private readonly workspace: Workspace,
    private readonly scope: readonly string[] = [],
    /** Why a text must never be proposed or rewritten (it holds an API key), or undefined. */
    private readonly refuseText: (text: string) => string | undefined = () => undefined,
  ) {}

  /**
   * Stages one proposal on top of what this turn already staged for the file. Throws EditRejected
   * with a message for the agent when the path is not allowed or a hunk does not apply.
   */
  stage(request: EditRequest): Promise<{ file: StagedFile; notes: string[] }> {
    return this.inTurn(() => this.stageNow(request));
  }

  /**
   * Stages the deletion of a file. A file this turn created is simply un-staged; a file this turn
   * modified or renamed is deleted as it was on disk (its base text is what the delete checks).
   */
  stageDelete(requestedPath: string): Promise<{ file?: StagedFile; notes: string[] }> {
    return this.inTurn(() => this.stageDeleteNow(requestedPath));
  }

  /**
   * Stages moving `from` to `to`, keeping the text staged for `from` in this turn. The target must
   * not exist (on disk or staged); later hunks for the file go to the new path.
   */
  stageRename(fromPath: string, toPath: string): Promise<{ file: StagedFile; notes: string[] }> {
    return this.inTurn(() => this.stageRenameNow(fromPath, toPath));
  }

  /** Runs `operation` after every operation started before it has settled, whatever their outcome. */
  private inTurn<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.tail.then(operation);
    this.tail = result.catch(() => undefined);
    return result;
  }

  private async stageNow(request: EditRequest): Promise<{ file: StagedFile; notes: string[] }> {
    const rel = await this.resolve(request.path);
    this.refuseMovedAway(rel);
    let staged = this.files.get(rel);
    if (staged?.kind === 'delete') {
      throw new EditRejected(
        `${rel} is staged for deletion in this turn, so it cannot be edited or re-created in the same turn (that would rewrite an existing file blindly). To change the file rather than delete it, ask for a new turn and propose hunks for it.`,
      );
    }
    if (!staged) {
      const current = await this.read(rel);
      staged = current === undefined
        ? { path: rel, kind: 'create', before: '', after: '', baseHash: sha256('') }
        : { path: rel, kind: 'modify', before: current, after: current, baseHash: sha256(current) };
    }
    let next: string;
    let notes: string[] = [];
    if ('content' in request) {
      if (staged.kind !== 'create') {
        throw new EditRejected(`${rel} already exists. Give search/replace hunks for existing files; whole content is only for new files.`);
      }
      next = request.content;
    } else {
      if (staged.kind === 'create' && staged.after === '') {
        throw new EditRejected(`${rel} does not exist. To create it, give its whole content instead of hunks.`);
      }
      const result = applyHunks(staged.after, request.hunks);
      if (!result.ok) throw new EditRejected(`${rel}: ${result.error}`);
      next = result.text;
      notes = result.notes;
    }
    checkText(rel, next);
    const refused = this.refuseText(next);
    if (refused) throw new EditRejected(`${rel}: the proposed text ${refused}. Propose text without it (for a key, refer to its environment variable by name).`);
    const updated = { ...staged, after: next };
    this.files.set(rel, updated);
    return { file: updated, notes };
  }

  private async stageDeleteNow(requestedPath: string): Promise<{ file?: StagedFile; notes: string[] }> {
    const rel = await this.resolve(requestedPath);
    this.refuseMovedAway(rel);
    const staged = this.files.get(rel);
    if (staged?.kind === 'delete') return { file: staged, notes: [`${rel} was already staged for deletion.`] };
    if (staged?.kind === 'create') {
      this.files.delete(rel);
      return { notes: [`${rel} was a new file of this turn; it is no longer proposed, so nothing is deleted.`] };
    }
    if (staged?.kind === 'rename') {
      // Deleting the target of a rename deletes the source as it is on disk.
      this.files.delete(rel);
      const file: StagedFile = { path: staged.from, kind: 'delete', before: staged.before, after: '', baseHash: staged.baseHash };
      this.files.set(staged.from, file);
      return { file, notes: [`${rel} was renamed from ${staged.from} in this turn; ${staged.from} is deleted instead.`] };
    }
    const before = staged ? staged.before : await this.read(rel);
    if (before === undefined) throw new EditRejected(`${rel} does not exist, so it cannot be deleted. Use list_files to see what is there.`);
    const notes = staged && staged.after !== staged.before ? [`The changes staged for ${rel} in this turn are dropped: it is deleted.`] : [];
    const file: StagedFile = { path: rel, kind: 'delete', before, after: '', baseHash: sha256(before) };
    this.files.set(rel, file);
    return { file, notes };
  }

  private async stageRenameNow(fromPath: string, toPath: string): Promise<{ file: StagedFile; notes: string[] }> {
    const from = await this.resolve(fromPath);
    const to = await this.resolve(toPath);
    if (from === to) throw new EditRejected(`${from} cannot be renamed to itself: give a different target path.`);
    this.refuseMovedAway(from);
    const staged = this.files.get(from);
    if (staged?.kind === 'rename' && staged.from === to) {
      // Renamed back where it came from: what is left is the change of its text, if any.
      const file: StagedFile = { path: to, kind: 'modify', before: staged.before, after: staged.after, baseHash: staged.baseHash };
      this.files.delete(from);
      this.files.set(to, file);
      return { file, notes: [`${from} was renamed from ${to} in this turn; renaming it back cancels the rename.`] };
    }
    if (this.files.has(to) || [...this.files.values()].some((f) => f.kind === 'rename' && f.from === to)) {
      throw new EditRejected(`${to} already has a change staged in this turn, so nothing can be renamed onto it; choose another target path.`);
    }
    let target: string | undefined;
    try {
      target = await this.workspace.readText(to);
    } catch (error) {
      throw new EditRejected(`${to} exists and cannot be replaced by a rename (${(error as Error).message}); choose another target path.`);
    }
    if (target !== undefined) throw new EditRejected(`${to} already exists; a rename never overwrites a file. Choose another target path, or delete ${to} first if it is really meant to go.`);

    let file: StagedFile;
    if (staged?.kind === 'delete') {
      throw new EditRejected(`${from} is staged for deletion in this turn, so it cannot be renamed.`);
    } else if (staged?.kind === 'create') {
      file = { ...staged, path: to };
    } else if (staged?.kind === 'rename') {
      file = { ...staged, path: to };
    } else if (staged) {
      file = { path: to, kind: 'rename', from, before: staged.before, after: staged.after, baseHash: staged.baseHash };
    } else {
      const before = await this.read(from);
      if (before === undefined) throw new EditRejected(`${from} does not exist, so it cannot be renamed. Use list_files to see what is there.`);
      file = { path: to, kind: 'rename', from, before, after: before, baseHash: sha256(before) };
    }
    this.files.delete(from);
    this.files.set(to, file);
    const notes = file.kind === 'rename' && file.from !== from ? [`${from} was itself renamed from ${file.from} in this turn; ${file.from} now moves to ${to}.`] : [];
    return { file, notes };
  }

  /** Files whose text or place actually changes. */
  changed(): StagedFile[] {
    return [...this.files.values()].filter((file) => file.kind !== 'modify' || file.after !== file.before);
  }

  get size(): number {
    return this.changed().length;
  }

  /** The workspace-relative path, checked to be allowed and inside the task's scope. */
  private async resolve(requestedPath: string): Promise<string> {
    let rel: string;
    try {
      rel = (await resolveInWorkspace(this.workspace.root, requestedPath)).rel;
    } catch (error) {
      throw new EditRejected((error as Error).message);
    }
    if (!inFileScope(rel, this.scope)) {
      throw new EditRejected(
        `${rel} is outside this task's file scope (${this.scope.join(', ')}). Tasks are scheduled to run in parallel only on disjoint scopes, so a change there could collide with another task's work. Change only files in the scope; if the task cannot be done without ${rel}, say so in your finish summary.`,
      );
    }
    return rel;
  }

  private async read(rel: string): Promise<string | undefined> {
    let text: string | undefined;
    try {
      text = await this.workspace.readText(rel);
    } catch (error) {
      throw new EditRejected((error as Error).message);
    }
    // Its text would be stored in the proposal (and rewritten from there): leave such a file to the user.
    const refused = text === undefined ? undefined : this.refuseText(text);
    if (refused) throw new EditRejected(`${rel} ${refused}, so agents do not change it. Leave it as it is; the user can change it by hand.`);
    return text;
  }

  /** A path this turn renamed away from is gone as far as the agent's later proposals go. */
  private refuseMovedAway(rel: string): void {
    if (this.files.has(rel)) return;
    const renamed = [...this.files.values()].find((file) => file.kind === 'rename' && file.from === rel);
    if (renamed) throw new EditRejected(`${rel} is renamed to ${renamed.path} in this turn; propose changes to ${renamed.path} instead.`);
  }
}

function checkText(rel: string, next: string): void {
  if (Buffer.byteLength(next) > MAX_FILE_BYTES) {
    throw new EditRejected(`${rel} would be ${Buffer.byteLength(next)} bytes, over the ${MAX_FILE_BYTES}-byte limit for edited files.`);
  }
  if (next.includes('\u0000')) throw new EditRejected(`${rel}: the new text contains NUL bytes; binary files cannot be edited.`);
}

export function describeChange(file: StagedFile): FileChange {
  const delta = lineDelta(file.before, file.after);
  const change: FileChange = { path: file.path, kind: file.kind, baseHash: file.baseHash, newHash: sha256(file.after), added: delta.added, removed: delta.removed };
  if (file.kind === 'rename') change.from = file.from;
  return change;
}

export function toWrite(file: StagedFile): FileWrite {
  switch (file.kind) {
    case 'delete':
      return { path: file.path, kind: 'delete', baseHash: file.baseHash, newText: '', newHash: sha256('') };
    case 'rename':
      return { path: file.path, kind: 'rename', from: file.from, baseHash: file.baseHash, newText: file.after, newHash: sha256(file.after) };
    default:
      return { path: file.path, kind: file.kind, baseHash: file.baseHash, newText: file.after, newHash: sha256(file.after) };
  }
}
