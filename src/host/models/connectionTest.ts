// "Test Model Connection": one tiny call through the same createLanguageModel path the runs use, and
// a result that says what happened and what to do. No vscode import: the command (modelCommands.ts)
// shows the result, and the unit tests drive this against local wire-format servers.
import { APICallError } from '@ai-sdk/provider';
import { generateText } from 'ai';
import { apiKeyNameOf, createLanguageModel, ModelConfigError, ModelTimeoutError, redactText, resolveOpenAICompatible, type ProviderContext } from '../../core';
import type { ModelSpec } from '../../shared/model';

/** What the user can do next about a failed test. */
export type ConnectionAction = 'setApiKey' | 'configureModels' | 'openSettings';

export type ConnectionResult =
  | {
      ok: true;
      modelId: string;
      provider: string;
      /** The model name the endpoint says answered, when it says. */
      answeredBy?: string;
      latencyMs: number;
      inputTokens: number;
      outputTokens: number;
      /** The first words of the answer. */
      text: string;
      /** vscode-lm models report no usage: the counts are estimates. */
      estimatedUsage: boolean;
    }
  | { ok: false; modelId: string; message: string; action?: ConnectionAction };

export const CONNECTION_TEST_PROMPT = 'This is a connection test. Reply with the single word OK.';
export const CONNECTION_TEST_TIMEOUT_MS = 60_000;

/** The secret name a spec's key is stored under, or undefined when it needs none. */
export { apiKeyNameOf };

/** Where the spec's requests go, for messages. */
export function endpointOf(spec: ModelSpec): string {
  switch (spec.provider) {
    case 'openai':
      return spec.baseURL ?? 'https://api.openai.com/v1';
    case 'anthropic':
      return spec.baseURL ?? 'https://api.anthropic.com/v1';
    case 'openai-compatible':
      try {
        return resolveOpenAICompatible(spec).baseURL;
      } catch {
        return '(no base URL)';
      }
    case 'vscode-lm':
      return 'VS Code (vscode.lm)';
    case 'scripted':
      return spec.transcript;
  }
}

/** Makes one small call to the model. Never throws: failures come back as `ok: false` with advice. */
export async function testConnection(spec: ModelSpec, context: ProviderContext, options: { signal?: AbortSignal; timeoutMs?: number; now?: () => number } = {}): Promise<ConnectionResult> {
  const now = options.now ?? Date.now;
  const keyName = apiKeyNameOf(spec);
  const key = keyName ? await context.secret(keyName).catch(() => undefined) : undefined;
  const timeoutMs = options.timeoutMs ?? CONNECTION_TEST_TIMEOUT_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const started = now();
  try {
    const { model, provider } = await createLanguageModel(spec, context);
    const result = await generateText({ model, prompt: CONNECTION_TEST_PROMPT, maxOutputTokens: 32, maxRetries: 0, abortSignal: signal });
    const text = result.text.trim().replace(/\s+/g, ' ');
    return {
      ok: true,
      modelId: spec.id,
      provider,
      answeredBy: result.response.modelId,
      latencyMs: now() - started,
      inputTokens: result.usage.inputTokens ?? 0,
      outputTokens: result.usage.outputTokens ?? 0,
      text: scrub(text.length > 80 ? `${text.slice(0, 79)}…` : text, key),
      estimatedUsage: provider === 'vscode-lm',
    };
  } catch (error) {
    if (options.signal?.aborted) return { ok: false, modelId: spec.id, message: `The test of "${spec.id}" was cancelled.` };
    const timedOut = timeout.aborted ? new ModelTimeoutError('total', timeoutMs) : error;
    const explained = explainConnectionError(spec, timedOut, keyName);
    return { ...explained, message: scrub(explained.message, key) };
  }
}

/** The failure of a test call in words: what happened and what to do. */
export function explainConnectionError(spec: ModelSpec, error: unknown, keyName: string | undefined): { ok: false; modelId: string; message: string; action?: ConnectionAction } {
  const fail = (message: string, action?: ConnectionAction): { ok: false; modelId: string; message: string; action?: ConnectionAction } => ({ ok: false, modelId: spec.id, message, ...(action ? { action } : {}) });
  const name = `"${spec.id}"`;
  const where = endpointOf(spec);
  const said = (text: string): string => oneLine(text);
  if (error instanceof ModelConfigError) return fail(error.message, /API key/.test(error.message) ? 'setApiKey' : spec.provider === 'vscode-lm' ? 'configureModels' : 'openSettings');
  if (error instanceof ModelTimeoutError) return fail(`Model ${name} did not answer within ${Math.round(error.limitMs / 1000)} s (${where}). Check that the server is running and not overloaded, then test again.`);
  if (APICallError.isInstance(error)) {
    const status = error.statusCode;
    if (spec.provider === 'vscode-lm') return fail(said(error.message), status === 404 ? 'configureModels' : undefined);
    if (status === 401 || status === 403) {
      return fail(
        keyName
          ? `${where} refused the API key "${keyName}" for model ${name} (HTTP ${status}: ${said(error.message)}). Store the right key with "Software Maker: Set API Key".`
          : `${where} wants an API key for model ${name} (HTTP ${status}: ${said(error.message)}). Give the model an "apiKeyName" in softwareMaker.models and store the key with "Software Maker: Set API Key".`,
        keyName ? 'setApiKey' : 'openSettings',
      );
    }
    if (status === 404) {
      const model = 'model' in spec ? `"${spec.model}"` : 'the model';
      return fail(`${where} does not know ${model} (HTTP 404: ${said(error.message)}). Check the model name of ${name}${spec.provider === 'openai-compatible' && spec.preset === 'ollama' ? ' (`ollama list` shows the installed ones; `ollama pull <name>` adds one)' : ''} and the base URL.`, 'openSettings');
    }
    if (status === 429) return fail(`${where} is rate limiting model ${name} or its quota is used up (HTTP 429: ${said(error.message)}). Wait and test again, or check the account's plan.`);
    if (status !== undefined && status >= 500) return fail(`${where} had a server error for model ${name} (HTTP ${status}: ${said(error.message)}). The provider may be down: test again later, or add a fallback model to the roles.`);
    if (status !== undefined) return fail(`${where} refused the request for model ${name} (HTTP ${status}: ${said(error.message)}). Check the model settings.`, 'openSettings');
    const code = networkCode(error);
    return fail(`Nothing answered at ${where} for model ${name}${code ? ` (${code})` : ''}: ${said(error.message)}. Start the server${spec.provider === 'openai-compatible' && spec.preset === 'ollama' ? ' (`ollama serve`)' : ''} or fix the base URL in softwareMaker.models.`, 'openSettings');
  }
  const code = networkCode(error);
  if (code) return fail(`Nothing answered at ${where} for model ${name} (${code}). Start the server or fix the base URL in softwareMaker.models.`, 'openSettings');
  return fail(`Model ${name} failed: ${said(error instanceof Error ? error.message : String(error))}`);
}

function networkCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current instanceof Error; depth++) {
    const code = (current as Error & { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z]+|^UND_ERR/.test(code)) return code;
    current = current.cause;
  }
  return undefined;
}

function oneLine(text: string, max = 300): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/** The exact key cut out (providers' errors are scrubbed already; this is the last guard), then key-shaped text. */
function scrub(text: string, key: string | undefined): string {
  return redactText(key ? text.split(key).join('[redacted key]') : text);
}
