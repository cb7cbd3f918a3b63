// One agent turn: a streamed tool loop that ends when the agent's `finish` call is accepted. Every
// model call and every tool call is logged; the turn's own transcript never outlives the turn, so a
// retry starts from a fresh, bounded prompt instead of a growing history. Streaming is what lets the
// router's first-token timeout apply, and what a live view of the turn reads (`onTextDelta`).
import { createHash } from 'node:crypto';
import { stepCountIs, streamText, type Experimental_Steering, type FilePart, type LanguageModel, type ModelMessage, type StepResult, type StopCondition, type ToolSet } from 'ai';
import type { NewEvent } from '../../shared/events';
import type { Role } from '../../shared/model';
import { redactText } from '../log/redact';
import { BudgetExceededError } from '../budget';
import { DEFAULT_MAX_OUTPUT_TOKENS, HOSTED_DEFAULT_MAX_OUTPUT_TOKENS } from '../models/router';
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
  /**
   * The model's text as it streams in, piece by piece (unredacted: a view must redact before it
   * shows or stores it). A throw here is ignored: a view cannot break the turn.
   */
  onTextDelta?: (delta: string) => void;
  /** The text so far is one piece: a tool call or the end of a step follows (a view flushes its buffer). */
  onTextBreak?: () => void;
  /** User messages for the turn's next model call (the SDK appends them at the next step boundary). */
  steering?: Experimental_Steering;
  /** Images that go with the prompt (only for models whose spec takes images). */
  images?: FilePart[];
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

/**
 * Tool-call inputs and tool results longer than this are not kept whole: not in the step record,
 * and not in the conversation the turn's next model call sends (a refused 50 MB proposal would
 * otherwise be stored, and re-sent with every later step of the turn).
 */
export const MAX_KEPT_TOOL_CHARS = 64_000;
const KEPT_HEAD_CHARS = 2_000;

/** `text` cut to `max` characters for a log, and redacted. */
function logged(text: string, max = LOGGED_OUTPUT_CHARS): string {
  if (text.length <= max) return redactText(text);
  // Redact a little past the cut, so a key that straddles it is still recognised whole.
  return `${redactText(text.slice(0, max + 256)).slice(0, max)}… [${text.length - max} more characters]`;
}

function stringify(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function errorText(error: unknown): string {
  if (error instanceof Error) return error.message;
  return stringify(error);
}

/** What a step record keeps of a tool call's input: all of it, or its head and its size. */
function keptInput(input: unknown): unknown {
  const text = stringify(input);
  if (text.length <= MAX_KEPT_TOOL_CHARS) return input;
  return { omitted: `input of ${text.length} characters, too large to keep; its first ${KEPT_HEAD_CHARS} follow`, head: text.slice(0, KEPT_HEAD_CHARS) };
}

function keptText(text: string): string {
  return text.length <= MAX_KEPT_TOOL_CHARS ? text : `${text.slice(0, KEPT_HEAD_CHARS)}… [${text.length} characters in all; the rest was too large to keep]`;
}

/**
 * The turn's conversation with every oversized tool-call input replaced by a note, and oversized
 * tool results cut, or undefined when nothing is oversized. Returned from prepareStep, the bounded
 * messages carry forward to every later step of the turn.
 */
export function boundedHistory(messages: readonly ModelMessage[]): ModelMessage[] | undefined {
  let changed = false;
  const bounded = messages.map((message): ModelMessage => {
    if (message.role === 'assistant' && typeof message.content !== 'string') {
      let touched = false;
      const content = message.content.map((part) => {
        if (part.type !== 'tool-call') return part;
        const size = stringify(part.input).length;
        if (size <= MAX_KEPT_TOOL_CHARS) return part;
        touched = true;
        return { ...part, input: { omitted: `The input of this ${part.toolName} call (${size} characters) was too large to send again. The tool result says what became of it.` } };
      });
      if (!touched) return message;
      changed = true;
      return { ...message, content };
    }
    if (message.role === 'tool') {
      let touched = false;
      const content = message.content.map((part) => {
        if (part.type !== 'tool-result') return part;
        const { output } = part;
        if (output.type === 'text' || output.type === 'error-text') {
          if (output.value.length <= MAX_KEPT_TOOL_CHARS) return part;
          touched = true;
          return { ...part, output: { ...output, value: keptText(output.value) } };
        }
        if (output.type === 'json' || output.type === 'error-json') {
          const text = stringify(output.value);
          if (text.length <= MAX_KEPT_TOOL_CHARS) return part;
          touched = true;
          return { ...part, output: { type: output.type === 'json' ? ('text' as const) : ('error-text' as const), value: keptText(text) } };
        }
        return part;
      });
      if (!touched) return message;
      changed = true;
      return { ...message, content };
    }
    return message;
  });
  return changed ? bounded : undefined;
}

/** Stops the loop once a `finish` call went through (a rejected finish lets the agent try again). */
const finished: StopCondition<ToolSet> = ({ steps }) => {
  const last = steps[steps.length - 1];
  return !!last?.toolResults.some((result) => result.toolName === 'finish');
};

/** The error a failed stream carried, unwrapped where the SDK wrapped one of ours. */
function budgetRefusal(error: unknown): BudgetExceededError | undefined {
  if (error instanceof BudgetExceededError) return error;
  if (error instanceof Error && error.cause instanceof BudgetExceededError) return error.cause;
  return undefined;
}

export async function runAgentTurn(request: AgentTurnRequest): Promise<AgentTurnResult> {
  const { emit, stepId, taskId, role } = request;
  const toolCalls: AgentTurnResult['toolCalls'] = [];
  // Keyed by a hash of the input: a huge input is not held a second time for the loop check.
  const seenCalls = new Map<string, number>();
  const loopAbort = new AbortController();
  // A broken answer ends the turn at once: no further step may build on it.
  const brokenAbort = new AbortController();
  const steps: StepResult<ToolSet>[] = [];
  let modelCalls = 0;
  let streamError: unknown;
  const textBreak = (): void => {
    try {
      request.onTextBreak?.();
    } catch {
      // As for onTextDelta: a view cannot break the turn.
    }
  };
  try {
    const result = streamText({
      model: request.model,
      system: request.system,
      ...(request.images?.length
        ? { messages: [{ role: 'user' as const, content: [{ type: 'text' as const, text: request.prompt }, ...request.images] }] }
        : { prompt: request.prompt }),
      tools: request.tools,
      stopWhen: [finished, stepCountIs(request.maxSteps)],
      abortSignal: AbortSignal.any([request.signal, loopAbort.signal, brokenAbort.signal]),
      maxRetries: 0,
      providerOptions: { [CALL_TAG_KEY]: { role, ...(taskId ? { taskId } : {}) } },
      ...(request.steering ? { experimental_steering: request.steering } : {}),
      prepareStep: ({ messages }) => {
        const bounded = boundedHistory(messages);
        return bounded ? { messages: bounded } : undefined;
      },
      // Each model call is logged by the router (it knows which model of the chain answered).
      onLanguageModelCallEnd: () => {
        modelCalls++;
      },
      // Errors are read from the stream below; the default handler would print them to the console.
      onError: () => undefined,
      onStepEnd: (step) => {
        textBreak();
        steps.push(step);
        for (const part of step.content) {
          if (part.type === 'tool-call') {
            const input = stringify(part.input);
            emit({ type: 'tool.call', stepId, taskId, toolCallId: part.toolCallId, tool: part.toolName, input: logged(input) });
            const key = `${part.toolName} ${createHash('sha256').update(input).digest('hex')}`;
            const count = (seenCalls.get(key) ?? 0) + 1;
            seenCalls.set(key, count);
            if (count >= request.loopThreshold && !loopAbort.signal.aborted) {
              const detail = `${part.toolName}(${logged(input, 200)})`;
              emit({ type: 'loop.detected', kind: 'tool-call', detail, count, taskId, stepId });
              loopAbort.abort(new LoopDetectedError(detail, count));
            }
          } else if (part.type === 'tool-result' || part.type === 'tool-error') {
            const ok = part.type === 'tool-result';
            const output = ok ? stringify(part.output) : errorText(part.error);
            toolCalls.push({ tool: part.toolName, input: keptInput(part.input), ok, output: keptText(output) });
            emit({ type: 'tool.result', stepId, taskId, toolCallId: part.toolCallId, tool: part.toolName, ok, output: logged(output) });
          }
        }
      },
    });
    for await (const part of result.stream) {
      if (part.type === 'text-delta') {
        try {
          request.onTextDelta?.(part.text);
        } catch {
          // A view that fails to show a piece of text must not fail the task.
        }
      } else if (part.type === 'tool-call' || part.type === 'finish-step') {
        textBreak();
      } else if (part.type === 'error' && streamError === undefined) {
        streamError = part.error;
        brokenAbort.abort(part.error);
      }
    }
    if (streamError !== undefined) throw streamError;
    if (request.signal.aborted || loopAbort.signal.aborted) throw new Error('aborted');
    const last = steps.at(-1);
    const finishResult = last?.toolResults.find((entry) => entry.toolName === 'finish');
    if (!finishResult) {
      const reason = last?.finishReason === 'length'
        ? `was cut off at its output limit before it called finish; raise "maxOutputTokens" in the model's settings (without one, a call may write ${HOSTED_DEFAULT_MAX_OUTPUT_TOKENS} tokens on OpenAI and Anthropic, ${DEFAULT_MAX_OUTPUT_TOKENS} elsewhere)`
        : steps.length >= request.maxSteps
          ? `used all ${request.maxSteps} steps without calling finish`
          : 'stopped without calling finish';
      throw new AgentTurnError(`The ${role} agent ${reason}.`);
    }
    return { output: finishResult.input, modelCalls, toolCalls };
  } catch (thrown) {
    if (request.signal.aborted) throw request.signal.reason ?? thrown;
    if (loopAbort.signal.aborted) throw loopAbort.signal.reason;
    // Ending the turn on a broken answer may surface as an abort: the answer's error is the cause.
    const error = streamError ?? thrown;
    // A refused call is the run's business (pause or stop), not a failure of the task.
    const refusal = budgetRefusal(error);
    if (refusal) throw refusal;
    if (error instanceof AgentTurnError) throw error;
    throw new AgentTurnError(`The ${role} agent's model call failed: ${redactText(errorText(error))}`, error);
  }
}
