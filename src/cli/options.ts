// Turns CLI flags and the optional config file into a run configuration.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { resolveRunConfig } from '../core/config';
import { STATE_DIR } from '../core/runsDir';
import { OPENAI_COMPATIBLE_PRESETS, ROLES, type Budgets, type ModelSpec, type OpenAICompatiblePreset, type Role, type RunConfig } from '../shared/model';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface CliRunOptions {
  models: string[];
  configFile?: string;
  yes: boolean;
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
}

/** Checkpoints of a workspace live outside it, in the user's state folder, one shadow repository per workspace. */
export function cliStorageDir(workspace: string): string {
  const base = process.env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
  return join(base, 'software-maker', createHash('sha256').update(workspace).digest('hex').slice(0, 16));
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

async function readConfigFile(path: string, required: boolean): Promise<Partial<RunConfig>> {
  let raw: string;
  try {
    raw = await readFile(path, 'utf8');
  } catch (error) {
    if (!required && (error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new UsageError(`Cannot read the config file ${path}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(raw) as Partial<RunConfig>;
  } catch (error) {
    throw new UsageError(`The config file ${path} is not valid JSON: ${(error as Error).message}`);
  }
}

function parseCount(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0) throw new UsageError(`${flag} needs a whole number, not "${value}".`);
  return number;
}

export async function buildCliConfig(workspace: string, options: CliRunOptions): Promise<RunConfig> {
  const file = options.configFile
    ? await readConfigFile(resolve(options.configFile), true)
    : await readConfigFile(join(workspace, STATE_DIR, 'config.json'), false);
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
      concurrency: parseCount('--concurrency', options.concurrency) ?? file.concurrency,
      maxFixAttempts: parseCount('--max-fix-attempts', options.maxFixAttempts) ?? file.maxFixAttempts,
      testCommand: options.testCommand ?? file.testCommand,
      reviewGate: options.noReviewGate ? false : file.reviewGate,
      budgets: budgetsFrom(options, file.budgets),
      gitMode: options.gitMode || file.gitMode,
      checkpoints: options.noCheckpoints ? false : file.checkpoints,
    },
    defaultModel,
  );
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
