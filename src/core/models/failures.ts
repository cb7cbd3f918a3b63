// How model calls fail: the errors the router raises, and the classification of what providers
// raise into an outage (fall over to the next model) or a refusal (the caller's to see).
import { APICallError, JSONParseError, TypeValidationError } from '@ai-sdk/provider';
import { redactText } from '../log/redact';

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

export interface Failure {
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
export function classify(error: unknown, where: 'request' | 'stream' = 'request'): Failure {
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

