import { strict as assert } from 'node:assert';
import { inspect } from 'node:util';
import type { LanguageModelV4 } from '@ai-sdk/provider';
import { generateText, jsonSchema, streamText, tool, type ToolSet } from 'ai';
import type { z } from 'zod';
import { ConfigError, modelSpecSchema, resolveRunConfig } from '../../src/core/config';
import { breakerKeyOf, createLanguageModel, ModelConfigError, PRESET_DEFAULTS, resolveOpenAICompatible, type ProviderContext } from '../../src/core/models/providers';
import { createModel, preflightModels } from '../../src/core/models/registry';
import { ScriptedModel } from '../../src/core/models/scripted';
import type { ModelSpec } from '../../src/shared/model';
import { startFakeAnthropic, startFakeOpenAI, type FakeServer } from '../support/fakeProviders';

// The zod schema and the ModelSpec type must describe the same thing: the parsed config is cast.
const schemaMatchesType: (parsed: z.infer<typeof modelSpecSchema>) => ModelSpec = (parsed) => parsed;
void schemaMatchesType;

const KEY = 'sk-test-providers-0123456789abcdefghij';

function context(keys: Record<string, string> = {}): ProviderContext {
  return { workspaceRoot: process.cwd(), secret: async (name) => keys[name] };
}

// A tool without `execute`: generateText stops after the model's call and hands it back.
const tools: ToolSet = {
  finish: tool({
    description: 'Report the result.',
    inputSchema: jsonSchema<{ summary: string }>({ type: 'object', properties: { summary: { type: 'string' } }, required: ['summary'] }),
  }),
};

interface RoundTrip {
  toolName: string | undefined;
  input: unknown;
  inputTokens: number | undefined;
  outputTokens: number | undefined;
  cachedInputTokens: number | undefined;
  text: string;
}

async function viaGenerate(model: LanguageModelV4): Promise<RoundTrip> {
  const result = await generateText({ model, prompt: 'Say hi and finish.', tools, maxRetries: 0 });
  return {
    toolName: result.toolCalls[0]?.toolName,
    input: result.toolCalls[0]?.input,
    inputTokens: result.usage.inputTokens,
    outputTokens: result.usage.outputTokens,
    cachedInputTokens: result.usage.inputTokenDetails.cacheReadTokens,
    text: result.text,
  };
}

async function viaStream(model: LanguageModelV4): Promise<RoundTrip> {
  let streamError: unknown;
  const result = streamText({ model, prompt: 'Say hi and finish.', tools, maxRetries: 0, onError: ({ error }) => (streamError = error) });
  const calls = await result.toolCalls;
  const usage = await result.usage;
  const text = await result.text;
  if (streamError) throw streamError;
  return {
    toolName: calls[0]?.toolName,
    input: calls[0]?.input,
    inputTokens: usage.inputTokens,
    outputTokens: usage.outputTokens,
    cachedInputTokens: usage.inputTokenDetails.cacheReadTokens,
    text,
  };
}

const EXPECTED = { toolName: 'finish', input: { summary: 'done' }, inputTokens: 120, outputTokens: 30, cachedInputTokens: 20, text: 'Hello there' };
const ANSWER = { kind: 'answer' as const, text: 'Hello there', toolCalls: [{ name: 'finish', input: { summary: 'done' } }] };

describe('model providers against local servers speaking the real wire formats', function () {
  this.timeout(20_000);
  let openai: FakeServer;
  let anthropic: FakeServer;

  beforeEach(async () => {
    openai = await startFakeOpenAI();
    anthropic = await startFakeAnthropic();
  });
  afterEach(async () => {
    await openai.close();
    await anthropic.close();
  });

  it('openai uses the Responses API by default: a tool call and usage with cached tokens round-trip through generateText and streamText', async () => {
    const { model, provider } = await createLanguageModel({ id: 'gpt', provider: 'openai', model: 'gpt-5.4-mini', baseURL: openai.url }, context({ OPENAI_API_KEY: KEY }));
    assert.equal(provider, 'openai');
    openai.enqueue(ANSWER, ANSWER);
    assert.deepEqual(await viaGenerate(model), EXPECTED);
    assert.deepEqual(await viaStream(model), EXPECTED);
    assert.deepEqual(openai.requests.map((request) => request.path), ['/v1/responses', '/v1/responses']);
    assert.equal(openai.requests[0]!.headers.authorization, `Bearer ${KEY}`);
    assert.equal(openai.requests[0]!.body.model, 'gpt-5.4-mini');
    assert.equal(openai.requests[1]!.body.stream, true);
    assert.deepEqual((openai.requests[0]!.body.tools as { name: string }[]).map((entry) => entry.name), ['finish']);
  });

  it('openai with api "chat" speaks chat completions, streaming with include_usage', async () => {
    const { model } = await createLanguageModel({ id: 'gpt', provider: 'openai', model: 'gpt-4.1', baseURL: openai.url, api: 'chat' }, context({ OPENAI_API_KEY: KEY }));
    openai.enqueue(ANSWER, ANSWER);
    assert.deepEqual(await viaGenerate(model), EXPECTED);
    assert.deepEqual(await viaStream(model), EXPECTED);
    assert.deepEqual(openai.requests.map((request) => request.path), ['/v1/chat/completions', '/v1/chat/completions']);
    assert.deepEqual(openai.requests[1]!.body.stream_options, { include_usage: true });
  });

  it('anthropic speaks Messages with x-api-key; cache reads count as cached input', async () => {
    const { model, provider } = await createLanguageModel({ id: 'claude', provider: 'anthropic', model: 'claude-sonnet-4-5', baseURL: anthropic.url }, context({ ANTHROPIC_API_KEY: KEY }));
    assert.equal(provider, 'anthropic');
    anthropic.enqueue(ANSWER, ANSWER);
    assert.deepEqual(await viaGenerate(model), EXPECTED);
    assert.deepEqual(await viaStream(model), EXPECTED);
    assert.deepEqual(anthropic.requests.map((request) => request.path), ['/v1/messages', '/v1/messages']);
    assert.equal(anthropic.requests[0]!.headers['x-api-key'], KEY);
    assert.equal(anthropic.requests[0]!.body.model, 'claude-sonnet-4-5');
  });

  it('openai-compatible with a preset takes the preset key name; the spec baseURL wins over the preset URL', async () => {
    const spec: ModelSpec = { id: 'groq', provider: 'openai-compatible', model: 'openai/gpt-oss-120b', preset: 'groq', baseURL: openai.url };
    await assert.rejects(createLanguageModel(spec, context()), (error: unknown) => {
      assert.ok(error instanceof ModelConfigError);
      assert.match(error.message, /needs the API key "GROQ_API_KEY", which is not set\. In VS Code run "Software Maker: Set API Key"; in the CLI export GROQ_API_KEY\./);
      return true;
    });
    const { model, provider } = await createLanguageModel(spec, context({ GROQ_API_KEY: KEY }));
    assert.equal(provider, 'openai-compatible');
    openai.enqueue(ANSWER, ANSWER);
    assert.deepEqual(await viaGenerate(model), EXPECTED);
    assert.deepEqual(await viaStream(model), EXPECTED);
    assert.ok(openai.requests.every((request) => request.path === '/v1/chat/completions' && request.headers.authorization === `Bearer ${KEY}`));
  });

  it('a local server needs no key', async () => {
    const { model } = await createLanguageModel({ id: 'local', provider: 'openai-compatible', model: 'qwen', baseURL: openai.url }, context());
    openai.enqueue(ANSWER);
    assert.deepEqual(await viaGenerate(model), EXPECTED);
    assert.equal(openai.requests[0]!.headers.authorization, undefined);
  });

  it('cuts the key out of errors when an endpoint echoes it back, whatever its shape', async () => {
    const oddKey = 'my-very-private-key-without-a-known-shape';
    for (const [spec, server] of [
      [{ id: 'gpt', provider: 'openai', model: 'gpt-5', baseURL: openai.url, apiKeyName: 'K' }, openai],
      [{ id: 'claude', provider: 'anthropic', model: 'claude-haiku-4-5', baseURL: anthropic.url, apiKeyName: 'K' }, anthropic],
      [{ id: 'compat', provider: 'openai-compatible', model: 'm', baseURL: openai.url, apiKeyName: 'K' }, openai],
    ] as [ModelSpec, FakeServer][]) {
      const { model } = await createLanguageModel(spec, context({ K: oddKey }));
      server.enqueue({ kind: 'error', status: 401, message: `Incorrect API key provided: ${oddKey}.` });
      const error = await generateText({ model, prompt: 'hi', maxRetries: 0 }).then(
        () => assert.fail('expected a 401'),
        (caught: unknown) => caught,
      );
      assert.ok(!inspect(error, { depth: 8 }).includes(oddKey), `${spec.provider}: the key leaked into the error`);
      assert.match(String((error as Error).message), /Incorrect API key provided: \[redacted key\]/);
    }
  });
});

describe('createLanguageModel configuration errors', () => {
  it('names the default key and how to set it for openai and anthropic', async () => {
    await assert.rejects(createLanguageModel({ id: 'gpt', provider: 'openai', model: 'gpt-5' }, context()), /"gpt" needs the API key "OPENAI_API_KEY".*Software Maker: Set API Key.*export OPENAI_API_KEY/);
    await assert.rejects(createLanguageModel({ id: 'c', provider: 'anthropic', model: 'claude-opus-4-5' }, context()), /needs the API key "ANTHROPIC_API_KEY".*export ANTHROPIC_API_KEY/);
    await assert.rejects(createLanguageModel({ id: 'c', provider: 'anthropic', model: 'claude-opus-4-5', apiKeyName: 'WORK_CLAUDE' }, context()), /needs the API key "WORK_CLAUDE"/);
  });

  it('vscode-lm models come only from the VS Code host', async () => {
    const spec: ModelSpec = { id: 'copilot', provider: 'vscode-lm', vendor: 'copilot', family: 'gpt-4o' };
    await assert.rejects(createLanguageModel(spec, context()), (error: unknown) => {
      assert.ok(error instanceof ModelConfigError);
      assert.match(error.message, /only the Software Maker extension inside VS Code can reach/);
      return true;
    });
    await assert.rejects(createLanguageModel(spec, { ...context(), hostModels: () => undefined }), /asks VS Code for vendor "copilot", family "gpt-4o", and no installed chat model matches/);
    const hostModel = new ScriptedModel('copilot', { version: 1, turns: [] });
    let asked: unknown;
    const created = await createLanguageModel(spec, { ...context(), hostModels: async (wanted) => ((asked = wanted), hostModel) });
    assert.equal(created.model, hostModel);
    assert.equal(created.provider, 'vscode-lm');
    assert.deepEqual(asked, spec);
  });

  it('preflight refuses a run whose chain has a model without its key, and registry models carry price and breaker key', async () => {
    const config = resolveRunConfig({
      models: [
        { id: 'local', provider: 'openai-compatible', model: 'qwen', preset: 'ollama' },
        { id: 'claude', provider: 'anthropic', model: 'claude-sonnet-4-5-20250929' },
      ],
      roles: { implementer: ['local', 'claude'] },
    });
    await assert.rejects(preflightModels(config, context()), /"claude" needs the API key "ANTHROPIC_API_KEY"/);
    const resolved = await createModel(config.models[1]!, context({ ANTHROPIC_API_KEY: KEY }));
    assert.deepEqual(resolved.price, { inputPerMTok: 3, outputPerMTok: 15, cachedInputPerMTok: 0.3 });
    assert.equal(resolved.breakerKey, 'anthropic@https://api.anthropic.com/v1');
  });
});

describe('model spec configuration', () => {
  it('accepts every provider with the common settings, and keeps existing specs valid', () => {
    const config = resolveRunConfig({
      models: [
        { id: 'scripted', provider: 'scripted', transcript: 't.json' },
        { id: 'legacy', provider: 'openai-compatible', model: 'm', baseURL: 'http://127.0.0.1:11434/v1', apiKeyName: 'K', contextWindow: 32_000 },
        { id: 'gpt', provider: 'openai', model: 'gpt-5.4', api: 'chat', maxOutputTokens: 8000, prices: { inputPerMTok: 1, outputPerMTok: 2, cachedInputPerMTok: 0.1 } },
        { id: 'claude', provider: 'anthropic', model: 'claude-opus-4-5', baseURL: 'https://proxy.example/v1', apiKeyName: 'CLAUDE' },
        { id: 'ds', provider: 'openai-compatible', model: 'deepseek-chat', preset: 'deepseek' },
        { id: 'copilot', provider: 'vscode-lm', vendor: 'copilot', family: 'gpt-4o' },
        { id: 'any-lm', provider: 'vscode-lm' },
      ],
    });
    assert.equal(config.models.length, 7);
  });

  it('rejects an openai-compatible spec with neither baseURL nor preset, unknown presets and stray fields', () => {
    assert.throws(() => resolveRunConfig({ models: [{ id: 'x', provider: 'openai-compatible', model: 'm' }] }), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /models\.0\.baseURL: an openai-compatible model needs a baseURL, or a preset \(ollama, lmstudio/);
      return true;
    });
    assert.throws(() => resolveRunConfig({ models: [{ id: 'x', provider: 'openai-compatible', model: 'm', preset: 'nope' } as unknown as ModelSpec] }), ConfigError);
    assert.throws(() => resolveRunConfig({ models: [{ id: 'x', provider: 'openai', model: 'm', api: 'completions' } as unknown as ModelSpec] }), ConfigError);
    assert.throws(() => resolveRunConfig({ models: [{ id: 'x', provider: 'anthropic', model: 'm', transcript: 'x' } as unknown as ModelSpec] }), ConfigError);
    assert.throws(() => resolveRunConfig({ models: [{ id: 'x', provider: 'openai', model: 'm', prices: { inputPerMTok: -1, outputPerMTok: 1 } }] }), ConfigError);
  });

  it('presets supply base URL and key name; breaker keys group models by endpoint', () => {
    assert.deepEqual(resolveOpenAICompatible({ id: 'o', provider: 'openai-compatible', model: 'm', preset: 'ollama' }), { baseURL: PRESET_DEFAULTS.ollama.baseURL, apiKeyName: undefined });
    assert.deepEqual(resolveOpenAICompatible({ id: 'd', provider: 'openai-compatible', model: 'm', preset: 'deepseek' }), { baseURL: 'https://api.deepseek.com/v1', apiKeyName: 'DEEPSEEK_API_KEY' });
    assert.deepEqual(resolveOpenAICompatible({ id: 'r', provider: 'openai-compatible', model: 'm', preset: 'openrouter', apiKeyName: 'MINE' }), { baseURL: 'https://openrouter.ai/api/v1', apiKeyName: 'MINE' });
    assert.equal(breakerKeyOf({ id: 'a', provider: 'openai', model: 'gpt-5' }), breakerKeyOf({ id: 'b', provider: 'openai', model: 'gpt-5-mini' }));
    assert.equal(breakerKeyOf({ id: 'a', provider: 'openai-compatible', model: 'x', preset: 'groq' }), 'openai-compatible@https://api.groq.com/openai/v1');
    assert.equal(breakerKeyOf({ id: 's', provider: 'scripted', transcript: 't' }), 'scripted:s');
  });
});
