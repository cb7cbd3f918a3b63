// run_command: an agent proposes a shell command with its reason; the policy and the user decide;
// an approved command runs through the host's CommandRunner and its bounded output goes back to the
// agent. A no is a tool error the agent reads and works around: the run goes on.
import { realpath } from 'node:fs/promises';
import type { NewEvent } from '../../shared/events';
import type { Role } from '../../shared/model';
import type { Approver, CommandRequest, CommandResult, CommandRunner } from '../ports';
import { resolveInWorkspace } from '../workspace/paths';
import { approveAction, refusalText } from './approval';
import { boundText } from './output';
import type { CommandPolicy } from './policy';
import { messageOf } from '../../shared/wording';

export class CommandRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandRefusedError';
  }
}

export interface CommandToolContext {
  emit(event: NewEvent): unknown;
  runner?: CommandRunner;
  approver?: Approver;
  policy: CommandPolicy;
  /** The workspace folder: a command's cwd is relative to it. */
  root: string;
  /** Upper bound of a command's time (commands.timeoutMs); an agent may ask for less. */
  timeoutMs: number;
  /** Bytes of output the agent gets back and the log keeps (commands.outputLimit). */
  outputLimit: number;
  signal: AbortSignal;
  role: Role;
  taskId?: string;
  stepId?: string;
}

export interface CommandToolInput {
  command: string;
  reason: string;
  cwd?: string;
  timeoutSeconds?: number;
}

/** The folder a request names, inside the workspace ('' = the root). */
export async function resolveCommandFolder(root: string, cwd: string): Promise<string> {
  const trimmed = cwd.trim();
  if (trimmed === '' || trimmed === '.' || trimmed === './') return realpath(root);
  return (await resolveInWorkspace(root, trimmed)).abs;
}

let commandCounter = 0;

/** Approves, runs and reports one command; throws CommandRefusedError with what the agent should hear. */
export async function runAgentCommand(context: CommandToolContext, input: CommandToolInput): Promise<string> {
  const command = input.command.trim();
  const reason = input.reason.trim();
  if (!command) throw new CommandRefusedError('The command is empty: give the exact shell command to run.');
  if (!reason) throw new CommandRefusedError('Give a reason: the user reads it before approving the command.');
  let cwd = '';
  try {
    const folder = await resolveCommandFolder(context.root, input.cwd ?? '');
    const rootReal = await realpath(context.root);
    cwd = folder === rootReal ? '' : folder.slice(rootReal.length + 1).replace(/\\/g, '/');
  } catch (error) {
    throw new CommandRefusedError(`The folder ${JSON.stringify(input.cwd)} cannot be used: ${messageOf(error)}`);
  }
  const decision = await approveAction(
    { emit: context.emit, approver: context.approver, policy: context.policy, signal: context.signal },
    { subject: { kind: 'command', command, cwd, reason }, role: context.role, taskId: context.taskId, stepId: context.stepId },
  );
  if (!decision.approved) throw new CommandRefusedError(refusalText(decision, `\`${command}\``, context.role));
  if (!context.runner) throw new CommandRefusedError(`\`${command}\` was approved but this host cannot run commands.`);

  const requested = input.timeoutSeconds !== undefined && input.timeoutSeconds > 0 ? Math.round(input.timeoutSeconds * 1000) : context.timeoutMs;
  const request: CommandRequest = { command, cwd, reason, role: context.role, taskId: context.taskId, timeoutMs: Math.min(requested, context.timeoutMs), purpose: 'agent' };
  commandCounter += 1;
  const commandId = `c-${Date.now().toString(36)}-${commandCounter}`;
  context.emit({ type: 'command.started', commandId, command, cwd, purpose: 'agent', role: context.role, taskId: context.taskId, stepId: context.stepId, approvalId: decision.approvalId });
  let result: CommandResult;
  try {
    result = await context.runner.run(request, context.signal);
  } catch (error) {
    const message = messageOf(error);
    context.emit({ type: 'command.finished', commandId, exitCode: null, timedOut: false, durationMs: 0, output: message, truncated: false, taskId: context.taskId });
    throw new CommandRefusedError(`\`${command}\` could not start: ${message}`);
  }
  // The limit holds whichever runner ran it.
  const bounded = boundText(result.output, context.outputLimit);
  const truncated = result.truncated || bounded.truncated;
  const finished: NewEvent = {
    type: 'command.finished',
    commandId,
    exitCode: result.exitCode,
    timedOut: result.timedOut,
    durationMs: result.durationMs,
    output: bounded.text,
    truncated,
    taskId: context.taskId,
  };
  if (result.signal !== undefined) finished.signal = result.signal;
  context.emit(finished);
  return describeResult(command, { ...result, output: bounded.text, truncated }, request.timeoutMs, context.signal.aborted);
}

function describeResult(command: string, result: CommandResult, timeoutMs: number, cancelled: boolean): string {
  const seconds = (result.durationMs / 1000).toFixed(1);
  const head = result.timedOut
    ? `\`${command}\` timed out after ${Math.round(timeoutMs / 1000)} s and was killed (with everything it started).`
    : cancelled
      ? `\`${command}\` was stopped: the run was cancelled.`
      : result.exitCode === null
        ? `\`${command}\` was stopped${result.signal ? ` by ${result.signal}` : ''} after ${seconds} s.`
        : `\`${command}\` exited with code ${result.exitCode} after ${seconds} s.`;
  const output = result.output.trim() ? `${result.truncated ? 'Output (the middle was cut; head and tail kept):' : 'Output:'}\n${result.output}` : '(no output)';
  return `${head}\n${output}`;
}
