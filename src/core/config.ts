// Run configuration: the check that turns user settings into an immutable snapshot. The schemas
// themselves (and so the defaults) are in src/shared/runConfig.ts.
import { ROLES } from '../shared/model';
import { runConfigSchema, type RunConfig, type RunConfigInput } from '../shared/runConfig';
import { UserError } from '../shared/errors';
import { checkPolicyEntry } from './commands/policy';

export { budgetsSchema, modelSpecSchema, runConfigSchema } from '../shared/runConfig';

/** Every default: what `{}` parses to. */
export const DEFAULT_RUN_CONFIG: RunConfig = Object.freeze(runConfigSchema.parse({}));

export class ConfigError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/**
 * Merges user settings over the defaults and validates the result. Every role must resolve to a
 * configured model, so a typo in a model id fails here, before the run starts.
 */
export function resolveRunConfig(partial: RunConfigInput, defaultModelId?: string): RunConfig {
  const parsed = runConfigSchema.safeParse(stripUndefined(partial));
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'config'}: ${issue.message}`);
    throw new ConfigError(`Invalid Software Maker configuration: ${issues.join('; ')}`);
  }
  const config = parsed.data;
  const entryProblems = [
    ...config.commands.allow.map((entry) => checkPolicyEntry(entry, 'allow')),
    ...config.commands.deny.map((entry) => checkPolicyEntry(entry, 'deny')),
  ].filter((problem): problem is string => problem !== undefined);
  if (entryProblems.length) throw new ConfigError(`Invalid Software Maker configuration: commands: ${entryProblems.join('; ')}`);
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
