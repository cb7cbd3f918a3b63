// What a workspace's config or a run's config would make this machine do (send a key to an endpoint,
// read a transcript, run a command, apply edits unreviewed), written out for the user to read before
// it is trusted, and this machine's record of what the user trusted: the runs it created or adopted
// and the workspace configs the user accepted. The record lives outside the workspace (the host's
// storage), so nothing a repository ships, a forged log line included, can vouch for itself.
import { createHash, randomBytes } from 'node:crypto';
import { access, mkdir, realpath, rename, writeFile } from 'node:fs/promises';
import { join, sep } from 'node:path';
import type { EngineEvent } from '../shared/events';
import type { Budgets, Cap, ModelSpec, RunConfig } from '../shared/model';
import { visibleControls } from '../shared/wording';
import { DEFAULT_RUN_CONFIG, modelSpecSchema } from './config';
import { ANTHROPIC_DEFAULT_BASE_URL, OPENAI_DEFAULT_BASE_URL, resolveOpenAICompatible } from './models/providers';
import { apiKeyNameOf } from './secrets';

/**
 * One line per thing in `config` that needs trust, verbatim: every model with its endpoint and key
 * variable (or transcript), the test command or task, and auto-approval. Empty when the config holds
 * only harmless settings (concurrency, budgets, timeouts, …). `config` may be unvalidated JSON.
 */
export function trustSurfaceOf(config: Partial<RunConfig> & { templates?: unknown }): string[] {
  const lines: string[] = [];
  const models: readonly unknown[] = Array.isArray(config.models) ? config.models : [];
  for (const raw of models) lines.push(describeModelForTrust(raw));
  // "none" (no test gate) and "" (detect) run nothing the repository chose.
  if (config.testCommand !== undefined && !['', 'none'].includes(String(config.testCommand).trim())) lines.push(`test command: ${String(config.testCommand)}`);
  if (config.testTaskLabel !== undefined) lines.push(`test task (tasks.json label): ${String(config.testTaskLabel)}`);
  if (config.autoApprove) lines.push('autoApprove: every proposed edit is applied without review');
  if (config.autoApproveRules !== undefined) lines.push(`autoApproveRules: edits matching ${JSON.stringify(config.autoApproveRules)} are applied without review`);
  if (config.autoApproveCommandChanges) lines.push('autoApproveCommandChanges: edits that change what runs (scripts, hooks, tasks) are applied without review');
  const web: Partial<RunConfig['webTester']> | undefined = config.webTester;
  if (web?.devServerCommand !== undefined) lines.push(`web tester dev server command: ${String(web.devServerCommand)}`);
  if (web?.browserPath !== undefined) lines.push(`web tester browser executable: ${String(web.browserPath)}`);
  // The browser runs a model's flows wherever this points; beyond this machine that is the user's network, not the app under test.
  if (web?.url !== undefined && !isLoopbackUrl(String(web.url))) lines.push(`web tester URL beyond this machine (the browser runs the agents' flows there): ${String(web.url)}`);
  const security: Partial<RunConfig['security']> | undefined = config.security;
  if (security?.auditRegistry !== undefined) lines.push(`security audit registry (receives the dependency list): ${String(security.auditRegistry)}`);
  lines.push(...commandTrustLines(config.commands, config.deploy));
  lines.push(...mcpTrustLines(config.mcp), ...templateTrustLines(config.templates));
  // Shown in a terminal or a modal: a carriage return or an escape sequence must not hide what follows it.
  return lines.map(visibleControls);
}

/** Commands that would run without asking, roles that may ask, and the deploy, verbatim; a deny list restricts and needs no trust. */
function commandTrustLines(commands: unknown, deploy: unknown): string[] {
  const lines: string[] = [];
  if (isRecord(commands)) {
    if (Array.isArray(commands.allow) && commands.allow.length > 0) lines.push(`commands run without asking (commands.allow): ${commands.allow.map((entry) => JSON.stringify(entry)).join(', ')}`);
    if (isRecord(commands.roles) && Object.keys(commands.roles).length > 0) lines.push(`run_command per role (commands.roles): ${JSON.stringify(commands.roles)}`);
  }
  if (isRecord(deploy)) {
    if (deploy.command !== undefined) lines.push(`deploy command (runs after your approval): ${String(deploy.command)}`);
    if (deploy.taskLabel !== undefined) lines.push(`deploy task (tasks.json label, runs after your approval): ${String(deploy.taskLabel)}`);
  }
  return lines;
}

/** Each MCP server verbatim (what it starts or reaches, its variables and secrets by name), and the tool calls allowed without asking. */
function mcpTrustLines(mcp: unknown): string[] {
  if (!isRecord(mcp)) return [];
  const lines: string[] = [];
  const servers = isRecord(mcp.servers) ? mcp.servers : {};
  for (const [name, raw] of Object.entries(servers)) {
    if (!isRecord(raw)) {
      lines.push(`MCP server "${name}" (not valid, refused at run start): ${JSON.stringify(raw)}`);
      continue;
    }
    const names = (value: unknown): string => (isRecord(value) && Object.keys(value).length ? Object.keys(value).join(', ') : '');
    // Values too, not only names: NODE_OPTIONS or a header's value decides what runs or where data goes, so a change must ask again.
    const pairs = (value: unknown, join: string): string => (isRecord(value) && Object.keys(value).length ? Object.entries(value).map(([key, item]) => `${key}${join}${JSON.stringify(item)}`).join(', ') : '');
    const extra = [
      pairs(raw.env, '=') && `environment ${pairs(raw.env, '=')}`,
      pairs(raw.headers, ': ') && `headers ${pairs(raw.headers, ': ')}`,
      (names(raw.secretEnv) || names(raw.secretHeaders)) && `secrets ${Object.values({ ...(isRecord(raw.secretEnv) ? raw.secretEnv : {}), ...(isRecord(raw.secretHeaders) ? raw.secretHeaders : {}) }).join(', ')}`,
    ].filter(Boolean);
    const what = raw.type === 'http' ? `connects to ${String(raw.url)}` : `runs ${[raw.command, ...(Array.isArray(raw.args) ? raw.args : [])].map(String).join(' ')}${raw.cwd ? ` in ${String(raw.cwd)}` : ''}`;
    lines.push(`MCP server "${name}": ${what}${extra.length ? `; ${extra.join('; ')}` : ''}`);
  }
  if (Array.isArray(mcp.allow) && mcp.allow.length) lines.push(`mcp.allow: these MCP tool calls run without asking: ${mcp.allow.map(String).join(', ')}`);
  return lines;
}

/** Templates that turn on auto-approval (their models and gates are harmless: models are named by id and checked on their own). */
function templateTrustLines(templates: unknown): string[] {
  if (!isRecord(templates)) return [];
  const lines: string[] = [];
  for (const [name, raw] of Object.entries(templates)) {
    if (!isRecord(raw)) continue;
    if (raw.autoApprove) lines.push(`template "${name}": autoApprove: every proposed edit is applied without review`);
    if (raw.autoApproveRules !== undefined) lines.push(`template "${name}": autoApproveRules: edits matching ${JSON.stringify(raw.autoApproveRules)} are applied without review`);
  }
  return lines;
}

function isLoopbackUrl(url: string): boolean {
  try {
    const host = new URL(url).hostname;
    return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
  } catch {
    return false;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `model "team": openai-compatible "gpt-x" at https://…/v1, key from $OPENAI_API_KEY`; a malformed entry as its JSON. */
export function describeModelForTrust(raw: unknown): string {
  const parsed = modelSpecSchema.safeParse(raw);
  if (!parsed.success) return `model entry (not valid, refused at run start): ${JSON.stringify(raw)}`;
  const spec = parsed.data as ModelSpec;
  const name = `model "${spec.id}"`;
  const key = (keyName: string | undefined): string => (keyName ? `, key from ${keyName}` : ', no key');
  switch (spec.provider) {
    case 'scripted':
      return `${name}: scripted transcript ${spec.transcript}`;
    case 'vscode-lm':
      return `${name}: VS Code chat model ${JSON.stringify({ vendor: spec.vendor, family: spec.family, model: spec.model })}`;
    case 'openai':
      return `${name}: openai "${spec.model}" at ${spec.baseURL ?? OPENAI_DEFAULT_BASE_URL}${key(apiKeyNameOf(spec))}`;
    case 'anthropic':
      return `${name}: anthropic "${spec.model}" at ${spec.baseURL ?? ANTHROPIC_DEFAULT_BASE_URL}${key(apiKeyNameOf(spec))}`;
    case 'openai-compatible': {
      const { baseURL, apiKeyName } = resolveOpenAICompatible(spec);
      return `${name}: openai-compatible "${spec.model}" at ${baseURL}${key(apiKeyName)}`;
    }
  }
}

const GATE_STRICTNESS = ['off', 'warn', 'enforce'] as const;
const SEVERITY_LOOSENESS = ['low', 'moderate', 'high', 'critical'] as const;

/** A workspace value that was not used because it would have loosened what the user set (or the default). */
export interface IgnoredWorkspaceValue {
  /** The setting's path in the run config, e.g. `budgets.run.usd`. */
  setting: string;
  workspace: unknown;
  /** What is used instead: the user's value, or the default when the user set none. */
  used: unknown;
  /** The user set none: `used` is the default. */
  isDefault: boolean;
}

/** Which value a tighten-only setting takes: the workspace's, the user's because the workspace's is looser (noted), or the user's as it is. */
type Verdict = 'workspace' | 'looser' | 'user';

/** One tighten-only setting: `judge` compares the workspace's value, when set, with the user's (or the fallback, when the user set none). */
function tighterOf<T>(setting: string, user: T | undefined, fallback: T | undefined, workspace: unknown, judge: (workspace: unknown, floor: T | undefined) => Verdict, ignored: IgnoredWorkspaceValue[]): T | undefined {
  if (workspace === undefined) return user;
  const floor = user ?? fallback;
  const verdict = judge(workspace, floor);
  if (verdict === 'workspace') return workspace as T;
  if (verdict === 'looser') ignored.push({ setting, workspace, used: floor, isDefault: user === undefined });
  return user;
}

/** For values in `order` (loosest first): the workspace's when after the floor, looser when before it; one not in the order is not used. */
const byOrder =
  <T>(order: readonly T[]) =>
  (value: unknown, floor: T | undefined): Verdict => {
    const rank = order.indexOf(value as T);
    const floorRank = order.indexOf(floor as T);
    return rank > floorRank ? 'workspace' : rank >= 0 && rank < floorRank ? 'looser' : 'user';
  };

/**
 * The security gate a workspace's settings may only tighten: its gate wins only when stricter than
 * the user's (or the default), its severity only when lower, and it may turn the audit on, never off.
 * Other fields (rounds, timeout) merge as usual; auditRegistry goes through the trust question.
 * A looser value is left out and noted in `ignored`.
 */
export function tightenedSecurity(user: Partial<RunConfig['security']> | undefined, workspace: Partial<RunConfig['security']> | undefined, ignored: IgnoredWorkspaceValue[] = []): Partial<RunConfig['security']> | undefined {
  if (!workspace) return user;
  const defaults = DEFAULT_RUN_CONFIG.security;
  const merged: Partial<RunConfig['security']> = { ...user, ...workspace };
  merged.gate = tighterOf('security.gate', user?.gate, defaults.gate, workspace.gate, byOrder(GATE_STRICTNESS), ignored);
  // Severity is a threshold: a lower one reports more, so the order runs from the loosest (critical) down.
  merged.severity = tighterOf('security.severity', user?.severity, defaults.severity, workspace.severity, byOrder([...SEVERITY_LOOSENESS].reverse()), ignored);
  merged.audit = tighterOf('security.audit', user?.audit, defaults.audit, workspace.audit, byOrder([false, true]), ignored);
  for (const key of ['gate', 'severity', 'audit'] as const) if (merged[key] === undefined) delete merged[key];
  return merged;
}

const CAP_METRICS = ['usd', 'tokens'] as const;

/** A cap (an absent one is no cap): the workspace's unless it is a number above the user's. */
function lowerCap(value: unknown, floor: number | undefined): Verdict {
  // A value that is no valid cap (null, a string, 0) goes on to the run-config check, which refuses it by name: it raises nothing.
  return typeof value === 'number' && floor !== undefined && value >= floor ? (value > floor ? 'looser' : 'user') : 'workspace';
}

/**
 * The budgets a workspace's settings may only tighten. Every cap (run, task, each role; USD and
 * tokens) is the lower of the user's and the workspace's: an absent cap is no cap (the default has
 * none), so the workspace may add a cap the user has not set, never raise or drop one the user set
 * (a raise is left out and noted in `ignored`). `onExceed` merges as usual: pause and stop both halt
 * spending at the cap, and going on past it takes the user raising it.
 */
export function tightenedBudgets(user: Partial<Budgets> | undefined, workspace: Partial<Budgets> | undefined, ignored: IgnoredWorkspaceValue[] = []): Partial<Budgets> | undefined {
  if (!workspace) return user;
  const capOf = (path: string, mine: unknown, theirs: unknown): Cap | undefined => {
    const own = isRecord(mine) ? (mine as Cap) : undefined;
    // Not an object: left for the run-config check to refuse by name.
    if (!isRecord(theirs)) return theirs === undefined ? own : (theirs as Cap);
    const cap: Record<string, unknown> = { ...theirs, ...own };
    for (const metric of CAP_METRICS) {
      const value = tighterOf(`${path}.${metric}`, own?.[metric], undefined, theirs[metric], lowerCap, ignored);
      if (value === undefined) delete cap[metric];
      else cap[metric] = value;
    }
    return cap as Cap;
  };
  const merged: Partial<Budgets> = { ...user, ...workspace };
  for (const scope of ['run', 'task'] as const) {
    const cap = capOf(`budgets.${scope}`, user?.[scope], workspace[scope]);
    if (cap === undefined) delete merged[scope];
    else merged[scope] = cap;
  }
  if (workspace.roles !== undefined) {
    const mine: Record<string, unknown> = isRecord(user?.roles) ? user.roles : {};
    if (!isRecord(workspace.roles)) merged.roles = workspace.roles;
    else merged.roles = Object.fromEntries([...new Set([...Object.keys(mine), ...Object.keys(workspace.roles)])].map((role) => [role, capOf(`budgets.roles.${role}`, mine[role], (workspace.roles as Record<string, unknown>)[role])])) as Budgets['roles'];
  }
  return merged;
}

/**
 * A workspace's template: its budgets replace the settings' whole when it is used, so they only
 * tighten the user's caps too; what was left out is noted under `templates.<name>.`.
 */
export function tightenedTemplateBudgets<T>(name: string, template: T, user: Partial<Budgets> | undefined, ignored: IgnoredWorkspaceValue[]): T {
  if (!isRecord(template) || !isRecord(template.budgets)) return template;
  const raised: IgnoredWorkspaceValue[] = [];
  const budgets = tightenedBudgets(user, template.budgets, raised);
  ignored.push(...raised.map((item) => ({ ...item, setting: `templates.${name}.${item.setting}` })));
  return { ...template, budgets };
}

/** What a host says about a workspace value it ignored; `where` names the setting as the user knows it (a settings key, a file). */
export function describeIgnoredWorkspaceValue(item: IgnoredWorkspaceValue, where: string): string {
  const used = JSON.stringify(item.used);
  return `${where}: ignoring the workspace's ${JSON.stringify(item.workspace)}, which is looser than ${item.isDefault ? 'the default' : 'yours'}, ${used}; using ${used} (a workspace may only tighten this setting).`;
}

/** The real path of `artifact` when it, with every symlink followed, is inside `dir` (itself resolved); undefined otherwise or when missing. */
export async function realPathInside(dir: string, artifact: string): Promise<string | undefined> {
  try {
    const [root, file] = await Promise.all([realpath(dir), realpath(join(dir, artifact))]);
    return file.startsWith(root + sep) ? file : undefined;
  } catch {
    return undefined;
  }
}

/** Identifies exactly what was shown: any change to it is a new digest, and is asked about again. */
export function trustDigest(lines: readonly string[]): string {
  return sha256(lines.join('\n'));
}

/** Binds a run to its first event: a run.created edited after the fact is another run. */
export function runCreatedDigest(created: EngineEvent | undefined): string {
  return sha256(JSON.stringify(created ?? null));
}

export type TrustKind = 'run' | 'workspace-config';

/**
 * This machine's record of what the user trusted, one small file per decision under `dir` (no file
 * is ever rewritten, so two processes cannot lose each other's records). Without a folder (tests,
 * hosts without storage) the record lasts as long as the object.
 */
export class TrustRecords {
  private readonly remembered = new Set<string>();

  constructor(private readonly dir: string | undefined) {}

  async has(kind: TrustKind, subject: string, digest: string): Promise<boolean> {
    if (this.remembered.has(this.entry(kind, subject, digest))) return true;
    if (!this.dir) return false;
    return access(this.file(kind, subject, digest)).then(
      () => true,
      () => false,
    );
  }

  async remember(kind: TrustKind, subject: string, digest: string): Promise<void> {
    this.remembered.add(this.entry(kind, subject, digest));
    if (!this.dir) return;
    const file = this.file(kind, subject, digest);
    await mkdir(join(this.dir, 'trust', kind), { recursive: true });
    const temp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(temp, JSON.stringify({ kind, subject, digest, at: new Date().toISOString() }) + '\n');
    await rename(temp, file);
  }

  private entry(kind: TrustKind, subject: string, digest: string): string {
    return `${kind}\0${subject}\0${digest}`;
  }

  private file(kind: TrustKind, subject: string, digest: string): string {
    return join(this.dir!, 'trust', kind, `${sha256(subject).slice(0, 32)}-${digest.slice(0, 32)}.json`);
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
