// Run configuration: defaults, and the check that turns user settings into an immutable snapshot.
import { z } from 'zod';
import { OPENAI_COMPATIBLE_PRESETS, ROLES, type RunConfig } from '../shared/model';

// Keep in step with ModelSpec in src/shared/model.ts: the parsed config is cast to that type.
const modelPriceSchema = z
  .object({
    inputPerMTok: z.number().nonnegative(),
    outputPerMTok: z.number().nonnegative(),
    cachedInputPerMTok: z.number().nonnegative().optional(),
  })
  .strict();

const commonSpecFields = {
  id: z.string().min(1),
  contextWindow: z.number().int().positive().optional(),
  maxOutputTokens: z.number().int().positive().optional(),
  prices: modelPriceSchema.optional(),
};

export const modelSpecSchema = z.discriminatedUnion('provider', [
  z.object({ ...commonSpecFields, provider: z.literal('scripted'), transcript: z.string().min(1) }).strict(),
  z
    .object({
      ...commonSpecFields,
      provider: z.literal('openai'),
      model: z.string().min(1),
      apiKeyName: z.string().min(1).optional(),
      baseURL: z.string().url().optional(),
      api: z.enum(['responses', 'chat']).optional(),
    })
    .strict(),
  z
    .object({
      ...commonSpecFields,
      provider: z.literal('anthropic'),
      model: z.string().min(1),
      apiKeyName: z.string().min(1).optional(),
      baseURL: z.string().url().optional(),
    })
    .strict(),
  z
    .object({
      ...commonSpecFields,
      provider: z.literal('openai-compatible'),
      model: z.string().min(1),
      baseURL: z.string().url().optional(),
      apiKeyName: z.string().min(1).optional(),
      preset: z.enum(OPENAI_COMPATIBLE_PRESETS).optional(),
    })
    .strict()
    .refine((spec) => spec.baseURL !== undefined || spec.preset !== undefined, {
      message: `an openai-compatible model needs a baseURL, or a preset (${OPENAI_COMPATIBLE_PRESETS.join(', ')}) that supplies one`,
      path: ['baseURL'],
    }),
  z
    .object({
      ...commonSpecFields,
      provider: z.literal('vscode-lm'),
      vendor: z.string().min(1).optional(),
      family: z.string().min(1).optional(),
      model: z.string().min(1).optional(),
    })
    .strict(),
]);

// Budgets (owned by the run driver's budget gate; keep next to runConfigSchema).
const capSchema = z.object({ usd: z.number().positive().optional(), tokens: z.number().int().positive().optional() }).strict();

export const budgetsSchema = z
  .object({
    run: capSchema.optional(),
    task: capSchema.optional(),
    roles: z.partialRecord(z.enum(ROLES), capSchema).optional(),
    onExceed: z.enum(['pause', 'stop']),
  })
  .strict();

export const runConfigSchema = z
  .object({
    models: z.array(modelSpecSchema),
    roles: z.partialRecord(z.enum(ROLES), z.array(z.string().min(1)).min(1)),
    concurrency: z.number().int().min(1).max(32),
    maxFixAttempts: z.number().int().min(0).max(20),
    maxAgentSteps: z.number().int().min(1).max(200),
    autoApprove: z.boolean(),
    requirePlanApproval: z.boolean(),
    testCommand: z.string().min(1).optional(),
    testTaskLabel: z.string().min(1).optional(),
    testTimeoutMs: z.number().int().min(1000),
    reviewGate: z.boolean(),
    budgets: budgetsSchema,
    timeouts: z.object({ firstTokenMs: z.number().int().min(100), totalMs: z.number().int().min(1000) }).strict(),
    loopThreshold: z.number().int().min(2).max(20),
    autoApproveRules: z.object({ roles: z.array(z.enum(ROLES)).optional(), globs: z.array(z.string().min(1)).optional() }).strict().optional(),
    autoApproveCommandChanges: z.boolean().optional(),
    checkpoints: z.boolean(),
    gitMode: z.boolean(),
    relatedTestsFirst: z.boolean(),
  })
  .strict();

export const DEFAULT_RUN_CONFIG: RunConfig = {
  models: [],
  roles: {},
  concurrency: 3,
  maxFixAttempts: 2,
  maxAgentSteps: 25,
  autoApprove: false,
  autoApproveCommandChanges: false,
  requirePlanApproval: false,
  testTimeoutMs: 10 * 60_000,
  reviewGate: true,
  budgets: { onExceed: 'pause' },
  timeouts: { firstTokenMs: 60_000, totalMs: 10 * 60_000 },
  loopThreshold: 3,
  checkpoints: true,
  gitMode: false,
  relatedTestsFirst: true,
};

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/**
 * Merges user settings over the defaults and validates the result. Every role must resolve to a
 * configured model, so a typo in a model id fails here, before the run starts.
 */
export function resolveRunConfig(partial: Partial<RunConfig>, defaultModelId?: string): RunConfig {
  const merged = { ...DEFAULT_RUN_CONFIG, ...stripUndefined(partial) };
  const parsed = runConfigSchema.safeParse(merged);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'config'}: ${issue.message}`);
    throw new ConfigError(`Invalid Software Maker configuration: ${issues.join('; ')}`);
  }
  const config = parsed.data as RunConfig;
  const known = new Set(config.models.map((model) => model.id));
  if (config.models.length === 0) throw new ConfigError('No models are configured. Add one (softwareMaker.models, or --model in the CLI).');
  const fallback = defaultModelId ?? config.models[0]!.id;
  for (const role of ROLES) {
    const chain = config.roles[role] ?? [fallback];
    for (const id of chain) {
      if (!known.has(id)) {
        throw new ConfigError(`Role "${role}" uses model "${id}", which is not configured. Known models: ${[...known].join(', ')}.`);
      }
    }
    config.roles[role] = chain;
  }
  return Object.freeze(config);
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
