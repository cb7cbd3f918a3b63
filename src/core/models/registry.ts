// Turns the run's model specs into ai SDK models. One instance per model id and run, so a scripted
// transcript is consumed in order across all of the run's calls.
import { isAbsolute, resolve } from 'node:path';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import type { LanguageModel } from 'ai';
import type { ModelSpec, Role, RunConfig } from '../../shared/model';
import { loadTranscript, ScriptedModel } from './scripted';

export interface ResolvedModel {
  id: string;
  provider: string;
  model: LanguageModel;
}

export interface ModelContext {
  workspaceRoot: string;
  secret(name: string): Promise<string | undefined>;
  /** Simulated latency for scripted models (benchmark). */
  scriptedLatencyMs?: number;
  /** Scripted turns already used before a resume, by role/task key. */
  scriptedConsumed?: ReadonlyMap<string, number>;
}

export class ModelConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelConfigError';
  }
}

export async function createModel(spec: ModelSpec, context: ModelContext): Promise<ResolvedModel> {
  switch (spec.provider) {
    case 'scripted': {
      const path = isAbsolute(spec.transcript) ? spec.transcript : resolve(context.workspaceRoot, spec.transcript);
      const transcript = await loadTranscript(path);
      return { id: spec.id, provider: 'scripted', model: new ScriptedModel(spec.id, transcript, { latencyMs: context.scriptedLatencyMs, consumed: context.scriptedConsumed }) };
    }
    case 'openai-compatible': {
      let apiKey: string | undefined;
      if (spec.apiKeyName) {
        apiKey = await context.secret(spec.apiKeyName);
        if (!apiKey) {
          throw new ModelConfigError(`Model "${spec.id}" needs the API key "${spec.apiKeyName}", which is not set. In VS Code run "Software Maker: Set API Key"; in the CLI export ${spec.apiKeyName}.`);
        }
      }
      const provider = createOpenAICompatible({ name: spec.id, baseURL: spec.baseURL, apiKey, includeUsage: true });
      return { id: spec.id, provider: 'openai-compatible', model: provider.chatModel(spec.model) };
    }
  }
}

/** Lazily creates each configured model once for a run and hands out the first of a role's chain. */
export class RunModels {
  private readonly cache = new Map<string, Promise<ResolvedModel>>();

  constructor(
    private readonly config: RunConfig,
    private readonly context: ModelContext,
  ) {}

  /** Before the first call of a resumed run: which scripted turns the finished steps already used. */
  setScriptedConsumed(consumed: ReadonlyMap<string, number>): void {
    this.context.scriptedConsumed = consumed;
  }

  forRole(role: Role): Promise<ResolvedModel> {
    const chain = this.config.roles[role];
    const id = chain?.[0];
    if (!id) throw new ModelConfigError(`No model is configured for the ${role} role.`);
    return this.byId(id);
  }

  byId(id: string): Promise<ResolvedModel> {
    let pending = this.cache.get(id);
    if (!pending) {
      const spec = this.config.models.find((model) => model.id === id);
      if (!spec) return Promise.reject(new ModelConfigError(`Model "${id}" is not configured.`));
      pending = createModel(spec, this.context);
      this.cache.set(id, pending);
    }
    return pending;
  }
}

/**
 * Resolves every model the run's roles use before the run exists, so a missing key, an unreadable
 * transcript or a bad spec is refused up front instead of failing the run at its first call.
 */
export async function preflightModels(config: RunConfig, context: ModelContext): Promise<void> {
  const ids = new Set(Object.values(config.roles).flatMap((chain) => chain ?? []));
  for (const id of ids) {
    const spec = config.models.find((model) => model.id === id);
    if (!spec) throw new ModelConfigError(`Model "${id}" is not configured.`);
    await createModel(spec, context);
  }
}
