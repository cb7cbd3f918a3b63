// The model router: one LanguageModelV4 over a role's ordered chain of models. It falls over to the
// next model when a provider is unavailable (429, 5xx, 529 overloaded, network failure or a
// connection cut mid-response, a malformed or empty response, a timeout) before any output reached
// the caller, honours short retry-after waits, skips endpoints whose circuit breaker is open, and
// reports every attempt, so the run can record calls, costs and fallbacks. It never retries or falls
// over on the caller's abort, nor once output reached the caller, and a `beforeCall` refusal (a hard
// budget) stops the call before any request is sent. Every call carries an output limit, so the
// worst case the budget admitted it on is a real bound. Its parts: breakers.ts (which endpoints to
// skip), failures.ts (an outage or a refusal), estimates.ts (tokens before the provider counts them).
import type {
  LanguageModelV4,
  LanguageModelV4CallOptions,
  LanguageModelV4GenerateResult,
  LanguageModelV4StreamPart,
  LanguageModelV4StreamResult,
  LanguageModelV4Usage,
} from '@ai-sdk/provider';
import type { ModelPrice } from '../../shared/model';
import type { CircuitBreakers } from './breakers';
import { estimatePromptTokens, hasUsage, outputChars, tokensOf, type TokenCounts } from './estimates';
import { classify, ModelCallError, ModelOutputLimitError, ModelTimeoutError, type AttemptSummary, type Failure } from './failures';
import { costOf, worstCaseCost } from './prices';

/** One model of a chain, as the router needs it. */
export interface ChainModel {
  id: string;
  provider: string;
  model: LanguageModelV4;
  /** Undefined: the cost is unknown (records carry `usd: undefined`). */
  price?: ModelPrice;
  contextWindow?: number;
  maxOutputTokens?: number;
  /** Circuit breaker this model shares with others on the same endpoint; the model id when absent. */
  breakerKey?: string;
}

/** What a call may cost at most, handed to `beforeCall` before every attempt. */
export interface CallEstimate {
  modelId: string;
  promptTokens: number;
  maxOutputTokens: number;
  /** Undefined when the model has no known price. */
  worstCaseUsd: number | undefined;
}

/** One attempt on one model. */
export interface CallRecord {
  modelId: string;
  provider: string;
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  /** Undefined when the model has no known price ("unknown cost", not free). */
  usd: number | undefined;
  latencyMs: number;
  outcome: 'ok' | 'error' | 'aborted';
  /** What went wrong, redacted. */
  error?: string;
  /** The chain entry before this one that failed or was skipped, when this attempt is a fallback. */
  fallbackFrom?: string;
  /** The wait the provider asked for with retry-after, when it did. */
  retryAfterMs?: number;
}

export interface FallbackNotice {
  from: string;
  to: string;
  reason: string;
}

export interface RouterTimeouts {
  /**
   * Streaming calls: how long to wait for the first piece of output (text, reasoning or a tool call)
   * before giving up on the model and falling over.
   */
  firstTokenMs: number;
  /** Any call: how long one attempt may take in all. A non-streaming call falls over when it hits this. */
  totalMs: number;
}

export const DEFAULT_TIMEOUTS: RouterTimeouts = { firstTokenMs: 60_000, totalMs: 10 * 60_000 };
/**
 * The output limit sent with every call when neither the call nor the spec sets one, and so the
 * output part of the worst-case estimate the budget admits the call on.
 */
export const DEFAULT_MAX_OUTPUT_TOKENS = 4096;
/**
 * Hosted OpenAI and Anthropic models all write at least this much per call, and a whole new file
 * often needs it; local servers keep the smaller default because some (vLLM) refuse a request whose
 * prompt plus output limit exceeds their context window.
 */
export const HOSTED_DEFAULT_MAX_OUTPUT_TOKENS = 16_384;

/** The output limit of a model whose spec sets none. */
export function defaultOutputLimit(provider: string): number {
  return provider === 'openai' || provider === 'anthropic' ? HOSTED_DEFAULT_MAX_OUTPUT_TOKENS : DEFAULT_MAX_OUTPUT_TOKENS;
}
/**
 * Characters a streamed answer may hold per token of its output limit before it is cut off. Tokens
 * average 3 to 5 characters; 16 leaves room for whitespace runs and escapes, and bounds what a
 * server that ignores the limit can make us hold, resend or count.
 */
export const MAX_CHARS_PER_OUTPUT_TOKEN = 16;
/** A retry-after up to this long is waited out on the same model; a longer one falls over. */
export const DEFAULT_MAX_RETRY_WAIT_MS = 10_000;

export interface RoutedModelOptions {
  chain: readonly ChainModel[];
  breakers: CircuitBreakers;
  timeouts?: Partial<RouterTimeouts>;
  /** Runs before every attempt on every model; a throw ends the call with that error, unchanged. */
  beforeCall?: (estimate: CallEstimate) => void;
  onCall?: (record: CallRecord) => void;
  onFallback?: (notice: FallbackNotice) => void;
  maxRetryWaitMs?: number;
  defaultMaxOutputTokens?: number;
}

// ---------------------------------------------------------------------------------------------
// One attempt's clock: the caller's abort, the total timeout and (streams) the first-token timeout.

class Attempt {
  readonly controller = new AbortController();
  readonly startedAt = Date.now();
  timeout: ModelTimeoutError | undefined;
  private readonly failed: Promise<never>;
  private fail: (error: unknown) => void = () => undefined;
  private totalTimer: ReturnType<typeof setTimeout> | undefined;
  private firstTokenTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly onCallerAbort: () => void;

  constructor(
    readonly callerSignal: AbortSignal | undefined,
    totalMs: number,
    firstTokenMs: number | undefined,
  ) {
    this.failed = new Promise<never>((_, reject) => {
      this.fail = reject;
    });
    this.failed.catch(() => undefined);
    this.onCallerAbort = () => {
      this.controller.abort(callerSignal?.reason);
      this.fail(abortReason(callerSignal));
    };
    if (callerSignal?.aborted) this.onCallerAbort();
    else callerSignal?.addEventListener('abort', this.onCallerAbort, { once: true });
    this.totalTimer = setTimeout(() => this.expire(new ModelTimeoutError('total', totalMs)), totalMs);
    this.totalTimer.unref?.();
    if (firstTokenMs !== undefined) {
      this.firstTokenTimer = setTimeout(() => this.expire(new ModelTimeoutError('first-token', firstTokenMs)), firstTokenMs);
      this.firstTokenTimer.unref?.();
    }
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get callerAborted(): boolean {
    return this.callerSignal?.aborted === true;
  }

  /** Settles with `promise`, or rejects as soon as the attempt times out or the caller aborts. */
  guard<T>(promise: PromiseLike<T>): Promise<T> {
    return Promise.race([Promise.resolve(promise), this.failed]);
  }

  outputStarted(): void {
    clearTimeout(this.firstTokenTimer);
  }

  elapsed(): number {
    return Date.now() - this.startedAt;
  }

  dispose(): void {
    clearTimeout(this.totalTimer);
    clearTimeout(this.firstTokenTimer);
    this.callerSignal?.removeEventListener('abort', this.onCallerAbort);
  }

  private expire(error: ModelTimeoutError): void {
    if (this.timeout || this.controller.signal.aborted) return;
    this.timeout = error;
    this.controller.abort(error);
    this.fail(error);
  }
}

function abortReason(signal: AbortSignal | undefined): unknown {
  return signal?.reason ?? new DOMException('The operation was aborted.', 'AbortError');
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortReason(signal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

// Parts that carry no output (metadata, provider-specific `custom` parts such as Anthropic's
// message_start, block starts without content): a stream may still fall over after them, since
// nothing the caller can act on has been passed on yet.
const PREAMBLE_PARTS = new Set<LanguageModelV4StreamPart['type']>(['stream-start', 'response-metadata', 'raw', 'custom', 'text-start', 'reasoning-start', 'tool-input-start']);

function formatWait(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 100) / 10} s` : `${Math.round(ms)} ms`;
}

// ---------------------------------------------------------------------------------------------
// The routed model

type AttemptOutcome<T> = { kind: 'done'; value: T } | { kind: 'failed'; failure: Failure; error: unknown };

/**
 * A LanguageModelV4 over an ordered chain of models. Build one per agent turn; share the
 * CircuitBreakers across the engine.
 */
export class RoutedModel implements LanguageModelV4 {
  readonly specificationVersion = 'v4';
  readonly provider: string;
  readonly modelId: string;
  // Empty: the SDK downloads URLs itself, which every model of any chain accepts.
  readonly supportedUrls: Record<string, RegExp[]> = {};
  private readonly timeouts: RouterTimeouts;
  private readonly maxRetryWaitMs: number;
  private readonly defaultMaxOutputTokens: number;

  constructor(private readonly options: RoutedModelOptions) {
    if (options.chain.length === 0) throw new Error('RoutedModel needs at least one model in its chain; the role has none configured.');
    this.provider = options.chain[0]!.provider;
    this.modelId = options.chain[0]!.id;
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...stripUndefined(options.timeouts ?? {}) };
    this.maxRetryWaitMs = options.maxRetryWaitMs ?? DEFAULT_MAX_RETRY_WAIT_MS;
    this.defaultMaxOutputTokens = options.defaultMaxOutputTokens ?? DEFAULT_MAX_OUTPUT_TOKENS;
  }

  doGenerate(callOptions: LanguageModelV4CallOptions): Promise<LanguageModelV4GenerateResult> {
    return this.route(callOptions, (entry, options, fallbackFrom) => this.generateOnce(entry, options, fallbackFrom));
  }

  doStream(callOptions: LanguageModelV4CallOptions): Promise<LanguageModelV4StreamResult> {
    return this.route(callOptions, (entry, options, fallbackFrom, promptTokens) => this.streamOnce(entry, options, fallbackFrom, promptTokens));
  }

  private async route<T>(
    callOptions: LanguageModelV4CallOptions,
    once: (entry: ChainModel, options: LanguageModelV4CallOptions & { maxOutputTokens: number }, fallbackFrom: string | undefined, promptTokens: number) => Promise<AttemptOutcome<T>>,
  ): Promise<T> {
    const { chain, breakers, beforeCall, onFallback } = this.options;
    const callerSignal = callOptions.abortSignal;
    const attempts: AttemptSummary[] = [];
    const promptTokens = estimatePromptTokens(callOptions);
    let previous: string | undefined;
    let lastError: unknown;
    let lastStatus: number | undefined;

    for (let index = 0; index < chain.length; index++) {
      const entry = chain[index]!;
      const key = entry.breakerKey ?? entry.id;
      const next = chain[index + 1];
      const leave = (reason: string): void => {
        previous = entry.id;
        if (next) onFallback?.({ from: entry.id, to: next.id, reason });
      };

      let retried = false;
      for (;;) {
        if (callerSignal?.aborted) throw abortReason(callerSignal);
        const gate = breakers.tryAcquire(key);
        if (!gate.allowed) {
          const reason = gate.state === 'open'
            ? `skipped: the circuit breaker for ${key} is open until ${new Date(gate.until).toISOString()}`
            : `skipped: the circuit breaker for ${key} is half-open and another call is trying it`;
          attempts.push({ modelId: entry.id, provider: entry.provider, outcome: 'skipped', reason });
          leave(reason);
          break;
        }

        const options = this.optionsFor(entry, callOptions);
        const { maxOutputTokens } = options;
        try {
          beforeCall?.({ modelId: entry.id, promptTokens, maxOutputTokens, worstCaseUsd: entry.price ? worstCaseCost(promptTokens, maxOutputTokens, entry.price) : undefined });
        } catch (error) {
          // A budget refusal is the caller's decision, not the provider's failure: no fallback.
          breakers.release(key);
          throw error;
        }

        let outcome: AttemptOutcome<T>;
        try {
          outcome = await once(entry, options, previous, promptTokens);
        } catch (error) {
          // Only the caller's abort escapes `once`; it ends the call at once, wherever it was.
          breakers.release(key);
          throw error;
        }
        if (outcome.kind === 'done') return outcome.value;

        const { failure, error } = outcome;
        lastError = error;
        lastStatus = failure.statusCode;
        if (!failure.transient) {
          // The endpoint answered (a 400, a bad key): it is up, and another model would most likely
          // be refused the same request, so the error is the caller's to see.
          breakers.recordSuccess(key);
          attempts.push({ modelId: entry.id, provider: entry.provider, outcome: 'failed', reason: failure.reason, retryAfterMs: failure.retryAfterMs });
          throw new ModelCallError(refusedMessage(entry, failure, attempts), attempts, error, failure.statusCode);
        }
        breakers.recordFailure(key, failure.reason);
        attempts.push({ modelId: entry.id, provider: entry.provider, outcome: 'failed', reason: failure.reason, retryAfterMs: failure.retryAfterMs });
        if (!retried && failure.retryAfterMs !== undefined && failure.retryAfterMs <= this.maxRetryWaitMs) {
          // A short wait the provider asked for: cheaper to wait once than to move to another model.
          retried = true;
          await sleep(failure.retryAfterMs, callerSignal);
          continue;
        }
        leave(failure.reason + (failure.retryAfterMs !== undefined ? `; asked to retry after ${formatWait(failure.retryAfterMs)}` : ''));
        break;
      }
    }
    throw new ModelCallError(exhaustedMessage(attempts), attempts, lastError, lastStatus);
  }

  /**
   * Every call carries an output limit — the call's, the spec's (the smaller of the two), or the
   * default — so the worst case the budget admitted it on is a real bound: without one, providers
   * let a model write up to its own maximum (tens of thousands of tokens).
   */
  private optionsFor(entry: ChainModel, callOptions: LanguageModelV4CallOptions): LanguageModelV4CallOptions & { maxOutputTokens: number } {
    const requested = callOptions.maxOutputTokens;
    const cap = entry.maxOutputTokens;
    const maxOutputTokens = requested !== undefined && cap !== undefined ? Math.min(requested, cap) : (requested ?? cap ?? this.defaultMaxOutputTokens);
    return { ...callOptions, maxOutputTokens };
  }

  private record(entry: ChainModel, attempt: Attempt, fallbackFrom: string | undefined, fields: Partial<CallRecord> & Pick<CallRecord, 'outcome'>, usage?: LanguageModelV4Usage | TokenCounts): void {
    const tokens = tokensOf(usage);
    this.options.onCall?.({
      modelId: entry.id,
      provider: entry.provider,
      ...tokens,
      usd: entry.price ? costOf(tokens, entry.price) : undefined,
      latencyMs: attempt.elapsed(),
      ...(fallbackFrom ? { fallbackFrom } : {}),
      ...fields,
    });
  }

  private failed<T>(entry: ChainModel, attempt: Attempt, fallbackFrom: string | undefined, error: unknown, where: 'request' | 'stream' = 'request'): AttemptOutcome<T> {
    if (attempt.callerAborted) {
      this.record(entry, attempt, fallbackFrom, { outcome: 'aborted', error: 'aborted by the caller' });
      throw abortReason(attempt.callerSignal);
    }
    const failure = classify(attempt.timeout ?? error, where);
    this.record(entry, attempt, fallbackFrom, { outcome: 'error', error: failure.reason, ...(failure.retryAfterMs !== undefined ? { retryAfterMs: failure.retryAfterMs } : {}) });
    return { kind: 'failed', failure, error: attempt.timeout ?? error };
  }

  private async generateOnce(entry: ChainModel, options: LanguageModelV4CallOptions, fallbackFrom: string | undefined): Promise<AttemptOutcome<LanguageModelV4GenerateResult>> {
    const attempt = new Attempt(options.abortSignal, this.timeouts.totalMs, undefined);
    try {
      const result = await attempt.guard(entry.model.doGenerate({ ...options, abortSignal: attempt.signal }));
      this.options.breakers.recordSuccess(entry.breakerKey ?? entry.id);
      this.record(entry, attempt, fallbackFrom, { outcome: 'ok' }, result.usage);
      return { kind: 'done', value: result };
    } catch (error) {
      return this.failed(entry, attempt, fallbackFrom, error);
    } finally {
      attempt.dispose();
    }
  }

  private async streamOnce(
    entry: ChainModel,
    options: LanguageModelV4CallOptions & { maxOutputTokens: number },
    fallbackFrom: string | undefined,
    promptTokens: number,
  ): Promise<AttemptOutcome<LanguageModelV4StreamResult>> {
    const attempt = new Attempt(options.abortSignal, this.timeouts.totalMs, this.timeouts.firstTokenMs);
    const abandon = (): void => {
      attempt.controller.abort();
      attempt.dispose();
    };
    let result: LanguageModelV4StreamResult;
    try {
      result = await attempt.guard(entry.model.doStream({ ...options, abortSignal: attempt.signal }));
    } catch (error) {
      abandon();
      return this.failed(entry, attempt, fallbackFrom, error);
    }
    const source = result.stream.getReader();
    // Parts held back until the first piece of output: up to then the call can still fall over
    // without the caller having seen anything.
    const pending: LanguageModelV4StreamPart[] = [];
    try {
      for (;;) {
        const next = await attempt.guard(source.read());
        if (next.done) throw new Error('the response ended before any output (an empty or unreadable body)');
        const part = next.value;
        if (part.type === 'error') throw part.error;
        pending.push(part);
        if (!PREAMBLE_PARTS.has(part.type)) break;
      }
    } catch (error) {
      source.cancel().catch(() => undefined);
      abandon();
      // The endpoint accepted the call: what breaks now is a broken answer, not a refusal.
      return this.failed(entry, attempt, fallbackFrom, error, 'stream');
    }

    attempt.outputStarted();
    this.options.breakers.recordSuccess(entry.breakerKey ?? entry.id);
    const maxChars = options.maxOutputTokens * MAX_CHARS_PER_OUTPUT_TOKEN;
    const streamedToolInputs = new Set<string>();
    let chars = 0;
    let usage: LanguageModelV4Usage | undefined;
    let streamError: unknown;
    let settled = false;
    const settle = (fields: Partial<CallRecord> & Pick<CallRecord, 'outcome'>): void => {
      if (settled) return;
      settled = true;
      attempt.dispose();
      if (hasUsage(usage)) {
        this.record(entry, attempt, fallbackFrom, fields, usage);
        return;
      }
      // No usage from the provider (the answer broke off, or it reports none): count what it most
      // likely billed, so a budget does not take the call for free.
      const estimated: TokenCounts = { inputTokens: promptTokens, outputTokens: Math.ceil(chars / 4), cachedInputTokens: 0 };
      this.record(entry, attempt, fallbackFrom, fields.error ? { ...fields, error: `${fields.error}; tokens estimated, the provider reported none` } : fields, estimated);
    };
    // After output reached the caller, falling over would splice a second model's answer onto the
    // first one's: the error goes to the caller instead, saying so.
    const brokeOff = (error: unknown): ModelCallError => {
      const failure = classify(error, 'stream');
      return new ModelCallError(
        `Model ${describe({ modelId: entry.id, provider: entry.provider })} broke off its answer after output had started: ${failure.reason}. No other model was asked to continue it, since that would splice two models' answers into one.`,
        [{ modelId: entry.id, provider: entry.provider, outcome: 'failed', reason: failure.reason }],
        error,
        failure.statusCode,
      );
    };
    const stream = new ReadableStream<LanguageModelV4StreamPart>({
      async pull(controller) {
        try {
          const next = pending.length ? { done: false as const, value: pending.shift()! } : await attempt.guard(source.read());
          if (next.done) {
            controller.close();
            settle(streamError === undefined ? { outcome: 'ok' } : { outcome: 'error', error: classify(streamError, 'stream').reason });
            return;
          }
          const part = next.value;
          chars += outputChars(part, streamedToolInputs);
          if (chars > maxChars) throw new ModelOutputLimitError(options.maxOutputTokens, maxChars);
          if (part.type === 'finish') usage = part.usage;
          if (part.type === 'error') {
            streamError ??= part.error;
            controller.enqueue({ type: 'error', error: brokeOff(part.error) });
            return;
          }
          controller.enqueue(part);
        } catch (error) {
          source.cancel().catch(() => undefined);
          if (attempt.callerAborted) {
            settle({ outcome: 'aborted', error: 'aborted by the caller' });
            controller.error(abortReason(options.abortSignal));
          } else {
            const failure = attempt.timeout ?? error;
            attempt.controller.abort(failure);
            settle({ outcome: 'error', error: classify(failure, 'stream').reason });
            controller.error(brokeOff(failure));
          }
        }
      },
      cancel(reason) {
        settle({ outcome: 'aborted', error: 'the stream was cancelled by its reader' });
        attempt.controller.abort(reason);
        return source.cancel(reason);
      },
    });
    return { kind: 'done', value: { ...result, stream } };
  }
}

function describe(entry: { modelId: string; provider: string }): string {
  return `"${entry.modelId}" (${entry.provider})`;
}

function triedList(attempts: readonly AttemptSummary[]): string {
  return attempts.map((attempt) => `${describe(attempt)}: ${attempt.reason}${attempt.retryAfterMs !== undefined && !attempt.reason.includes('retry after') ? `, retry after ${formatWait(attempt.retryAfterMs)}` : ''}`).join('; ');
}

function exhaustedMessage(attempts: readonly AttemptSummary[]): string {
  if (attempts.every((attempt) => attempt.outcome === 'skipped')) {
    return `No model could be tried: the circuit breaker of every model in the chain is open after repeated failures (${triedList(attempts)}). They let a call through again after their cool-down; check the providers' status, or add a model on another endpoint to the role's chain.`;
  }
  return `Every model in the chain failed or was skipped — ${triedList(attempts)}. Check the providers' status and rate limits, or add another model to the role's chain.`;
}

function refusedMessage(entry: ChainModel, failure: Failure, attempts: readonly AttemptSummary[]): string {
  const earlier = attempts.slice(0, -1);
  return `Model ${describe({ modelId: entry.id, provider: entry.provider })} failed: ${failure.reason}.${earlier.length ? ` Tried before it: ${triedList(earlier)}.` : ''} This is not a provider outage, so no other model was tried; check the model name, key and request.`;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
