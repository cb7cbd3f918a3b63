// One agent turn: a tool loop that ends when the agent's `finish` call is accepted. Every model call
// and every tool call is logged; the turn's own transcript never outlives the turn, so a retry
// starts from a fresh, bounded prompt instead of a growing history.
import { generateText, stepCountIs, type LanguageModel, type StopCondition, type ToolSet } from 'ai';
import type { NewEvent } from '../../shared/events';
import type { Role } from '../../shared/model';
import { redactText } from '../log/redact';
import { BudgetExceededError } from '../budget';
import { CALL_TAG_KEY } from '../models/scripted';

export interface AgentTurnRequest {
  role: Role;
  taskId?: string;
  stepId: string;
  model: LanguageModel;
  system: string;
  prompt: string;
  tools: ToolSet;
  maxSteps: number;
  /** The same tool call with the same input this many times in one turn ends the turn as a loop. */
  loopThreshold: number;
  signal: AbortSignal;
  emit: (event: NewEvent) => void;
}

export interface AgentTurnResult {
  /** The accepted input of the `finish` call. */
  output: unknown;
  modelCalls: number;
  toolCalls: { tool: string; input: unknown; ok: boolean; output: string }[];
}

/** The agent repeated one tool call with the same input until the loop threshold. */
export class LoopDetectedError extends Error {
  constructor(
    readonly detail: string,
    readonly count: number,
  ) {
    super(`The agent called ${detail} ${count} times with the same input and was stopped: it was going in circles.`);
    this.name = 'LoopDetectedError';
  }
}

export class AgentTurnError extends Error {
  constructor(
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'AgentTurnError';
  }
}

const LOGGED_OUTPUT_CHARS = 2_000;

function clip(text: string, max = LOGGED_OUTPUT_CHARS): string {
  return text.length > max ? `${text.slice(0, max)}… [${text.length - max} more characters]` : text;
}

function stringify(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

function errorText(error: unknown): string {
  if (error instanceof Error) return error.message;
  return stringify(error);
}

/** Stops the loop once a `finish` call went through (a rejected finish lets the agent try again). */
const finished: StopCondition<ToolSet> = ({ steps }) => {
  const last = steps[steps.length - 1];
  return !!last?.toolResults.some((result) => result.toolName === 'finish');
};

export async function runAgentTurn(request: AgentTurnRequest): Promise<AgentTurnResult> {
  const { emit, stepId, taskId, role } = request;
  const toolCalls: AgentTurnResult['toolCalls'] = [];
  const seenCalls = new Map<string, number>();
  const loopAbort = new AbortController();
  let modelCalls = 0;
  try {
    const result = await generateText({
      model: request.model,
      system: request.system,
      prompt: request.prompt,
      tools: request.tools,
      stopWhen: [finished, stepCountIs(request.maxSteps)],
      abortSignal: AbortSignal.any([request.signal, loopAbort.signal]),
      maxRetries: 0,
      providerOptions: { [CALL_TAG_KEY]: { role, ...(taskId ? { taskId } : {}) } },
      // Each model call is logged by the router (it knows which model of the chain answered).
      onLanguageModelCallEnd: () => {
        modelCalls++;
      },
      onStepFinish: (step) => {
        for (const part of step.content) {
          if (part.type === 'tool-call') {
            const input = stringify(part.input);
            emit({ type: 'tool.call', stepId, taskId, toolCallId: part.toolCallId, tool: part.toolName, input: clip(redactText(input)) });
            const key = `${part.toolName} ${input}`;
            const count = (seenCalls.get(key) ?? 0) + 1;
            seenCalls.set(key, count);
            if (count >= request.loopThreshold && !loopAbort.signal.aborted) {
              const detail = `${part.toolName}(${clip(redactText(input), 200)})`;
              emit({ type: 'loop.detected', kind: 'tool-call', detail, count, taskId, stepId });
              loopAbort.abort(new LoopDetectedError(detail, count));
            }
          } else if (part.type === 'tool-result' || part.type === 'tool-error') {
            const ok = part.type === 'tool-result';
            const output = ok ? stringify(part.output) : errorText(part.error);
            toolCalls.push({ tool: part.toolName, input: part.input, ok, output });
            emit({ type: 'tool.result', stepId, taskId, toolCallId: part.toolCallId, tool: part.toolName, ok, output: clip(redactText(output)) });
          }
        }
      },
    });
    const finishResult = result.steps.at(-1)?.toolResults.find((entry) => entry.toolName === 'finish');
    if (!finishResult) {
      const reason = result.steps.length >= request.maxSteps
        ? `used all ${request.maxSteps} steps without calling finish`
        : 'stopped without calling finish';
      throw new AgentTurnError(`The ${role} agent ${reason}.`);
    }
    return { output: finishResult.input, modelCalls, toolCalls };
  } catch (error) {
    if (request.signal.aborted) throw request.signal.reason ?? error;
    if (loopAbort.signal.aborted) throw loopAbort.signal.reason;
    // A refused call is the run's business (pause or stop), not a failure of the task.
    if (error instanceof BudgetExceededError) throw error;
    if (error instanceof AgentTurnError) throw error;
    throw new AgentTurnError(`The ${role} agent's model call failed: ${redactText(errorText(error))}`, error);
  }
}
