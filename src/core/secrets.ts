// API keys: every value the engine resolves is registered here before it is used, so every writer
// (the event log, step records, plan.md, report.md, proposals, replay records, the CLI's output) can
// cut out the exact value whatever its shape, and no child process (test commands, git hooks)
// inherits a key. One registry per process rather than per engine: a key read once must be redacted
// by every writer, and handing an instance to each of them would sooner or later leave one out.
import type { ModelSpec } from '../shared/model';
import type { HostPorts } from './ports';
import { ANTHROPIC_DEFAULT_KEY_NAME, OPENAI_DEFAULT_KEY_NAME, PRESET_DEFAULTS, resolveOpenAICompatible } from './models/providers';

/**
 * Values shorter than this are not redacted: cutting every "password" or "12345" out of source
 * text, test output and prompts would shred them, and no provider issues keys that short.
 */
export const MIN_REDACTED_SECRET_LENGTH = 8;
export const REDACTED = '[redacted]';

/**
 * Provider key variables no child process gets, configured or not: the presets' own names, plus
 * the ones other tools on the machine commonly export for providers we do not preset.
 */
export const PROVIDER_KEY_NAMES: readonly string[] = [
  ...new Set([
    OPENAI_DEFAULT_KEY_NAME,
    ANTHROPIC_DEFAULT_KEY_NAME,
    ...Object.values(PRESET_DEFAULTS).flatMap((preset) => (preset.apiKeyName ? [preset.apiKeyName] : [])),
    'AZURE_OPENAI_API_KEY',
    'GEMINI_API_KEY',
    'GOOGLE_GENERATIVE_AI_API_KEY',
    'MISTRAL_API_KEY',
    'XAI_API_KEY',
    'TOGETHER_API_KEY',
    'FIREWORKS_API_KEY',
    'PERPLEXITY_API_KEY',
    'COHERE_API_KEY',
  ]),
];

export class SecretRegistry {
  private readonly values = new Set<string>();
  private readonly names = new Set<string>();
  /** Longest first, so a key that contains another is cut out whole. */
  private ordered: string[] = [];

  /** Records a secret the engine resolved: its name (for child environments) and its value. */
  register(name: string | undefined, value: string | undefined): void {
    if (name) this.names.add(name);
    if (!value || value.length < MIN_REDACTED_SECRET_LENGTH || this.values.has(value)) return;
    this.values.add(value);
    // A value with quotes or backslashes is written escaped inside JSON: cut that form out too.
    const escaped = JSON.stringify(value).slice(1, -1);
    if (escaped !== value) this.values.add(escaped);
    this.ordered = [...this.values].sort((a, b) => b.length - a.length);
  }

  /** Records the key names models are configured with (before their keys are read). */
  registerNames(names: Iterable<string>): void {
    for (const name of names) this.names.add(name);
  }

  redact(text: string): string {
    let out = text;
    for (const value of this.ordered) if (out.includes(value)) out = out.split(value).join(REDACTED);
    return out;
  }

  /** True when `text` holds a registered key. */
  appearsIn(text: string): boolean {
    return this.ordered.some((value) => text.includes(value));
  }

  isSecretValue(text: string): boolean {
    return this.values.has(text);
  }

  keyNames(): string[] {
    return [...this.names];
  }
}

/** The process's registry: what the engine resolved, what every writer redacts. */
export const secretRegistry = new SecretRegistry();

/** For EditSet: a proposal must never carry a key into the user's files (or the run's records). */
export function refuseSecretText(text: string, registry: SecretRegistry = secretRegistry): string | undefined {
  return registry.appearsIn(text) ? 'contains the value of a configured API key' : undefined;
}

/** The host's ports with every secret lookup registered before the value is handed to anyone. */
export function registeringSecrets(ports: HostPorts, registry: SecretRegistry = secretRegistry): HostPorts {
  return {
    ...ports,
    secret: async (name) => {
      const value = await ports.secret(name);
      registry.register(name, value);
      return value;
    },
  };
}

/** The secret name a spec's key is read under, or undefined when it needs none. */
export function apiKeyNameOf(spec: ModelSpec): string | undefined {
  switch (spec.provider) {
    case 'openai':
      return spec.apiKeyName ?? OPENAI_DEFAULT_KEY_NAME;
    case 'anthropic':
      return spec.apiKeyName ?? ANTHROPIC_DEFAULT_KEY_NAME;
    case 'openai-compatible':
      try {
        return resolveOpenAICompatible(spec).apiKeyName;
      } catch {
        return spec.apiKeyName;
      }
    case 'scripted':
    case 'vscode-lm':
      return undefined;
  }
}

/**
 * The environment for a child process the engine starts (test commands, git): `base` without any
 * provider key. Removed: every known provider key variable, every key name a configured model reads,
 * and any variable holding the value of one of those or of a key the engine resolved (a key copied
 * under another name).
 */
export function childEnvironment(base: NodeJS.ProcessEnv = process.env, registry: SecretRegistry = secretRegistry): NodeJS.ProcessEnv {
  const names = new Set([...PROVIDER_KEY_NAMES, ...registry.keyNames()].map(keyOf));
  const values = new Set<string>();
  for (const [name, value] of Object.entries(base)) if (value && value.length >= MIN_REDACTED_SECRET_LENGTH && names.has(keyOf(name))) values.add(value);
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(base)) {
    if (value === undefined || names.has(keyOf(name)) || values.has(value) || registry.isSecretValue(value)) continue;
    env[name] = value;
  }
  return env;
}

// Windows variable names are case-insensitive: OpenAI_Api_Key is the same variable there.
function keyOf(name: string): string {
  return process.platform === 'win32' ? name.toUpperCase() : name;
}
