// The scripted model replays a transcript: a recorded list of model responses keyed by role and
// task. Tests, the demo and step replays use it, so the whole engine runs without a model API.
import { readFile } from 'node:fs/promises';
import type {
  LanguageModelV4,
  LanguageModelV4CallOptions,
  LanguageModelV4Content,
  LanguageModelV4GenerateResult,
  LanguageModelV4StreamPart,
  LanguageModelV4StreamResult,
} from '@ai-sdk/provider';
import { z } from 'zod';
import { UserError } from '../../shared/errors';

/** Call context the engine passes in providerOptions so a transcript can be keyed by role and task. */
export interface CallTag {
  role: string;
  taskId?: string;
}

export const CALL_TAG_KEY = 'softwareMaker';

const toolCallSchema = z
  .object({
    tool: z.string().min(1),
    input: z.record(z.string(), z.unknown()),
  })
  .strict();

const turnSchema = z
  .object({
    role: z.string().min(1),
    /** Task id; omitted for run-level roles (planner). */
    task: z.string().min(1).optional(),
    /** Text the prompt must contain: a transcript that asserts what the model was told. */
    expect: z.string().optional(),
    text: z.string().optional(),
    toolCalls: z.array(toolCallSchema).optional(),
  })
  .strict()
  .refine((turn) => turn.text !== undefined || (turn.toolCalls && turn.toolCalls.length > 0), {
    message: 'a turn needs text or at least one tool call',
  });

const transcriptSchema = z
  .object({
    version: z.literal(1),
    description: z.string().optional(),
    turns: z.array(turnSchema),
  })
  .strict();

export type Transcript = z.infer<typeof transcriptSchema>;
export type TranscriptTurn = z.infer<typeof turnSchema>;

export class TranscriptError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'TranscriptError';
  }
}

export async function loadTranscript(path: string): Promise<Transcript> {
  let raw: string;
  try {
    raw = await readFile(path, 'utf8');
  } catch (error) {
    throw new TranscriptError(`Cannot read the transcript ${path}: ${(error as Error).message}. Check the path in the model configuration.`);
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    throw new TranscriptError(`The transcript ${path} is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = transcriptSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new TranscriptError(`The transcript ${path} does not match the transcript format at ${issue?.path.join('.') || 'top level'}: ${issue?.message}`);
  }
  return parsed.data;
}

export function keyOf(role: string, taskId: string | undefined): string {
  return taskId ? `${role}/${taskId}` : role;
}

/** Rough token count for usage figures: about four characters a token. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

export interface ScriptedModelOptions {
  /** Simulated time per call, for the benchmark. */
  latencyMs?: number;
  /** Turns per key already used by steps that finished before a resume; they are not replayed. */
  consumed?: ReadonlyMap<string, number>;
}

/**
 * A LanguageModelV4 that answers each call with the next unused turn for the call's role and task.
 * Turns for different keys are independent queues, so parallel tasks replay deterministically.
 */
export class ScriptedModel implements LanguageModelV4 {
  readonly specificationVersion = 'v4';
  readonly provider = 'scripted';
  readonly supportedUrls = {};
  private readonly queues = new Map<string, TranscriptTurn[]>();
  private readonly served = new Map<string, number>();

  constructor(
    readonly modelId: string,
    transcript: Transcript,
    private readonly options: ScriptedModelOptions = {},
  ) {
    for (const turn of transcript.turns) {
      const key = keyOf(turn.role, turn.task);
      const queue = this.queues.get(key) ?? [];
      queue.push(turn);
      this.queues.set(key, queue);
    }
    for (const [key, count] of options.consumed ?? []) {
      this.queues.get(key)?.splice(0, count);
      this.served.set(key, count);
    }
  }

  async doGenerate(options: LanguageModelV4CallOptions): Promise<LanguageModelV4GenerateResult> {
    const tag = readTag(options);
    const key = keyOf(tag.role, tag.taskId);
    const callNumber = (this.served.get(key) ?? 0) + 1;
    this.served.set(key, callNumber);
    const turn = this.queues.get(key)?.shift();
    if (!turn) {
      throw new TranscriptError(`The transcript has no response left for ${key} (call ${callNumber}). The run asked more of the model than was recorded.`);
    }
    const promptText = JSON.stringify(options.prompt);
    if (turn.expect !== undefined && !promptText.includes(turn.expect)) {
      throw new TranscriptError(`Transcript turn ${key} #${callNumber} expected the prompt to contain ${JSON.stringify(turn.expect)}, and it does not.`);
    }
    if (this.options.latencyMs) await delay(this.options.latencyMs, options.abortSignal);
    options.abortSignal?.throwIfAborted();

    const content: LanguageModelV4Content[] = [];
    if (turn.text !== undefined) content.push({ type: 'text', text: turn.text });
    turn.toolCalls?.forEach((call, index) => {
      content.push({
        type: 'tool-call',
        toolCallId: `${key}-${callNumber}-${index}`,
        toolName: call.tool,
        input: JSON.stringify(call.input),
      });
    });
    const outputText = JSON.stringify(content);
    // Providers bill the tool definitions they are sent as input too.
    const inputTokens = estimateTokens(promptText + JSON.stringify(options.tools ?? []));
    const outputTokens = estimateTokens(outputText);
    return {
      content,
      finishReason: { unified: turn.toolCalls?.length ? 'tool-calls' : 'stop', raw: undefined },
      usage: {
        inputTokens: { total: inputTokens, noCache: inputTokens, cacheRead: 0, cacheWrite: 0 },
        outputTokens: { total: outputTokens, text: outputTokens, reasoning: 0 },
      },
      warnings: [],
    };
  }

  async doStream(options: LanguageModelV4CallOptions): Promise<LanguageModelV4StreamResult> {
    const result = await this.doGenerate(options);
    const parts: LanguageModelV4StreamPart[] = [{ type: 'stream-start', warnings: [] }];
    for (const part of result.content) {
      if (part.type === 'text') {
        parts.push({ type: 'text-start', id: 't' }, { type: 'text-delta', id: 't', delta: part.text }, { type: 'text-end', id: 't' });
      } else if (part.type === 'tool-call') {
        parts.push(part);
      }
    }
    parts.push({ type: 'finish', usage: result.usage, finishReason: result.finishReason });
    return {
      stream: new ReadableStream({
        start(controller) {
          for (const part of parts) controller.enqueue(part);
          controller.close();
        },
      }),
    };
  }
}

function readTag(options: LanguageModelV4CallOptions): CallTag {
  const tag = options.providerOptions?.[CALL_TAG_KEY] as Partial<CallTag> | undefined;
  if (!tag || typeof tag.role !== 'string') {
    throw new TranscriptError('The scripted model was called without a role tag; only the engine can drive it.');
  }
  return { role: tag.role, taskId: typeof tag.taskId === 'string' ? tag.taskId : undefined };
}

function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}
