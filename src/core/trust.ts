// What a workspace's config or a run's config would make this machine do (send a key to an endpoint,
// read a transcript, run a command, apply edits unreviewed), written out for the user to read before
// it is trusted, and this machine's record of what the user trusted: the runs it created or adopted
// and the workspace configs the user accepted. The record lives outside the workspace (the host's
// storage), so nothing a repository ships, a forged log line included, can vouch for itself.
import { createHash, randomBytes } from 'node:crypto';
import { access, mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EngineEvent } from '../shared/events';
import type { ModelSpec, RunConfig } from '../shared/model';
import { visibleControls } from '../shared/wording';
import { modelSpecSchema } from './config';
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
