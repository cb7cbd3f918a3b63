// The model router: one LanguageModelV4 over a role's ordered chain of models. It falls over to the
// next model when a provider is unavailable (429, 5xx, 529 overloaded, network failure or a
// connection cut mid-response, a malformed or empty response, a timeout) before any output reached
// the caller, honours short retry-after waits, skips endpoints whose circuit breaker is open, and
// reports every attempt, so the run can record calls, costs and fallbacks. It never retries or falls
// over on the caller's abort, nor once output reached the caller, and a `beforeCall` refusal (a hard
// budget) stops the call before any request is sent. Every call carries an output limit, so the
// worst case the budget admitted it on is a real bound.
import { APICallError, JSONParseError, TypeValidationError } from '@ai-sdk/provider';
import type {
  LanguageModelV4,
  LanguageModelV4CallOptions,
  LanguageModelV4GenerateResult,
  LanguageModelV4StreamPart,
  LanguageModelV4StreamResult,
  LanguageModelV4Usage,
} from '@ai-sdk/provider';
import type { ModelPrice } from '../../shared/model';
import { redactText } from '../log/redact';
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
// Circuit breakers

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerChange {
  key: string;
  state: BreakerState;
  reason: string;
  /** While open: when the cool-down ends (epoch ms of the breakers' clock). */
  until?: number;
}

export interface CircuitBreakerOptions {
  /** Consecutive failures that open a breaker. */
  failureThreshold?: number;
  /** How long an open breaker skips its endpoint before letting one call try again. */
  coolDownMs?: number;
  /** Clock in epoch ms, injectable for tests. */
  now?: () => number;
  onChange?: (change: BreakerChange) => void;
}

export type BreakerGate = { allowed: true } | { allowed: false; until: number; state: 'open' | 'half-open' };

interface BreakerEntry {
  state: BreakerState;
  failures: number;
  until: number;
  probeInFlight: boolean;
}

/**
 * One breaker per endpoint, shared by all agent turns of an engine: after `failureThreshold`
 * consecutive failures the endpoint is skipped for `coolDownMs`; then one call may try it
 * (half-open) — success closes the breaker, failure opens it for another cool-down.
 */
export class CircuitBreakers {
  readonly failureThreshold: number;
  readonly coolDownMs: number;
  private readonly now: () => number;
  private readonly entries = new Map<string, BreakerEntry>();
  private readonly listeners: ((change: BreakerChange) => void)[] = [];

  constructor(options: CircuitBreakerOptions = {}) {
    this.failureThreshold = options.failureThreshold ?? 3;
    this.coolDownMs = options.coolDownMs ?? 30_000;
    this.now = options.now ?? Date.now;
    if (options.onChange) this.listeners.push(options.onChange);
  }

  /** Adds a state-change listener; returns a function that removes it. */
  onChange(listener: (change: BreakerChange) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const index = this.listeners.indexOf(listener);
      if (index >= 0) this.listeners.splice(index, 1);
    };
  }

  state(key: string): BreakerState {
    return this.entries.get(key)?.state ?? 'closed';
  }

  /**
   * Asks whether a call may go to `key` now. An allowed call must end in exactly one of
   * recordSuccess, recordFailure or release.
   */
  tryAcquire(key: string): BreakerGate {
    const entry = this.entries.get(key);
    if (!entry || entry.state === 'closed') return { allowed: true };
    if (entry.state === 'open') {
      if (this.now() < entry.until) return { allowed: false, until: entry.until, state: 'open' };
      entry.state = 'half-open';
      entry.probeInFlight = false;
      this.emit({ key, state: 'half-open', reason: `cool-down over; letting one call try ${key}` });
    }
    if (entry.probeInFlight) return { allowed: false, until: entry.until, state: 'half-open' };
    entry.probeInFlight = true;
    return { allowed: true };
  }

  recordSuccess(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    const wasOpen = entry.state !== 'closed';
    this.entries.delete(key);
    if (wasOpen) this.emit({ key, state: 'closed', reason: `${key} answered again` });
  }

  recordFailure(key: string, reason: string): void {
    const entry = this.entries.get(key) ?? { state: 'closed' as BreakerState, failures: 0, until: 0, probeInFlight: false };
    this.entries.set(key, entry);
    entry.failures++;
    entry.probeInFlight = false;
    const trialFailed = entry.state === 'half-open';
    if (trialFailed || (entry.state === 'closed' && entry.failures >= this.failureThreshold)) {
      entry.state = 'open';
      entry.until = this.now() + this.coolDownMs;
      const why = trialFailed ? 'the trial call after the cool-down failed' : `${entry.failures} failures in a row`;
      this.emit({ key, state: 'open', reason: `${why}, last: ${redactText(reason)}`, until: entry.until });
    }
  }

  /** Ends an allowed call that said nothing about the endpoint's health (aborted, refused by beforeCall). */
  release(key: string): void {
    const entry = this.entries.get(key);
    if (entry) entry.probeInFlight = false;
  }

  private emit(change: BreakerChange): void {
    for (const listener of [...this.listeners]) listener(change);
  }
}

// ---------------------------------------------------------------------------------------------
// Errors

/** A model call hit one of the router's time limits. */
export class ModelTimeoutError extends Error {
  constructor(
    readonly kind: 'first-token' | 'total',
    readonly limitMs: number,
  ) {
    super(kind === 'first-token' ? `no output within ${limitMs} ms (first-token timeout)` : `the call took longer than ${limitMs} ms (total timeout)`);
    this.name = 'ModelTimeoutError';
  }
}

/**
 * A model streamed more than its output limit can hold: a server that ignores the limit the call
 * sent. The stream is cut there, so what such a server sends cannot grow without bound in memory,
 * in the conversation or in the budget.
 */
export class ModelOutputLimitError extends Error {
  constructor(
    readonly maxOutputTokens: number,
    readonly maxChars: number,
  ) {
    super(`the answer ran past ${maxChars} characters, more than its output limit of ${maxOutputTokens} tokens can hold (the server ignored the limit), so it was cut off there`);
    this.name = 'ModelOutputLimitError';
  }
}

export interface AttemptSummary {
  modelId: string;
  provider: string;
  outcome: 'failed' | 'skipped';
  reason: string;
  retryAfterMs?: number;
}

/** The router gave up on a call: `attempts` lists every model it tried or skipped, in order. */
export class ModelCallError extends Error {
  /** HTTP status of the last failure, when it had one. */
  readonly statusCode: number | undefined;

  constructor(
    message: string,
    readonly attempts: readonly AttemptSummary[],
    cause: unknown,
    statusCode?: number,
  ) {
    super(redactText(message), { cause });
    this.name = 'ModelCallError';
    this.statusCode = statusCode;
  }
}

// ---------------------------------------------------------------------------------------------
// Failure classification

interface Failure {
  /** The provider is unavailable right now: fall over (and count against its breaker). */
  transient: boolean;
  reason: string;
  retryAfterMs?: number;
  statusCode?: number;
}

interface StreamErrorShape {
  message: string;
  statusCode?: number;
  isRetryable?: boolean;
  type?: string;
}

// Providers report errors inside a stream as plain objects (createProviderStreamError in
// @ai-sdk/provider-utils) rather than APICallError.
function asStreamError(error: unknown): StreamErrorShape | undefined {
  if (typeof error !== 'object' || error === null || error instanceof Error) return undefined;
  const record = error as Record<string, unknown>;
  if (typeof record.message !== 'string') return undefined;
  return {
    message: record.message,
    statusCode: typeof record.statusCode === 'number' ? record.statusCode : undefined,
    isRetryable: typeof record.isRetryable === 'boolean' ? record.isRetryable : undefined,
    type: typeof record.type === 'string' ? record.type : undefined,
  };
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN',
  'ERR_STREAM_PREMATURE_CLOSE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
]);

// What runtimes say when a connection drops mid-response without attaching a code: undici's
// "terminated", Node's "socket hang up", node-fetch's "Premature close".
const CUT_MESSAGE = /\b(terminated|socket hang up|premature close|other side closed|ECONNRESET)\b/i;

/**
 * The code or message of a dropped connection in `error` or its causes. Provider packages wrap a
 * body that broke off after a 200 as "Failed to process successful response", with the network
 * error as its cause: that is an outage, not a refusal.
 */
function connectionCut(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current instanceof Error; depth++) {
    const code = (current as Error & { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
    if (CUT_MESSAGE.test(current.message)) return oneLine(current.message, 80);
    current = current.cause;
  }
  return undefined;
}

// Error types inside a stream that mean the request itself was refused; any other error inside a
// 200 answer is the server failing, and another model may well answer.
const REFUSAL_TYPES = /invalid_request|authentication|permission|not_found|invalid_api_key|context_length/i;

function isTransientStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

function statusReason(status: number, message: string): string {
  const label = status === 429 ? 'rate limited' : status === 529 || /overloaded/i.test(message) ? 'overloaded' : status >= 500 ? 'server error' : status === 408 ? 'request timeout' : 'refused';
  return `${label} (HTTP ${status}): ${oneLine(message)}`;
}

function oneLine(text: string, max = 300): string {
  const flat = redactText(text).replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/** Milliseconds a retry-after / retry-after-ms header asks for, if any. */
export function retryAfterMs(headers: Record<string, string> | undefined, now = Date.now()): number | undefined {
  if (!headers) return undefined;
  const lower = Object.fromEntries(Object.entries(headers).map(([key, value]) => [key.toLowerCase(), value]));
  const ms = lower['retry-after-ms'];
  if (ms !== undefined && ms.trim() !== '' && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const value = lower['retry-after'];
  if (value === undefined || value.trim() === '') return undefined;
  if (Number.isFinite(Number(value))) return Math.max(0, Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * Whether a failure is an outage (fall over) or a refusal (the caller's to see). `stream`: the
 * failure came after the endpoint accepted the call (a 200 and a stream), where only an error that
 * names a refusal is one; anything else there (a garbled or empty body, an unexpected error event)
 * is a broken endpoint or proxy.
 */
function classify(error: unknown, where: 'request' | 'stream' = 'request'): Failure {
  if (error instanceof ModelTimeoutError) return { transient: true, reason: error.message };
  if (error instanceof ModelOutputLimitError) return { transient: false, reason: error.message };
  if (APICallError.isInstance(error)) {
    const status = error.statusCode;
    const wait = retryAfterMs(error.responseHeaders);
    if (status !== undefined && isTransientStatus(status)) return { transient: true, reason: statusReason(status, error.message), retryAfterMs: wait, statusCode: status };
    const cut = connectionCut(error.cause);
    if (cut) {
      return status === undefined
        ? { transient: true, reason: `network error: ${oneLine(error.message)}` }
        : { transient: true, reason: `connection cut mid-response (HTTP ${status}, ${cut}): the server or a proxy dropped the connection`, statusCode: status };
    }
    // A 2xx whose body the provider package could not parse: the endpoint answered with garbage
    // (a proxy's HTML page, a truncated body). Another model may well answer properly.
    if (status !== undefined && status < 300 && (where === 'stream' || JSONParseError.isInstance(error.cause) || TypeValidationError.isInstance(error.cause) || /invalid json/i.test(error.message))) {
      return { transient: true, reason: `malformed response (HTTP ${status}): ${oneLine(error.message)}`, statusCode: status };
    }
    if (status === undefined && error.isRetryable) return { transient: true, reason: `network error: ${oneLine(error.message)}` };
    return { transient: false, reason: status !== undefined ? statusReason(status, error.message) : oneLine(error.message), statusCode: status, retryAfterMs: wait };
  }
  if (JSONParseError.isInstance(error) || TypeValidationError.isInstance(error)) return { transient: true, reason: `malformed response: ${oneLine(error.message)}` };
  const streamError = asStreamError(error);
  if (streamError) {
    const status = streamError.statusCode;
    const overloaded = streamError.type === 'overloaded_error' || /overloaded/i.test(streamError.message);
    const refusal = REFUSAL_TYPES.test(streamError.type ?? '');
    const transient = overloaded || (status !== undefined ? isTransientStatus(status) : (streamError.isRetryable ?? (where === 'stream' && !refusal)));
    const reason = status !== undefined ? statusReason(status, streamError.message) : `${overloaded ? 'overloaded' : 'stream error'}: ${oneLine(streamError.message)}`;
    return { transient, reason, statusCode: status };
  }
  const cut = connectionCut(error);
  if (cut) return { transient: true, reason: `network error (${cut}): ${oneLine(errorMessage(error))}` };
  if (where === 'stream') return { transient: true, reason: `the response broke off: ${oneLine(errorMessage(error))}` };
  return { transient: false, reason: oneLine(errorMessage(error)) };
}

function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'string') return error;
  try {
    return JSON.stringify(error);
  } catch {
    return String(error);
  }
}

// ---------------------------------------------------------------------------------------------
// Estimates

// Length of the value as JSON (what goes over the wire: keys, quotes, brackets and commas
// included, escapes not), with binary file parts at their base64 length.
function serializedLength(value: unknown, depth = 0): number {
  if (depth > 64) return 0;
  if (typeof value === 'string') return value.length + 2;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value).length;
  if (value === null) return 4;
  if (value instanceof Uint8Array) return Math.ceil(value.byteLength / 3) * 4 + 2;
  if (value instanceof URL) return value.href.length + 2;
  if (Array.isArray(value)) return 2 + Math.max(0, value.length - 1) + value.reduce((sum: number, item) => sum + serializedLength(item, depth + 1), 0);
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, item]) => item !== undefined);
    return 2 + Math.max(0, entries.length - 1) + entries.reduce((sum, [key, item]) => sum + key.length + 3 + serializedLength(item, depth + 1), 0);
  }
  return 0;
}

/**
 * Prompt tokens of a call, estimated as its messages and tool definitions serialized as JSON, at
 * three characters a token. No tokenizer is needed, and it errs high: prose runs at about four
 * characters a token, code and JSON schemas nearer three, and counting the JSON punctuation covers
 * what providers add around each message and tool. Erring low would let parallel calls cross a
 * budget; erring high only pauses a little early. Provider options are not counted.
 */
export function estimatePromptTokens(options: Pick<LanguageModelV4CallOptions, 'prompt' | 'tools'>): number {
  return Math.ceil((serializedLength(options.prompt) + serializedLength(options.tools ?? [])) / 3);
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

interface TokenCounts {
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
}

function tokensOf(usage: LanguageModelV4Usage | TokenCounts | undefined): TokenCounts {
  if (usage && 'cachedInputTokens' in usage) return usage;
  return {
    inputTokens: usage?.inputTokens.total ?? 0,
    outputTokens: usage?.outputTokens.total ?? 0,
    cachedInputTokens: usage?.inputTokens.cacheRead ?? 0,
  };
}

function hasUsage(usage: LanguageModelV4Usage | undefined): boolean {
  return usage?.inputTokens.total !== undefined || usage?.outputTokens.total !== undefined;
}

/** Characters of output a stream part carries (text, reasoning, tool input), for the output ceiling and usage estimates. */
function outputChars(part: LanguageModelV4StreamPart, streamedToolInputs: Set<string>): number {
  switch (part.type) {
    case 'text-delta':
    case 'reasoning-delta':
      return part.delta.length;
    case 'tool-input-delta':
      streamedToolInputs.add(part.id);
      return part.delta.length;
    case 'tool-call':
      // Providers that stream tool inputs repeat the whole input here; count it once.
      return streamedToolInputs.has(part.toolCallId) ? 0 : part.input.length;
    default:
      return 0;
  }
}

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
