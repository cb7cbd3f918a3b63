// The planning step: the planner's turn, its plan checked (shape, then graph) with one repair inside
// the turn, then plan.accepted and plan.md; the run waits for approval or starts its tasks.
import { mentionedFiles, plannerPrompt, relevantFiles, userContext } from '../agents/prompts';
import { planSchema } from '../agents/roles';
import { buildTools } from '../agents/tools';
import { checkPlan, validatePlanGraph } from '../plan/plan';
import type { AgentSteps } from './agentStep';
import type { StepContext } from './context';
import { renderPlan } from './report';
import { describeTests, type RunTests } from './tests';

export class PlanRejectedError extends Error {
  constructor(errors: string[]) {
    super(`The planner's plan is still invalid after one repair attempt:\n- ${errors.join('\n- ')}`);
    this.name = 'PlanRejectedError';
  }
}

export async function plan(context: StepContext, steps: AgentSteps, testing: RunTests): Promise<void> {
  const { state } = context;
  const stepId = steps.stepIdFor('planner', undefined, 'plan@v1');
  const files = await context.ports.workspace.listFiles('', 200);
  let rejections = 0;
  const turnAbort = new AbortController();
  const tools = buildTools({ workspace: context.ports.workspace, maxOutputChars: await steps.toolOutputLimitFor('planner') }, planSchema, (plan) => {
    const errors = validatePlanGraph(plan);
    if (errors.length) {
      rejections++;
      context.emit({ type: 'plan.rejected', errors, attempt: rejections });
      if (rejections > 1) turnAbort.abort(new PlanRejectedError(errors));
    }
    return errors;
  });
  const mentioned = await relevantFiles(context.ports.workspace, mentionedFiles(state, undefined));
  const extra = [...userContext(state, undefined), ...(mentioned.length ? ['', 'Files the user pointed at:', ...mentioned] : [])];
  const prompt = plannerPrompt(state.goal, files, state.baselineTest, testing.detected && describeTests(testing.detected), extra);
  const step = await steps.agentStep({ role: 'planner', stepId, attempt: 1, prompt, tools, stopSignal: turnAbort.signal });
  if (!step.ok) throw new Error(step.message);
  const checked = checkPlan(step.output);
  if (!checked.ok) throw new PlanRejectedError(checked.errors);
  context.emit({ type: 'plan.accepted', plan: checked.plan, repairs: rejections });
  await context.writeArtifact('plan.md', renderPlan(checked.plan));
  context.emit({ type: 'step.finished', stepId, role: 'planner', ok: true, summary: checked.plan.summary });
  context.setRun(state.config.requirePlanApproval ? 'awaiting-approval' : 'running');
}
