// Team templates: named presets of models per role, gates, budgets, concurrency and auto-approval.
// A run started with one gets the template's values over the settings, and the resulting config is
// the run's snapshot (run.created): editing or deleting the template later changes no run.
import type { RunConfigInput, TeamTemplate } from '../shared/runConfig';
import { teamTemplatesSchema } from '../shared/runConfig';
import { ConfigError } from './config';

/** The templates every user has; a user template of the same name replaces one. */
export const BUILT_IN_TEMPLATES: Readonly<Record<string, TeamTemplate>> = Object.freeze({
  solo: {
    description: 'One task at a time, no reviewer, one fix attempt: the cheapest way through a small goal.',
    concurrency: 1,
    reviewGate: false,
    maxFixAttempts: 1,
  },
  careful: {
    description: 'Approve the plan first, one task at a time, reviewer on, every edit reviewed, three fix attempts.',
    concurrency: 1,
    reviewGate: true,
    requirePlanApproval: true,
    maxFixAttempts: 3,
    autoApprove: false,
  },
  fast: {
    description: 'Six tasks at once, no reviewer, related tests first, one fix attempt.',
    concurrency: 6,
    reviewGate: false,
    relatedTestsFirst: true,
    maxFixAttempts: 1,
  },
});

/** Built-in templates and the user's (from settings or the CLI config), the user's winning a name. */
export function availableTemplates(user: unknown): Record<string, TeamTemplate> {
  return { ...BUILT_IN_TEMPLATES, ...parseTemplates(user) };
}

/** Checks user templates; an invalid one is a ConfigError naming it and the field. */
export function parseTemplates(user: unknown): Record<string, TeamTemplate> {
  if (user === undefined || user === null) return {};
  const parsed = teamTemplatesSchema.safeParse(user);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'templates'}: ${issue.message}`);
    throw new ConfigError(`Invalid team templates: ${issues.join('; ')}`);
  }
  return parsed.data;
}

/**
 * `config` with the template's values over it (its budgets replace the config's whole), and the
 * template's name recorded. Throws ConfigError for an unknown name, listing the known ones.
 */
export function applyTemplate(config: RunConfigInput, name: string, templates: Record<string, TeamTemplate>): RunConfigInput {
  const template = Object.hasOwn(templates, name) ? templates[name] : undefined;
  if (!template) throw new ConfigError(`There is no team template "${name}". Templates: ${Object.keys(templates).sort().join(', ')}.`);
  const { description, roles, ...values } = template;
  const defined = Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined));
  return {
    ...config,
    ...defined,
    ...(roles ? { roles: { ...(config.roles ?? {}), ...roles } } : {}),
    template: { name, ...(description ? { description } : {}) },
  };
}
