// The EditReviewer port in VS Code: every file of a proposal opens as a diff of two read-only
// virtual documents (the text the proposal was made against vs the proposed text), so the real file
// is untouched until the user accepts. Accept / Reject sit in the diff editor's title bar; the
// review settles when every file is decided, or with nothing accepted when the run is cancelled.
// A file that changes what will be executed (a package script, a git hook, an editor task…) says so
// in its diff's title and in a notification, and Accept asks once more in a modal dialog.
import * as vscode from 'vscode';
import type { EditReviewer, ReviewDecision, ReviewRequest } from '../core';
import { COMMANDS } from './commands';
import { DisposableStore } from './disposables';
import { ProposalReviewState, type Decision, type HunkCounts, type ReviewHunk } from './review/hunkDecisions';
import { messageOf } from '../shared/wording';

/** URI scheme of the proposal documents; package.json's menus test `resourceScheme` against it. */
export const PROPOSAL_SCHEME = 'software-maker-proposal';

/** Context key for `when` clauses: true while some review waits for the user. */
const HAS_PENDING_CONTEXT = 'softwareMaker.hasPendingReviews';

type FileDecision = Decision;
type Side = 'before' | 'after';

/** One hunk of a pending modified file, as the tree shows it. */
export interface PendingHunk {
  index: number;
  /** "lines 12-15: +3 -1" */
  label: string;
  decision?: FileDecision;
}

/** One file of a pending review, as the tree shows it. */
export interface PendingFile {
  path: string;
  kind: ReviewRequest['files'][number]['kind'];
  decision?: FileDecision;
  /** The proposed-text document; the tree uses it as the item's resource and command argument. */
  proposalUri: vscode.Uri;
  /** The hunks of a modified file (reviewed one by one); empty for new, deleted and moved files. */
  hunks: PendingHunk[];
  /** Hunk counts of a modified file with hunks. */
  counts?: HunkCounts;
  /** Why accepting it changes what will be executed; absent when it does not. */
  changesWhatRuns?: string[];
}

/** A review waiting for the user. */
export interface PendingReview {
  runId: string;
  taskId: string;
  taskTitle: string;
  proposalId: string;
  files: PendingFile[];
}

interface ActiveReview {
  request: ReviewRequest;
  state: ProposalReviewState;
  settle(decision: ReviewDecision): void;
  /** Files that change what runs whose warning the user confirmed: accepting them asks no more. */
  confirmed: Set<string>;
}

/**
 * Asks the user to confirm accepting files that change what runs; true to go ahead. The extension
 * shows a modal dialog; tests pass their own.
 */
export type ConfirmCommandChanges = (message: string, detail: string) => Promise<boolean>;

const ACCEPT_ANYWAY = 'Accept Anyway';

const modalConfirm: ConfirmCommandChanges = async (message, detail) => (await vscode.window.showWarningMessage(message, { modal: true, detail }, ACCEPT_ANYWAY)) === ACCEPT_ANYWAY;

/** A hunk of a pending proposal file, with what the UI needs to act on it. */
export interface HunkTarget {
  /** The proposed-text document of the file. */
  proposalUri: vscode.Uri;
  path: string;
  hunk: ReviewHunk;
}

interface ProposalAddress {
  runId: string;
  proposalId: string;
  path: string;
  side: Side;
}

export class DiffReviewer implements EditReviewer, vscode.Disposable {
  private readonly reviews = new Map<string, ActiveReview>();
  private readonly changeEmitter = new vscode.EventEmitter<void>();
  private readonly disposables = new DisposableStore();

  /** Fires when a review starts, a file is decided or a review ends. */
  readonly onDidChangePending = this.changeEmitter.event;

  /** `scheme` and `confirm` are for tests, which run beside the extension's own reviewer; the extension uses the defaults. */
  constructor(
    readonly scheme: string = PROPOSAL_SCHEME,
    private readonly confirm: ConfirmCommandChanges = modalConfirm,
  ) {
    this.disposables.add(
      this.changeEmitter,
      vscode.workspace.registerTextDocumentContentProvider(scheme, {
        provideTextDocumentContent: (uri) => this.contentOf(uri),
      }),
    );
  }

  /** The accept / reject / accept-all commands (editor title, tree items, palette). */
  registerCommands(): vscode.Disposable {
    const updateContext = (): void => void vscode.commands.executeCommand('setContext', HAS_PENDING_CONTEXT, this.reviews.size > 0);
    updateContext();
    return vscode.Disposable.from(
      this.onDidChangePending(updateContext),
      vscode.commands.registerCommand(COMMANDS.acceptEdit.id, (arg: unknown) => this.acceptFromCommand(arg)),
      vscode.commands.registerCommand(COMMANDS.rejectEdit.id, (arg: unknown) => this.rejectFromCommand(arg)),
      vscode.commands.registerCommand(COMMANDS.acceptAllEdits.id, (arg: unknown) => this.acceptAllFromCommand(arg)),
    );
  }

  review(request: ReviewRequest, signal: AbortSignal): Promise<ReviewDecision> {
    if (signal.aborted || request.files.length === 0) return Promise.resolve({ accepted: [] });
    const key = reviewKey(request.runId, request.proposalId);
    // A second request for the same proposal (a re-run step) replaces the first, which accepts nothing.
    this.reviews.get(key)?.settle({ accepted: [] });
    return new Promise<ReviewDecision>((resolve) => {
      const onAbort = (): void => review.settle({ accepted: [] });
      const review: ActiveReview = {
        request,
        confirmed: new Set(),
        state: new ProposalReviewState(request),
        settle: (decision) => {
          if (this.reviews.get(key) !== review) return;
          this.reviews.delete(key);
          signal.removeEventListener('abort', onAbort);
          void this.closeDiffs(request.runId, request.proposalId);
          this.changed();
          resolve(decision);
        },
      };
      this.reviews.set(key, review);
      signal.addEventListener('abort', onAbort, { once: true });
      this.changed();
      void this.openDiffs(review).catch((error: unknown) => {
        void vscode.window.showErrorMessage(`Software Maker could not open the diff of "${request.taskTitle}": ${messageOf(error)}. Open it from the Runs view.`);
      });
      const risky = request.files.filter((file) => file.changesWhatRuns?.length);
      if (risky.length) {
        void vscode.window.showWarningMessage(
          `Software Maker: "${request.taskTitle}" proposes changes to what runs on this machine (${risky.map((file) => file.path).join(', ')}). Nothing of it is applied unless you accept it; read the diff first.`,
        );
      }
    });
  }

  /** Reviews waiting for the user, oldest first. */
  pending(): PendingReview[] {
    return [...this.reviews.values()].map(({ request, state }) => ({
      runId: request.runId,
      taskId: request.taskId,
      taskTitle: request.taskTitle,
      proposalId: request.proposalId,
      files: state.files.map((fileState) => ({
        path: fileState.file.path,
        kind: fileState.file.kind,
        decision: fileState.decision,
        proposalUri: this.uriOf({ runId: request.runId, proposalId: request.proposalId, path: fileState.file.path, side: 'after' }),
        hunks: fileState.hunks.map((hunk) => ({ index: hunk.index, label: hunk.label, decision: hunk.decision })),
        counts: fileState.hunked ? fileState.counts() : undefined,
        ...(fileState.file.changesWhatRuns?.length ? { changesWhatRuns: fileState.file.changesWhatRuns } : {}),
      })),
    }));
  }

  /** Re-opens the undecided diffs of a task's pending review(s); returns how many editors opened. */
  async openReview(runId: string, taskId: string): Promise<number> {
    let opened = 0;
    for (const review of this.reviews.values()) {
      if (review.request.runId === runId && review.request.taskId === taskId) opened += await this.openDiffs(review);
    }
    return opened;
  }

  /** The command that opens one file's diff (for tree items). */
  diffCommand(uri: vscode.Uri): vscode.Command | undefined {
    const address = this.parse(uri);
    const review = address && this.reviews.get(reviewKey(address.runId, address.proposalId));
    if (!address || !review) return undefined;
    return { title: 'Show Proposed Change', command: 'vscode.diff', arguments: this.diffArguments(review.request, address.path) };
  }

  /**
   * Accepts one file: the proposal document `uri` (either side of its diff), else the one in the
   * active editor. False when no pending proposal file is meant.
   */
  accept(uri?: vscode.Uri): boolean {
    const target = this.target(uri);
    if (target) this.decide(target.review, target.path, 'accepted');
    return target !== undefined;
  }

  /** Rejects one file (chosen as in accept), with an optional reason for the agent. */
  reject(uri?: vscode.Uri, reason?: string): boolean {
    const target = this.target(uri);
    if (target) this.decide(target.review, target.path, 'rejected', reason);
    return target !== undefined;
  }

  /**
   * Before the user accepts a file (or a hunk of it) that changes what runs: the warning with its
   * reasons, once per file and review. True when accepting may go ahead (nothing to warn about, or
   * confirmed); false when the user backed out. `uri` is chosen as in accept.
   */
  async confirmCommandChanges(uri?: vscode.Uri): Promise<boolean> {
    const target = this.target(uri);
    return target ? this.confirmFiles(target.review, [target.path]) : true;
  }

  /** Why the undecided file a proposal document (either side) shows changes what runs; undefined when it does not. */
  commandChangesOf(uri: vscode.Uri): string[] | undefined {
    const target = this.target(uri);
    const reasons = target?.review.request.files.find((file) => file.path === target.path)?.changesWhatRuns;
    return reasons?.length ? reasons : undefined;
  }

  /**
   * The hunks of the undecided modified file a proposal document (either side) shows; undefined when
   * the document is no pending proposal file or its file is not reviewed hunk by hunk.
   */
  hunksOf(uri: vscode.Uri): ReviewHunk[] | undefined {
    const target = this.target(uri);
    const file = target?.review.state.file(target.path);
    return file?.hunked ? file.hunks : undefined;
  }

  /** The hunk of a proposal document at a 0-based line of that side (its changed lines with their context), else undefined. */
  hunkAt(uri: vscode.Uri, line: number): HunkTarget | undefined {
    const address = this.parse(uri);
    const hunks = this.hunksOf(uri);
    if (!address || !hunks) return undefined;
    const proposalUri = this.uriOf({ ...address, side: 'after' });
    const shown = (hunk: ReviewHunk): { start: number; end: number } => {
      // The hunk's shown lines (context included) on this side: changes closer than that share a hunk.
      const start = address.side === 'after' ? hunk.hunk.newStart - 1 : hunk.hunk.oldStart - 1;
      const count = address.side === 'after' ? hunk.hunk.newLines : hunk.hunk.oldLines;
      const own = address.side === 'after' ? hunk.after : hunk.before;
      return { start: Math.min(start, own.start), end: Math.max(start + count - 1, own.end) };
    };
    const hunk = hunks.find((candidate) => {
      const range = shown(candidate);
      return line >= range.start && line <= range.end;
    });
    return hunk ? { proposalUri, path: address.path, hunk } : undefined;
  }

  /** Decides one hunk of a pending modified file (the last undecided one decides the file). False when there is no such hunk. */
  decideHunk(uri: vscode.Uri, index: number, decision: FileDecision, reason?: string): boolean {
    const target = this.target(uri);
    if (!target) return false;
    const result = target.review.state.decideHunk(target.path, index, decision, reason);
    if (!result) return false;
    if (result.fileDecided) this.afterFileDecided(target.review, target.path);
    else this.changed();
    return true;
  }

  dispose(): void {
    for (const review of [...this.reviews.values()]) review.settle({ accepted: [] });
    this.disposables.dispose();
  }

  private contentOf(uri: vscode.Uri): string {
    const address = this.parse(uri);
    const review = address && this.reviews.get(reviewKey(address.runId, address.proposalId));
    const file = review?.request.files.find((candidate) => candidate.path === address?.path);
    if (!address || !file) return '';
    return address.side === 'before' ? file.before : file.after;
  }

  private async openDiffs(review: ActiveReview): Promise<number> {
    const undecided = review.request.files.filter((file) => !review.state.file(file.path)?.decision);
    for (const [index, file] of undecided.entries()) {
      // Later diffs open in the background so the first one keeps the focus.
      await vscode.commands.executeCommand('vscode.diff', ...this.diffArguments(review.request, file.path), {
        preview: false,
        preserveFocus: index > 0,
      });
    }
    return undecided.length;
  }

  private async acceptFromCommand(arg: unknown): Promise<void> {
    const uri = uriFromArgument(arg, this.scheme) ?? this.activeProposalUri();
    if (!this.target(uri)) {
      showNothingToDecide();
      return;
    }
    if (await this.confirmCommandChanges(uri)) this.accept(uri);
  }

  private async rejectFromCommand(arg: unknown): Promise<void> {
    const uri = uriFromArgument(arg, this.scheme) ?? this.activeProposalUri();
    const target = this.target(uri);
    if (!target) {
      showNothingToDecide();
      return;
    }
    const answer = await askRejectReason(target.path);
    if (!answer) return;
    // The run may have been cancelled while the reason was typed; then there is nothing to reject.
    this.reject(uri, answer.reason);
  }

  private async acceptAllFromCommand(arg: unknown): Promise<void> {
    const review = await this.targetReview(arg);
    if (!review) return;
    const undecided = review.state.files.filter((file) => !file.decision).map((file) => file.file.path);
    if (await this.confirmFiles(review, undecided)) this.decideRest(review, 'accepted');
  }

  /** One warning for every file of `paths` that changes what runs and is not confirmed yet. */
  private async confirmFiles(review: ActiveReview, paths: string[]): Promise<boolean> {
    const risky = review.request.files.filter((file) => paths.includes(file.path) && file.changesWhatRuns?.length && !review.confirmed.has(file.path));
    if (!risky.length) return true;
    const names = risky.map((file) => file.path).join(', ');
    const detail = [
      ...risky.flatMap((file) => [`${file.path}:`, ...(file.changesWhatRuns ?? []).map((reason) => `• ${reason}`)]),
      '',
      'The tests run right after the edit lands, with these commands. Accept only if you read the diff and trust it.',
    ].join('\n');
    const ok = await this.confirm(`Accepting ${names} changes what will be executed on this machine.`, detail);
    // The run may have been cancelled while the dialog was open.
    if (!ok || !this.isActive(review)) return false;
    for (const file of risky) review.confirmed.add(file.path);
    return true;
  }

  private decide(review: ActiveReview, path: string, decision: FileDecision, reason?: string): void {
    if (review.state.decideFile(path, decision, reason)) this.afterFileDecided(review, path);
  }

  /** Closes a decided file's diff, or settles the review when it was the last file. */
  private afterFileDecided(review: ActiveReview, path: string): void {
    if (review.state.complete) {
      this.finish(review);
      return;
    }
    void this.closeDiffs(review.request.runId, review.request.proposalId, path);
    this.changed();
  }

  private decideRest(review: ActiveReview, decision: FileDecision): void {
    review.state.decideRest(decision);
    this.finish(review);
  }

  /** Settles a review with its per-file and per-hunk decisions (every file is decided by now). */
  private finish(review: ActiveReview): void {
    review.settle(review.state.toDecision());
  }

  private isActive(review: ActiveReview): boolean {
    return this.reviews.get(reviewKey(review.request.runId, review.request.proposalId)) === review;
  }

  /** The pending review and file a proposal document belongs to (the active editor's when no uri). */
  private target(uri?: vscode.Uri): { review: ActiveReview; path: string } | undefined {
    const address = this.parse(uri ?? this.activeProposalUri());
    const review = address && this.reviews.get(reviewKey(address.runId, address.proposalId));
    if (!address || !review || review.state.file(address.path)?.decision) return undefined;
    return review.request.files.some((file) => file.path === address.path) ? { review, path: address.path } : undefined;
  }

  private activeProposalUri(): vscode.Uri | undefined {
    const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
    if (input instanceof vscode.TabInputTextDiff && input.modified.scheme === this.scheme) return input.modified;
    if (input instanceof vscode.TabInputText && input.uri.scheme === this.scheme) return input.uri;
    const editorUri = vscode.window.activeTextEditor?.document.uri;
    return editorUri?.scheme === this.scheme ? editorUri : undefined;
  }

  private parse(uri: vscode.Uri | undefined): ProposalAddress | undefined {
    return uri && uri.scheme === this.scheme ? parseProposalQuery(uri) : undefined;
  }

  private uriOf(address: ProposalAddress): vscode.Uri {
    return proposalUri(address, this.scheme);
  }

  private diffArguments(request: ReviewRequest, path: string): [vscode.Uri, vscode.Uri, string] {
    const base = { runId: request.runId, proposalId: request.proposalId, path };
    const risky = request.files.find((file) => file.path === path)?.changesWhatRuns?.length;
    const title = risky ? `⚠ CHANGES WHAT RUNS: ${path} (proposed by ${request.taskTitle})` : `${path} (proposed by ${request.taskTitle})`;
    return [this.uriOf({ ...base, side: 'before' }), this.uriOf({ ...base, side: 'after' }), title];
  }

  /** The review "accept all" means: the argument's (task node or proposal), the active editor's, the only one, or the user's pick. */
  private async targetReview(arg: unknown): Promise<ActiveReview | undefined> {
    const task = taskFromArgument(arg);
    const address = task ? undefined : this.parse(uriFromArgument(arg, this.scheme) ?? this.activeProposalUri());
    if (address) return this.reviews.get(reviewKey(address.runId, address.proposalId));
    const all = [...this.reviews.values()];
    const candidates = task ? all.filter((review) => review.request.runId === task.runId && review.request.taskId === task.taskId) : all;
    if (candidates.length === 0) {
      void vscode.window.showInformationMessage('Software Maker: no proposed edits are waiting for review.');
      return undefined;
    }
    if (candidates.length === 1) return candidates[0];
    const picked = await vscode.window.showQuickPick(
      candidates.map((review) => ({
        label: review.request.taskTitle,
        description: `${review.request.taskId} · ${review.request.files.length} file(s)`,
        review,
      })),
      { title: 'Software Maker: Accept All Edits of Task', placeHolder: 'Which task’s proposal?' },
    );
    return picked?.review;
  }

  private async closeDiffs(runId: string, proposalId: string, path?: string): Promise<void> {
    const tabs = vscode.window.tabGroups.all.flatMap((group) => group.tabs).filter((tab) => {
      const input = tab.input;
      if (!(input instanceof vscode.TabInputTextDiff)) return false;
      const address = this.parse(input.modified);
      return address?.runId === runId && address.proposalId === proposalId && (path === undefined || address.path === path);
    });
    if (tabs.length > 0) await vscode.window.tabGroups.close(tabs, true);
  }

  private changed(): void {
    this.changeEmitter.fire();
  }
}

function reviewKey(runId: string, proposalId: string): string {
  return `${runId}\u0000${proposalId}`;
}

/** The path goes in the URI path so the editor picks the language from the file name. */
export function proposalUri(address: ProposalAddress, scheme: string = PROPOSAL_SCHEME): vscode.Uri {
  const query = new URLSearchParams({ run: address.runId, proposal: address.proposalId, side: address.side });
  return vscode.Uri.from({ scheme, path: `/${address.path}`, query: query.toString() });
}

function parseProposalQuery(uri: vscode.Uri): ProposalAddress | undefined {
  const query = new URLSearchParams(uri.query);
  const runId = query.get('run');
  const proposalId = query.get('proposal');
  const side = query.get('side');
  if (!runId || !proposalId || (side !== 'before' && side !== 'after')) return undefined;
  return { runId, proposalId, path: uri.path.replace(/^\//, ''), side };
}

function uriFromArgument(arg: unknown, scheme: string): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg.scheme === scheme ? arg : undefined;
  // Tree items pass their element, which carries the proposal document as `resourceUri`.
  if (isRecord(arg) && arg.resourceUri instanceof vscode.Uri && arg.resourceUri.scheme === scheme) return arg.resourceUri;
  return undefined;
}

function taskFromArgument(arg: unknown): { runId: string; taskId: string } | undefined {
  if (isRecord(arg) && typeof arg.runId === 'string' && typeof arg.taskId === 'string') return { runId: arg.runId, taskId: arg.taskId };
  return undefined;
}

function showNothingToDecide(): void {
  void vscode.window.showWarningMessage('Software Maker: no undecided proposed edit is shown. Open a proposal from the Runs view, then accept or reject it.');
}

/**
 * Asks why before a rejection. Undefined: the user pressed Escape, so nothing is rejected; an empty
 * answer (Enter) rejects without a reason.
 */
export async function askRejectReason(what: string): Promise<{ reason?: string } | undefined> {
  const reason = await vscode.window.showInputBox({
    title: `Software Maker: Reject ${what}`,
    prompt: 'Why? The agent gets this for its next attempt, and the reviewer sees it. Enter with no text rejects without a reason; Escape cancels.',
    placeHolder: 'e.g. keep the public API unchanged',
  });
  if (reason === undefined) return undefined;
  return reason.trim() ? { reason: reason.trim() } : {};
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

