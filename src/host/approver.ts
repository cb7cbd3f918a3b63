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
  /** Button titles, approve first; "Deny" is the close affordance. */
  approve: string;
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
      };
    case 'mcp':
      return {
        message: `Software Maker: the ${who} wants to call the MCP tool ${visibleControls(subject.server)}/${visibleControls(subject.tool)}`,
        detail: `${clip(visibleControls(subject.input))}${subject.reason ? `\n\nwhy: ${visibleControls(subject.reason)}` : ''}`,
        approve: 'Call',
      };
    case 'deploy':
      return {
        message: `Software Maker: ready to DEPLOY with ${visibleControls(subject.command)}`,
        detail: `${visibleControls(subject.command)}\n\nThe deployer's runbook:\n\n${clip(subject.runbook.split('\n').map(visibleControls).join('\n'))}`,
        approve: 'Deploy',
      };
  }
}

export class ModalApprover implements Approver {
  constructor(private readonly isTrusted: () => boolean = () => vscode.workspace.isTrusted) {}

  async approve(request: ApprovalRequest, signal: AbortSignal): Promise<ApprovalDecision> {
    if (!this.isTrusted()) return { approved: false, by: 'user', reason: 'The workspace is not trusted.' };
    const prompt = approvalPrompt(request);
    const denyWithReason = 'Deny with Reason…';
    const cancelled = new Promise<undefined>((resolve) => signal.addEventListener('abort', () => resolve(undefined), { once: true }));
    // A modal cannot be closed from here: a cancelled run stops waiting for it, and its answer is ignored.
    const choice = await Promise.race([
      vscode.window.showWarningMessage(prompt.message, { modal: true, detail: prompt.detail }, { title: prompt.approve }, { title: denyWithReason }, { title: 'Deny', isCloseAffordance: true }),
      cancelled,
    ]);
    if (signal.aborted) return { approved: false, by: 'user', reason: 'The run was cancelled.' };
    if (choice?.title === prompt.approve) return { approved: true, by: 'user' };
    if (choice?.title === denyWithReason) {
      const reason = await vscode.window.showInputBox({ title: 'Why not? (goes back to the agent)', prompt: 'The agent reads this and does the task another way.', ignoreFocusOut: true });
      if (reason?.trim()) return { approved: false, by: 'user', reason: reason.trim() };
    }
    return { approved: false, by: 'user' };
  }
}
