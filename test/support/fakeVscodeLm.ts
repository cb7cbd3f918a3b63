// A stand-in for the few vscode.lm classes the chat-model adapter uses, and a scriptable chat model,
// so src/host/models/vscodeLmModel.ts runs in plain Node. The classes mirror the real ones' shapes
// (vscode.d.ts 1.101); LanguageModelError carries `code` like VS Code's (the static factory's name).
import type * as vscode from 'vscode';
import type { VscodeLmApi } from '../../src/host/models/vscodeLmModel';

export class TextPart {
  constructor(public value: string) {}
}

export class ToolCallPart {
  constructor(
    public callId: string,
    public name: string,
    public input: object,
  ) {}
}

export class ToolResultPart {
  constructor(
    public callId: string,
    public content: unknown[],
  ) {}
}

export type StubPart = TextPart | ToolCallPart | ToolResultPart;

export class ChatMessage {
  constructor(
    public role: number,
    public content: StubPart[],
    public name?: string,
  ) {}
  static User(content: string | StubPart[], name?: string): ChatMessage {
    return new ChatMessage(1, typeof content === 'string' ? [new TextPart(content)] : content, name);
  }
  static Assistant(content: string | StubPart[], name?: string): ChatMessage {
    return new ChatMessage(2, typeof content === 'string' ? [new TextPart(content)] : content, name);
  }
}

export class LmError extends Error {
  readonly code: string;
  constructor(message: string | undefined, code: string) {
    super(message ?? code);
    this.name = 'LanguageModelError';
    this.code = code;
  }
  static NoPermissions(message?: string): LmError {
    return new LmError(message, 'NoPermissions');
  }
  static Blocked(message?: string): LmError {
    return new LmError(message, 'Blocked');
  }
  static NotFound(message?: string): LmError {
    return new LmError(message, 'NotFound');
  }
}

export class CancellationError extends Error {
  constructor() {
    super('Canceled');
    this.name = 'Canceled';
  }
}

type Listener = () => void;

export class TokenSource {
  private readonly listeners: Listener[] = [];
  cancelled = false;
  disposed = false;
  readonly token = {
    isCancellationRequested: false,
    onCancellationRequested: (listener: Listener) => {
      this.listeners.push(listener);
      return { dispose: () => undefined };
    },
  };
  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.token.isCancellationRequested = true;
    for (const listener of this.listeners) listener();
  }
  dispose(): void {
    this.disposed = true;
  }
}

export const stubApi = {
  LanguageModelChatMessage: ChatMessage,
  LanguageModelTextPart: TextPart,
  LanguageModelToolCallPart: ToolCallPart,
  LanguageModelToolResultPart: ToolResultPart,
  LanguageModelChatToolMode: { Auto: 1, Required: 2 },
  LanguageModelError: LmError,
  CancellationTokenSource: TokenSource,
} as unknown as VscodeLmApi;

/** What one sendRequest does: stream parts (with a pause before each), or fail. */
export type FakeResponse =
  | { parts: (StubPart | { error: unknown })[]; delayMs?: number }
  | { reject: unknown }
  /** Streams nothing until the request is cancelled. */
  | { hang: true };

export interface RecordedChatRequest {
  messages: ChatMessage[];
  options: vscode.LanguageModelChatRequestOptions | undefined;
  token: TokenSource['token'] | undefined;
}

/** A LanguageModelChat that answers from a queue and records every request. */
export class FakeChat {
  readonly name = 'Fake Model';
  readonly id = 'fake-model-1';
  readonly vendor = 'fake';
  readonly family = 'fake-family';
  readonly version = '1';
  readonly maxInputTokens = 100_000;
  readonly requests: RecordedChatRequest[] = [];
  /** When set, countTokens throws (the adapter must fall back to its estimate). */
  countFails = false;
  private readonly queue: FakeResponse[];

  constructor(...responses: FakeResponse[]) {
    this.queue = responses;
  }

  async sendRequest(messages: ChatMessage[], options?: vscode.LanguageModelChatRequestOptions, token?: TokenSource['token']): Promise<{ stream: AsyncIterable<unknown>; text: AsyncIterable<string> }> {
    this.requests.push({ messages, options, token });
    const next = this.queue.shift();
    if (!next) throw new Error('FakeChat: no response left in the queue.');
    if ('reject' in next) throw next.reject;
    const stream = async function* (): AsyncGenerator<unknown> {
      if ('hang' in next) {
        await new Promise<void>((resolve) => token?.onCancellationRequested(resolve));
        throw new CancellationError();
      }
      for (const part of next.parts) {
        if (next.delayMs) await new Promise((resolve) => setTimeout(resolve, next.delayMs));
        if (token?.isCancellationRequested) throw new CancellationError();
        if ('error' in part) throw part.error;
        yield part;
      }
    };
    return { stream: stream(), text: (async function* () {})() };
  }

  /** Words, so tests can compute expected counts: one token per whitespace-separated word. */
  async countTokens(value: string | ChatMessage): Promise<number> {
    if (this.countFails) throw new Error('countTokens is not supported');
    const text = typeof value === 'string' ? value : value.content.map((part) => (part instanceof TextPart ? part.value : JSON.stringify(part))).join(' ');
    return text.split(/\s+/).filter(Boolean).length;
  }

  asChat(): vscode.LanguageModelChat {
    return this as unknown as vscode.LanguageModelChat;
  }
}
