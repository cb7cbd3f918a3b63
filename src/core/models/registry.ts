// Turns the run's model specs into ai SDK models. One instance per model id and run, so a scripted
// transcript is consumed in order across all of the run's calls. The per-provider creation lives
// in providers.ts.
import type { LanguageModelV4 } from '@ai-sdk/provider';
import type { ModelPrice, ModelSpec, Role, RunConfig } from '../../shared/model';
import { priceFor } from './prices';
import { breakerKeyOf, createLanguageModel, ModelConfigError, type ProviderContext } from './providers';

export { ModelConfigError } from './providers';

export interface ResolvedModel {
  id: string;
  provider: string;
  model: LanguageModelV4;
  spec: ModelSpec;
  /** Undefined when the model's cost is unknown (a hosted model the price table does not list). */
  price: ModelPrice | undefined;
  /** Models that share an endpoint share a circuit breaker. */
  breakerKey: string;
}

export type ModelContext = ProviderContext;

export async function createModel(spec: ModelSpec, context: ModelContext): Promise<ResolvedModel> {
  const { model, provider } = await createLanguageModel(spec, context);
  return { id: spec.id, provider, model, spec, price: priceFor(spec), breakerKey: breakerKeyOf(spec) };
}

/** Lazily creates each configured model once for a run and hands out a role's chain. */
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

  /** Every model of a role's chain, in fallback order. */
  chainFor(role: Role): Promise<ResolvedModel[]> {
    const chain = this.config.roles[role];
    if (!chain?.length) return Promise.reject(new ModelConfigError(`No model is configured for the ${role} role.`));
    return Promise.all(chain.map((id) => this.byId(id)));
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
