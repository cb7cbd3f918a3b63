// The deployer's one act: after its runbook is written, the workspace's configured deploy (a command
// or a tasks.json task) runs only when a person approves it, reading the runbook. Never by a rule,
// never by default (nothing configured: nothing runs), never by the CLI's --yes.
import type { RunConfig } from '../../shared/model';
import type { StepContext } from '../run/context';
import { approveAction, refusalText } from './approval';
import { boundText } from './output';
import { commandPolicyOf } from './policy';
import { messageOf } from '../../shared/wording';

export const RUNBOOK_ARTIFACT = 'runbook.md';
/** The runbook shown in the approval and kept in its event; the artifact holds all of it. */
const RUNBOOK_SHOWN_BYTES = 16 * 1024;

export type DeployOutcome =
  | { kind: 'not-configured'; message: string }
  | { kind: 'denied'; message: string }
  | { kind: 'deployed'; message: string }
  | { kind: 'failed'; message: string; signature: string };

/** What the configured deploy runs, resolved so the user approves the exact command line. */
async function deployCommand(context: StepContext, deploy: RunConfig['deploy']): Promise<{ command: string; cwd: string; label: string } | undefined> {
  if (deploy.taskLabel !== undefined) {
    const runner = context.ports.commandRunner;
    if (!runner?.resolveTask) throw new Error(`The deploy is the tasks.json task "${deploy.taskLabel}", which only the editor can run; set deploy.command to deploy from here.`);
    const resolved = await runner.resolveTask(deploy.taskLabel);
    const root = context.ports.workspace.root;
    const cwd = resolved.cwd === root || resolved.cwd === '' ? '' : resolved.cwd.startsWith(`${root}/`) ? resolved.cwd.slice(root.length + 1) : resolved.cwd;
    return { command: resolved.command, cwd, label: `tasks.json "${deploy.taskLabel}"` };
  }
  if (deploy.command !== undefined) return { command: deploy.command, cwd: '', label: 'deploy.command' };
  return undefined;
}

export async function deployAfterApproval(context: StepContext, taskId: string, stepId: string, runbook: string): Promise<DeployOutcome> {
  const { state, ports, signal } = context;
  let target: Awaited<ReturnType<typeof deployCommand>>;
  try {
    target = await deployCommand(context, state.config.deploy);
  } catch (error) {
    const message = messageOf(error);
    return { kind: 'failed', message, signature: `deploy-unresolved:${message}` };
  }
  if (!target) {
    return { kind: 'not-configured', message: `Runbook written (${RUNBOOK_ARTIFACT}); nothing deployed: no deploy command is configured (deploy.command or deploy.taskLabel).` };
  }
  const decision = await approveAction(
    { emit: (event) => context.emit(event), approver: ports.approver, policy: commandPolicyOf(state.config), signal },
    { subject: { kind: 'deploy', command: target.command, runbook: boundText(runbook, RUNBOOK_SHOWN_BYTES).text }, role: 'deployer', taskId, stepId },
  );
  if (!decision.approved) return { kind: 'denied', message: `Runbook written; not deployed. ${refusalText(decision, `The deploy \`${target.command}\``, 'deployer')}` };
  const runner = ports.commandRunner;
  if (!runner) return { kind: 'failed', message: 'The deploy was approved but this host cannot run commands.', signature: 'deploy-no-runner' };
  const commandId = `deploy-${state.lastSeq + 1}`;
  context.emit({ type: 'command.started', commandId, command: target.command, cwd: target.cwd, purpose: 'deploy', role: 'deployer', taskId, stepId, approvalId: decision.approvalId });
  const limit = state.config.commands.outputLimit;
  try {
    const result = await runner.run(
      { command: target.command, cwd: target.cwd, reason: `deploy (${target.label}), approved by the user`, role: 'deployer', taskId, timeoutMs: state.config.deploy.timeoutMs, purpose: 'deploy' },
      signal,
    );
    const bounded = boundText(result.output, limit);
    context.emit({
      type: 'command.finished',
      commandId,
      exitCode: result.exitCode,
      ...(result.signal !== undefined ? { signal: result.signal } : {}),
      timedOut: result.timedOut,
      durationMs: result.durationMs,
      output: bounded.text,
      truncated: result.truncated || bounded.truncated,
      taskId,
    });
    if (result.exitCode === 0) return { kind: 'deployed', message: `Deployed with \`${target.command}\` (exit 0, ${(result.durationMs / 1000).toFixed(1)} s).` };
    const how = result.timedOut ? `timed out after ${Math.round(state.config.deploy.timeoutMs / 1000)} s` : result.exitCode === null ? 'was stopped' : `exited with code ${result.exitCode}`;
    return { kind: 'failed', message: `The deploy \`${target.command}\` ${how}. Output:\n${bounded.text}`, signature: `deploy-failed:${result.timedOut ? 'timeout' : String(result.exitCode)}` };
  } catch (error) {
    const message = messageOf(error);
    context.emit({ type: 'command.finished', commandId, exitCode: null, timedOut: false, durationMs: 0, output: message, truncated: false, taskId });
    return { kind: 'failed', message: `The deploy \`${target.command}\` could not start: ${message}`, signature: 'deploy-start' };
  }
}
