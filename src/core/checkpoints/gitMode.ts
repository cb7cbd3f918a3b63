// Git mode: in a workspace that is a git repository, a run works on its own branch and commits once
// per task. Unlike the shadow checkpoints, this touches the user's repository, on purpose and only
// when the user turned git mode on. What it does and never does:
// - prepareRunBranch creates `software-maker/<goal-slug>-<run>` from HEAD and switches to it; it
//   refuses a tree with uncommitted changes unless the caller says the user allowed it.
// - commitTask commits exactly the files the task changed (`git commit --only -- <files>`): other
//   staged or unstaged changes of the user stay as they were. Never `git add -A`, never a push.
// - The user's git configuration and hooks apply (no --no-verify): a pre-commit hook (lint, format,
//   secret scan) or commit signing is the user's rule for every commit in their repository, and
//   commits made on their behalf must not slip past it. A failing hook is reported with its output,
//   and the task's files are left changed but uncommitted, the index as it was.
// - The environment's GIT_* variables are not passed on (simple-git drops them), so a GIT_DIR or
//   GIT_INDEX_FILE set around the editor cannot redirect the commands to another repository.
import { access, constants, realpath } from 'node:fs/promises';
import * as path from 'node:path';
import { simpleGit, type SimpleGit } from 'simple-git';
import { childEnvironment } from '../secrets';
import { resolveInWorkspace } from '../workspace/paths';
import { messageOf } from '../../shared/wording';
import { UserError } from '../../shared/errors';

export type GitModeErrorCode =
  | 'git-missing'
  | 'not-a-repo'
  | 'no-commits'
  | 'operation-in-progress'
  | 'dirty'
  | 'branch-exists'
  | 'invalid-branch'
  | 'invalid-path'
  | 'hook-failed'
  | 'identity'
  | 'git-failed';

export class GitModeError extends UserError {
  constructor(
    readonly code: GitModeErrorCode,
    message: string,
    /** The paths concerned (e.g. the uncommitted changes of a dirty tree). */
    readonly paths: string[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'GitModeError';
  }
}

export const DEFAULT_BRANCH_PREFIX = 'software-maker/';

/** Our own run state is not a user change: it never makes a tree dirty. */
const OWN_STATE_DIR = '.software-maker';

/** Hooks may run linters and formatters; no output for this long means something waits for a human. */
const HOOK_SILENCE_TIMEOUT_MS = 10 * 60_000;

interface Repo {
  git: SimpleGit;
  /** Top level of the work tree (real path). */
  top: string;
  /** The workspace folder relative to the top level, '' or ending with '/'. */
  prefix: string;
}

async function openRepo(root: string): Promise<Repo> {
  let real: string;
  try {
    real = await realpath(root);
  } catch (error) {
    throw new GitModeError('not-a-repo', `The workspace folder ${root} cannot be opened (${messageOf(error)}).`, [], { cause: error });
  }
  const probe = simpleGit({ baseDir: real });
  let inside: string;
  try {
    inside = (await probe.raw(['rev-parse', '--is-inside-work-tree'])).trim();
  } catch (error) {
    throw classify(error, `${real} is not inside a git repository; git mode needs one. Run "git init" and make a first commit, or turn git mode off.`, 'not-a-repo');
  }
  if (inside !== 'true') throw new GitModeError('not-a-repo', `${real} is not inside a git work tree (a bare repository?); git mode needs a normal checkout.`);
  const top = (await probe.raw(['rev-parse', '--show-toplevel'])).trim();
  const prefix = (await probe.raw(['rev-parse', '--show-prefix'])).trim();
  return { git: simpleGit({ baseDir: top, timeout: { block: HOOK_SILENCE_TIMEOUT_MS } }).env(gitEnvironment()), top, prefix };
}

/**
 * The user's hooks run with this environment: no provider key (core/secrets.ts). simple-git refuses
 * an explicit env naming the variables it guards (GIT_*, editors, pagers, askpass), and drops them
 * from the ambient one; they are dropped here the same way.
 */
function gitEnvironment(): Record<string, string> {
  const guarded = new Set(['editor', 'visual', 'pager', 'prefix', 'ssh_askpass']);
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(childEnvironment())) {
    const lower = name.toLowerCase();
    if (value !== undefined && !lower.startsWith('git_') && !guarded.has(lower)) env[name] = value;
  }
  return env;
}

/** True when the folder is inside a git work tree (its own repository or a parent folder's). */
export async function isRepo(root: string): Promise<boolean> {
  try {
    await openRepo(root);
    return true;
  } catch (error) {
    if (error instanceof GitModeError && error.code === 'not-a-repo') return false;
    throw error;
  }
}

/** The checked-out branch, or undefined for a detached HEAD. */
export async function currentBranch(root: string): Promise<string | undefined> {
  const { git } = await openRepo(root);
  return symbolicHead(git);
}

/**
 * Uncommitted changes as `git status --porcelain` lists them (staged, unstaged, untracked; not
 * ignored files and not Software Maker's own .software-maker folder), paths from the repository top.
 */
export async function uncommittedChanges(root: string): Promise<string[]> {
  const repo = await openRepo(root);
  return statusEntries(repo);
}

/** True when the work tree has uncommitted changes (see uncommittedChanges). */
export async function isDirty(root: string): Promise<boolean> {
  return (await uncommittedChanges(root)).length > 0;
}

export interface PrepareRunBranchOptions {
  root: string;
  runId: string;
  goal: string;
  branchPrefix?: string;
  /** Go ahead although the tree has uncommitted changes (they stay uncommitted; the user was asked). */
  allowDirty?: boolean;
}

export interface RunBranch {
  branch: string;
  /** The commit the branch starts from. */
  base: string;
  /** False when HEAD already was on this run's branch (a resumed run). */
  created: boolean;
}

/** `software-maker/<slug of the goal>-<short run id>`. */
export function runBranchName(goal: string, runId: string, branchPrefix = DEFAULT_BRANCH_PREFIX): string {
  const words = goal
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  let slug = words.slice(0, 40);
  // Cut at a word boundary when the goal is long.
  if (words.length > 40 && slug.includes('-')) slug = slug.slice(0, slug.lastIndexOf('-'));
  const short = runId.replace(/[^A-Za-z0-9]/g, '').slice(-6).toLowerCase() || 'run';
  return `${branchPrefix}${slug || 'run'}-${short}`;
}

/**
 * Creates the run's branch from HEAD and switches to it (the work tree and index are not changed by
 * that). Throws GitModeError: 'dirty' (uncommitted changes and no allowDirty), 'no-commits',
 * 'operation-in-progress', 'branch-exists' (the branch exists but is not checked out), 'not-a-repo'.
 */
export async function prepareRunBranch(options: PrepareRunBranchOptions): Promise<RunBranch> {
  const repo = await openRepo(options.root);
  const { git } = repo;
  const branch = runBranchName(options.goal, options.runId, options.branchPrefix ?? DEFAULT_BRANCH_PREFIX);
  try {
    await git.raw(['check-ref-format', '--branch', branch]);
  } catch (error) {
    throw new GitModeError('invalid-branch', `The branch name ${branch} is not valid in git (${messageOf(error).trim()}); choose another branch prefix.`, [], { cause: error });
  }
  const head = await revParse(git, 'HEAD');
  if (!head) {
    throw new GitModeError('no-commits', `The repository at ${repo.top} has no commit yet, so there is nothing to branch from. Make a first commit, then start the run again.`);
  }
  const inProgress = await operationInProgress(git);
  if (inProgress) {
    throw new GitModeError('operation-in-progress', `A ${inProgress} is in progress in ${repo.top}. Finish or abort it first; a run will not branch off the middle of it.`);
  }

  if (await revParse(git, `refs/heads/${branch}`)) {
    if ((await symbolicHead(git)) === branch) return { branch, base: await branchBase(git, branch, head), created: false };
    throw new GitModeError(
      'branch-exists',
      `The branch ${branch} of this run already exists but is not checked out. Switch to it ("git switch ${branch}") to continue the run there, or delete it to start over.`,
    );
  }
  const changes = await statusEntries(repo);
  if (changes.length && !options.allowDirty) {
    const shown = changes.slice(0, 10).join(', ') + (changes.length > 10 ? `, and ${changes.length - 10} more` : '');
    throw new GitModeError(
      'dirty',
      `The work tree has uncommitted changes (${shown}). Commit or stash them first, or allow the run to start anyway: they would stay uncommitted, and a task that changes one of those files would commit your changes to it too.`,
      changes,
    );
  }
  try {
    await git.raw(['checkout', '-b', branch]);
  } catch (error) {
    throw classify(error, `Creating and switching to the branch ${branch} failed`);
  }
  return { branch, base: head, created: true };
}

export interface CommitTaskOptions {
  root: string;
  taskId: string;
  title: string;
  /** Workspace-relative paths the task changed (both paths of a rename). */
  files: string[];
  /** Extra lines for the commit message body (e.g. the task's summary). */
  body?: string;
  runId?: string;
}

export interface TaskCommit {
  /** The new commit, or undefined when none of the files differs from HEAD (nothing to commit). */
  commit: string | undefined;
  /** Repository paths the commit contains. */
  files: string[];
  /** Files left out: ignored by the repository (never force-added). */
  skipped: { path: string; reason: string }[];
}

/**
 * Commits exactly `files` with the message `<taskId>: <title>` (and body). The user's other staged
 * and unstaged changes are neither committed nor changed. Hooks run. Never pushes.
 */
export async function commitTask(options: CommitTaskOptions): Promise<TaskCommit> {
  const repo = await openRepo(options.root);
  return oneCommitAtATime(repo.top, () => commitInRepo(repo, options));
}

/**
 * Tasks finish in parallel, but the commits of one repository go one after another: each names the
 * commit it made by reading HEAD afterwards, which another task's commit in between would move.
 */
const commitsInFlight = new Map<string, Promise<unknown>>();

function oneCommitAtATime<T>(top: string, work: () => Promise<T>): Promise<T> {
  const result = (commitsInFlight.get(top) ?? Promise.resolve()).then(work);
  const settled = result.catch(() => undefined);
  commitsInFlight.set(top, settled);
  void settled.then(() => {
    if (commitsInFlight.get(top) === settled) commitsInFlight.delete(top);
  });
  return result;
}

async function commitInRepo(repo: Repo, options: CommitTaskOptions): Promise<TaskCommit> {
  const { git } = repo;
  const paths: string[] = [];
  for (const file of options.files) {
    let rel: string;
    try {
      rel = (await resolveInWorkspace(options.root, file)).rel;
    } catch (error) {
      throw new GitModeError('invalid-path', `The task's file ${file} cannot be committed: ${messageOf(error)}`, [file], { cause: error });
    }
    const repoPath = `${repo.prefix}${rel}`;
    if (!paths.includes(repoPath)) paths.push(repoPath);
  }
  if (paths.length === 0) return { commit: undefined, files: [], skipped: [] };

  const pathspecs = paths.map(literal);
  const status = parsePorcelain(await git.raw(['status', '--porcelain=v1', '-z', '--untracked-files=all', '--ignored=traditional', '--', ...pathspecs]));
  const skipped: TaskCommit['skipped'] = [];
  const untracked: string[] = [];
  const toCommit: string[] = [];
  for (const entry of status) {
    if (entry.code === '!!') {
      skipped.push({ path: entry.path, reason: 'The repository ignores this file (.gitignore); it is not committed.' });
    } else {
      if (entry.code === '??') untracked.push(entry.path);
      toCommit.push(entry.path);
      if (entry.from) toCommit.push(entry.from);
    }
  }
  if (toCommit.length === 0) return { commit: undefined, files: [], skipped };

  const subject = `${options.taskId}: ${options.title}`.replace(/\s+/g, ' ').trim();
  const trailers = [options.runId ? `Software-Maker-Run: ${options.runId}` : '', `Software-Maker-Task: ${options.taskId}`].filter(Boolean).join('\n');
  const body = [options.body?.trim(), trailers].filter(Boolean).join('\n\n');

  // New files must be in the index before `commit --only` can take them.
  if (untracked.length) {
    try {
      await git.raw(['add', '--', ...untracked.map(literal)]);
    } catch (error) {
      throw classify(error, 'Adding the task\'s new files to the index failed');
    }
  }
  try {
    await git.raw(['commit', '--only', '--quiet', '-m', subject, '-m', body, '--', ...[...new Set(toCommit)].map(literal)]);
  } catch (error) {
    // Leave the index as it was: the new files go back to untracked.
    if (untracked.length) await git.raw(['reset', '--quiet', '--', ...untracked.map(literal)]).catch(() => undefined);
    const what = `Committing the files of task ${options.taskId} failed; they are left changed but uncommitted`;
    const classified = classify(error, what);
    if (classified.code !== 'git-failed') throw classified;
    // git says nothing of its own when a hook refuses: the hook's output is all there is.
    const hooks = await commitHooks(git).catch(() => []);
    if (hooks.length) {
      throw new GitModeError(
        'hook-failed',
        `${what}: the repository's ${hooks.join('/')} hook refused the commit. Its output:\n${messageOf(error).trim() || '(none)'}\nFix what it reports (or commit by hand), then retry.`,
        toCommit,
        { cause: error },
      );
    }
    throw classified;
  }
  const commit = (await git.raw(['rev-parse', 'HEAD'])).trim();
  const files = (await git.raw(['diff-tree', '--root', '--no-commit-id', '--no-renames', '--name-only', '-r', '-z', commit])).split('\0').filter(Boolean);
  return { commit, files, skipped };
}

// ---------------------------------------------------------------------------------------------

function literal(repoPath: string): string {
  // Paths are file names, never patterns; `top` because they are relative to the repository top.
  return `:(top,literal)${repoPath}`;
}

async function revParse(git: SimpleGit, ref: string): Promise<string | undefined> {
  try {
    return (await git.raw(['rev-parse', '--verify', '-q', `${ref}^{commit}`])).trim() || undefined;
  } catch {
    return undefined;
  }
}

async function symbolicHead(git: SimpleGit): Promise<string | undefined> {
  try {
    return (await git.raw(['symbolic-ref', '--short', '-q', 'HEAD'])).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** The commit a branch was created from (its reflog's first entry), else `fallback`. */
async function branchBase(git: SimpleGit, branch: string, fallback: string): Promise<string> {
  try {
    const entries = (await git.raw(['reflog', 'show', '--format=%H', `refs/heads/${branch}`, '--'])).trim().split('\n').filter(Boolean);
    return entries.at(-1) ?? fallback;
  } catch {
    return fallback;
  }
}

async function operationInProgress(git: SimpleGit): Promise<string | undefined> {
  const markers: [string, string][] = [
    ['MERGE_HEAD', 'merge'],
    ['CHERRY_PICK_HEAD', 'cherry-pick'],
    ['REVERT_HEAD', 'revert'],
    ['rebase-merge', 'rebase'],
    ['rebase-apply', 'rebase or am'],
    ['BISECT_LOG', 'bisect'],
  ];
  for (const [marker, name] of markers) {
    if (await gitPathExists(git, marker)) return name;
  }
  return undefined;
}

/** Whether a path inside the repository's git folder exists (`git rev-parse --git-path`, so worktrees and core.hooksPath count). */
async function gitPathExists(git: SimpleGit, name: string, mode = constants.F_OK): Promise<boolean> {
  const top = (await git.raw(['rev-parse', '--show-toplevel'])).trim();
  const gitPath = (await git.raw(['rev-parse', '--git-path', name])).trim();
  try {
    await access(path.resolve(top, gitPath), mode);
    return true;
  } catch {
    return false;
  }
}

/** The commit hooks the repository would run (executable pre-commit, prepare-commit-msg, commit-msg). */
async function commitHooks(git: SimpleGit): Promise<string[]> {
  const hooks: string[] = [];
  for (const hook of ['pre-commit', 'prepare-commit-msg', 'commit-msg']) {
    if (await gitPathExists(git, `hooks/${hook}`, constants.X_OK)) hooks.push(hook);
  }
  return hooks;
}

async function statusEntries(repo: Repo): Promise<string[]> {
  const out = await repo.git.raw(['status', '--porcelain=v1', '-z', '--untracked-files=normal']);
  const own = `${repo.prefix}${OWN_STATE_DIR}`;
  return parsePorcelain(out)
    .filter((entry) => entry.path !== own && !entry.path.startsWith(`${own}/`))
    .map((entry) => `${entry.code} ${entry.from ? `${entry.from} -> ` : ''}${entry.path}`);
}

interface StatusEntry {
  code: string;
  path: string;
  /** The source of a rename or copy. */
  from?: string;
}

function parsePorcelain(out: string): StatusEntry[] {
  const parts = out.split('\0');
  const entries: StatusEntry[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if (part.length < 4) continue;
    const code = part.slice(0, 2);
    const entry: StatusEntry = { code, path: part.slice(3) };
    // With -z a rename or copy is followed by its source as a field of its own.
    if (code[0] === 'R' || code[0] === 'C' || code[1] === 'R' || code[1] === 'C') entry.from = parts[++i];
    entries.push(entry);
  }
  return entries;
}

function classify(error: unknown, what: string, fallback: GitModeErrorCode = 'git-failed'): GitModeError {
  const message = messageOf(error).trim();
  if (/spawn git ENOENT|ENOENT.*spawn/.test(message)) {
    return new GitModeError('git-missing', 'git was not found on the PATH. Install git to use git mode, or turn git mode off.', [], { cause: error });
  }
  if (/Please tell me who you are|empty ident name|unable to auto-detect email/.test(message)) {
    return new GitModeError('identity', `${what}: git does not know who you are. Set it with "git config user.name" and "git config user.email", then retry.\n${message}`, [], { cause: error });
  }
  return new GitModeError(fallback, `${what}: ${message}`, [], { cause: error });
}
