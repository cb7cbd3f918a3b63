// The one way an action outside edits gets its yes or no: the policy first (deny list, role, allow
// list), then the host's Approver (a modal, a prompt), every step an event. A deploy is never decided
// by a rule: only a person approves it, and a deny entry still refuses it.
import { randomUUID } from 'node:crypto';
import type { NewEvent } from '../../shared/events';
import type { Role } from '../../shared/model';
import type { ApprovalDecision, ApprovalRequest, Approver } from '../ports';
import { evaluateCommand, evaluateDenyList, type CommandPolicy, type PolicyVerdict } from './policy';
import { messageOf } from '../../shared/wording';

export interface ApprovalContext {
  emit(event: NewEvent): unknown;
  /** The host's; absent: whatever no rule allows is denied (nobody can be asked). */
  approver?: Approver;
  policy: CommandPolicy;
  signal: AbortSignal;
}

export interface ActionRequest extends ApprovalRequest {
  stepId?: string;
  /**
   * For subjects the command policy does not know (an MCP tool call): the caller's rule verdict;
   * absent, the user is asked. Ignored for commands (the policy decides) and deploys (never a rule).
   */
  verdict?: PolicyVerdict;
}

export type ActionDecision = ApprovalDecision & { approvalId: string; rule?: string };

/** Policy, then the user; logs approval.requested and approval.decided. Never throws for a no. */
export async function approveAction(context: ApprovalContext, request: ActionRequest): Promise<ActionDecision> {
  const approvalId = `a-${randomUUID().slice(0, 8)}`;
  const { subject, role, taskId, stepId } = request;
  context.emit({ type: 'approval.requested', approvalId, subject, role, taskId, stepId });
  const decide = (decision: ApprovalDecision): ActionDecision => {
    const reason = decision.approved ? undefined : decision.reason;
    context.emit({ type: 'approval.decided', approvalId, approved: decision.approved, by: decision.by, rule: decision.rule, reason, taskId });
    return { ...decision, approvalId };
  };

  const verdict = verdictFor(request, context.policy);
  if (verdict.outcome === 'deny') return decide({ approved: false, by: 'rule', rule: verdict.rule, reason: verdict.reason });
  if (verdict.outcome === 'allow') return decide({ approved: true, by: 'rule', rule: verdict.rule });
  if (!context.approver) {
    return decide({ approved: false, by: 'rule', reason: `${verdict.reason} Nobody can be asked here (no terminal or editor to approve it), so it is refused.`.trim() });
  }
  if (context.signal.aborted) return decide({ approved: false, by: 'rule', reason: 'The run was cancelled before it could be approved.' });
  let answer: ApprovalDecision;
  try {
    answer = await context.approver.approve({ subject, role, taskId }, context.signal);
  } catch (error) {
    const why = context.signal.aborted ? 'The run was cancelled while waiting for approval.' : `Approval could not be asked: ${messageOf(error)}`;
    return decide({ approved: false, by: 'rule', reason: why });
  }
  if (context.signal.aborted && answer.approved) return decide({ approved: false, by: 'rule', reason: 'The run was cancelled while waiting for approval.' });
  // A deploy, or anything the policy sent to a person, is only a yes when a person said it.
  if (answer.approved && answer.by !== 'user') return decide({ approved: false, by: 'rule', reason: 'Only a person may approve this; the answer did not come from one.' });
  return decide(answer);
}

function verdictFor(request: ActionRequest, policy: CommandPolicy): PolicyVerdict {
  const { subject, role } = request;
  switch (subject.kind) {
    case 'command':
      return evaluateCommand(subject.command, role, policy);
    case 'deploy':
      return evaluateDenyList(subject.command, policy) ?? { outcome: 'ask', reason: 'A deploy always needs your approval.' };
    case 'mcp':
      return request.verdict ?? { outcome: 'ask', reason: 'No rule allows this tool call.' };
  }
}

/** A "no" as the agent hears it: who said it, why, and what to do instead. */
export function refusalText(decision: ActionDecision, what: string, role: Role): string {
  if (decision.approved) return '';
  const by = decision.by === 'user' ? 'The user denied it' : `Refused by ${decision.rule ? `the rule ${decision.rule}` : 'policy'}`;
  const reason = decision.reason ? `: ${decision.reason}` : '.';
  return `${what} was not run. ${by}${reason.endsWith('.') ? reason : `${reason}.`} Do not retry the same ${role === 'deployer' ? 'deploy' : 'command'}; do the task another way, or finish and say what the user should run.`;
}
