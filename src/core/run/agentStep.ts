// One agent turn as a logged step of a run: step.started, the tool loop behind the budget gate and
// the router, and the step's record beside the log (steps/<stepId>.json), which replays run from.
import { experimental_createSteering, type ToolSet } from 'ai';
import type { Role } from '../../shared/model';
import { systemPrompt } from '../agents/roles';
import { AgentTextStream } from '../agents/agentText';
import { messagesFor } from '../agents/prompts';
import { LoopDetectedError, runAgentTurn, type AgentTurnResult } from '../agents/runAgent';
import { toolOutputLimit } from '../agents/tools';
import type { BudgetExceededError, BudgetGate } from '../budget';
import type { CircuitBreakers } from '../models/breakers';
import type { RunModels } from '../models/registry';
import { turnModel } from '../models/turnModel';
import type { StepContext } from './context';
import { imageParts, type Guidance } from './guidance';
import { freshStepId, stepRecordName, type StepRecord } from './replay';
import type { TurnExtras } from './turnExtras';
import { messageOf } from '../../shared/wording';

export interface AgentStepRequest {
  role: Role;
  stepId: string;
  taskId?: string;
  attempt: number;
  prompt: string;
  tools: ToolSet;
  /** Ends the turn early with its reason as the error (the planner's repair limit). */
  stopSignal?: AbortSignal;
  /** A model the user pinned for this task, instead of the role's chain. */
  modelId?: string;
}

export type AgentStepOutcome = { ok: true; output: unknown } | { ok: false; message: string; signature: string };

export class AgentSteps {
  constructor(
    private readonly context: StepContext,
    private readonly models: RunModels,
    private readonly calls: {
      /** Circuit breakers shared by every run of the engine. */
      breakers: CircuitBreakers;
      budget: BudgetGate;
      /** A call was refused by the budget gate: the driver pauses or stops the run. */
      onBudgetBreach: (error: BudgetExceededError) => void;
      /** The user's messages: in the prompt, or steered into the turn's next model call. */
      guidance?: Guidance;
    },
    /** The run's rules files and MCP tools, added to every turn. */
    private readonly extras?: TurnExtras,
  ) {}

  /**
   * One agent turn as a logged step: step.started, the tool loop, and the step's record (inputs and
   * output, versioned by attempt) beside the log. A failed turn is closed here and reported; a
   * successful one is closed by the caller after it has logged what the output led to.
   */
  async agentStep(step: AgentStepRequest): Promise<AgentStepOutcome> {
    const { state, signal } = this.context;
    const { role, stepId, taskId, attempt, prompt } = step;
    const chain = step.modelId ? [await this.models.byId(step.modelId)] : await this.models.chainFor(role);
    const system = this.extras ? this.extras.system(systemPrompt(role)) : systemPrompt(role);
    const mcpTools = this.extras ? this.extras.tools(role, taskId, stepId, await this.toolOutputLimitFor(role, step.modelId)) : {};
    this.context.emit({ type: 'step.started', stepId, taskId, role, attempt, model: chain.map((entry) => entry.id).join(' > ') });
    const turn = turnModel({
      chain,
      breakers: this.calls.breakers,
      timeouts: state.config.timeouts,
      stepId,
      role,
      taskId,
      emit: (event) => void this.context.emit(event),
      budget: this.calls.budget,
      onBudgetBreach: (error) => this.calls.onBudgetBreach(error),
    });
    let result: AgentTurnResult;
    const steering = experimental_createSteering();
    const text = new AgentTextStream((piece) => void this.context.emit({ type: 'agent.text', stepId, taskId, role, ...piece }));
    const imageNames = [...state.goalImages, ...messagesFor(state, taskId).flatMap((message) => message.images)];
    const images = imageNames.length ? await imageParts(this.context.runDir, imageNames) : undefined;
    this.calls.guidance?.open(stepId, taskId, steering);
    try {
      result = await runAgentTurn({
        role,
        taskId,
        stepId,
        model: turn.model,
        system,
        prompt,
        // The role's own tools win a name clash (MCP names all start with mcp__, so none is expected).
        tools: { ...mcpTools, ...step.tools },
        maxSteps: state.config.maxAgentSteps,
        loopThreshold: state.config.loopThreshold,
        signal: step.stopSignal ? AbortSignal.any([signal, step.stopSignal]) : signal,
        emit: (event) => void this.context.emit(event),
        onTextDelta: (delta) => text.push(delta),
        onTextBreak: () => text.flush(),
        steering,
        images,
      });
    } catch (error) {
      this.endText(text, stepId);
      if (signal.aborted) throw error;
      const message = messageOf(error);
      this.context.emit({ type: 'step.finished', stepId, taskId, role, ok: false, summary: message });
      const signature = error instanceof LoopDetectedError ? `loop:${error.detail}` : `error:${message.split('\n')[0]}`;
      return { ok: false, message, signature };
    } finally {
      turn.settle();
    }
    this.endText(text, stepId);
    // The model that answered last is the one the record names (a fallback may have served the turn).
    const record: StepRecord = { stepId, role, taskId, attempt, model: turn.answeredBy() ?? chain[0]!.id, system, prompt, result };
    await this.context.writeArtifact(stepRecordName(stepId), JSON.stringify(record, null, 2), taskId);
    return { ok: true, output: result.output };
  }

  /** The turn is over: its last words are logged, and later messages wait for the task's next turn. */
  private endText(text: AgentTextStream, stepId: string): void {
    this.calls.guidance?.close(stepId);
    // After a cancel the run has ended and takes no more events; the words are lost with the turn.
    if (this.context.signal.aborted) text.discard();
    else text.end();
  }

  /** The open step of this role and task when it is re-run after a resume; else `wanted`, or the next free version (a replay took it). */
  stepIdFor(role: Role, taskId: string | undefined, wanted: string): string {
    const open = Object.values(this.context.state.openSteps).find((step) => step.role === role && step.taskId === taskId);
    return open?.stepId ?? freshStepId(this.context.state.stepIds, wanted);
  }

  /** Tool results must fit the smallest context window of the models that may serve the turn. */
  async toolOutputLimitFor(role: Role, modelOverride?: string): Promise<number> {
    const chain = modelOverride ? [await this.models.byId(modelOverride)] : await this.models.chainFor(role);
    const windows = chain.map((entry) => entry.spec.contextWindow).filter((size): size is number => size !== undefined);
    return toolOutputLimit(windows.length ? Math.min(...windows) : undefined);
  }
}
