import { strict as assert } from 'node:assert';
import { inspect } from 'node:util';
import type { LanguageModelV4, LanguageModelV4FunctionTool, LanguageModelV4Prompt } from '@ai-sdk/provider';
import { generateText, jsonSchema, streamText, tool, type ToolSet } from 'ai';
import { createModel, type ResolvedModel } from '../../src/core/models/registry';
import { CircuitBreakers, type BreakerChange } from '../../src/core/models/breakers';
import { estimatePromptTokens } from '../../src/core/models/estimates';
import { ModelCallError, retryAfterMs } from '../../src/core/models/failures';
import { RoutedModel, type CallEstimate, type CallRecord, type ChainModel, type FallbackNotice, type RoutedModelOptions } from '../../src/core/models/router';
import type { ModelSpec } from '../../src/shared/model';
import { startFakeAnthropic, startFakeOpenAI, type FakeReply, type FakeServer } from '../support/fakeProviders';

const KEYS: Record<string, string> = {
  OPENAI_API_KEY: 'sk-test-router-openai-0123456789abcdef',
  ANTHROPIC_API_KEY: 'sk-ant-test-router-0123456789abcdef',
  ODD_KEY: 'plain-words-that-are-secret-42',
};

const tools: ToolSet = {
  finish: tool({
    description: 'Report the result.',
    inputSchema: jsonSchema<{ summary: string }>({ type: 'object', properties: { summary: { type: 'string' } }, required: ['summary'] }),
  }),
};

const ANSWER: FakeReply = { kind: 'answer', text: 'Hello there', toolCalls: [{ name: 'finish', input: { summary: 'done' } }] };

async function resolved(spec: ModelSpec): Promise<ChainModel> {
  const model: ResolvedModel = await createModel(spec, { workspaceRoot: process.cwd(), secret: async (name) => KEYS[name] });
  return { id: model.id, provider: model.provider, model: model.model, price: model.price, breakerKey: model.breakerKey, maxOutputTokens: spec.maxOutputTokens, contextWindow: spec.contextWindow };
}

function openaiSpec(id: string, server: FakeServer, extra: Partial<Extract<ModelSpec, { provider: 'openai' }>> = {}): ModelSpec {
  return { id, provider: 'openai', model: 'gpt-4.1', baseURL: server.url, ...extra };
}
function anthropicSpec(id: string, server: FakeServer, extra: Partial<Extract<ModelSpec, { provider: 'anthropic' }>> = {}): ModelSpec {
  return { id, provider: 'anthropic', model: 'claude-sonnet-4-5', baseURL: server.url, ...extra };
}
function compatibleSpec(id: string, server: FakeServer): ModelSpec {
  return { id, provider: 'openai-compatible', model: 'qwen2.5-coder', baseURL: server.url };
}

interface Harness {
  routed: RoutedModel;
  records: CallRecord[];
  fallbacks: FallbackNotice[];
  estimates: CallEstimate[];
}

function route(chain: ChainModel[], options: Partial<RoutedModelOptions> = {}): Harness {
  const records: CallRecord[] = [];
  const fallbacks: FallbackNotice[] = [];
  const estimates: CallEstimate[] = [];
  const routed = new RoutedModel({
    chain,
    breakers: options.breakers ?? new CircuitBreakers(),
    // Generous defaults: a loaded machine must not trip them; the timeout tests set their own.
    timeouts: { firstTokenMs: 5000, totalMs: 10_000, ...options.timeouts },
    beforeCall: (estimate) => {
      estimates.push(estimate);
      options.beforeCall?.(estimate);
    },
    onCall: (record) => records.push(record),
    onFallback: (notice) => fallbacks.push(notice),
    ...(options.maxRetryWaitMs !== undefined ? { maxRetryWaitMs: options.maxRetryWaitMs } : {}),
  });
  return { routed, records, fallbacks, estimates };
}

function generate(model: LanguageModelV4, abortSignal?: AbortSignal): ReturnType<typeof generateText> {
  return generateText({ model, prompt: 'Fix the bug, then call finish.', tools, maxRetries: 0, abortSignal });
}

/** Consumes a streamText call: the text it produced and every error the stream carried. */
async function stream(model: LanguageModelV4, abortSignal?: AbortSignal): Promise<{ text: string; errors: unknown[]; toolNames: string[] }> {
  const result = streamText({ model, prompt: 'Fix the bug, then call finish.', tools, maxRetries: 0, abortSignal, onError: () => undefined });
  let text = '';
  const errors: unknown[] = [];
  const toolNames: string[] = [];
  try {
    for await (const part of result.fullStream) {
      if (part.type === 'text-delta') text += part.text;
      else if (part.type === 'error') errors.push(part.error);
      else if (part.type === 'tool-call') toolNames.push(part.toolName);
    }
  } catch (error) {
    // A stream that breaks mid-way ends the SDK's stream with the error, as it does without a router.
    errors.push(error);
  }
  return { text, errors, toolNames };
}

async function rejection(promise: PromiseLike<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  return assert.fail('expected the call to fail');
}

function outcomes(records: CallRecord[]): [string, string][] {
  return records.map((record) => [record.modelId, record.outcome]);
}

function summary(records: CallRecord[]): unknown[] {
  return records.map((record) => [record.modelId, record.outcome, record.fallbackFrom, record.retryAfterMs]);
}

describe('RoutedModel over real provider packages and local servers', function () {
  this.timeout(20_000);
  const servers: FakeServer[] = [];
  const openai = async (...replies: FakeReply[]): Promise<FakeServer> => {
    const server = await startFakeOpenAI(...replies);
    servers.push(server);
    return server;
  };
  const anthropic = async (...replies: FakeReply[]): Promise<FakeServer> => {
    const server = await startFakeAnthropic(...replies);
    servers.push(server);
    return server;
  };
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });

  describe('fallback', () => {
    it('falls over 500 → 429 with a long retry-after → the third model, recording all three in order', async () => {
      const s1 = await openai({ kind: 'error', status: 500, message: 'The server had an error' });
      const s2 = await anthropic({ kind: 'error', status: 429, message: 'Number of request tokens has exceeded your rate limit', headers: { 'retry-after': '60' } });
      const s3 = await openai(ANSWER);
      const { routed, records, fallbacks } = route([await resolved(openaiSpec('gpt', s1)), await resolved(anthropicSpec('claude', s2)), await resolved(compatibleSpec('local', s3))]);
      const result = await generate(routed);
      assert.equal(result.toolCalls[0]?.toolName, 'finish');
      assert.deepEqual(summary(records), [
        ['gpt', 'error', undefined, undefined],
        ['claude', 'error', 'gpt', 60_000],
        ['local', 'ok', 'claude', undefined],
      ]);
      assert.match(records[0]!.error!, /server error \(HTTP 500\): The server had an error/);
      assert.match(records[1]!.error!, /rate limited \(HTTP 429\)/);
      assert.deepEqual([records[2]!.inputTokens, records[2]!.outputTokens, records[2]!.cachedInputTokens, records[2]!.usd], [120, 30, 20, 0]);
      assert.deepEqual(fallbacks.map((notice) => [notice.from, notice.to]), [['gpt', 'claude'], ['claude', 'local']]);
      assert.match(fallbacks[1]!.reason, /retry after 60 s/);
      assert.deepEqual([s1.requests.length, s2.requests.length, s3.requests.length], [1, 1, 1]);
    });

    it('does the same for streamText, before any output reached the caller', async () => {
      const s1 = await openai({ kind: 'error', status: 503, message: 'Service unavailable' });
      const s2 = await anthropic({ kind: 'stream-error', errorType: 'overloaded_error', message: 'Overloaded' });
      const s3 = await openai(ANSWER);
      const { routed, records } = route([await resolved(openaiSpec('gpt', s1)), await resolved(anthropicSpec('claude', s2)), await resolved(compatibleSpec('local', s3))]);
      const { text, errors, toolNames } = await stream(routed);
      assert.deepEqual(errors, []);
      assert.equal(text, 'Hello there');
      assert.deepEqual(toolNames, ['finish']);
      assert.deepEqual(summary(records), [
        ['gpt', 'error', undefined, undefined],
        ['claude', 'error', 'gpt', undefined],
        ['local', 'ok', 'claude', undefined],
      ]);
      assert.match(records[1]!.error!, /overloaded/i);
      assert.deepEqual([records[2]!.inputTokens, records[2]!.outputTokens, records[2]!.cachedInputTokens], [120, 30, 20]);
    });

    it('a 529 overloaded falls over', async () => {
      const s1 = await anthropic({ kind: 'error', status: 529, message: 'Overloaded' });
      const s2 = await openai(ANSWER);
      const { routed, records } = route([await resolved(anthropicSpec('claude', s1)), await resolved(openaiSpec('gpt', s2))]);
      await generate(routed);
      assert.deepEqual(summary(records), [['claude', 'error', undefined, undefined], ['gpt', 'ok', 'claude', undefined]]);
      assert.match(records[0]!.error!, /overloaded \(HTTP 529\): Overloaded/);
    });

    it('a malformed body falls over, streamed or not', async () => {
      const s1 = await openai({ kind: 'malformed' }, { kind: 'malformed' });
      const s2 = await anthropic(ANSWER, ANSWER);
      const { routed, records } = route([await resolved(compatibleSpec('local', s1)), await resolved(anthropicSpec('claude', s2))]);
      await generate(routed);
      const streamed = await stream(routed);
      assert.equal(streamed.text, 'Hello there');
      assert.deepEqual(summary(records), [
        ['local', 'error', undefined, undefined],
        ['claude', 'ok', 'local', undefined],
        ['local', 'error', undefined, undefined],
        ['claude', 'ok', 'local', undefined],
      ]);
      assert.match(records[0]!.error!, /malformed response/);
    });

    it('a network failure (nothing listening) falls over', async () => {
      const dead = await openai();
      await dead.close();
      servers.splice(servers.indexOf(dead), 1);
      const s2 = await openai(ANSWER);
      const { routed, records } = route([await resolved(openaiSpec('dead', dead)), await resolved(openaiSpec('alive', s2))]);
      await generate(routed);
      assert.deepEqual(summary(records), [['dead', 'error', undefined, undefined], ['alive', 'ok', 'dead', undefined]]);
      assert.match(records[0]!.error!, /network error/);
    });

    it('a refusal that is not an outage (400) propagates at once without trying the next model', async () => {
      const s1 = await openai({ kind: 'error', status: 400, message: "Invalid value for 'model'" });
      const s2 = await openai(ANSWER);
      const { routed, records, fallbacks } = route([await resolved(openaiSpec('gpt', s1)), await resolved(openaiSpec('other', s2))]);
      const error = await rejection(generate(routed));
      assert.ok(error instanceof ModelCallError);
      assert.equal(error.statusCode, 400);
      assert.match(error.message, /Model "gpt" \(openai\) failed: refused \(HTTP 400\): Invalid value for 'model'\. This is not a provider outage/);
      assert.equal(s2.requests.length, 0);
      assert.deepEqual(fallbacks, []);
      assert.equal(records.length, 1);
    });

    it('when every model fails, the last error propagates with the list of what was tried', async () => {
      const s1 = await openai({ kind: 'error', status: 500, message: 'first is down' });
      const s2 = await anthropic({ kind: 'error', status: 529, message: 'second is overloaded' });
      const { routed } = route([await resolved(openaiSpec('gpt', s1)), await resolved(anthropicSpec('claude', s2))]);
      const error = await rejection(generate(routed));
      assert.ok(error instanceof ModelCallError);
      assert.equal(error.statusCode, 529);
      assert.match(error.message, /Every model in the chain failed or was skipped — "gpt" \(openai\): server error \(HTTP 500\): first is down; "claude" \(anthropic\): overloaded \(HTTP 529\): second is overloaded\./);
      assert.deepEqual(error.attempts.map((attempt) => [attempt.modelId, attempt.outcome]), [['gpt', 'failed'], ['claude', 'failed']]);
    });
  });

  describe('cut and broken responses', () => {
    for (const [dialect, make, spec] of [
      ['OpenAI Responses', openai, openaiSpec],
      ['OpenAI chat', openai, (id: string, server: FakeServer) => openaiSpec(id, server, { api: 'chat' })],
      ['Anthropic', anthropic, anthropicSpec],
      ['OpenAI-compatible', openai, compatibleSpec],
    ] as [string, (...replies: FakeReply[]) => Promise<FakeServer>, (id: string, server: FakeServer) => ModelSpec][]) {
      it(`a connection cut mid-response falls over, streamed or not, and counts against the breaker (${dialect})`, async () => {
        const s1 = await make({ kind: 'cut', when: 'mid-body' }, { kind: 'cut', when: 'mid-body' }, { kind: 'cut', when: 'before-headers' });
        const s2 = await openai(ANSWER, ANSWER, ANSWER);
        const breakers = new CircuitBreakers({ failureThreshold: 3 });
        const first = await resolved(spec('first', s1));
        const { routed, records } = route([first, await resolved(openaiSpec('second', s2))], { breakers });
        await generate(routed);
        assert.equal((await stream(routed)).text, 'Hello there');
        await generate(routed);
        assert.deepEqual(outcomes(records), [['first', 'error'], ['second', 'ok'], ['first', 'error'], ['second', 'ok'], ['first', 'error'], ['second', 'ok']]);
        assert.match(records[0]!.error!, /connection cut mid-response \(HTTP 200, terminated\)/);
        assert.match(records[2]!.error!, /connection cut mid-response|network error/);
        assert.match(records[4]!.error!, /network error/);
        assert.equal(breakers.state(first.breakerKey!), 'open', 'three cuts in a row opened the breaker');
      });
    }

    it('a streamed 200 whose body is an HTML page falls over', async () => {
      for (const make of [openai, anthropic]) {
        const s1 = await make({ kind: 'malformed', html: true });
        const s2 = await openai(ANSWER);
        const spec = make === openai ? compatibleSpec('proxied', s1) : anthropicSpec('proxied', s1);
        const { routed, records } = route([await resolved(spec), await resolved(openaiSpec('direct', s2))]);
        const { text, errors } = await stream(routed);
        assert.deepEqual(errors, []);
        assert.equal(text, 'Hello there');
        assert.deepEqual(outcomes(records), [['proxied', 'error'], ['direct', 'ok']]);
      }
    });

    it('an error event inside a 200 stream falls over unless it names a refusal', async () => {
      const s1 = await openai({ kind: 'stream-error', errorType: 'server_error', message: 'The server had an error' }, { kind: 'stream-error', errorType: 'invalid_request_error', message: 'Unknown parameter' });
      const s2 = await openai(ANSWER);
      const { routed, records } = route([await resolved(compatibleSpec('local', s1)), await resolved(openaiSpec('gpt', s2))]);
      assert.equal((await stream(routed)).text, 'Hello there');
      assert.deepEqual(outcomes(records), [['local', 'error'], ['gpt', 'ok']]);
      const refused = await stream(routed);
      assert.equal(refused.errors.length, 1, 'a refusal reaches the caller');
      assert.match(String((refused.errors[0] as Error).message), /Unknown parameter\. This is not a provider outage/);
      assert.equal(s2.requests.length, 1, 'and is not retried on the next model');
    });
  });

  describe('output limits', () => {
    it('every call carries an output limit: the spec\'s, or 4096, under each dialect\'s name', async () => {
      const s1 = await openai(ANSWER, ANSWER, ANSWER);
      const s2 = await anthropic(ANSWER);
      for (const spec of [openaiSpec('responses', s1), openaiSpec('chat', s1, { api: 'chat' }), compatibleSpec('local', s1), anthropicSpec('claude', s2)]) {
        await stream(route([await resolved(spec)]).routed);
      }
      assert.deepEqual(s1.requests.map((request) => request.body.max_output_tokens ?? request.body.max_completion_tokens ?? request.body.max_tokens), [4096, 4096, 4096]);
      assert.equal(s2.requests[0]!.body.max_tokens, 4096, 'not the model\'s own maximum');
      const s3 = await openai(ANSWER);
      await stream(route([await resolved(openaiSpec('capped', s3, { maxOutputTokens: 700 }))]).routed);
      assert.equal(s3.requests[0]!.body.max_output_tokens, 700);
    });

    it('a server that ignores the limit is cut off once its answer outgrows it, without falling over, and the tokens it streamed are counted', async () => {
      const s1 = await openai({ kind: 'answer', text: 'w'.repeat(100_000) });
      const s2 = await openai(ANSWER);
      const { routed, records, fallbacks } = route([await resolved(compatibleSpec('flood', s1)), await resolved(openaiSpec('other', s2))]);
      const { errors } = await stream(routed);
      assert.equal(errors.length, 1);
      assert.match(String((errors[0] as Error).message), /broke off its answer after output had started: the answer ran past 65536 characters, more than its output limit of 4096 tokens can hold/);
      assert.equal(s2.requests.length, 0);
      assert.deepEqual(fallbacks, []);
      assert.equal(records[0]!.outcome, 'error');
      assert.ok(records[0]!.outputTokens > 10_000, `the streamed output was counted (${records[0]!.outputTokens} tokens)`);
      assert.match(records[0]!.error!, /tokens estimated, the provider reported none/);
    });
  });

  describe('retry-after', () => {
    it('waits out a short retry-after-ms and retries the same model once', async () => {
      const s1 = await openai({ kind: 'error', status: 429, headers: { 'retry-after-ms': '250' } }, ANSWER);
      const s2 = await openai(ANSWER);
      const { routed, records, fallbacks, estimates } = route([await resolved(openaiSpec('gpt', s1)), await resolved(openaiSpec('other', s2))]);
      const started = Date.now();
      await generate(routed);
      assert.ok(Date.now() - started >= 240, 'the router waited for the retry-after');
      assert.deepEqual(summary(records), [['gpt', 'error', undefined, 250], ['gpt', 'ok', undefined, undefined]]);
      assert.deepEqual([s1.requests.length, s2.requests.length], [2, 0]);
      assert.deepEqual(fallbacks, []);
      assert.deepEqual(estimates.map((estimate) => estimate.modelId), ['gpt', 'gpt'], 'beforeCall ran before the retry too');
    });

    it('honours retry-after in seconds, and falls over when the retry fails as well', async () => {
      const s1 = await anthropic({ kind: 'error', status: 529, headers: { 'retry-after': '1' } }, { kind: 'error', status: 529, headers: { 'retry-after': '1' } });
      const s2 = await openai(ANSWER);
      const { routed, records } = route([await resolved(anthropicSpec('claude', s1)), await resolved(openaiSpec('gpt', s2))]);
      const started = Date.now();
      await generate(routed);
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 990 && elapsed < 1900, `waited once for about a second, not twice (${elapsed} ms)`);
      assert.deepEqual(summary(records), [['claude', 'error', undefined, 1000], ['claude', 'error', undefined, 1000], ['gpt', 'ok', 'claude', undefined]]);
    });

    it('parses retry-after headers', () => {
      assert.equal(retryAfterMs({ 'retry-after-ms': '1500' }), 1500);
      assert.equal(retryAfterMs({ 'Retry-After': '2' }), 2000);
      assert.equal(retryAfterMs({ 'retry-after': new Date(10_000).toUTCString() }, 4000), 6000);
      assert.equal(retryAfterMs({ 'retry-after': 'soon' }), undefined);
      assert.equal(retryAfterMs({}), undefined);
    });
  });

  describe('timeouts and abort', () => {
    it('a server that never answers hits the first-token timeout and falls over (streamText)', async () => {
      const s1 = await openai({ kind: 'hang' });
      const s2 = await anthropic(ANSWER);
      const { routed, records } = route([await resolved(openaiSpec('gpt', s1)), await resolved(anthropicSpec('claude', s2))], { timeouts: { firstTokenMs: 300 } });
      const started = Date.now();
      const { text, errors } = await stream(routed);
      assert.ok(Date.now() - started < 2000);
      assert.deepEqual(errors, []);
      assert.equal(text, 'Hello there');
      assert.deepEqual(summary(records), [['gpt', 'error', undefined, undefined], ['claude', 'ok', 'gpt', undefined]]);
      assert.match(records[0]!.error!, /no output within 300 ms \(first-token timeout\)/);
    });

    it('a stream that opens and then stalls before any output also hits the first-token timeout', async () => {
      const s1 = await anthropic({ kind: 'stall' });
      const s2 = await openai(ANSWER);
      const { routed, records } = route([await resolved(anthropicSpec('claude', s1)), await resolved(openaiSpec('gpt', s2))], { timeouts: { firstTokenMs: 300 } });
      const { text } = await stream(routed);
      assert.equal(text, 'Hello there');
      assert.match(records[0]!.error!, /first-token timeout/);
    });

    it('a non-streaming call that never answers hits the total timeout and falls over', async () => {
      const s1 = await openai({ kind: 'hang' });
      const s2 = await openai(ANSWER);
      const { routed, records } = route([await resolved(openaiSpec('gpt', s1)), await resolved(openaiSpec('other', s2))], { timeouts: { totalMs: 300 } });
      await generate(routed);
      assert.match(records[0]!.error!, /longer than 300 ms \(total timeout\)/);
      assert.equal(records[1]!.outcome, 'ok');
    });

    it("the caller's abort falls over to nothing and ends at once", async () => {
      const s1 = await openai({ kind: 'hang' });
      const s2 = await openai(ANSWER);
      const { routed, records, fallbacks } = route([await resolved(openaiSpec('gpt', s1)), await resolved(openaiSpec('other', s2))], { timeouts: { firstTokenMs: 60_000, totalMs: 60_000 } });
      const controller = new AbortController();
      setTimeout(() => controller.abort(new Error('user cancelled')), 100);
      const started = Date.now();
      const error = await rejection(generate(routed, controller.signal));
      assert.ok(Date.now() - started < 1000, 'ended at once');
      assert.match(String((error as Error).message), /user cancelled/);
      assert.equal(s2.requests.length, 0);
      assert.deepEqual(fallbacks, []);
      assert.deepEqual(summary(records), [['gpt', 'aborted', undefined, undefined]]);
    });

    it('an abort during a retry-after wait ends at once as well', async () => {
      const s1 = await openai({ kind: 'error', status: 429, headers: { 'retry-after': '5' } });
      const s2 = await openai(ANSWER);
      const { routed } = route([await resolved(openaiSpec('gpt', s1)), await resolved(openaiSpec('other', s2))]);
      const controller = new AbortController();
      setTimeout(() => controller.abort(new Error('user cancelled')), 150);
      const started = Date.now();
      await rejection(generate(routed, controller.signal));
      assert.ok(Date.now() - started < 1000);
      assert.deepEqual([s1.requests.length, s2.requests.length], [1, 0]);
    });

    it('a streamed abort ends the stream without a fallback', async () => {
      const s1 = await openai({ kind: 'stall' });
      const s2 = await openai(ANSWER);
      const { routed, records } = route([await resolved(openaiSpec('gpt', s1)), await resolved(openaiSpec('other', s2))], { timeouts: { firstTokenMs: 60_000 } });
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 100);
      const started = Date.now();
      await stream(routed, controller.signal);
      assert.ok(Date.now() - started < 1000);
      assert.equal(s2.requests.length, 0);
      assert.deepEqual(records.map((record) => record.outcome), ['aborted']);
    });
  });

  describe('errors after output started', () => {
    for (const [label, make] of [
      ['OpenAI Responses, connection dropped', () => openai({ kind: 'break-after-output', text: 'Partial answer', how: 'disconnect' })],
      ['Anthropic, overloaded error event', () => anthropic({ kind: 'break-after-output', text: 'Partial answer', how: 'error-event' })],
    ] as [string, () => Promise<FakeServer>][]) {
      it(`propagate to the caller and do not fall over (${label})`, async () => {
        const s1 = await make();
        const s2 = await openai(ANSWER);
        const spec = label.startsWith('OpenAI') ? openaiSpec('first', s1) : anthropicSpec('first', s1);
        const { routed, records, fallbacks } = route([await resolved(spec), await resolved(openaiSpec('second', s2))]);
        const { text, errors } = await stream(routed);
        assert.equal(text, 'Partial answer');
        assert.equal(errors.length, 1, 'the error reached the caller');
        assert.match(String((errors[0] as Error).message), /Model "first" \((openai|anthropic)\) broke off its answer after output had started: .+\. No other model was asked to continue it/);
        assert.equal(s2.requests.length, 0);
        assert.deepEqual(fallbacks, []);
        assert.deepEqual(records.map((record) => [record.modelId, record.outcome]), [['first', 'error']]);
      });
    }
  });

  describe('circuit breaker', () => {
    it('opens after N failures, skips the endpoint without a request during the cool-down, and closes after a good half-open try', async () => {
      let now = 1_000_000;
      const changes: BreakerChange[] = [];
      const breakers = new CircuitBreakers({ failureThreshold: 2, coolDownMs: 1000, now: () => now, onChange: (change) => changes.push(change) });
      const flaky = await openai();
      flaky.setFallbackReply({ kind: 'error', status: 500, message: 'down' });
      const backup = await anthropic();
      backup.setFallbackReply(ANSWER);
      const chain = [await resolved(openaiSpec('flaky', flaky)), await resolved(anthropicSpec('backup', backup))];
      const key = chain[0]!.breakerKey!;
      const call = async (): Promise<Harness> => {
        const harness = route(chain, { breakers });
        await generate(harness.routed);
        return harness;
      };

      await call();
      assert.equal(breakers.state(key), 'closed');
      await call();
      assert.equal(breakers.state(key), 'open');
      assert.equal(flaky.requests.length, 2);

      const skipped = await call();
      assert.equal(flaky.requests.length, 2, 'no request while open');
      assert.deepEqual(skipped.records.map((record) => [record.modelId, record.outcome, record.fallbackFrom]), [['backup', 'ok', 'flaky']]);
      assert.match(skipped.fallbacks[0]!.reason, /circuit breaker for openai@http:\/\/127\.0\.0\.1:\d+\/v1 is open until/);

      now += 1000;
      await call(); // half-open: one try, which fails again
      assert.equal(flaky.requests.length, 3);
      assert.equal(breakers.state(key), 'open');
      await call();
      assert.equal(flaky.requests.length, 3, 'open again for another cool-down');

      now += 1000;
      flaky.setFallbackReply(ANSWER);
      const recovered = await call();
      assert.equal(flaky.requests.length, 4);
      assert.deepEqual(recovered.records.map((record) => [record.modelId, record.outcome]), [['flaky', 'ok']]);
      assert.equal(breakers.state(key), 'closed');
      assert.deepEqual(changes.map((change) => change.state), ['open', 'half-open', 'open', 'half-open', 'closed']);
      assert.equal(changes[0]!.until, 1_000_000 + 1000);
      assert.match(changes[0]!.reason, /2 failures in a row, last: server error \(HTTP 500\): down/);
    });

    it('says so when every model was skipped because its breaker is open', async () => {
      let now = 0;
      const breakers = new CircuitBreakers({ failureThreshold: 1, coolDownMs: 60_000, now: () => now });
      const s1 = await openai({ kind: 'error', status: 502 });
      const { routed } = route([await resolved(openaiSpec('gpt', s1))], { breakers });
      await rejection(generate(routed));
      now += 10;
      const error = await rejection(generate(routed));
      assert.ok(error instanceof ModelCallError);
      assert.match(error.message, /No model could be tried: the circuit breaker of every model in the chain is open/);
      assert.equal(s1.requests.length, 1);
    });

    it('lets only one call through while half-open', () => {
      let now = 0;
      const breakers = new CircuitBreakers({ failureThreshold: 1, coolDownMs: 100, now: () => now });
      breakers.recordFailure('k', 'boom');
      assert.equal(breakers.tryAcquire('k').allowed, false);
      now = 100;
      assert.equal(breakers.tryAcquire('k').allowed, true);
      assert.equal(breakers.tryAcquire('k').allowed, false, 'a second caller waits for the probe');
      breakers.release('k');
      assert.equal(breakers.tryAcquire('k').allowed, true, 'an aborted probe frees the slot');
      breakers.recordSuccess('k');
      assert.equal(breakers.state('k'), 'closed');
    });
  });

  describe('beforeCall', () => {
    it('runs before every attempt on every model with a worst-case estimate', async () => {
      const s1 = await openai({ kind: 'error', status: 429, headers: { 'retry-after-ms': '10' } }, { kind: 'error', status: 500 });
      const s2 = await anthropic(ANSWER);
      const chain = [
        await resolved(openaiSpec('gpt', s1, { prices: { inputPerMTok: 2, outputPerMTok: 8 } })),
        await resolved(anthropicSpec('claude', s2, { model: 'claude-model-nobody-priced', maxOutputTokens: 1000 })),
      ];
      const { routed, estimates } = route(chain);
      await generate(routed);
      assert.deepEqual(estimates.map((estimate) => [estimate.modelId, estimate.maxOutputTokens]), [['gpt', 4096], ['gpt', 4096], ['claude', 1000]]);
      const prompt = estimates[0]!.promptTokens;
      assert.ok(prompt > 10 && prompt < 200, `a chars/4 estimate of the prompt and the tool schema (${prompt})`);
      assert.equal(estimates[0]!.worstCaseUsd, (prompt * 2 + 4096 * 8) / 1_000_000);
      assert.equal(estimates[2]!.worstCaseUsd, undefined, 'unknown price, unknown worst case');
      assert.equal(s2.requests[0]!.body.max_tokens, 1000, "the spec's cap is sent, so the estimate is a real bound");
    });

    it('a throw stops everything without any HTTP request, and the error propagates unchanged', async () => {
      const s1 = await openai(ANSWER);
      const s2 = await openai(ANSWER);
      const budget = new Error('Run budget of $1.00 would be exceeded');
      const { routed, records, fallbacks } = route([await resolved(openaiSpec('gpt', s1)), await resolved(openaiSpec('other', s2))], {
        beforeCall: () => {
          throw budget;
        },
      });
      const direct = await rejection(routed.doGenerate({ prompt: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] }));
      assert.equal(direct, budget);
      const viaStream = await rejection(routed.doStream({ prompt: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] }));
      assert.equal(viaStream, budget);
      const viaSdk = await rejection(generate(routed));
      assert.ok(viaSdk === budget || (viaSdk as Error).cause === budget, 'generateText hands the budget error on');
      assert.deepEqual([s1.requests.length, s2.requests.length, records.length, fallbacks.length], [0, 0, 0, 0]);
    });

    it('a throw before a fallback attempt stops the fallback too', async () => {
      const s1 = await openai({ kind: 'error', status: 500 });
      const s2 = await openai(ANSWER);
      let calls = 0;
      const { routed } = route([await resolved(openaiSpec('gpt', s1)), await resolved(openaiSpec('other', s2))], {
        beforeCall: (estimate) => {
          if (++calls === 2) throw new Error(`budget refuses ${estimate.modelId}`);
        },
      });
      const error = await rejection(routed.doGenerate({ prompt: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] }));
      assert.match((error as Error).message, /budget refuses other/);
      assert.deepEqual([s1.requests.length, s2.requests.length], [1, 0]);
    });
  });

  describe('cost and secrets', () => {
    it('records cost from the price table: cached tokens at the cached price, unknown prices as undefined', async () => {
      const s1 = await openai(ANSWER, ANSWER, ANSWER);
      const chainFor = async (spec: ModelSpec): Promise<Harness> => {
        const harness = route([await resolved(spec)]);
        await generate(harness.routed);
        return harness;
      };
      // gpt-4.1: $2 in, $0.50 cached in, $8 out per million tokens; usage 120 in (20 cached), 30 out.
      const table = await chainFor(openaiSpec('gpt', s1));
      assert.equal(table.records[0]!.usd, (100 * 2 + 20 * 0.5 + 30 * 8) / 1_000_000);
      const override = await chainFor(openaiSpec('gpt', s1, { prices: { inputPerMTok: 1, outputPerMTok: 1 } }));
      assert.equal(override.records[0]!.usd, (120 + 30) / 1_000_000, 'no cached price: cached tokens cost the input price');
      const unknown = await chainFor(openaiSpec('gpt', s1, { model: 'gpt-unreleased' }));
      assert.equal(unknown.records[0]!.usd, undefined);
      assert.equal(unknown.records[0]!.inputTokens, 120);
    });

    it('never puts an API key into an error, a record or a fallback notice', async () => {
      const s1 = await openai({ kind: 'error', status: 500, message: `upstream rejected key ${KEYS.OPENAI_API_KEY}` });
      const s2 = await openai({ kind: 'error', status: 502, message: `bad gateway for ${KEYS.ODD_KEY}` });
      const s3 = await anthropic({ kind: 'error', status: 401, message: `invalid x-api-key ${KEYS.ANTHROPIC_API_KEY}` });
      const { routed, records, fallbacks } = route([
        await resolved(openaiSpec('gpt', s1)),
        await resolved({ id: 'odd', provider: 'openai-compatible', model: 'm', baseURL: s2.url, apiKeyName: 'ODD_KEY' }),
        await resolved(anthropicSpec('claude', s3)),
      ]);
      const error = await rejection(generate(routed));
      const everything = [inspect(error, { depth: 10 }), JSON.stringify(records), JSON.stringify(fallbacks), String(error)].join('\n');
      for (const key of Object.values(KEYS)) assert.ok(!everything.includes(key), `key ${key.slice(0, 8)}… leaked`);
      assert.equal(records.length, 3);
      // The requests did carry the keys: the scrubbing is on the way back only.
      assert.equal(s2.requests[0]!.headers.authorization, `Bearer ${KEYS.ODD_KEY}`);
    });
  });

  it('estimates prompt tokens as the JSON of messages and tool definitions at three characters a token, punctuation included', () => {
    const prompt: LanguageModelV4Prompt = [
      { role: 'system', content: 'You implement.' },
      { role: 'user', content: [{ type: 'text', text: 'x'.repeat(400) }] },
    ];
    const base = estimatePromptTokens({ prompt });
    const json = JSON.stringify(prompt).length;
    assert.ok(Math.abs(base - json / 3) <= 2, `${base} vs ${json} JSON characters`);
    // Tool schemas are mostly punctuation and short keys: counted as sent, they are not underestimated.
    const properties = Object.fromEntries(Array.from({ length: 30 }, (_, index) => [`field${index}`, { type: 'string' as const, description: 'a' }]));
    const tools: LanguageModelV4FunctionTool[] = [{ type: 'function', name: 'finish', description: 'Report.', inputSchema: { type: 'object', properties, required: Object.keys(properties) } }];
    const withTools = estimatePromptTokens({ prompt, tools });
    assert.ok(withTools - base >= JSON.stringify(tools).length / 3 - 2, `${withTools - base} tokens for ${JSON.stringify(tools).length} characters of tool definitions`);
  });
});
