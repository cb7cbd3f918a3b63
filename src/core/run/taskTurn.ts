// A task's agent turn: the implementer's first attempt or the fixer's next one, with a prompt
// rebuilt from the folded state, edits staged (never written) and stored as a proposal for review.
import { join } from 'node:path';
import type { z } from 'zod';
import type { Role } from '../../shared/model';
import type { RunState, TaskState } from '../../shared/runState';
import { taskPrompt } from '../agents/prompts';
import { deployOutputSchema, webTestOutputSchema, workOutputSchema } from '../agents/roles';
import { buildTools, type ToolContext } from '../agents/tools';
import { runAgentCommand } from '../commands/agentCommand';
import { deployAfterApproval, RUNBOOK_ARTIFACT } from '../commands/deploy';
import { commandPolicyOf, roleMayRunCommands } from '../commands/policy';
import { describeChange, EditSet } from '../edits/editSet';
import { refuseSecretText } from '../secrets';
import type { AgentSteps } from './agentStep';
import type { StepContext } from './context';
import { proposalIdPrefix, type ProposalArtifact } from './landing';
import { freshStepId } from './replay';
import type { RunTests } from './tests';

const STAGE_BY_ROLE: Record<Role, string> = {
  planner: 'plan',
  architect: 'design',
  implementer: 'implement',
  tester: 'test',
  reviewer: 'review',
  fixer: 'fix',
  docs: 'docs',
  security: 'security',
  deployer: 'deploy',
  web_tester: 'webtest',
};

export async function agentTurn(context: StepContext, steps: AgentSteps, testing: RunTests, task: TaskState): Promise<void> {
  const { state, ports } = context;
  const open = Object.values(state.openSteps).find((step) => step.taskId === task.id && step.role !== 'reviewer');
  const attempt = open?.attempt ?? task.attempts + 1;
  // A failed deploy is retried by the deployer (it writes the runbook the next approval shows), not the fixer.
  const role: Role = attempt === 1 || task.role === 'deployer' ? task.role : 'fixer';
  const stepId = open?.stepId ?? freshStepId(state.stepIds, `${task.id}:${STAGE_BY_ROLE[role]}@v${attempt}`);
  // The prompt reads the failure of the previous attempt, so build it before the step starts.
  const prompt = await taskPrompt(state, task, attempt, ports.workspace, touchedFiles(state, task.id));
  const edits = new EditSet(ports.workspace, task.files, refuseSecretText);
  const maxOutputChars = await steps.toolOutputLimitFor(role, task.modelOverride);
  // The web tester's first turn writes the flows; fixes are checked against them, never rewrite them.
  const writesFlows = task.role === 'web_tester' && (role === 'web_tester' || !task.webFlows);
  const deploys = task.role === 'deployer';
  const toolContext: ToolContext = { workspace: ports.workspace, runTests: () => testing.quietly(), maxOutputChars, runCommand: commandToolFor(context, role, task.id, stepId) };
  // The deployer writes a runbook and edits nothing: what it ships was reviewed in the tasks before it.
  if (!deploys) toolContext.edits = edits;
  const tools = buildTools(toolContext, deploys ? deployOutputSchema : writesFlows ? webTestOutputSchema : workOutputSchema);
  const step = await steps.agentStep({ role, stepId, taskId: task.id, attempt, prompt, tools, modelId: task.modelOverride });
  if (!step.ok) {
    context.fail(task.id, step.message, step.signature);
    return;
  }
  const output = step.output as z.infer<typeof workOutputSchema>;
  if (deploys) {
    await deployTurnEnd(context, task.id, stepId, step.output as z.infer<typeof deployOutputSchema>);
    return;
  }
  if (writesFlows) context.emit({ type: 'webtest.planned', taskId: task.id, flows: (step.output as z.infer<typeof webTestOutputSchema>).flows });
  const changed = edits.changed();
  if (changed.length) {
    const proposalId = `${proposalIdPrefix(task.id, attempt)}${state.lastSeq + 1}`;
    const artifact: ProposalArtifact = { proposalId, taskId: task.id, files: changed };
    await context.writeArtifact(join('proposals', `${proposalId}.json`), JSON.stringify(artifact), task.id);
    context.emit({ type: 'edit.proposed', taskId: task.id, proposalId, files: changed.map(describeChange) });
    context.setTask(task.id, 'awaiting-review', output.summary);
  } else {
    context.setTask(task.id, 'testing', `no edits: ${output.summary}`);
  }
  context.emit({ type: 'step.finished', stepId, taskId: task.id, role, ok: true, summary: output.summary });
}

/** run_command for a role the policy lets run commands (commands.roles), else none. */
function commandToolFor(context: StepContext, role: Role, taskId: string, stepId: string): ToolContext['runCommand'] {
  const { state, ports } = context;
  const policy = commandPolicyOf(state.config);
  if (!roleMayRunCommands(role, policy) || !ports.commandRunner) return undefined;
  return (input) =>
    runAgentCommand(
      {
        emit: (event) => context.emit(event),
        runner: ports.commandRunner,
        approver: ports.approver,
        policy,
        root: ports.workspace.root,
        timeoutMs: state.config.commands.timeoutMs,
        outputLimit: state.config.commands.outputLimit,
        signal: context.signal,
        role,
        taskId,
        stepId,
      },
      input,
    );
}

/** The deployer's turn ends with its runbook as an artifact and, if the user approves, the deploy. */
async function deployTurnEnd(context: StepContext, taskId: string, stepId: string, output: z.infer<typeof deployOutputSchema>): Promise<void> {
  await context.writeArtifact(RUNBOOK_ARTIFACT, output.runbook, taskId);
  const outcome = await deployAfterApproval(context, taskId, stepId, output.runbook);
  if (outcome.kind === 'failed') {
    context.emit({ type: 'step.finished', stepId, taskId, role: 'deployer', ok: false, summary: outcome.message });
    context.fail(taskId, outcome.message, outcome.signature);
    return;
  }
  if (outcome.kind !== 'deployed') context.info(outcome.message, outcome.kind === 'denied' ? 'warn' : 'info', taskId);
  context.setTask(taskId, 'testing', `${outcome.kind === 'deployed' ? outcome.message : outcome.message.split('\n')[0]} ${output.summary}`.trim());
  context.emit({ type: 'step.finished', stepId, taskId, role: 'deployer', ok: true, summary: output.summary });
}

/** The files the task's proposals touched so far (the next attempt's prompt shows their current text). */
function touchedFiles(state: RunState, taskId: string): string[] {
  return Object.values(state.proposals)
    .filter((proposal) => proposal.taskId === taskId)
    .flatMap((proposal) => proposal.files.map((file) => file.path));
}
