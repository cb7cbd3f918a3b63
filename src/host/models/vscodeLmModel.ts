// An ai SDK LanguageModelV4 over a VS Code chat model (vscode.lm): Copilot and any other chat model
// the user already has. The agents' tool loop runs unchanged on it: the ai SDK prompt becomes
// LanguageModelChatMessages, tools go in as LanguageModelChatTools with their JSON schemas, and the
// response stream comes back as text and tool-call parts.
//
// The vscode namespace is handed in (`VscodeLmApi`) rather than imported, so the plain-Node unit
// tests run this file against a stub: only `import type` from 'vscode' here.
//
// Consent: VS Code asks the user the first time an extension sends a request to a chat model, and
// that first request must follow a user action. Software Maker only sends requests from runs the
// user started (New Goal, the panel's Start, Resume, the resume offer after a reload) or from
// "Test Model Connection", and names why in `justification`, so the consent dialog appears in
// answer to what the user just did. A refusal comes back as NoPermissions and is explained below.
import { APICallError } from '@ai-sdk/provider';
import type {
  LanguageModelV4,
  LanguageModelV4CallOptions,
  LanguageModelV4Content,
  LanguageModelV4FinishReason,
  LanguageModelV4GenerateResult,
  LanguageModelV4Prompt,
  LanguageModelV4StreamPart,
  LanguageModelV4StreamResult,
  LanguageModelV4ToolResultOutput,
  LanguageModelV4Usage,
  SharedV4Warning,
} from '@ai-sdk/provider';
import type * as vscode from 'vscode';

/** The parts of the vscode namespace the adapter uses; the real `vscode` module satisfies it. */
export type VscodeLmApi = Pick<
  typeof vscode,
  | 'LanguageModelChatMessage'
  | 'LanguageModelTextPart'
  | 'LanguageModelToolCallPart'
  | 'LanguageModelToolResultPart'
  | 'LanguageModelChatToolMode'
  | 'LanguageModelError'
  | 'CancellationTokenSource'
>;

/** What VS Code is told when it asks the user for consent. */
export const LM_JUSTIFICATION = 'Software Maker\'s agents use this model to plan, edit and review the goal you started.';

/** `providerMetadata` key and `usage.raw` marker of this adapter. */
export const VSCODE_LM_PROVIDER = 'vscode-lm';

type ChatMessage = vscode.LanguageModelChatMessage;
type ChatPart = vscode.LanguageModelTextPart | vscode.LanguageModelToolResultPart | vscode.LanguageModelToolCallPart;

/** The LanguageModelChat the adapter talks to, described for messages. */
export function describeChat(chat: Pick<vscode.LanguageModelChat, 'name' | 'vendor' | 'family' | 'id'>): string {
  return `"${chat.name}" (${chat.vendor}/${chat.family}, id ${chat.id})`;
}

/**
 * Converts an ai SDK prompt to chat messages. The chat API has only user and assistant roles:
 * system text goes in as a user message at its place (first, in practice), tool results as user
 * messages of LanguageModelToolResultParts right after the assistant's tool calls.
 */
export function toChatMessages(api: VscodeLmApi, prompt: LanguageModelV4Prompt, warnings: SharedV4Warning[] = []): ChatMessage[] {
  const messages: ChatMessage[] = [];
  let systemText: string[] = [];
  const flushSystem = (): void => {
    if (systemText.length === 0) return;
    messages.push(api.LanguageModelChatMessage.User(systemText.join('\n\n')));
    systemText = [];
  };
  for (const message of prompt) {
    if (message.role === 'system') {
      // Consecutive system messages become one user message.
      systemText.push(message.content);
      continue;
    }
    flushSystem();
    switch (message.role) {
      case 'user': {
        const parts: vscode.LanguageModelTextPart[] = [];
        for (const part of message.content) {
          if (part.type === 'text') parts.push(new api.LanguageModelTextPart(part.text));
          else {
            warnings.push({ type: 'unsupported', feature: 'file parts', details: `VS Code chat models take text only; the file ${part.filename ?? `(${part.mediaType})`} was left out.` });
            parts.push(new api.LanguageModelTextPart(`[attached file ${part.filename ?? part.mediaType} left out: this model takes text only]`));
          }
        }
        if (parts.length > 0) messages.push(api.LanguageModelChatMessage.User(parts));
        break;
      }
      case 'assistant': {
        const parts: (vscode.LanguageModelTextPart | vscode.LanguageModelToolCallPart)[] = [];
        for (const part of message.content) {
          if (part.type === 'text') {
            if (part.text) parts.push(new api.LanguageModelTextPart(part.text));
          } else if (part.type === 'tool-call') {
            parts.push(new api.LanguageModelToolCallPart(part.toolCallId, part.toolName, toolInputObject(part.input)));
          }
          // Reasoning, files and provider-executed results of earlier answers are not sent back.
        }
        if (parts.length > 0) messages.push(api.LanguageModelChatMessage.Assistant(parts));
        break;
      }
      case 'tool': {
        const parts: vscode.LanguageModelToolResultPart[] = [];
        for (const part of message.content) {
          if (part.type !== 'tool-result') continue;
          parts.push(new api.LanguageModelToolResultPart(part.toolCallId, [new api.LanguageModelTextPart(toolResultText(part.output))]));
        }
        if (parts.length > 0) messages.push(api.LanguageModelChatMessage.User(parts));
        break;
      }
    }
  }
  flushSystem();
  return messages;
}

/** The chat API wants a tool call's input as an object; the ai SDK may hold it as JSON text. */
function toolInputObject(input: unknown): object {
  if (typeof input === 'string') {
    try {
      const parsed: unknown = JSON.parse(input);
      return typeof parsed === 'object' && parsed !== null ? parsed : { value: parsed };
    } catch {
      return { value: input };
    }
  }
  return typeof input === 'object' && input !== null ? input : { value: input };
}

/** A tool result as the text the model reads; errors say so, so the model can correct itself. */
export function toolResultText(output: LanguageModelV4ToolResultOutput): string {
  switch (output.type) {
    case 'text':
      return output.value;
    case 'json':
      return JSON.stringify(output.value);
    case 'error-text':
      return `Error: ${output.value}`;
    case 'error-json':
      return `Error: ${JSON.stringify(output.value)}`;
    case 'execution-denied':
      return `The tool call was not run: ${output.reason ?? 'the user denied it'}.`;
    case 'content':
      return output.value.map((item) => (item.type === 'text' ? item.text : item.type === 'file' ? `[file ${item.filename ?? item.mediaType} left out]` : '')).join('\n');
  }
}

/** The call's function tools as chat tools, and the tool mode its toolChoice asks for. */
export function toChatTools(
  api: VscodeLmApi,
  options: Pick<LanguageModelV4CallOptions, 'tools' | 'toolChoice'>,
  warnings: SharedV4Warning[] = [],
): { tools?: vscode.LanguageModelChatTool[]; toolMode?: vscode.LanguageModelChatToolMode } {
  const choice = options.toolChoice ?? { type: 'auto' };
  if (!options.tools?.length || choice.type === 'none') return {};
  const tools: vscode.LanguageModelChatTool[] = [];
  for (const tool of options.tools) {
    if (tool.type !== 'function') {
      warnings.push({ type: 'unsupported', feature: `provider tool ${tool.id}`, details: 'VS Code chat models take function tools only.' });
      continue;
    }
    if (choice.type === 'tool' && tool.name !== choice.toolName) continue;
    tools.push({ name: tool.name, description: tool.description ?? '', inputSchema: tool.inputSchema as object });
  }
  if (tools.length === 0) return {};
  const required = choice.type === 'required' || choice.type === 'tool';
  return { tools, toolMode: required ? api.LanguageModelChatToolMode.Required : api.LanguageModelChatToolMode.Auto };
}

/** A LanguageModelError (or one serialized across the extension-host boundary) with its code. */
function lmErrorCode(api: VscodeLmApi, error: unknown): string | undefined {
  if (error instanceof api.LanguageModelError) return error.code;
  const code: unknown = error instanceof Error && error.name === 'LanguageModelError' ? (error as Error & { code?: unknown }).code : undefined;
  if (typeof code === 'string') return code;
  return undefined;
}

/**
 * Turns what a chat request threw into an error that says what happened and what to do. The
 * LanguageModelError codes become APICallErrors with the matching HTTP status, so the router treats
 * them like any provider's: Blocked (quota, rate limit) is a 429 and falls over to the next model of
 * the role's chain; NoPermissions (403) and NotFound (404) do not.
 */
export function explainLmError(api: VscodeLmApi, error: unknown, chat: Pick<vscode.LanguageModelChat, 'name' | 'vendor' | 'family' | 'id'>): Error {
  const code = lmErrorCode(api, error);
  const detail = error instanceof Error && error.message ? ` (VS Code said: ${error.message})` : '';
  const url = `vscode-lm://${chat.vendor}/${chat.id}`;
  const named = describeChat(chat);
  const make = (statusCode: number, message: string, isRetryable: boolean): APICallError =>
    new APICallError({ message, url, requestBodyValues: {}, statusCode, isRetryable, cause: error });
  switch (code) {
    case 'NoPermissions':
      return make(
        403,
        `The user has not allowed Software Maker to use ${named}${detail}. Run a goal from a command (Software Maker: New Goal) or run "Software Maker: Test Model Connection" so VS Code can ask, and choose Allow. A refusal can be undone in the Accounts menu (Manage Language Model Access).`,
        false,
      );
    case 'NotFound':
      return make(
        404,
        `VS Code no longer has the chat model ${named}${detail}: the extension that provides it may be disabled, updated or signed out. Sign in again, or pick another model with "Software Maker: Configure Models".`,
        false,
      );
    case 'Blocked':
      return make(
        429,
        `VS Code blocked the request to ${named}${detail}: its quota or rate limit is used up. Wait and resume, or add a fallback model to the role in softwareMaker.roles.`,
        true,
      );
    case undefined:
      return error instanceof Error ? error : new Error(`The chat model ${named} failed: ${String(error)}`);
    default: {
      const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
      return make(500, `The chat model ${named} failed (${code || 'unknown error'})${detail}${cause}. Try again, or use another model.`, false);
    }
  }
}

interface ResponseOutcome {
  content: LanguageModelV4Content[];
  outputText: string;
}

/** A LanguageModelV4 over one VS Code chat model. */
export class VscodeLmChatModel implements LanguageModelV4 {
  readonly specificationVersion = 'v4';
  readonly provider = VSCODE_LM_PROVIDER;
  readonly supportedUrls = {};

  constructor(
    private readonly api: VscodeLmApi,
    readonly chat: vscode.LanguageModelChat,
  ) {}

  get modelId(): string {
    return this.chat.id;
  }

  async doGenerate(options: LanguageModelV4CallOptions): Promise<LanguageModelV4GenerateResult> {
    const { stream, request } = await this.doStream(options);
    const content: LanguageModelV4Content[] = [];
    let text = '';
    let finish: Extract<LanguageModelV4StreamPart, { type: 'finish' }> | undefined;
    let warnings: SharedV4Warning[] = [];
    const reader = stream.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      switch (value.type) {
        case 'stream-start':
          warnings = value.warnings;
          break;
        case 'text-delta':
          text += value.delta;
          break;
        case 'tool-call':
          content.push(value);
          break;
        case 'finish':
          finish = value;
          break;
        case 'error':
          throw value.error;
        default:
          break;
      }
    }
    if (!finish) throw new Error(`The chat model ${describeChat(this.chat)} ended its answer without finishing. Try again.`);
    if (text) content.unshift({ type: 'text', text });
    return { content, finishReason: finish.finishReason, usage: finish.usage, providerMetadata: finish.providerMetadata, request, warnings, response: { modelId: this.chat.id } };
  }

  /**
   * Sends the request before returning, so a refused request (no consent, model gone, quota)
   * throws here and the router can fall over before any output; the stream then carries the answer.
   */
  async doStream(options: LanguageModelV4CallOptions): Promise<LanguageModelV4StreamResult> {
    const { api, chat } = this;
    const signal = options.abortSignal;
    signal?.throwIfAborted();
    const warnings: SharedV4Warning[] = [];
    const messages = toChatMessages(api, options.prompt, warnings);
    const { tools, toolMode } = toChatTools(api, options, warnings);
    if (options.responseFormat?.type === 'json') warnings.push({ type: 'unsupported', feature: 'responseFormat json', details: 'VS Code chat models have no JSON mode; the prompt must ask for JSON.' });

    const source = new api.CancellationTokenSource();
    const onAbort = (): void => source.cancel();
    signal?.addEventListener('abort', onAbort, { once: true });
    const release = (): void => {
      signal?.removeEventListener('abort', onAbort);
      source.dispose();
    };
    const request = { body: { messages: messages.length, tools: tools?.map((tool) => tool.name) ?? [] } };

    let response: vscode.LanguageModelChatResponse;
    try {
      response = await chat.sendRequest(messages, { justification: LM_JUSTIFICATION, ...(tools ? { tools, toolMode } : {}) }, source.token);
    } catch (error) {
      release();
      if (signal?.aborted) throw abortReason(signal);
      throw explainLmError(api, error, chat);
    }

    const inputTokens = this.countInput(messages, tools, source.token);
    const pump = (controller: ReadableStreamDefaultController<LanguageModelV4StreamPart>): Promise<ResponseOutcome> => this.pump(response, controller, signal);
    const usageOf = (input: number, outputText: string): Promise<LanguageModelV4Usage> => this.usageOf(input, outputText, source.token);
    // Once the reader cancels, the controller refuses parts: nothing more is enqueued then.
    let cancelled = false;
    const stream = new ReadableStream<LanguageModelV4StreamPart>({
      async start(controller) {
        controller.enqueue({ type: 'stream-start', warnings });
        controller.enqueue({ type: 'response-metadata', modelId: chat.id });
        try {
          const outcome = await pump(controller);
          const usage = await usageOf(await inputTokens, outcome.outputText);
          const finishReason: LanguageModelV4FinishReason = { unified: outcome.content.some((part) => part.type === 'tool-call') ? 'tool-calls' : 'stop', raw: undefined };
          if (!cancelled) controller.enqueue({ type: 'finish', usage, finishReason, providerMetadata: { [VSCODE_LM_PROVIDER]: { usageEstimated: true } } });
        } catch (error) {
          if (!cancelled) controller.enqueue({ type: 'error', error: signal?.aborted ? abortReason(signal) : explainLmError(api, error, chat) });
        } finally {
          release();
          if (!cancelled) controller.close();
        }
      },
      cancel() {
        cancelled = true;
        source.cancel();
      },
    });
    return { stream, request };
  }

  /** Forwards the response's parts; returns what was said, for the usage count. */
  private async pump(response: vscode.LanguageModelChatResponse, controller: ReadableStreamDefaultController<LanguageModelV4StreamPart>, signal: AbortSignal | undefined): Promise<ResponseOutcome> {
    const { api } = this;
    const content: LanguageModelV4Content[] = [];
    let outputText = '';
    let textOpen = false;
    let textId = 0;
    for await (const part of response.stream) {
      signal?.throwIfAborted();
      if (part instanceof api.LanguageModelTextPart) {
        if (!part.value) continue;
        if (!textOpen) {
          controller.enqueue({ type: 'text-start', id: `text-${textId}` });
          textOpen = true;
        }
        controller.enqueue({ type: 'text-delta', id: `text-${textId}`, delta: part.value });
        outputText += part.value;
      } else if (part instanceof api.LanguageModelToolCallPart) {
        if (textOpen) {
          controller.enqueue({ type: 'text-end', id: `text-${textId++}` });
          textOpen = false;
        }
        const input = JSON.stringify(part.input ?? {});
        const call = { type: 'tool-call' as const, toolCallId: part.callId, toolName: part.name, input };
        controller.enqueue(call);
        content.push(call);
        outputText += `${part.name}${input}`;
      }
      // Other parts (future data parts) are ignored.
    }
    signal?.throwIfAborted();
    if (textOpen) controller.enqueue({ type: 'text-end', id: `text-${textId}` });
    return { content, outputText };
  }

  /** Input tokens by the model's own tokenizer; the chat API reports no usage. */
  private async countInput(messages: ChatMessage[], tools: vscode.LanguageModelChatTool[] | undefined, token: vscode.CancellationToken): Promise<number> {
    let total = 0;
    for (const message of messages) total += await this.count(message, chatMessageText(this.api, message), token);
    if (tools?.length) total += await this.count(JSON.stringify(tools), JSON.stringify(tools), token);
    return total;
  }

  private async usageOf(inputTokens: number, outputText: string, token: vscode.CancellationToken): Promise<LanguageModelV4Usage> {
    const outputTokens = outputText ? await this.count(outputText, outputText, token) : 0;
    return {
      inputTokens: { total: inputTokens, noCache: inputTokens, cacheRead: 0, cacheWrite: 0 },
      outputTokens: { total: outputTokens, text: outputTokens, reasoning: 0 },
      // The chat API gives no usage: both figures are countTokens estimates (chars / 4 where that fails).
      raw: { estimated: true, source: 'countTokens' },
    };
  }

  private async count(value: string | ChatMessage, text: string, token: vscode.CancellationToken): Promise<number> {
    try {
      const counted = await this.chat.countTokens(value, token);
      if (Number.isFinite(counted) && counted >= 0) return counted;
    } catch {
      // Some models cannot count every message (tool parts); fall back to the rough estimate.
    }
    return Math.ceil(text.length / 4);
  }
}

/** The text of a chat message, for the fallback token estimate. */
function chatMessageText(api: VscodeLmApi, message: ChatMessage): string {
  return message.content
    .map((part: ChatPart) => {
      if (part instanceof api.LanguageModelTextPart) return part.value;
      if (part instanceof api.LanguageModelToolCallPart) return `${part.name}${JSON.stringify(part.input)}`;
      if (part instanceof api.LanguageModelToolResultPart) return part.content.map((item) => (item instanceof api.LanguageModelTextPart ? item.value : '')).join('');
      return '';
    })
    .join('');
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The model call was aborted.', 'AbortError');
}
