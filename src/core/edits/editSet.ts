// The edits one agent turn proposes, staged in memory. Each file keeps the text it was computed
// against (and its hash), so applying later can tell a user's change from ours.
import type { FileChange } from '../../shared/model';
import type { FileWrite, Workspace } from '../ports';
import { MAX_FILE_BYTES, resolveInWorkspace } from '../workspace/paths';
import { applyHunks, lineDelta, sha256, type Hunk } from './hunks';

export interface StagedFile {
  path: string;
  kind: 'create' | 'modify';
  before: string;
  after: string;
  baseHash: string;
}

export type EditRequest = { path: string; hunks: Hunk[] } | { path: string; content: string };

export class EditRejected extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EditRejected';
  }
}

export class EditSet {
  private readonly files = new Map<string, StagedFile>();

  constructor(private readonly workspace: Workspace) {}

  /**
   * Stages one proposal on top of what this turn already staged for the file. Throws EditRejected
   * with a message for the agent when the path is not allowed or a hunk does not apply.
   */
  async stage(request: EditRequest): Promise<{ file: StagedFile; notes: string[] }> {
    let rel: string;
    try {
      rel = (await resolveInWorkspace(this.workspace.root, request.path)).rel;
    } catch (error) {
      throw new EditRejected((error as Error).message);
    }
    let staged = this.files.get(rel);
    if (!staged) {
      let current: string | undefined;
      try {
        current = await this.workspace.readText(rel);
      } catch (error) {
        throw new EditRejected((error as Error).message);
      }
      staged = current === undefined
        ? { path: rel, kind: 'create', before: '', after: '', baseHash: sha256('') }
        : { path: rel, kind: 'modify', before: current, after: current, baseHash: sha256(current) };
    }
    let next: string;
    let notes: string[] = [];
    if ('content' in request) {
      if (staged.kind === 'modify') {
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
    if (Buffer.byteLength(next) > MAX_FILE_BYTES) {
      throw new EditRejected(`${rel} would be ${Buffer.byteLength(next)} bytes, over the ${MAX_FILE_BYTES}-byte limit for edited files.`);
    }
    if (next.includes('\u0000')) throw new EditRejected(`${rel}: the new text contains NUL bytes; binary files cannot be edited.`);
    const updated = { ...staged, after: next };
    this.files.set(rel, updated);
    return { file: updated, notes };
  }

  /** Files whose text actually changes. */
  changed(): StagedFile[] {
    return [...this.files.values()].filter((file) => file.after !== file.before || file.kind === 'create');
  }

  get size(): number {
    return this.changed().length;
  }
}

export function describeChange(file: StagedFile): FileChange {
  const delta = lineDelta(file.before, file.after);
  return { path: file.path, kind: file.kind, baseHash: file.baseHash, newHash: sha256(file.after), added: delta.added, removed: delta.removed };
}

export function toWrite(file: StagedFile): FileWrite {
  return { path: file.path, kind: file.kind, baseHash: file.baseHash, newText: file.after, newHash: sha256(file.after) };
}
