// Local HTTP servers that speak the providers' real wire formats, so tests drive the real provider
// packages (@ai-sdk/openai, @ai-sdk/anthropic, @ai-sdk/openai-compatible) end to end without a
// model API: OpenAI chat completions and the Responses API, and Anthropic Messages, each with JSON
// and server-sent-event answers, tool calls, usage with cache tokens, and the faults the router
// must survive (rate limits with retry-after, overload, server errors, hangs, malformed bodies,
// streams that break after output started), and a model that echoes the key it was sent.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeUsage {
  /** All input tokens, cached ones included. */
  input: number;
  output: number;
  /** Input tokens read from the prompt cache. */
  cached: number;
}

export const DEFAULT_USAGE: FakeUsage = { input: 120, output: 30, cached: 20 };

export type FakeReply =
  /** A normal answer: optional text, then optional tool calls. Streams when the request asks. */
  | {
      kind: 'answer';
      text?: string;
      toolCalls?: { name: string; input: Record<string, unknown> }[];
      usage?: FakeUsage;
      delayMs?: number;
      /** The answer stopped at the request's output limit (finish reason length / max_tokens). */
      cutAtLimit?: boolean;
    }
  /** An HTTP error in the provider's error format. */
  | { kind: 'error'; status: number; message?: string; headers?: Record<string, string>; errorType?: string }
  /** Accepts the request and never answers. */
  | { kind: 'hang' }
  /** Streams: sends the headers and the opening events, then nothing. */
  | { kind: 'stall' }
  /**
   * 200 with a body that is not the provider's format: truncated JSON / a broken event, or (`html`)
   * a proxy's HTML page whatever the request asked for.
   */
  | { kind: 'malformed'; html?: boolean }
  /** Streams: the provider's in-stream error event before any output (Anthropic overloaded_error, OpenAI error event). */
  | { kind: 'stream-error'; errorType?: string; message?: string }
  /** Streams: some text, then the connection drops (`disconnect`) or an error event arrives (`error-event`). */
  | { kind: 'break-after-output'; text: string; how: 'disconnect' | 'error-event' }
  /**
   * The connection drops before any output: at once, no status line (`before-headers`: ECONNRESET,
   * "socket hang up"), or after a 200 and part of the body (`mid-body`: half a JSON answer, or a
   * stream's opening events) — a proxy or server that died mid-response.
   */
  | { kind: 'cut'; when: 'before-headers' | 'mid-body' }
  /**
   * Streams `pieces` of text, one every `everyMs`, then finishes: a server that is slow but alive
   * (chat completions; asked without streaming, it answers once all the time has passed).
   */
  | { kind: 'drip'; pieces: number; everyMs: number }
  /**
   * A model that always writes at length: `outputTokens` tokens of text, cut at the output limit the
   * request sets (max_tokens, max_completion_tokens, max_output_tokens) as real servers do, with
   * honest usage: input is the request body at four characters a token, output what was sent.
   */
  | { kind: 'long'; outputTokens: number };

/**
 * In an answer's text or tool inputs, replaced by the API key the request carried (Bearer token or
 * x-api-key): a model that echoes the user's key back, whatever its shape.
 */
export const ECHOED_KEY = '{{API_KEY}}';

function requestKey(headers: IncomingMessage['headers']): string {
  const bearer = /^Bearer\s+(.+)$/i.exec(String(headers.authorization ?? ''))?.[1];
  return bearer ?? String(headers['x-api-key'] ?? '');
}

function echoKey(reply: FakeReply, key: string): FakeReply {
  if (reply.kind !== 'answer') return reply;
  return JSON.parse(JSON.stringify(reply).split(ECHOED_KEY).join(JSON.stringify(key).slice(1, -1))) as FakeReply;
}

export interface RecordedRequest {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
  /** Size of the request body as sent, in characters. */
  size: number;
}

export interface FakeServer {
  /** Base URL to give the provider, ending in /v1. */
  url: string;
  requests: RecordedRequest[];
  /** Queues replies, answered in order. */
  enqueue(...replies: FakeReply[]): void;
  /** The reply used when the queue is empty (default: a 500 that says so). */
  setFallbackReply(reply: FakeReply | undefined): void;
  close(): Promise<void>;
}

type Dialect = 'openai-chat' | 'openai-responses' | 'anthropic';

async function readBody(request: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of request) text += String(chunk);
  return text;
}

function sse(response: ServerResponse, event: string | undefined, data: unknown): void {
  response.write(`${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
}

function startSse(response: ServerResponse): void {
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
}

function json(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(typeof body === 'string' ? body : JSON.stringify(body));
}

let counter = 0;
function nextId(prefix: string): string {
  counter++;
  return `${prefix}_${counter.toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}

/** Splits a string in two, to send tool arguments as several deltas like real servers do. */
function halves(text: string): string[] {
  const middle = Math.ceil(text.length / 2);
  return [text.slice(0, middle), text.slice(middle)].filter((part) => part.length > 0);
}

// ---------------------------------------------------------------------------------------------
// OpenAI chat completions

function openAIError(status: number, message: string, errorType: string | undefined): unknown {
  return { error: { message, type: errorType ?? (status === 429 ? 'rate_limit_error' : status >= 500 ? 'server_error' : 'invalid_request_error'), param: null, code: null } };
}

function chatUsage(usage: FakeUsage): unknown {
  return {
    prompt_tokens: usage.input,
    completion_tokens: usage.output,
    total_tokens: usage.input + usage.output,
    prompt_tokens_details: { cached_tokens: usage.cached },
    completion_tokens_details: { reasoning_tokens: 0 },
  };
}

function chatAnswer(response: ServerResponse, reply: Extract<FakeReply, { kind: 'answer' }>, model: string, stream: boolean): void {
  const usage = reply.usage ?? DEFAULT_USAGE;
  const id = nextId('chatcmpl');
  const created = 1_700_000_000;
  const calls = (reply.toolCalls ?? []).map((call) => ({ id: nextId('call'), name: call.name, args: JSON.stringify(call.input) }));
  const finishReason = reply.cutAtLimit ? 'length' : calls.length ? 'tool_calls' : 'stop';
  if (!stream) {
    json(response, 200, {
      id,
      object: 'chat.completion',
      created,
      model,
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: reply.text ?? null,
            ...(calls.length ? { tool_calls: calls.map((call) => ({ id: call.id, type: 'function', function: { name: call.name, arguments: call.args } })) } : {}),
          },
          finish_reason: finishReason,
        },
      ],
      usage: chatUsage(usage),
    });
    return;
  }
  startSse(response);
  const chunk = (delta: unknown, finish: string | null = null): unknown => ({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finish }] });
  sse(response, undefined, chunk({ role: 'assistant', content: '' }));
  if (reply.text) for (const piece of halves(reply.text)) sse(response, undefined, chunk({ content: piece }));
  calls.forEach((call, index) => {
    sse(response, undefined, chunk({ tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }] }));
    for (const piece of halves(call.args)) sse(response, undefined, chunk({ tool_calls: [{ index, function: { arguments: piece } }] }));
  });
  sse(response, undefined, chunk({}, finishReason));
  // stream_options.include_usage: a last chunk with no choices and the usage.
  sse(response, undefined, { id, object: 'chat.completion.chunk', created, model, choices: [], usage: chatUsage(usage) });
  sse(response, undefined, '[DONE]');
  response.end();
}

// ---------------------------------------------------------------------------------------------
// OpenAI Responses API

function responsesUsage(usage: FakeUsage): unknown {
  return {
    input_tokens: usage.input,
    input_tokens_details: { cached_tokens: usage.cached },
    output_tokens: usage.output,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: usage.input + usage.output,
  };
}

function responsesAnswer(response: ServerResponse, reply: Extract<FakeReply, { kind: 'answer' }>, model: string, stream: boolean): void {
  const usage = reply.usage ?? DEFAULT_USAGE;
  const id = nextId('resp');
  const created = 1_700_000_000;
  const messageId = nextId('msg');
  const calls = (reply.toolCalls ?? []).map((call) => ({ id: nextId('fc'), callId: nextId('call'), name: call.name, args: JSON.stringify(call.input) }));
  const messageItem = reply.text !== undefined
    ? { type: 'message', id: messageId, role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: reply.text, annotations: [] }] }
    : undefined;
  const callItems = calls.map((call) => ({ type: 'function_call', id: call.id, call_id: call.callId, name: call.name, arguments: call.args, status: 'completed' }));
  const output = [...(messageItem ? [messageItem] : []), ...callItems];
  const envelope = reply.cutAtLimit
    ? { id, object: 'response', created_at: created, model, status: 'incomplete', error: null, incomplete_details: { reason: 'max_output_tokens' } }
    : { id, object: 'response', created_at: created, model, status: 'completed', error: null, incomplete_details: null };
  if (!stream) {
    json(response, 200, { ...envelope, output, usage: responsesUsage(usage) });
    return;
  }
  startSse(response);
  let sequence = 0;
  const send = (event: Record<string, unknown> & { type: string }): void => sse(response, event.type, { ...event, sequence_number: sequence++ });
  send({ type: 'response.created', response: { ...envelope, status: 'in_progress', output: [], usage: null } });
  send({ type: 'response.in_progress', response: { ...envelope, status: 'in_progress', output: [], usage: null } });
  let index = 0;
  if (messageItem) {
    send({ type: 'response.output_item.added', output_index: index, item: { type: 'message', id: messageId, role: 'assistant', status: 'in_progress', content: [] } });
    for (const piece of halves(reply.text ?? '')) send({ type: 'response.output_text.delta', item_id: messageId, output_index: index, content_index: 0, delta: piece, logprobs: [] });
    send({ type: 'response.output_item.done', output_index: index, item: messageItem });
    index++;
  }
  calls.forEach((call, callIndex) => {
    send({ type: 'response.output_item.added', output_index: index, item: { type: 'function_call', id: call.id, call_id: call.callId, name: call.name, arguments: '', status: 'in_progress' } });
    for (const piece of halves(call.args)) send({ type: 'response.function_call_arguments.delta', item_id: call.id, output_index: index, delta: piece });
    send({ type: 'response.function_call_arguments.done', item_id: call.id, output_index: index, arguments: call.args });
    send({ type: 'response.output_item.done', output_index: index, item: callItems[callIndex] });
    index++;
  });
  send({ type: reply.cutAtLimit ? 'response.incomplete' : 'response.completed', response: { ...envelope, output, usage: responsesUsage(usage) } });
  response.end();
}

// ---------------------------------------------------------------------------------------------
// Anthropic Messages

function anthropicErrorType(status: number): string {
  if (status === 529) return 'overloaded_error';
  if (status === 429) return 'rate_limit_error';
  if (status === 401) return 'authentication_error';
  if (status >= 500) return 'api_error';
  return 'invalid_request_error';
}

function anthropicUsage(usage: FakeUsage, output: number): Record<string, number> {
  // Anthropic reports uncached input apart from cache reads and writes.
  return { input_tokens: usage.input - usage.cached, cache_creation_input_tokens: 0, cache_read_input_tokens: usage.cached, output_tokens: output };
}

function anthropicAnswer(response: ServerResponse, reply: Extract<FakeReply, { kind: 'answer' }>, model: string, stream: boolean): void {
  const usage = reply.usage ?? DEFAULT_USAGE;
  const id = nextId('msg');
  const calls = (reply.toolCalls ?? []).map((call) => ({ id: nextId('toolu'), name: call.name, input: call.input }));
  const stopReason = reply.cutAtLimit ? 'max_tokens' : calls.length ? 'tool_use' : 'end_turn';
  if (!stream) {
    json(response, 200, {
      id,
      type: 'message',
      role: 'assistant',
      model,
      content: [...(reply.text !== undefined ? [{ type: 'text', text: reply.text }] : []), ...calls.map((call) => ({ type: 'tool_use', id: call.id, name: call.name, input: call.input }))],
      stop_reason: stopReason,
      stop_sequence: null,
      usage: anthropicUsage(usage, usage.output),
    });
    return;
  }
  startSse(response);
  const send = (event: Record<string, unknown> & { type: string }): void => sse(response, event.type, event);
  send({ type: 'message_start', message: { id, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: anthropicUsage(usage, 1) } });
  send({ type: 'ping' });
  let index = 0;
  if (reply.text !== undefined) {
    send({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
    for (const piece of halves(reply.text)) send({ type: 'content_block_delta', index, delta: { type: 'text_delta', text: piece } });
    send({ type: 'content_block_stop', index });
    index++;
  }
  for (const call of calls) {
    send({ type: 'content_block_start', index, content_block: { type: 'tool_use', id: call.id, name: call.name, input: {} } });
    for (const piece of halves(JSON.stringify(call.input))) send({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: piece } });
    send({ type: 'content_block_stop', index });
    index++;
  }
  send({ type: 'message_delta', delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: usage.output } });
  send({ type: 'message_stop' });
  response.end();
}

// ---------------------------------------------------------------------------------------------
// Faults, per dialect

function errorReply(dialect: Dialect, response: ServerResponse, reply: Extract<FakeReply, { kind: 'error' }>): void {
  const message = reply.message ?? `fake ${reply.status} error`;
  const body = dialect === 'anthropic'
    ? { type: 'error', error: { type: reply.errorType ?? anthropicErrorType(reply.status), message } }
    : openAIError(reply.status, message, reply.errorType);
  json(response, reply.status, body, reply.headers);
}

function stall(dialect: Dialect, response: ServerResponse, model: string): void {
  startSse(response);
  streamOpening(dialect, response, model);
  // …and nothing more: the connection stays open.
}

function malformed(response: ServerResponse, stream: boolean, html: boolean): void {
  if (html) {
    response.writeHead(200, { 'content-type': 'text/html' });
    response.end('<html><body><h1>502 Bad Gateway</h1><p>nginx</p></body></html>');
    return;
  }
  if (stream) {
    startSse(response);
    sse(response, undefined, '{"this is": not json');
    response.end();
    return;
  }
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end('{"id": "broken", "choices": [');
}

function streamError(dialect: Dialect, response: ServerResponse, model: string, reply: Extract<FakeReply, { kind: 'stream-error' }>): void {
  startSse(response);
  const message = reply.message ?? 'Overloaded';
  if (dialect === 'anthropic') {
    sse(response, 'message_start', { type: 'message_start', message: { id: nextId('msg'), type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: anthropicUsage(DEFAULT_USAGE, 1) } });
    sse(response, 'error', { type: 'error', error: { type: reply.errorType ?? 'overloaded_error', message } });
  } else if (dialect === 'openai-responses') {
    sse(response, 'response.created', { type: 'response.created', sequence_number: 0, response: { id: nextId('resp'), object: 'response', created_at: 1_700_000_000, model, status: 'in_progress', output: [] } });
    sse(response, 'error', { type: 'error', sequence_number: 1, code: reply.errorType ?? 'server_error', message, param: null });
  } else {
    sse(response, undefined, { error: { message, type: reply.errorType ?? 'server_error', param: null, code: null } });
  }
  response.end();
}

function breakAfterOutput(dialect: Dialect, response: ServerResponse, model: string, reply: Extract<FakeReply, { kind: 'break-after-output' }>): void {
  startSse(response);
  if (dialect === 'anthropic') {
    sse(response, 'message_start', { type: 'message_start', message: { id: nextId('msg'), type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: anthropicUsage(DEFAULT_USAGE, 1) } });
    sse(response, 'content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
    sse(response, 'content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: reply.text } });
    if (reply.how === 'error-event') sse(response, 'error', { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
  } else if (dialect === 'openai-responses') {
    const messageId = nextId('msg');
    let sequence = 0;
    sse(response, 'response.created', { type: 'response.created', sequence_number: sequence++, response: { id: nextId('resp'), object: 'response', created_at: 1_700_000_000, model, status: 'in_progress', output: [] } });
    sse(response, 'response.output_item.added', { type: 'response.output_item.added', sequence_number: sequence++, output_index: 0, item: { type: 'message', id: messageId, role: 'assistant', status: 'in_progress', content: [] } });
    sse(response, 'response.output_text.delta', { type: 'response.output_text.delta', sequence_number: sequence++, item_id: messageId, output_index: 0, content_index: 0, delta: reply.text, logprobs: [] });
    if (reply.how === 'error-event') sse(response, 'error', { type: 'error', sequence_number: sequence++, code: 'server_error', message: 'The server had an error', param: null });
  } else {
    const id = nextId('chatcmpl');
    sse(response, undefined, { id, object: 'chat.completion.chunk', created: 1_700_000_000, model, choices: [{ index: 0, delta: { role: 'assistant', content: reply.text }, finish_reason: null }] });
    if (reply.how === 'error-event') sse(response, undefined, { error: { message: 'The server had an error', type: 'server_error', param: null, code: null } });
  }
  if (reply.how === 'disconnect') {
    // Let the bytes already written reach the client, then drop the connection mid-stream.
    setTimeout(() => response.socket?.destroy(), 20);
  } else {
    response.end();
  }
}

/** The opening events of a stream, before any output: what a server sends once it accepted the request. */
function streamOpening(dialect: Dialect, response: ServerResponse, model: string): void {
  if (dialect === 'anthropic') {
    sse(response, 'message_start', { type: 'message_start', message: { id: nextId('msg'), type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: anthropicUsage(DEFAULT_USAGE, 1) } });
  } else if (dialect === 'openai-responses') {
    sse(response, 'response.created', { type: 'response.created', sequence_number: 0, response: { id: nextId('resp'), object: 'response', created_at: 1_700_000_000, model, status: 'in_progress', output: [] } });
  } else {
    sse(response, undefined, { id: nextId('chatcmpl'), object: 'chat.completion.chunk', created: 1_700_000_000, model, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] });
  }
}

function cut(dialect: Dialect, request: IncomingMessage, response: ServerResponse, model: string, stream: boolean, when: 'before-headers' | 'mid-body'): void {
  if (when === 'before-headers') {
    request.socket.destroy();
    return;
  }
  if (stream) {
    startSse(response);
    streamOpening(dialect, response, model);
  } else {
    // Content-length promises the whole answer; half of it arrives.
    const whole = dialect === 'anthropic'
      ? JSON.stringify({ id: nextId('msg'), type: 'message', role: 'assistant', model, content: [{ type: 'text', text: 'x'.repeat(400) }], stop_reason: 'end_turn', usage: anthropicUsage(DEFAULT_USAGE, 30) })
      : JSON.stringify({ id: nextId('chatcmpl'), object: 'chat.completion', created: 1_700_000_000, model, choices: [{ index: 0, message: { role: 'assistant', content: 'x'.repeat(400) }, finish_reason: 'stop' }] });
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(whole)) });
    response.write(whole.slice(0, Math.floor(whole.length / 2)));
  }
  // Let the bytes already written reach the client, then drop the connection.
  setTimeout(() => response.socket?.destroy(), 20);
}

/** Sends one text piece every `everyMs` until `pieces` were sent, then a normal end. */
async function drip(dialect: Dialect, response: ServerResponse, model: string, stream: boolean, reply: Extract<FakeReply, { kind: 'drip' }>): Promise<void> {
  const text = Array.from({ length: reply.pieces }, (_, index) => `piece ${index} `).join('');
  const chunks = text.split(/(?<= )/);
  if (!stream) {
    for (let index = 0; index < reply.pieces && !response.socket?.destroyed; index++) await new Promise((resolve) => setTimeout(resolve, reply.everyMs));
    if (response.socket?.destroyed) return;
    if (dialect === 'openai-chat') chatAnswer(response, { kind: 'answer', text }, model, false);
    else if (dialect === 'openai-responses') responsesAnswer(response, { kind: 'answer', text }, model, false);
    else anthropicAnswer(response, { kind: 'answer', text }, model, false);
    return;
  }
  if (dialect !== 'openai-chat') {
    // Only chat completions drip; the other dialects answer at once (no test needs them slow).
    if (dialect === 'openai-responses') responsesAnswer(response, { kind: 'answer', text }, model, true);
    else anthropicAnswer(response, { kind: 'answer', text }, model, true);
    return;
  }
  startSse(response);
  const id = nextId('chatcmpl');
  const chunk = (delta: unknown, finish: string | null = null): unknown => ({ id, object: 'chat.completion.chunk', created: 1_700_000_000, model, choices: [{ index: 0, delta, finish_reason: finish }] });
  sse(response, undefined, chunk({ role: 'assistant', content: '' }));
  for (const piece of chunks) {
    if (response.destroyed || response.socket?.destroyed) return;
    sse(response, undefined, chunk({ content: piece }));
    await new Promise((resolve) => setTimeout(resolve, reply.everyMs));
  }
  if (response.destroyed) return;
  sse(response, undefined, chunk({}, 'stop'));
  sse(response, undefined, { id, object: 'chat.completion.chunk', created: 1_700_000_000, model, choices: [], usage: chatUsage({ input: 100, output: Math.ceil(text.length / 4), cached: 0 }) });
  sse(response, undefined, '[DONE]');
  response.end();
}

/** The output limit a request sets, in tokens, under whichever name its dialect uses. */
function requestedOutputLimit(body: Record<string, unknown>): number | undefined {
  for (const name of ['max_tokens', 'max_completion_tokens', 'max_output_tokens']) {
    const value = body[name];
    if (typeof value === 'number' && value > 0) return value;
  }
  return undefined;
}

const LONG_TEXT_UNIT = 'The quick brown fox jumps over the lazy dog. ';

function longAnswer(reply: Extract<FakeReply, { kind: 'long' }>, body: Record<string, unknown>, requestSize: number): Extract<FakeReply, { kind: 'answer' }> {
  const limit = requestedOutputLimit(body);
  const tokens = limit === undefined ? reply.outputTokens : Math.min(limit, reply.outputTokens);
  const text = LONG_TEXT_UNIT.repeat(Math.ceil((tokens * 4) / LONG_TEXT_UNIT.length)).slice(0, tokens * 4);
  return { kind: 'answer', text, usage: { input: Math.ceil(requestSize / 4), output: Math.ceil(text.length / 4), cached: 0 }, cutAtLimit: tokens < reply.outputTokens };
}

// ---------------------------------------------------------------------------------------------

function dialectOf(server: 'openai' | 'anthropic', path: string): Dialect | undefined {
  if (server === 'anthropic') return path.endsWith('/messages') ? 'anthropic' : undefined;
  if (path.endsWith('/chat/completions')) return 'openai-chat';
  if (path.endsWith('/responses')) return 'openai-responses';
  return undefined;
}

async function startFake(kind: 'openai' | 'anthropic', initial: FakeReply[]): Promise<FakeServer> {
  const queue: FakeReply[] = [...initial];
  const requests: RecordedRequest[] = [];
  let fallbackReply: FakeReply | undefined;
  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const text = await readBody(request);
    const path = (request.url ?? '').split('?')[0]!;
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // Recorded as empty; the reply decides what happens.
    }
    requests.push({ path, headers: request.headers, body, size: text.length });
    const dialect = dialectOf(kind, path);
    if (!dialect) {
      json(response, 404, { error: { message: `the fake ${kind} server has no route ${path}` } });
      return;
    }
    const scripted = queue.shift() ?? fallbackReply ?? { kind: 'error', status: 500, message: 'the fake server has no scripted reply left' };
    const reply = echoKey(scripted.kind === 'long' ? longAnswer(scripted, body, text.length) : scripted, requestKey(request.headers));
    const model = typeof body.model === 'string' ? body.model : 'fake-model';
    const stream = body.stream === true;
    switch (reply.kind) {
      case 'answer':
        if (reply.delayMs) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
        if (dialect === 'openai-chat') chatAnswer(response, reply, model, stream);
        else if (dialect === 'openai-responses') responsesAnswer(response, reply, model, stream);
        else anthropicAnswer(response, reply, model, stream);
        return;
      case 'error':
        errorReply(dialect, response, reply);
        return;
      case 'hang':
        return;
      case 'stall':
        stall(dialect, response, model);
        return;
      case 'malformed':
        malformed(response, stream, reply.html === true);
        return;
      case 'stream-error':
        streamError(dialect, response, model, reply);
        return;
      case 'break-after-output':
        breakAfterOutput(dialect, response, model, reply);
        return;
      case 'cut':
        cut(dialect, request, response, model, stream, reply.when);
        return;
      case 'drip':
        await drip(dialect, response, model, stream, reply);
        return;
      case 'long':
        // Already turned into an answer above.
        return;
    }
  };
  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) json(response, 500, { error: { message: `fake server crashed: ${String(error)}` } });
      else response.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    enqueue: (...replies) => queue.push(...replies),
    setFallbackReply: (reply) => {
      fallbackReply = reply;
    },
    close: () =>
      new Promise<void>((resolve) => {
        // Hanging requests keep their sockets open; close them so the server can stop.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** An OpenAI server: POST /v1/chat/completions and POST /v1/responses. */
export function startFakeOpenAI(...replies: FakeReply[]): Promise<FakeServer> {
  return startFake('openai', replies);
}

/** An Anthropic server: POST /v1/messages. */
export function startFakeAnthropic(...replies: FakeReply[]): Promise<FakeServer> {
  return startFake('anthropic', replies);
}
