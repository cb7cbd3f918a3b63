// Every path an agent names goes through resolveInWorkspace before anything reads or writes it:
// this is the one place that keeps edits inside the workspace folder.
import { lstat, realpath } from 'node:fs/promises';
import * as path from 'node:path';
import { UserError } from '../../shared/errors';
import { messageOf } from '../../shared/wording';

export type WorkspaceErrorCode = 'outside' | 'symlink-escape' | 'forbidden' | 'binary' | 'too-large' | 'invalid';

export class WorkspaceError extends UserError {
  constructor(
    readonly code: WorkspaceErrorCode,
    message: string,
    /** The path as it was requested, when there is one. */
    readonly requestedPath?: string,
  ) {
    super(message);
    this.name = 'WorkspaceError';
  }
}

/** Larger files are neither read for agents nor searched: they are data, not code to edit. */
export const MAX_FILE_BYTES = 1_000_000;

/** Folders no agent may read or write, at any depth: git internals and our own run state. */
const FORBIDDEN_SEGMENTS = new Set(['.git', '.software-maker']);

export interface ResolvedPath {
  /** Absolute path under the real (symlink-resolved) workspace root. */
  abs: string;
  /** Workspace-relative, forward slashes, normalised (no `.`/`..` segments). */
  rel: string;
}

/**
 * Resolves a workspace-relative (or absolute, inside the workspace) path and checks that it stays
 * inside the workspace: no `..` escape, no symlink leading out, nothing under `.git` or `.software-maker`.
 * The file itself need not exist. Throws WorkspaceError.
 */
export async function resolveInWorkspace(root: string, relPath: string): Promise<ResolvedPath> {
  if (typeof relPath !== 'string' || relPath.trim() === '') {
    throw new WorkspaceError('invalid', 'The path is empty: give a file path relative to the workspace folder, e.g. "src/index.ts".', relPath);
  }
  if (relPath.includes('\0')) {
    throw new WorkspaceError('invalid', `The path ${JSON.stringify(relPath)} contains a NUL byte: give a plain file path relative to the workspace folder.`, relPath);
  }

  let realRoot: string;
  try {
    realRoot = await realpath(root);
  } catch (error) {
    throw new WorkspaceError('invalid', `The workspace folder ${root} cannot be opened (${messageOf(error)}); open an existing folder.`, relPath);
  }

  // Agents on any platform may send backslashes; treat them as separators so `..\x` cannot slip past.
  const slashed = relPath.replace(/\\/g, '/');
  let rel: string;
  if (path.isAbsolute(slashed) || path.posix.isAbsolute(slashed)) {
    const abs = path.resolve(slashed);
    const inside = relativeInside(realRoot, abs) ?? relativeInside(path.resolve(root), abs);
    if (inside === undefined) {
      throw new WorkspaceError('outside', `The path ${relPath} is outside the workspace folder ${realRoot}; only files inside it can be read or edited.`, relPath);
    }
    rel = inside;
  } else {
    const normalised = path.posix.normalize(slashed);
    if (normalised === '..' || normalised.startsWith('../')) {
      throw new WorkspaceError('outside', `The path ${relPath} leads outside the workspace folder (through ".."); use a path inside the workspace.`, relPath);
    }
    rel = normalised;
  }
  rel = rel.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
  if (rel === '' || rel === '.') {
    throw new WorkspaceError('invalid', `The path ${relPath} names the workspace folder itself; give a file path inside it.`, relPath);
  }
  assertAllowedSegments(rel, relPath);

  const abs = path.join(realRoot, ...rel.split('/'));
  const realAbs = await realpathOfDeepestAncestor(abs, relPath);
  const realRel = relativeInside(realRoot, realAbs);
  if (realRel === undefined) {
    throw new WorkspaceError('symlink-escape', `The path ${relPath} goes through a symbolic link that points outside the workspace folder; only files inside the workspace can be read or edited.`, relPath);
  }
  // A link inside the workspace may still point into .git.
  if (realRel !== '') assertAllowedSegments(realRel, relPath);
  return { abs, rel };
}

/**
 * True for content that is not text we can edit: a NUL byte in the first 8000 bytes (what git checks),
 * or bytes there that are not valid UTF-8 (an edit could not write them back unchanged).
 */
export function isBinary(buf: Buffer): boolean {
  const head = buf.subarray(0, 8000);
  if (head.includes(0)) return true;
  try {
    // stream: true so a multi-byte character cut at byte 8000 is not mistaken for invalid UTF-8.
    new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: true });
    return false;
  } catch {
    return true;
  }
}

/** `abs` relative to `base` with forward slashes, or undefined when it is not inside `base` ('' for base itself). */
export function relativeInside(base: string, abs: string): string | undefined {
  const rel = path.relative(base, abs);
  if (rel === '') return '';
  if (path.isAbsolute(rel) || rel === '..' || rel.startsWith(`..${path.sep}`)) return undefined;
  return rel.split(path.sep).join('/');
}

function assertAllowedSegments(rel: string, requested: string): void {
  for (const segment of rel.split('/')) {
    // Case-insensitive because .GIT is the same folder on macOS and Windows.
    if (FORBIDDEN_SEGMENTS.has(segment.toLowerCase())) {
      throw new WorkspaceError('forbidden', `The path ${requested} is inside ${segment}/, which agents may not read or edit; choose a file elsewhere in the workspace.`, requested);
    }
  }
}

/** Real path of `abs` when it exists, else the real path of its deepest existing ancestor joined with the rest. */
async function realpathOfDeepestAncestor(abs: string, requested: string): Promise<string> {
  const rest: string[] = [];
  let current = abs;
  for (;;) {
    try {
      const real = await realpath(current);
      return rest.length === 0 ? real : path.join(real, ...rest.reverse());
    } catch (error) {
      if (!isMissing(error)) throw new WorkspaceError('invalid', `The path ${requested} cannot be checked (${messageOf(error)}).`, requested);
    }
    // realpath fails on a dangling symlink, but a write would follow it to wherever it points.
    if (await isSymlink(current)) {
      throw new WorkspaceError('symlink-escape', `The path ${requested} goes through a symbolic link whose target does not exist; it cannot be checked to stay inside the workspace, so it is refused.`, requested);
    }
    const parent = path.dirname(current);
    if (parent === current) return abs;
    rest.push(path.basename(current));
    current = parent;
  }
}

async function isSymlink(p: string): Promise<boolean> {
  try {
    return (await lstat(p)).isSymbolicLink();
  } catch {
    return false;
  }
}

export function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

