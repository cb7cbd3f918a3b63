// Turns CLI flags and the optional config file into a run configuration.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { applyTemplate, availableTemplates, ConfigError, describeIgnoredWorkspaceValue, parseTemplates, resolveRunConfig, runConfigSchema, STATE_DIR, tightenedBudgets, tightenedSecurity, tightenedTemplateBudgets, userStateDir, type IgnoredWorkspaceValue } from '../core';
import type { TeamTemplate } from '../shared/runConfig';
import { OPENAI_COMPATIBLE_PRESETS, ROLES, type BudgetBreach, type Budgets, type ModelSpec, type OpenAICompatiblePreset, type Role, type RunConfig } from '../shared/model';
import { UserError } from '../shared/errors';

export class UsageError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface CliRunOptions {
  models: string[];
  configFile?: string;
  yes: boolean;
  /** --allow-command-changes: auto-approval covers edits that change what runs, too. */
  allowCommandChanges?: boolean;
  concurrency?: string;
  maxFixAttempts?: string;
  testCommand?: string;
  noReviewGate: boolean;
  apiKeyEnv?: string;
  maxUsd?: string;
  maxTokens?: string;
  onBudget?: string;
  gitMode: boolean;
  noCheckpoints: boolean;
  /** --security-gate off|warn|enforce; --security-severity low|moderate|high|critical. */
  securityGate?: string;
  securitySeverity?: string;
  /** --template NAME: a team template (built-in or from the config files) under the flags. */
  template?: string;
  /** --no-rules-files: leave AGENTS.md and the like out of the system prompts. */
  noRulesFiles?: boolean;
  /** --mcp-allow server/tool (repeatable): MCP calls that run without asking, besides the config's. */
  mcpAllow?: string[];
  /** --allow-command PREFIX (repeatable): commands that run without asking, besides the config's commands.allow. Never a deploy. */
  allowCommand?: string[];
}

/** A config file's content: run settings, plus team templates and the default one (never part of a run's config). */
export type ConfigFileValues = Partial<RunConfig> & { templates?: Record<string, TeamTemplate>; template?: string };

/**
 * Where the configs come from. The user's own (`--config FILE`, else the user config file) is
 * trusted; the workspace's `.software-maker/config.json` came with the repository, so what it names
 * that sends a key or runs something is used only once the user accepted it (cli/trust.ts).
 */
export interface CliConfigFiles {
  user: ConfigFileValues;
  /** Not read when --config is given: that file replaces it. */
  workspace?: { path: string; config: ConfigFileValues };
}

/** The user's own config file: $XDG_CONFIG_HOME/software-maker/config.json (~/.config/… by default). */
export function userConfigPath(): string {
  return join(process.env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'software-maker', 'config.json');
}

export async function readCliConfigFiles(workspace: string, configFile: string | undefined): Promise<CliConfigFiles> {
  if (configFile) return { user: await readConfigFile(resolve(configFile), true) };
  const path = join(workspace, STATE_DIR, 'config.json');
  const config = await readConfigFile(path, false);
  return { user: await readConfigFile(userConfigPath(), false), ...(Object.keys(config).length ? { workspace: { path, config } } : {}) };
}

/**
 * The workspace's settings over the user's: its models replace the user's of the same id, its roles
 * the user's of the same role. The safety settings (security gate, budgets, deny list, templates)
 * only tighten; what the workspace set looser is left out and noted in `ignored`.
 */
function mergeConfigFiles(files: CliConfigFiles, ignored: IgnoredWorkspaceValue[] = []): ConfigFileValues {
  const { user } = files;
  const workspace = files.workspace?.config;
  if (!workspace) return user;
  const modelsOf = (config: Partial<RunConfig>): ModelSpec[] => (Array.isArray(config.models) ? config.models : []);
  const ids = new Set(modelsOf(workspace).map((model) => model.id));
  return {
    ...user,
    ...workspace,
    models: [...modelsOf(user).filter((model) => !ids.has(model.id)), ...modelsOf(workspace)],
    roles: { ...(user.roles ?? {}), ...(workspace.roles ?? {}) },
    // A workspace template never shadows the user's of the same name: the user's wins.
    templates: { ...Object.fromEntries(Object.entries(workspace.templates ?? {}).map(([name, template]) => [name, tightenedTemplateBudgets(name, template, user.budgets, ignored)])), ...(user.templates ?? {}) },
    // The workspace may tighten the security gate, never loosen it (that would need no trust question otherwise).
    ...(workspace.security ? { security: tightenedSecurity(user.security, workspace.security, ignored) as RunConfig['security'] } : {}),
    // Nor may it raise the user's caps: a cloned repository would spend the user's money.
    ...(workspace.budgets ? { budgets: tightenedBudgets(user.budgets, workspace.budgets, ignored) as Budgets } : {}),
    // A deny list needs no trust, so the workspace's may only add to the user's, never replace it.
    ...(user.commands && workspace.commands ? { commands: { ...user.commands, ...workspace.commands, deny: [...new Set([...(user.commands.deny ?? []), ...(workspace.commands.deny ?? [])])] } } : {}),
  };
}


/** Checkpoints of a workspace live outside it, in the user's state folder, one shadow repository per workspace. */
export function cliStorageDir(workspace: string): string {
  return join(userStateDir(), createHash('sha256').update(workspace).digest('hex').slice(0, 16));
}

function parseAmount(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) throw new UsageError(`${flag} needs a positive number, not "${value}".`);
  return number;
}

/** Parses one --model value into a spec, or a reference to a configured id. */
export function parseModelFlag(value: string, cwd: string, apiKeyEnv: string | undefined): ModelSpec | { ref: string } {
  const colon = value.indexOf(':');
  if (colon === -1) return { ref: value };
  const kind = value.slice(0, colon);
  const rest = value.slice(colon + 1);
  if (!rest) throw new UsageError(`--model ${value}: nothing after "${kind}:".`);
  if (kind === 'scripted') return { id: 'scripted', provider: 'scripted', transcript: isAbsolute(rest) ? rest : resolve(cwd, rest) };
  if (kind === 'openai') return { id: value, provider: 'openai', model: rest, ...(apiKeyEnv ? { apiKeyName: apiKeyEnv } : {}) };
  if (kind === 'anthropic') return { id: value, provider: 'anthropic', model: rest, ...(apiKeyEnv ? { apiKeyName: apiKeyEnv } : {}) };
  if ((OPENAI_COMPATIBLE_PRESETS as readonly string[]).includes(kind)) {
    // The preset supplies the endpoint and the key's variable name (none for local servers).
    return { id: value, provider: 'openai-compatible', model: rest, preset: kind as OpenAICompatiblePreset, ...(apiKeyEnv ? { apiKeyName: apiKeyEnv } : {}) };
  }
  if (kind === 'openai-compatible') {
    const at = rest.lastIndexOf('@');
    if (at <= 0) throw new UsageError(`--model ${value}: write openai-compatible:MODEL@BASE_URL, e.g. openai-compatible:qwen2.5-coder@http://127.0.0.1:11434/v1.`);
    return { id: rest.slice(0, at), provider: 'openai-compatible', model: rest.slice(0, at), baseURL: rest.slice(at + 1), ...(apiKeyEnv ? { apiKeyName: apiKeyEnv } : {}) };
  }
  throw new UsageError(
    `Unknown model "${value}". Use scripted:PATH, openai:MODEL, anthropic:MODEL, ${OPENAI_COMPATIBLE_PRESETS.map((preset) => `${preset}:MODEL`).join(', ')}, openai-compatible:MODEL@URL, or an id from the config file.`,
  );
}

async function readConfigFile(path: string, required: boolean): Promise<ConfigFileValues> {
  let raw: string;
  try {
    raw = await readFile(path, 'utf8');
  } catch (error) {
    if (!required && (error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new UsageError(`Cannot read the config file ${path}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    throw new UsageError(`The config file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new UsageError(`The config file ${path} must hold a JSON object (models, roles, run settings).`);
  // Checked here, so the error names the file; the file's own values are kept (not the schema's
  // defaults), because the workspace's file and the flags are merged over it field by field.
  const { templates, template, ...run } = parsed as Record<string, unknown>;
  const checked = runConfigSchema.safeParse(run);
  if (!checked.success) {
    const issues = checked.error.issues.map((issue) => `${issue.path.join('.') || '(top level)'}: ${issue.message}`);
    throw new UsageError(`The config file ${path} is not a valid Software Maker config: ${issues.join('; ')}. Fix or remove those fields.`);
  }
  if (template !== undefined && (typeof template !== 'string' || !template.trim())) throw new UsageError(`The config file ${path}: "template" must be the name of a team template.`);
  try {
    parseTemplates(templates);
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(`The config file ${path}: ${error.message}`);
    throw error;
  }
  return parsed as ConfigFileValues;
}

function parseCount(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0) throw new UsageError(`${flag} needs a whole number, not "${value}".`);
  return number;
}

/**
 * `files`: what readCliConfigFiles read, after the workspace's part was trusted (none by default).
 * `warn` gets each workspace value left out because it would loosen the user's (stderr by default).
 */
export async function buildCliConfig(workspace: string, options: CliRunOptions, files: CliConfigFiles = { user: {} }, warn: (message: string) => void = (message) => process.stderr.write(`warning: ${message}\n`)): Promise<RunConfig> {
  const ignored: IgnoredWorkspaceValue[] = [];
  const { templates, template, ...fromFiles } = mergeConfigFiles(files, ignored);
  for (const item of ignored) warn(describeIgnoredWorkspaceValue(item, `${item.setting} in ${files.workspace?.path ?? 'the workspace config'}`));
  // The template goes over the config files and under the flags; its values land in the run's snapshot.
  const templateName = options.template ?? template;
  let file: Partial<RunConfig> = fromFiles;
  if (templateName !== undefined) {
    try {
      file = applyTemplate(fromFiles, templateName, availableTemplates(templates)) as Partial<RunConfig>;
    } catch (error) {
      if (error instanceof ConfigError) throw new UsageError(`--template ${templateName}: ${error.message}`);
      throw error;
    }
  }
  const models: ModelSpec[] = [...(file.models ?? [])];
  const roles: Partial<Record<Role, string[]>> = { ...(file.roles ?? {}) };
  // Bare SPECs form the default chain of every role, in order (the router falls over along it);
  // ROLE=SPEC values form that role's own chain.
  const defaultChain: string[] = [];
  const roleChains: Partial<Record<Role, string[]>> = {};
  for (const flag of options.models) {
    const eq = flag.indexOf('=');
    const role = eq > 0 ? flag.slice(0, eq) : undefined;
    if (role && !(ROLES as readonly string[]).includes(role)) {
      throw new UsageError(`--model ${flag}: unknown role "${role}". Roles: ${ROLES.join(', ')}.`);
    }
    const parsed = parseModelFlag(role ? flag.slice(eq + 1) : flag, process.cwd(), options.apiKeyEnv);
    let id: string;
    if ('ref' in parsed) {
      if (!models.some((model) => model.id === parsed.ref)) {
        throw new UsageError(`Unknown model "${parsed.ref}": it is not in the config file. Known: ${models.map((m) => m.id).join(', ') || 'none'}.`);
      }
      id = parsed.ref;
    } else {
      if (!models.some((model) => model.id === parsed.id)) models.push(parsed);
      id = parsed.id;
    }
    if (role) (roleChains[role as Role] ??= []).push(id);
    else defaultChain.push(id);
  }
  for (const role of ROLES) {
    const chain = roleChains[role] ?? (defaultChain.length ? defaultChain : undefined);
    if (chain) roles[role] = chain;
  }
  const defaultModel = defaultChain[0];
  return resolveRunConfig(
    {
      ...file,
      models,
      roles,
      autoApprove: options.yes || file.autoApprove,
      autoApproveCommandChanges: options.allowCommandChanges || file.autoApproveCommandChanges,
      concurrency: parseCount('--concurrency', options.concurrency) ?? file.concurrency,
      maxFixAttempts: parseCount('--max-fix-attempts', options.maxFixAttempts) ?? file.maxFixAttempts,
      testCommand: options.testCommand ?? file.testCommand,
      reviewGate: options.noReviewGate ? false : file.reviewGate,
      budgets: budgetsFrom(options, file.budgets),
      gitMode: options.gitMode || file.gitMode,
      checkpoints: options.noCheckpoints ? false : file.checkpoints,
      security: securityFrom(options, file.security),
      rulesFiles: options.noRulesFiles ? false : file.rulesFiles,
      commands: options.allowCommand?.length ? { ...file.commands, allow: [...new Set([...(file.commands?.allow ?? []), ...options.allowCommand.map((entry) => entry.trim())])] } as RunConfig['commands'] : file.commands,
      mcp: options.mcpAllow?.length ? { ...file.mcp, allow: [...new Set([...(file.mcp?.allow ?? []), ...options.mcpAllow])] } : file.mcp,
    },
    defaultModel,
  );
}

const SECURITY_GATES = ['off', 'warn', 'enforce'] as const;
const SECURITY_SEVERITIES = ['low', 'moderate', 'high', 'critical'] as const;

/** --security-gate and --security-severity over the config file's `security`; a severity alone turns the gate to enforce. */
function securityFrom(options: CliRunOptions, file: RunConfig['security'] | undefined): RunConfig['security'] | undefined {
  const gate = options.securityGate;
  const severity = options.securitySeverity;
  if (gate === undefined && severity === undefined) return file;
  if (gate !== undefined && !(SECURITY_GATES as readonly string[]).includes(gate)) throw new UsageError(`--security-gate takes ${SECURITY_GATES.join(', ')}, not "${gate}".`);
  if (severity !== undefined && !(SECURITY_SEVERITIES as readonly string[]).includes(severity)) throw new UsageError(`--security-severity takes ${SECURITY_SEVERITIES.join(', ')}, not "${severity}".`);
  const base = { ...(file ?? {}) } as RunConfig['security'];
  return {
    ...base,
    gate: (gate as RunConfig['security']['gate'] | undefined) ?? (base.gate && base.gate !== 'off' ? base.gate : 'enforce'),
    ...(severity ? { severity: severity as RunConfig['security']['severity'] } : {}),
  };
}

/**
 * `resume --max-usd/--max-tokens`: each sets the cap that paused the run when it is of that metric
 * (a task or role cap included), else the run's cap. Undefined when neither flag was given.
 */
export function raisedBudgets(current: Budgets, breach: BudgetBreach | undefined, flags: { maxUsd?: string; maxTokens?: string }): Budgets | undefined {
  const wanted: [BudgetBreach['metric'], number | undefined][] = [
    ['usd', parseAmount('--max-usd', flags.maxUsd)],
    ['tokens', parseAmount('--max-tokens', flags.maxTokens)],
  ];
  if (wanted.every(([, value]) => value === undefined)) return undefined;
  const next: Budgets = structuredClone(current);
  for (const [metric, raw] of wanted) {
    if (raw === undefined) continue;
    const value = metric === 'tokens' ? Math.round(raw) : raw;
    const scope = breach?.metric === metric ? breach.scope : 'run';
    if (scope === 'role') next.roles = { ...next.roles, [breach!.key]: { ...next.roles?.[breach!.key as Role], [metric]: value } };
    else next[scope] = { ...next[scope], [metric]: value };
  }
  return next;
}

function budgetsFrom(options: CliRunOptions, fromFile: Budgets | undefined): Budgets | undefined {
  const usd = parseAmount('--max-usd', options.maxUsd);
  const tokens = parseAmount('--max-tokens', options.maxTokens);
  if (options.onBudget !== undefined && options.onBudget !== 'pause' && options.onBudget !== 'stop') {
    throw new UsageError(`--on-budget takes pause or stop, not "${options.onBudget}".`);
  }
  if (usd === undefined && tokens === undefined && options.onBudget === undefined) return fromFile;
  const base: Budgets = fromFile ?? { onExceed: 'pause' };
  return {
    ...base,
    run: { ...base.run, ...(usd !== undefined ? { usd } : {}), ...(tokens !== undefined ? { tokens: Math.round(tokens) } : {}) },
    onExceed: (options.onBudget as Budgets['onExceed'] | undefined) ?? base.onExceed,
  };
}
