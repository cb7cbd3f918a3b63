// The Approver port in VS Code: a modal dialog with the command (or MCP call, or deploy) verbatim,
// its folder and the agent's reason. Control and invisible characters are shown as escapes, so
// nothing can hide in what is approved. A deploy shows its runbook and has a button of its own.
// Nothing is approved in an untrusted workspace.
import * as vscode from 'vscode';
import type { ApprovalDecision, ApprovalRequest, Approver } from '../core';
import { visibleControls } from '../shared/wording';

/** What a modal's detail can hold before it stops being readable; the runbook's artifact has all of it. */
const MAX_DETAIL_CHARS = 6000;

export interface ModalPrompt {
  message: string;
  detail: string;
  approve: string;
  /** The buttons in order: the first is the default (Enter); the close affordance is Escape. */
  buttons: { title: string; isCloseAffordance?: boolean }[];
}

export const DENY = 'Deny';
export const DENY_WITH_REASON = 'Deny with Reason…';
/** A deploy's Escape: a deploy's "Deny" is the default button, and a close affordance cannot be the default. */
export const DEPLOY_CANCEL = 'Cancel';

/** Approve is the default, except for a deploy: Enter must never deploy, so there Deny is. */
function buttonsFor(approve: string, enterDenies: boolean): ModalPrompt['buttons'] {
  if (enterDenies) return [{ title: DENY }, { title: approve }, { title: DENY_WITH_REASON }, { title: DEPLOY_CANCEL, isCloseAffordance: true }];
  return [{ title: approve }, { title: DENY_WITH_REASON }, { title: DENY, isCloseAffordance: true }];
}

/** The modal's text for a request, pure, so it is tested without an editor. */
export function approvalPrompt(request: ApprovalRequest): ModalPrompt {
  const { subject } = request;
  const who = `${request.role}${request.taskId ? ` (task ${request.taskId})` : ''}`;
  const clip = (text: string): string => (text.length > MAX_DETAIL_CHARS ? `${text.slice(0, MAX_DETAIL_CHARS)}\n… (cut; the whole text is in the run's folder)` : text);
  switch (subject.kind) {
    case 'command':
      return {
        message: `Software Maker: the ${who} wants to run a command`,
        detail: `${visibleControls(subject.command)}\n\nin: ${subject.cwd ? visibleControls(subject.cwd) : '(workspace root)'}\nwhy: ${visibleControls(subject.reason)}\n\nIt runs as a task in the terminal panel, without your API keys in its environment.`,
        approve: 'Run',
        buttons: buttonsFor('Run', false),
      };
    case 'mcp':
      return {
        message: `Software Maker: the ${who} wants to call the MCP tool ${visibleControls(subject.server)}/${visibleControls(subject.tool)}`,
        detail: `${clip(visibleControls(subject.input))}${subject.reason ? `\n\nwhy: ${visibleControls(subject.reason)}` : ''}`,
        approve: 'Call',
        buttons: buttonsFor('Call', false),
      };
    case 'deploy':
      return {
        message: `Software Maker: ready to DEPLOY with ${visibleControls(subject.command)}`,
        detail: `${visibleControls(subject.command)}\n\nThe deployer's runbook:\n\n${clip(subject.runbook.split('\n').map(visibleControls).join('\n'))}`,
        approve: 'Deploy',
        buttons: buttonsFor('Deploy', true),
      };
  }
}

export class ModalApprover implements Approver {
  constructor(private readonly isTrusted: () => boolean = () => vscode.workspace.isTrusted) {}

  async approve(request: ApprovalRequest, signal: AbortSignal): Promise<ApprovalDecision> {
    if (!this.isTrusted()) return { approved: false, by: 'user', reason: 'The workspace is not trusted.' };
    const prompt = approvalPrompt(request);
    const cancelled = new Promise<undefined>((resolve) => signal.addEventListener('abort', () => resolve(undefined), { once: true }));
    // A modal cannot be closed from here: a cancelled run stops waiting for it, and its answer is ignored.
    const choice = await Promise.race([
      vscode.window.showWarningMessage(prompt.message, { modal: true, detail: prompt.detail }, ...prompt.buttons),
      cancelled,
    ]);
    if (signal.aborted) return { approved: false, by: 'user', reason: 'The run was cancelled.' };
    if (choice?.title === prompt.approve) return { approved: true, by: 'user' };
    if (choice?.title === DENY_WITH_REASON) {
      const reason = await vscode.window.showInputBox({ title: 'Why not? (goes back to the agent)', prompt: 'The agent reads this and does the task another way.', ignoreFocusOut: true });
      if (reason?.trim()) return { approved: false, by: 'user', reason: reason.trim() };
    }
    return { approved: false, by: 'user' };
  }
}
