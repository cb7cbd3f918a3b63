// Per-hunk review in the proposal diff editors: a CodeLens pair above each hunk of the proposed side
// ("Accept hunk" / "Reject hunk", with the hunk's state), decorations that colour each hunk by its
// state on both sides, and the accept/reject-hunk commands (CodeLens, Runs view, and alt+enter /
// alt+backspace on the hunk under the cursor). The state itself lives in the DiffReviewer.
import * as vscode from 'vscode';
import type { NoticeBoard } from '../notices';
import { COMMANDS } from '../commands';
import { askRejectReason, type DiffReviewer, type HunkTarget } from '../diffReviewer';
import { DisposableStore } from '../disposables';
import type { ReviewHunk } from './hunkDecisions';

type HunkState = 'accepted' | 'rejected' | 'pending';

/** Diff editors hide CodeLens unless this is on; the keys and the Runs view work either way. */
const DIFF_CODELENS_SETTING = 'diffEditor.codeLens';
const CODELENS_PROMPT_KEY = 'softwareMaker.review.codeLensPromptDismissed';
export const CODELENS_NOTICE_ID = 'diff-codelens';

/** The CodeLens pair of every hunk of the proposed side of a pending modified file. */
export class HunkCodeLensProvider implements vscode.CodeLensProvider {
  readonly onDidChangeCodeLenses: vscode.Event<void>;

  constructor(private readonly reviewer: DiffReviewer) {
    this.onDidChangeCodeLenses = reviewer.onDidChangePending;
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    if (document.uri.scheme !== this.reviewer.scheme || sideOf(document.uri) !== 'after') return [];
    const hunks = this.reviewer.hunksOf(document.uri) ?? [];
    const risks = this.reviewer.commandChangesOf(document.uri);
    // Above everything: this file changes what will be executed (text only: no command to run).
    const warning = risks ? [new vscode.CodeLens(new vscode.Range(0, 0, 0, 0), { title: `⚠ Changes what runs: ${risks.join(' · ')}`, tooltip: risks.join('\n'), command: '' })] : [];
    return warning.concat(hunks.flatMap((hunk) => {
      const line = Math.min(hunk.after.start, Math.max(0, document.lineCount - 1));
      const range = new vscode.Range(line, 0, line, 0);
      const where = `Hunk ${hunk.index + 1} of ${hunks.length} (${hunk.label})`;
      const accept: vscode.Command = {
        title: hunk.decision === 'accepted' ? '✓ accepted' : hunk.decision === 'rejected' ? 'Accept hunk' : 'pending · Accept hunk',
        tooltip: `${where}: ${hunk.decision ?? 'pending'}. Accept this hunk (Alt+Enter on it).`,
        command: COMMANDS.acceptHunk.id,
        arguments: [document.uri, hunk.index],
      };
      const reject: vscode.Command = {
        title: hunk.decision === 'rejected' ? '✗ rejected' : 'Reject hunk',
        tooltip: `${where}: ${hunk.decision ?? 'pending'}. Reject this hunk, with an optional reason for the agent (Alt+Backspace on it).`,
        command: COMMANDS.rejectHunk.id,
        arguments: [document.uri, hunk.index],
      };
      return [new vscode.CodeLens(range, accept), new vscode.CodeLens(range, reject)];
    }));
  }
}

/** Colours each hunk of the visible proposal editors by its state (left border, overview ruler, a label on the first line). */
export class HunkDecorations implements vscode.Disposable {
  private readonly types: Record<HunkState, vscode.TextEditorDecorationType>;
  private readonly disposables = new DisposableStore();

  constructor(private readonly reviewer: DiffReviewer) {
    const border = (color: string): vscode.DecorationRenderOptions => ({
      isWholeLine: true,
      borderWidth: '0 0 0 3px',
      borderStyle: 'solid',
      borderColor: new vscode.ThemeColor(color),
      overviewRulerColor: new vscode.ThemeColor(color),
      overviewRulerLane: vscode.OverviewRulerLane.Left,
    });
    this.types = {
      accepted: vscode.window.createTextEditorDecorationType(border('testing.iconPassed')),
      rejected: vscode.window.createTextEditorDecorationType({ ...border('testing.iconFailed'), opacity: '0.55', textDecoration: 'line-through' }),
      pending: vscode.window.createTextEditorDecorationType(border('editorWarning.foreground')),
    };
    this.disposables.add(
      ...Object.values(this.types),
      reviewer.onDidChangePending(() => this.update()),
      vscode.window.onDidChangeVisibleTextEditors(() => this.update()),
    );
    this.update();
  }

  /** Redraws the decorations of every visible proposal editor. */
  update(): void {
    for (const editor of vscode.window.visibleTextEditors) {
      const { uri } = editor.document;
      if (uri.scheme !== this.reviewer.scheme) continue;
      const side = sideOf(uri);
      const hunks = this.reviewer.hunksOf(uri) ?? [];
      const byState: Record<HunkState, vscode.DecorationOptions[]> = { accepted: [], rejected: [], pending: [] };
      for (const hunk of hunks) {
        // Only the side the hunk changes: a pure insertion has nothing to colour on the old side.
        const changed = side === 'after' ? hunk.hunk.added.length : hunk.hunk.removed.length;
        if (changed === 0) continue;
        const lines = side === 'after' ? hunk.after : hunk.before;
        const state = hunk.decision ?? 'pending';
        const last = Math.min(lines.end, editor.document.lineCount - 1);
        for (let line = Math.min(lines.start, last); line <= last; line++) {
          const options: vscode.DecorationOptions = { range: new vscode.Range(line, 0, line, 0), hoverMessage: `Hunk ${hunk.index + 1} (${hunk.label}): ${state}` };
          if (line === lines.start && side === 'after') {
            options.renderOptions = { after: { contentText: `  ${stateLabel(hunk)}`, color: new vscode.ThemeColor('descriptionForeground'), fontStyle: 'italic' } };
          }
          byState[state].push(options);
        }
      }
      for (const [state, type] of Object.entries(this.types) as [HunkState, vscode.TextEditorDecorationType][]) {
        editor.setDecorations(type, byState[state]);
      }
    }
  }

  dispose(): void {
    this.disposables.dispose();
  }
}

/** Everything per-hunk review registers: the CodeLens provider, the decorations and the two commands. */
export class HunkReviewUi implements vscode.Disposable {
  private readonly disposables = new DisposableStore();
  private promptedThisSession = false;

  constructor(
    private readonly reviewer: DiffReviewer,
    private readonly memento?: vscode.Memento,
    /** Keeps the CodeLens offer reachable (a chat-view banner) after its notification is gone. */
    private readonly notices?: NoticeBoard,
  ) {
    const lenses = new HunkCodeLensProvider(reviewer);
    const decorations = new HunkDecorations(reviewer);
    this.disposables.add(
      decorations,
      vscode.languages.registerCodeLensProvider({ scheme: reviewer.scheme }, lenses),
      vscode.commands.registerCommand(COMMANDS.acceptHunk.id, (uri?: unknown, index?: unknown) => this.decide('accepted', uri, index)),
      vscode.commands.registerCommand(COMMANDS.rejectHunk.id, (uri?: unknown, index?: unknown) => this.decide('rejected', uri, index)),
      vscode.window.onDidChangeVisibleTextEditors((editors) => {
        if (editors.some((editor) => editor.document.uri.scheme === reviewer.scheme && reviewer.hunksOf(editor.document.uri))) void this.offerDiffCodeLens();
      }),
    );
  }

  dispose(): void {
    this.disposables.dispose();
  }

  /** Accepts or rejects the hunk named by the arguments (CodeLens: uri and index; tree: its node), else the one under the cursor. */
  private async decide(decision: 'accepted' | 'rejected', arg?: unknown, index?: unknown): Promise<void> {
    const target = this.targetOf(arg, index);
    if (!target) {
      void vscode.window.showWarningMessage(
        'Software Maker: no undecided hunk is under the cursor. Put the cursor on a change in a proposed edit’s diff (or use the Accept hunk / Reject hunk buttons above it).',
      );
      return;
    }
    const fromKeyboard = arg === undefined;
    let reason: string | undefined;
    if (decision === 'accepted' && !(await this.reviewer.confirmCommandChanges(target.proposalUri))) return;
    if (decision === 'rejected') {
      const answer = await askRejectReason(`${target.path}, hunk ${target.hunk.index + 1} (${target.hunk.label})`);
      if (!answer) return;
      reason = answer.reason;
    }
    if (!this.reviewer.decideHunk(target.proposalUri, target.hunk.index, decision, reason)) return;
    if (fromKeyboard) this.revealNextPending(target);
  }

  private targetOf(arg: unknown, index: unknown): HunkTarget | undefined {
    let uri: vscode.Uri | undefined;
    let hunkIndex: number | undefined;
    if (arg instanceof vscode.Uri && typeof index === 'number') {
      uri = arg;
      hunkIndex = index;
    } else if (isRecord(arg) && arg.resourceUri instanceof vscode.Uri && typeof arg.hunkIndex === 'number') {
      // A hunk node of the Runs view.
      uri = arg.resourceUri;
      hunkIndex = arg.hunkIndex;
    }
    if (uri && hunkIndex !== undefined) {
      const hunk = this.reviewer.hunksOf(uri)?.[hunkIndex];
      return hunk ? { proposalUri: uri, path: pathOf(uri), hunk } : undefined;
    }
    const editor = vscode.window.activeTextEditor;
    if (!editor || editor.document.uri.scheme !== this.reviewer.scheme) return undefined;
    return this.reviewer.hunkAt(editor.document.uri, editor.selection.active.line);
  }

  /** After a keyboard decision, the cursor moves to the next undecided hunk of the same file. */
  private revealNextPending(decided: HunkTarget): void {
    const editor = vscode.window.activeTextEditor;
    if (!editor || editor.document.uri.scheme !== this.reviewer.scheme) return;
    const hunks = this.reviewer.hunksOf(editor.document.uri);
    const next = hunks?.find((hunk) => !hunk.decision && hunk.index > decided.hunk.index) ?? hunks?.find((hunk) => !hunk.decision);
    if (!next) return;
    const line = sideOf(editor.document.uri) === 'before' ? next.before.start : next.after.start;
    const position = new vscode.Position(Math.min(line, editor.document.lineCount - 1), 0);
    editor.selection = new vscode.Selection(position, position);
    editor.revealRange(new vscode.Range(position, position), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  }

  /** Diff editors hide CodeLens by default: offer once to show them (the keys work without). */
  private async offerDiffCodeLens(): Promise<void> {
    if (this.promptedThisSession || this.memento?.get<boolean>(CODELENS_PROMPT_KEY)) return;
    if (vscode.workspace.getConfiguration().get<boolean>(DIFF_CODELENS_SETTING)) return;
    this.promptedThisSession = true;
    const message =
      'Software Maker can show "Accept hunk" / "Reject hunk" above each change of a proposed edit. Diff editors hide such buttons unless "diffEditor.codeLens" is on. Turn it on? (Without it: Alt+Enter / Alt+Backspace on a change.)';
    const act = async (choice: string | undefined): Promise<void> => {
      if (choice === 'Turn On') await vscode.workspace.getConfiguration().update(DIFF_CODELENS_SETTING, true, vscode.ConfigurationTarget.Global);
      else if (choice === 'Don’t Ask Again') await this.memento?.update(CODELENS_PROMPT_KEY, true);
      if (choice) this.notices?.remove(CODELENS_NOTICE_ID);
    };
    this.notices?.set({ id: CODELENS_NOTICE_ID, message, actions: [{ label: 'Turn On', run: () => act('Turn On') }, { label: 'Don’t Ask Again', run: () => act('Don’t Ask Again') }] });
    await act(await vscode.window.showInformationMessage(message, 'Turn On', 'Don’t Ask Again'));
  }
}

function stateLabel(hunk: ReviewHunk): string {
  return hunk.decision === 'accepted' ? '✓ accepted' : hunk.decision === 'rejected' ? '✗ rejected' : '○ pending';
}

function sideOf(uri: vscode.Uri): string | null {
  return new URLSearchParams(uri.query).get('side');
}

function pathOf(uri: vscode.Uri): string {
  return uri.path.replace(/^\//, '');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
