// Turns one ModelSpec into an ai SDK language model: the official provider packages for OpenAI and
// Anthropic, @ai-sdk/openai-compatible for every other endpoint, the scripted model for tests and
// demos, and vscode.lm models through the host. Keys come from the host's secret lookup (VS Code
// SecretStorage, or the environment in the CLI) and are passed explicitly, so a provider package
// never reads process.env on its own.
import { isAbsolute, resolve } from 'node:path';
import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { APICallError, type LanguageModelV4, type LanguageModelV4StreamPart } from '@ai-sdk/provider';
import type { ModelSpec, OpenAICompatibleModelSpec, OpenAICompatiblePreset, VscodeLmModelSpec } from '../../shared/model';
import { loadTranscript, ScriptedModel } from './scripted';
import { UserError } from '../../shared/errors';

export class ModelConfigError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'ModelConfigError';
  }
}

export interface ProviderContext {
  workspaceRoot: string;
  /** Looks up a secret (API key) by name: SecretStorage in VS Code, the environment in the CLI. */
  secret(name: string): Promise<string | undefined>;
  /** Simulated latency for scripted models (benchmark). */
  scriptedLatencyMs?: number;
  /** Scripted turns already used before a resume, by role/task key. */
  scriptedConsumed?: ReadonlyMap<string, number>;
  /**
   * The VS Code host's chat models (vscode.lm). Absent outside the extension; returns undefined
   * when no installed model matches the spec.
   */
  hostModels?: (spec: VscodeLmModelSpec) => LanguageModelV4 | undefined | PromiseLike<LanguageModelV4 | undefined>;
}

export interface CreatedModel {
  model: LanguageModelV4;
  /** Provider family for records and events: openai, anthropic, openai-compatible, scripted, vscode-lm. */
  provider: string;
}

export const OPENAI_DEFAULT_BASE_URL = 'https://api.openai.com/v1';
export const ANTHROPIC_DEFAULT_BASE_URL = 'https://api.anthropic.com/v1';
export const OPENAI_DEFAULT_KEY_NAME = 'OPENAI_API_KEY';
export const ANTHROPIC_DEFAULT_KEY_NAME = 'ANTHROPIC_API_KEY';

/** Default endpoint and key name of each OpenAI-compatible preset; local servers need no key. */
export const PRESET_DEFAULTS: Readonly<Record<OpenAICompatiblePreset, { baseURL: string; apiKeyName?: string }>> = {
  ollama: { baseURL: 'http://127.0.0.1:11434/v1' },
  lmstudio: { baseURL: 'http://127.0.0.1:1234/v1' },
  vllm: { baseURL: 'http://127.0.0.1:8000/v1' },
  llamacpp: { baseURL: 'http://127.0.0.1:8080/v1' },
  deepseek: { baseURL: 'https://api.deepseek.com/v1', apiKeyName: 'DEEPSEEK_API_KEY' },
  groq: { baseURL: 'https://api.groq.com/openai/v1', apiKeyName: 'GROQ_API_KEY' },
  openrouter: { baseURL: 'https://openrouter.ai/api/v1', apiKeyName: 'OPENROUTER_API_KEY' },
};

/** The endpoint and key name an OpenAI-compatible spec resolves to: its own values over the preset's. */
export function resolveOpenAICompatible(spec: OpenAICompatibleModelSpec): { baseURL: string; apiKeyName?: string } {
  const preset = spec.preset ? PRESET_DEFAULTS[spec.preset] : undefined;
  const baseURL = spec.baseURL ?? preset?.baseURL;
  if (!baseURL) {
    throw new ModelConfigError(`Model "${spec.id}" (openai-compatible) has no baseURL. Set "baseURL" to the server's /v1 address, or a "preset" (${Object.keys(PRESET_DEFAULTS).join(', ')}).`);
  }
  return { baseURL, apiKeyName: spec.apiKeyName ?? preset?.apiKeyName };
}

/**
 * Which circuit breaker a model shares: every model behind one endpoint fails together when the
 * endpoint is down, so the key is the provider and base URL; models without an endpoint use their id.
 */
export function breakerKeyOf(spec: ModelSpec): string {
  switch (spec.provider) {
    case 'openai':
      return `openai@${trimSlash(spec.baseURL ?? OPENAI_DEFAULT_BASE_URL)}`;
    case 'anthropic':
      return `anthropic@${trimSlash(spec.baseURL ?? ANTHROPIC_DEFAULT_BASE_URL)}`;
    case 'openai-compatible': {
      const preset = spec.preset ? PRESET_DEFAULTS[spec.preset] : undefined;
      const baseURL = spec.baseURL ?? preset?.baseURL;
      return baseURL ? `openai-compatible@${trimSlash(baseURL)}` : `openai-compatible:${spec.id}`;
    }
    case 'scripted':
    case 'vscode-lm':
      return `${spec.provider}:${spec.id}`;
  }
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

async function requireKey(spec: ModelSpec, name: string, context: ProviderContext): Promise<string> {
  const key = await context.secret(name);
  if (!key) {
    throw new ModelConfigError(`Model "${spec.id}" needs the API key "${name}", which is not set. In VS Code run "Software Maker: Set API Key"; in the CLI export ${name}.`);
  }
  return key;
}

/** Creates the ai SDK model for one spec; throws ModelConfigError when it cannot be reached as configured. */
export async function createLanguageModel(spec: ModelSpec, context: ProviderContext): Promise<CreatedModel> {
  switch (spec.provider) {
    case 'scripted': {
      const path = isAbsolute(spec.transcript) ? spec.transcript : resolve(context.workspaceRoot, spec.transcript);
      const transcript = await loadTranscript(path);
      return { provider: 'scripted', model: new ScriptedModel(spec.id, transcript, { latencyMs: context.scriptedLatencyMs, consumed: context.scriptedConsumed }) };
    }
    case 'openai': {
      const apiKey = await requireKey(spec, spec.apiKeyName ?? OPENAI_DEFAULT_KEY_NAME, context);
      const provider = createOpenAI({ apiKey, baseURL: spec.baseURL });
      // The Responses API is the provider's default and OpenAI's current endpoint; `api: 'chat'`
      // is for proxies and older deployments that only speak chat completions.
      return { provider: 'openai', model: withSecretScrubbed(spec.api === 'chat' ? provider.chat(spec.model) : provider.responses(spec.model), apiKey) };
    }
    case 'anthropic': {
      const apiKey = await requireKey(spec, spec.apiKeyName ?? ANTHROPIC_DEFAULT_KEY_NAME, context);
      const provider = createAnthropic({ apiKey, baseURL: spec.baseURL });
      return { provider: 'anthropic', model: withSecretScrubbed(provider.messages(spec.model), apiKey) };
    }
    case 'openai-compatible': {
      const { baseURL, apiKeyName } = resolveOpenAICompatible(spec);
      const apiKey = apiKeyName ? await requireKey(spec, apiKeyName, context) : undefined;
      // includeUsage asks the server for a usage chunk at the end of a stream; without it streamed
      // calls would report no tokens and cost nothing.
      const provider = createOpenAICompatible({ name: spec.id, baseURL, apiKey, includeUsage: true });
      const model = provider.chatModel(spec.model);
      return { provider: 'openai-compatible', model: apiKey ? withSecretScrubbed(model, apiKey) : model };
    }
    case 'vscode-lm': {
      const wanted = [spec.vendor && `vendor "${spec.vendor}"`, spec.family && `family "${spec.family}"`, spec.model && `model "${spec.model}"`].filter(Boolean).join(', ') || 'any chat model';
      if (!context.hostModels) {
        throw new ModelConfigError(`Model "${spec.id}" uses VS Code's language models (provider "vscode-lm"), which only the Software Maker extension inside VS Code can reach. In the CLI, configure an openai, anthropic or openai-compatible model instead.`);
      }
      const model = await context.hostModels(spec);
      if (!model) {
        throw new ModelConfigError(`Model "${spec.id}" asks VS Code for ${wanted}, and no installed chat model matches (or access was not granted). Install and sign in to a chat model extension such as GitHub Copilot, allow Software Maker to use it, or change the vendor/family in the model settings.`);
      }
      return { provider: 'vscode-lm', model };
    }
  }
}

const SCRUBBED = '[redacted key]';

// Some endpoints echo the key they were sent in an error ("Incorrect API key provided: …"). The
// log redacts key-shaped text, but a key of any shape must never reach an error, an event or a
// prompt, so the exact key is cut out of every error the model raises.
function scrub(error: unknown, secret: string): unknown {
  const clean = (text: string | undefined): string | undefined => (text === undefined ? undefined : text.split(secret).join(SCRUBBED));
  if (APICallError.isInstance(error)) {
    const data = scrubValue(error.data, secret);
    if (!error.message.includes(secret) && !error.responseBody?.includes(secret) && !error.url.includes(secret) && data === error.data) return error;
    return new APICallError({
      message: clean(error.message)!,
      url: clean(error.url)!,
      requestBodyValues: error.requestBodyValues,
      statusCode: error.statusCode,
      responseHeaders: error.responseHeaders,
      responseBody: clean(error.responseBody),
      isRetryable: error.isRetryable,
      data,
    });
  }
  if (error instanceof Error) {
    if (error.message.includes(secret)) error.message = clean(error.message)!;
    return error;
  }
  if (typeof error === 'object' && error !== null && typeof (error as { message?: unknown }).message === 'string') {
    const message = (error as { message: string }).message;
    // Provider stream errors are plain objects with non-enumerable markers; keep the object, fix the text.
    if (message.includes(secret)) Object.defineProperty(error, 'message', { value: clean(message), enumerable: true, writable: true, configurable: true });
    return error;
  }
  return error;
}

/** `value` with `secret` cut out of every string in it; the same object when there was none. */
function scrubValue(value: unknown, secret: string, depth = 0): unknown {
  if (typeof value === 'string') return value.includes(secret) ? value.split(secret).join(SCRUBBED) : value;
  if (depth > 32 || typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    const items = value.map((item) => scrubValue(item, secret, depth + 1));
    return items.some((item, index) => item !== value[index]) ? items : value;
  }
  const entries = Object.entries(value).map(([key, item]) => [key, scrubValue(item, secret, depth + 1)] as const);
  return entries.some(([key, item]) => item !== (value as Record<string, unknown>)[key]) ? Object.fromEntries(entries) : value;
}

/** The model with `secret` cut out of every error it throws or streams. */
export function withSecretScrubbed(model: LanguageModelV4, secret: string): LanguageModelV4 {
  return {
    specificationVersion: 'v4',
    provider: model.provider,
    modelId: model.modelId,
    get supportedUrls() {
      return model.supportedUrls;
    },
    async doGenerate(options) {
      try {
        return await model.doGenerate(options);
      } catch (error) {
        throw scrub(error, secret);
      }
    },
    async doStream(options) {
      let result;
      try {
        result = await model.doStream(options);
      } catch (error) {
        throw scrub(error, secret);
      }
      const stream = result.stream.pipeThrough(
        new TransformStream<LanguageModelV4StreamPart, LanguageModelV4StreamPart>({
          transform(part, controller) {
            controller.enqueue(part.type === 'error' ? { type: 'error', error: scrub(part.error, secret) } : part);
          },
        }),
      );
      return { ...result, stream };
    },
  };
}
