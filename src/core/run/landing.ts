// Landing a task's edits: the review decision (automatic by rule, or the user's, whole files or
// hunk by hunk), a checkpoint, the write, a rebase when the user changed a file on disk meanwhile,
// and in git mode the run's branch and one commit per finished task.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isTerminalRun } from '../../shared/lifecycle';
import type { Role } from '../../shared/model';
import type { RunState, TaskState } from '../../shared/runState';
import type { Checkpoint, ShadowCheckpoints } from '../checkpoints/shadowGit';
import { commitTask, GitModeError, isRepo, prepareRunBranch, type RunBranch } from '../checkpoints/gitMode';
import type { StagedFile } from '../edits/editSet';
import { changesWhatRuns } from '../edits/executionRisk';
import { matchesAnyGlob } from '../edits/glob';
import { sha256 } from '../edits/hunks';
import { diffHunks, rebaseChange } from '../edits/review';
import type { FileWrite, WriteOutcome } from '../ports';
import type { RunContext } from './context';

/** What an agent turn proposed, as stored beside the log (proposals/<id>.json). */
export interface ProposalArtifact {
  proposalId: string;
  taskId: string;
  files: StagedFile[];
}

/** Proposal ids start with the task and attempt that made them: `t1-a2-<seq>`. */
export function proposalIdPrefix(taskId: string, attempt: number): string {
  return `${taskId}-a${attempt}-`;
}

export async function readProposal(runDir: string, proposalId: string): Promise<ProposalArtifact> {
  return JSON.parse(await readFile(join(runDir, 'proposals', `${proposalId}.json`), 'utf8')) as ProposalArtifact;
}

export class EditLanding {
  private warnedNoCheckpoints = false;
  /** Checkpoints of landings that went on while a full snapshot was still scanning: recorded when it is done. */
  private readonly deferred = new Set<Promise<void>>();
  /** Git mode is on and the run's branch is checked out. */
  private gitActive = false;

  constructor(
    private readonly context: RunContext,
    private readonly checkpoints: () => Promise<ShadowCheckpoints> | undefined,
  ) {}

  /**
   * The review decision: automatic when the settings say so, else the user's (whole files or hunk by
   * hunk). A file that changes what will be executed is never approved automatically unless
   * autoApproveCommandChanges says so: it goes to the user with the reasons, or, when nobody can be
   * asked, it is rejected and the reason goes back to the agent.
   */
  async decide(task: TaskState, artifact: ProposalArtifact): Promise<void> {
    const { proposalId } = artifact;
    const all = artifact.files.map((file) => file.path);
    const context = { testCommand: this.context.state.baselineTest?.command ?? this.context.state.config.testCommand };
    const risks = new Map(artifact.files.map((file) => [file.path, changesWhatRuns(file, context)] as const).filter(([, reasons]) => reasons.length > 0));
    const automatic = this.autoApproves(task, artifact);
    if (automatic && (risks.size === 0 || this.context.state.config.autoApproveCommandChanges)) {
      this.context.emit({ type: 'edit.decided', proposalId, taskId: task.id, accepted: all, rejected: [], by: 'auto' });
      return;
    }
    const approvedByRule = automatic ? all.filter((path) => !risks.has(path)) : [];
    const toReview = artifact.files.filter((file) => !approvedByRule.includes(file.path));
    const reviewer = this.context.ports.reviewer;
    if (!reviewer) {
      const reason = toReview.map((file) => unreviewedReason(file.path, risks.get(file.path))).join(' ');
      const rejected = toReview.map((file) => file.path);
      this.context.emit({ type: 'edit.decided', proposalId, taskId: task.id, accepted: approvedByRule, rejected, reason, by: 'auto' });
      return;
    }
    const decision = await reviewer.review(
      {
        runId: this.context.state.id,
        taskId: task.id,
        taskTitle: task.title,
        proposalId,
        files: toReview.map((file) => ({
          path: file.path,
          kind: file.kind,
          from: file.kind === 'rename' ? file.from : undefined,
          before: file.before,
          after: file.after,
          ...(risks.has(file.path) ? { changesWhatRuns: risks.get(file.path) } : {}),
        })),
      },
      this.context.signal,
    );
    this.context.signal.throwIfAborted();
    const accepted: string[] = [];
    const partial: Record<string, { accepted: number[]; total: number }> = {};
    for (const file of artifact.files) {
      if (approvedByRule.includes(file.path)) {
        accepted.push(file.path);
        continue;
      }
      if (!decision.accepted.includes(file.path)) continue;
      const chosen = decision.partial?.[file.path];
      if (!chosen || file.kind !== 'modify') {
        accepted.push(file.path);
        continue;
      }
      const total = diffHunks(file.before, file.after).length;
      const hunks = [...new Set(chosen)].filter((index) => Number.isInteger(index) && index >= 0 && index < total).sort((a, b) => a - b);
      if (hunks.length === 0) continue;
      accepted.push(file.path);
      if (hunks.length < total) partial[file.path] = { accepted: hunks, total };
    }
    const rejected = all.filter((path) => !accepted.includes(path));
    this.context.emit({
      type: 'edit.decided',
      proposalId,
      taskId: task.id,
      accepted,
      rejected,
      partial: Object.keys(partial).length ? partial : undefined,
      reason: decision.reason,
      by: 'user',
    });
  }

  /** Auto-approval: everything, or the proposing role is listed, or every path matches a glob. */
  private autoApproves(task: TaskState, artifact: ProposalArtifact): boolean {
    const { autoApprove, autoApproveRules } = this.context.state.config;
    if (autoApprove) return true;
    if (!autoApproveRules) return false;
    const role: Role = task.attempts > 1 ? 'fixer' : task.role;
    if (autoApproveRules.roles?.includes(role)) return true;
    const globs = autoApproveRules.globs ?? [];
    if (!globs.length) return false;
    return artifact.files.every((file) => matchesAnyGlob(file.path, globs) && (file.kind !== 'rename' || matchesAnyGlob(file.from, globs)));
  }

  /**
   * Writes the accepted files. A file the user changed on disk since the proposal is rebased: the
   * accepted hunks are re-applied on the new text when they still match exactly, else it stays a
   * conflict for the agent. A file with unsaved changes in an editor is never rebased onto or saved.
   */
  async applyWithRebase(writes: FileWrite[], baseTexts: ReadonlyMap<string, string>): Promise<{ outcomes: (WriteOutcome & { hash: string })[]; rebased: string[] }> {
    const first = await this.context.ports.applier.apply(writes);
    const outcomes = first.map((outcome) => ({ ...outcome, hash: writes.find((write) => write.path === outcome.path)?.newHash ?? '' }));
    const retries: FileWrite[] = [];
    for (const outcome of first) {
      if (outcome.status !== 'conflict' || outcome.unsaved) continue;
      const write = writes.find((entry) => entry.path === outcome.path);
      if (!write || write.kind !== 'modify') continue;
      const current = await this.context.ports.workspace.readText(write.path).catch(() => undefined);
      const original = baseTexts.get(write.path);
      // Unchanged text (a read-only file, a refused write): nothing to rebase onto.
      if (current === undefined || original === undefined || sha256(current) === write.baseHash) continue;
      const rebase = rebaseChange(original, write.newText, current);
      if (rebase.ok) retries.push({ ...write, baseHash: sha256(current), newText: rebase.text, newHash: sha256(rebase.text) });
    }
    if (!retries.length) return { outcomes, rebased: [] };
    const second = await this.context.ports.applier.apply(retries);
    const rebased: string[] = [];
    for (const outcome of second) {
      const index = outcomes.findIndex((entry) => entry.path === outcome.path);
      const hash = retries.find((write) => write.path === outcome.path)?.newHash ?? '';
      outcomes[index] = { ...outcome, hash };
      if (outcome.status === 'written') rebased.push(outcome.path);
    }
    return { outcomes, rebased };
  }

  /** A full snapshot of the workspace in the shadow repository (run start); never blocks the work if it fails. */
  async checkpoint(label: string, taskId?: string): Promise<void> {
    const store = this.store();
    if (!store) return;
    await this.record(label, taskId, async () => (await store).create(label, { runId: this.context.state.id, taskId }));
  }

  /**
   * The checkpoint before a task's edits land, of the files they write (call it holding the workspace
   * still, then write). Their text is read before the write; the commit (one git process, or a scan
   * when there is nothing to build on) is made after it, off the landing's path, and recorded when
   * done: after the run-start snapshot if that is still being taken. A kill in between loses that
   * one checkpoint, never an edit.
   */
  async checkpointBeforeWrite(label: string, taskId: string, paths: readonly string[]): Promise<void> {
    const store = this.store();
    if (!store) return;
    let taken: { checkpoint: Promise<Checkpoint>; deferred: boolean; scans: boolean };
    try {
      taken = await (await store).beforeWrite(label, { runId: this.context.state.id, taskId }, paths);
    } catch (error) {
      this.context.signal.throwIfAborted();
      this.context.info(`Could not take the checkpoint "${label}": ${(error as Error).message}. The run goes on without it.`, 'warn', taskId);
      return;
    }
    const recorded = this.record(label, taskId, () => taken.checkpoint);
    // A scan must finish before the write (it reads the tree); a commit of what was read need not.
    if (!taken.deferred && taken.scans) return recorded;
    const settled = recorded.catch(() => undefined);
    this.deferred.add(settled);
    void settled.finally(() => this.deferred.delete(settled));
  }

  /**
   * A resumed run: the user may have changed files while it rested, so its next checkpoint scans the
   * tree instead of building on the newest one.
   */
  async resuming(): Promise<void> {
    const store = this.context.state.config.checkpoints ? this.checkpoints() : undefined;
    (await store?.catch(() => undefined))?.forgetBase();
  }

  /** Waits for the checkpoints still being recorded (the run's log must not close before them). */
  async settleCheckpoints(): Promise<void> {
    while (this.deferred.size) await Promise.all([...this.deferred]);
  }

  private store(): Promise<ShadowCheckpoints> | undefined {
    if (!this.context.state.config.checkpoints) return undefined;
    const store = this.checkpoints();
    if (!store) {
      if (!this.warnedNoCheckpoints) this.context.info('Checkpoints are off for this run: the host has no storage folder for them.', 'warn');
      this.warnedNoCheckpoints = true;
    }
    return store;
  }

  private async record(label: string, taskId: string | undefined, take: () => Promise<Checkpoint>): Promise<void> {
    let checkpoint: Checkpoint;
    try {
      checkpoint = await take();
    } catch (error) {
      this.context.signal.throwIfAborted();
      this.context.info(`Could not take the checkpoint "${label}": ${(error as Error).message}. The run goes on without it.`, 'warn', taskId);
      return;
    }
    if (this.context.signal.aborted && isTerminalRun(this.context.state.status)) {
      // Cancelled while the snapshot was being taken: the run has ended, so it can no longer record it.
      this.context.info(`The checkpoint "${label}" (${checkpoint.id}) finished after the run ended; it is kept among the checkpoints but not recorded in this run.`, 'info', taskId);
      return;
    }
    this.context.emit({ type: 'checkpoint.created', checkpointId: checkpoint.id, label, taskId });
  }

  /**
   * Git mode: the run works on a branch of its own. Over uncommitted changes the user is asked
   * first; declined (or no repository) means the run goes on without git mode, never on their branch.
   */
  async prepareGitMode(): Promise<void> {
    if (!this.context.state.config.gitMode) return;
    const root = this.context.ports.workspace.root;
    if (!(await isRepo(root))) {
      this.context.info('Git mode is on, but the workspace is not a git repository: the run goes on without a branch or commits.', 'warn');
      return;
    }
    const options = { root, runId: this.context.state.id, goal: this.context.state.goal };
    let branch: RunBranch;
    try {
      branch = await prepareRunBranch(options);
    } catch (error) {
      if (!(error instanceof GitModeError)) throw error;
      if (error.code !== 'dirty') {
        this.context.info(`Git mode is off for this run: ${error.message}`, 'warn');
        return;
      }
      const question = 'Switch to a new branch for this run although the working tree has uncommitted changes?';
      const detail = `Software Maker would create a branch for this run and commit each task there. Your uncommitted changes (${error.paths.slice(0, 5).join(', ')}${error.paths.length > 5 ? ', …' : ''}) would come along to the new branch, uncommitted.`;
      const yes = (await this.context.ports.confirm?.(question, detail)) ?? false;
      this.context.signal.throwIfAborted();
      if (!yes) {
        this.context.info('Git mode is off for this run: the working tree has uncommitted changes and switching branches was declined. Nothing will be committed.', 'warn');
        return;
      }
      branch = await prepareRunBranch({ ...options, allowDirty: true });
    }
    this.gitActive = true;
    if (this.context.state.gitBranch !== branch.branch) this.context.emit({ type: 'git.branch', branch: branch.branch, base: branch.base });
  }

  /** Git mode: one commit per finished task with exactly its files. A refusing hook is reported, not fatal. */
  async commitTask(task: TaskState): Promise<void> {
    if (!this.gitActive) return;
    const files = appliedFiles(this.context.state, task.id);
    if (!files.length) return;
    try {
      const commit = await commitTask({ root: this.context.ports.workspace.root, taskId: task.id, title: task.title, files, runId: this.context.state.id });
      if (commit.commit) this.context.emit({ type: 'git.committed', taskId: task.id, sha: commit.commit, message: `${task.id}: ${task.title}`, files: commit.files });
    } catch (error) {
      this.context.info(`Could not commit ${task.id}: ${(error as Error).message}. Its changes stay in the working tree.`, 'warn', task.id);
    }
  }
}

/** Why a file nobody could review was not applied, for the agent's next attempt and the log. */
function unreviewedReason(path: string, risks: readonly string[] | undefined): string {
  if (!risks) return `${path} needs a review, and nobody can be asked in this session, so it was not applied.`;
  return `${path} changes what runs (${risks.join('; ')}), so it needs a human review, and nobody can be asked in this session; it was not applied. Do the task without this change, or leave it to the user. (To let such changes through unreviewed, the user can turn on autoApproveCommandChanges; CLI: --allow-command-changes.)`;
}

/** Files a task's applied proposals wrote (rename sources included). */
export function appliedFiles(state: RunState, taskId: string): string[] {
const files = Object.values(state.proposals)
    .filter((proposal) => proposal.taskId === taskId && proposal.status === 'applied')
    .flatMap((proposal) => proposal.files.filter((file) => proposal.accepted.includes(file.path)).flatMap((file) => (file.from ? [file.path, file.from] : [file.path])));
  return [...new Set(files)];
}
