// The `softwareMaker.*` VS Code settings: which there are, what the Settings UI says about them
// (package.json's `contributes.configuration` is generated from this by scripts/gen-config.ts), and
// how their values become a run config. Fields that mean the same as a run-config field are that
// field (runConfig.ts), so bounds, defaults and descriptions cannot drift apart; the others differ in
// name or unit (seconds here, milliseconds in the config) or exist only in the editor.
import { z } from 'zod';
import { autoApproveRulesSchema, budgetsSchema, runConfigSchema, teamTemplatesSchema, type RunConfig, type RunConfigInput } from './runConfig';

/** The settings section; every key below is `softwareMaker.<key>`. */
export const SETTINGS_SECTION = 'softwareMaker';

const run = runConfigSchema.shape;
const DEFAULTS = runConfigSchema.parse({});

export const settingsSchema = z.strictObject({
  models: run.models.meta({
    order: 0,
    markdownDescription:
      'The models runs can use. Each has an `id` that `#softwareMaker.roles#` refers to; `provider` is `openai`, `anthropic`, `openai-compatible` (Ollama, LM Studio, vLLM, llama.cpp, DeepSeek, Groq, OpenRouter or any endpoint: `preset` fills in the base URL and key name), `vscode-lm` (a chat model VS Code already has, e.g. GitHub Copilot: `vendor`/`family`/`model` select it; VS Code asks you once to allow it) or `scripted`. Prices: each model may carry `prices` (USD per million tokens) that override the built-in table; a model with neither shows "unknown cost". API keys are never stored here: give a model an `apiKeyName` and store the key with **Software Maker: Set API Key**. **Software Maker: Configure Models** writes this setting for you.',
  }),
  roles: run.roles.meta({
    order: 1,
    markdownDescription:
      'Model chain per role: an ordered list of model ids from `#softwareMaker.models#`; the first is used, the next ones are fallbacks. Roles left out use the first configured model.',
  }),
  concurrency: run.concurrency.meta({ order: 2 }),
  maxFixAttempts: run.maxFixAttempts.meta({ order: 3 }),
  autoApprove: run.autoApprove.meta({ order: 4 }),
  autoApproveCommandChanges: run.autoApproveCommandChanges.meta({
    order: 4,
    // A user setting only: settings.ts reads nothing but its user (global) value.
    scope: 'application',
    markdownDescription:
      'Let `#softwareMaker.autoApprove#` and `#softwareMaker.autoApproveRules#` apply edits that change what will be executed, too: package.json scripts and `bin`, a new package.json, `.npmrc`/`.yarnrc`, git hooks (`.husky/`, lefthook, pre-commit), `.vscode/tasks.json`/`settings.json`/`launch.json`, `.envrc`, test runner configuration, the Makefile or script the test command runs. Off (the default): such edits are always shown for review, with the reason, and Accept asks once more. A user setting only: a workspace cannot turn it on.',
  }),
  requirePlanApproval: run.requirePlanApproval.meta({ order: 5, description: 'Stop after planning until you approve the plan in the panel.' }),
  // "" is "detect"; the config's testCommand is then absent.
  testCommand: z
    .string()
    .default('')
    .meta({
      order: 6,
      markdownDescription:
        "Shell command that runs the workspace's tests, e.g. `npm test`. Empty: detect it (package.json scripts, mocha/jest/vitest, pytest, go test, cargo test).",
    }),
  testTask: z
    .string()
    .default('')
    .meta({
      order: 6,
      markdownDescription:
        'Label of a task in `.vscode/tasks.json` that runs the tests (a `shell` or `process` task). When set, it wins over `#softwareMaker.testCommand#`: its command line runs in the Software Maker test terminal, so its output and exit code are captured. Tasks contributed by other extensions (custom executions) cannot be captured.',
    }),
  testTimeoutSeconds: z
    .number()
    .int()
    .min(1)
    .default(DEFAULTS.testTimeoutMs / 1000)
    .meta({ order: 7, description: 'Time limit of one test run, in seconds; the tests are stopped when it passes.' }),
  reviewGate: run.reviewGate.meta({ order: 8 }),
  runsDirectory: z
    .string()
    .default('')
    .meta({
      order: 9,
      scope: 'resource',
      markdownDescription:
        'Folder for run logs and artifacts; relative paths are relative to the workspace folder. Empty: `.software-maker/runs` in the workspace (with a `.gitignore`, so runs are never committed). Takes effect after a window reload.',
    }),
  budgets: budgetsSchema.default({ onExceed: 'pause' }).meta({
    order: 10,
    markdownDescription:
      'Hard spending caps, checked before every model call with a worst-case estimate (the whole prompt plus `maxOutputTokens`). `run` caps the whole run, `task` each task separately, `roles` each role. When a call would break a cap the run pauses (`onExceed: "pause"`: raise the cap and resume from the notification or the run\'s context menu) or stops (`"stop"`). Example: `{ "run": { "usd": 5 }, "task": { "tokens": 200000 }, "onExceed": "pause" }`.',
  }),
  timeouts: z
    .strictObject({
      firstTokenSeconds: z.number().min(0.1).optional().meta({ description: 'Seconds to wait for the first output of a streaming call.' }),
      totalSeconds: z.number().min(1).optional().meta({ description: 'Seconds one model call may take in all.' }),
    })
    .default({ firstTokenSeconds: DEFAULTS.timeouts.firstTokenMs / 1000, totalSeconds: DEFAULTS.timeouts.totalMs / 1000 })
    .meta({
      order: 11,
      markdownDescription:
        "Time limits of one model call. `firstTokenSeconds`: how long a streaming call may take to produce its first output; `totalSeconds`: how long one call may take in all. A call that times out before any output falls over to the next model of the role's chain.",
    }),
  loopThreshold: run.loopThreshold.meta({ order: 12 }),
  autoApproveRules: autoApproveRulesSchema.default({}).meta({
    order: 20,
    markdownDescription:
      'Proposals that are applied without review (off by default: `{}` reviews everything). A proposal is auto-approved when its task\'s role is in `roles`, or when every file it touches matches one of `globs` (workspace-relative, e.g. `"docs/**"`, `"**/*.md"`). `#softwareMaker.autoApprove#` approves everything.',
  }),
  checkpoints: run.checkpoints.meta({
    order: 21,
    markdownDescription:
      "Take a checkpoint of the workspace before each task's edits land, in a shadow git repository in the extension's storage (your own repository and index are never touched). **Software Maker: Roll Back…** restores one. Needs git on the PATH.",
  }),
  gitMode: run.gitMode.meta({
    order: 22,
    markdownDescription:
      "In a git workspace, work on a branch of the run's own (`software-maker/…`) and commit each task's files when it is done (your hooks run; nothing is pushed). Switching branches over uncommitted changes asks first.",
  }),
  'webTester.devServerCommand': z.string().default('').meta({
    order: 30,
    markdownDescription:
      'Shell command that starts the app under development for the `web_tester` role, e.g. `npm start`. It is shown and approved like any command before it runs, and stopped (its whole process group) when the flows are done. Empty: nothing is started, and the app must already answer at `#softwareMaker.webTester.url#`.',
  }),
  'webTester.url': z.string().default('').meta({
    order: 31,
    markdownDescription: 'Where the started app answers, e.g. `http://127.0.0.1:3000/`. The web tester waits until it does, and its flows may not leave its origin.',
  }),
  'webTester.readyTimeoutSeconds': z
    .number()
    .int()
    .min(1)
    .default(DEFAULTS.webTester.readyTimeoutMs / 1000)
    .meta({ order: 32, description: 'Seconds to wait for the web tester URL to answer after the dev server starts.' }),
  'webTester.browserPath': z.string().default('').meta({
    order: 33,
    // A user setting only: a workspace must not pick the program that runs.
    scope: 'application',
    markdownDescription:
      'The Chrome or Chromium executable the web tester drives (headless). Empty: an installed Google Chrome or Microsoft Edge, then `/usr/bin/chromium`, `/usr/bin/chromium-browser`, `/usr/bin/google-chrome` and the like. A browser is never downloaded. A user setting only.',
  }),
  'security.gate': run.security.unwrap().shape.gate.meta({
    order: 40,
    markdownDescription:
      "The security gate, after the tasks and before the final tests: the lines the run added are scanned for secrets (known key shapes and high-entropy strings; findings are always masked) and the package manager's audit runs when there is a lockfile. `warn` reports the findings (`security.md` in the run's folder, the panel, the terminal); `enforce` also sends those at or above `#softwareMaker.security.severity#` back to a security task, and fails the run while they remain after `#softwareMaker.security.maxRounds#` rounds.",
  }),
  'security.severity': run.security.unwrap().shape.severity.meta({ order: 41 }),
  'security.maxRounds': run.security.unwrap().shape.maxRounds.meta({ order: 42 }),
  'security.audit': run.security.unwrap().shape.audit.meta({ order: 43 }),
  'security.auditTimeoutSeconds': z
    .number()
    .int()
    .min(1)
    .default(DEFAULTS.security.auditTimeoutMs / 1000)
    .meta({ order: 44, description: 'Time limit of the dependency audit, in seconds; an audit that runs out of time is reported as not run, never as clean.' }),
  'security.auditRegistry': z.string().default('').meta({
    order: 45,
    markdownDescription: "Registry the audit asks (`--registry`), e.g. a mirror. Empty: the package manager's own configuration (`.npmrc`).",
  }),
  'mcp.servers': run.mcp.unwrap().shape.servers.meta({
    order: 50,
    markdownDescription:
      'MCP servers whose tools agents may call, by name: `{ "docs": { "type": "stdio", "command": "node", "args": ["server.js"] }, "issues": { "type": "http", "url": "http://127.0.0.1:3001/mcp" } }`. Their tools are offered as `mcp__<name>__<tool>` to the roles in `roles` (every role when absent); every call is approved like a command unless `#softwareMaker.mcp.allow#` names it. Servers start with each run and stop when it rests; a stdio server gets our environment without provider API keys, plus its `env`, plus `secretEnv` (variable → name of a secret stored with **Software Maker: Set API Key**). In a workspace\'s settings they are used only after you confirm them.',
  }),
  'mcp.allow': run.mcp.unwrap().shape.allow.meta({ order: 51 }),
  'mcp.connectTimeoutSeconds': z.number().min(1).default(DEFAULTS.mcp.connectTimeoutMs / 1000).meta({ order: 52, description: 'Seconds an MCP server may take to start and list its tools; a slower one is left out of the run (the reason is logged).' }),
  'mcp.callTimeoutSeconds': z.number().min(1).default(DEFAULTS.mcp.callTimeoutMs / 1000).meta({ order: 53, description: 'Seconds one MCP tool call may take; it is cancelled after that and the agent is told.' }),
  rulesFiles: run.rulesFiles.meta({ order: 54 }),
  templates: teamTemplatesSchema.default({}).meta({
    order: 60,
    markdownDescription:
      'Team templates of your own, by name, besides the built-in `solo`, `careful` and `fast` (a template of the same name replaces a built-in one): `{ "review-heavy": { "description": "…", "roles": { "reviewer": ["strong"] }, "concurrency": 2, "reviewGate": true, "maxFixAttempts": 3, "budgets": { "run": { "usd": 5 } } } }`. A template\'s values win over these settings for the runs started with it, and are snapshotted into the run: changing the template later changes no run.',
  }),
  template: z.string().default('').meta({
    order: 61,
    markdownDescription:
      'The team template new goals start with (a name from `#softwareMaker.templates#`, or `solo`, `careful`, `fast`). Empty: your settings as they are, and **New Goal** asks when you have templates of your own. **New Goal from Template…** always asks.',
  }),
  'commands.allow': run.commands.unwrap().shape.allow.meta({
    order: 70,
    markdownDescription:
      'Commands agents may run without asking (the `run_command` tool). Each entry matches the first words of the parsed command: `"npm test"` allows `npm test -- -g x`, not `npm testx` or `npm run test`. A compound command (`;`, `&&`, `|`, redirections, `$(…)`, backticks, `sh -c`) is always asked about, unless an entry spells out exactly that compound command. A deploy is never allowed by this list. In a workspace\'s settings it is used only after you confirm it.',
  }),
  'commands.deny': run.commands.unwrap().shape.deny.meta({
    order: 71,
    markdownDescription:
      'Commands that never run, not even when you would approve them: each entry matches the first words of any part of a command, also behind `sudo`, `env`, `timeout`…, inside `sh -c "…"` and `$(…)`. Deny wins over `#softwareMaker.commands.allow#`. A convenience, not a sandbox: the approval is the safety.',
  }),
  'commands.roles': run.commands.unwrap().shape.roles.meta({
    order: 72,
    markdownDescription:
      'Which roles get `run_command`, per role: `never` (not offered), `ask` (allow-listed commands run, the rest is shown to you to approve) or `allowListed` (only allow-listed commands run; the rest is refused without asking). Roles left out: `implementer`, `tester`, `fixer` and `deployer` ask, the others never.',
  }),
  'commands.timeoutSeconds': z
    .number()
    .int()
    .min(1)
    .max(86_400)
    .default(DEFAULTS.commands.timeoutMs / 1000)
    .meta({ order: 73, description: 'Time limit of one command an agent runs, in seconds; the command and everything it started are killed when it passes. An agent may ask for less, never more.' }),
  'commands.outputLimit': run.commands.unwrap().shape.outputLimit.meta({
    order: 74,
    description: "Bytes of a command's output the agent gets back and the log keeps: the head and the tail, with a marker where the middle was cut.",
  }),
  'deploy.command': z.string().default('').meta({
    order: 75,
    markdownDescription:
      'Shell command the `deployer` role runs after writing its runbook (`runbook.md` in the run\'s folder), e.g. `npm run deploy`. It runs only after you approve it in a dialog that shows it verbatim: never by a rule, `#softwareMaker.autoApprove#` or the CLI\'s `--yes`. Empty (and no `#softwareMaker.deploy.task#`): nothing is deployed. In a workspace\'s settings it is used only after you confirm it.',
  }),
  'deploy.task': z.string().default('').meta({
    order: 76,
    markdownDescription: 'Label of a `.vscode/tasks.json` task that deploys (a `shell` or `process` task); wins over `#softwareMaker.deploy.command#`. Its command line is shown verbatim for approval.',
  }),
  'deploy.timeoutSeconds': z
    .number()
    .int()
    .min(1)
    .max(86_400)
    .default(DEFAULTS.deploy.timeoutMs / 1000)
    .meta({ order: 77, description: 'Time limit of the deploy, in seconds.' }),
});

export type SettingKey = keyof typeof settingsSchema.shape;
export const SETTING_KEYS = Object.keys(settingsSchema.shape) as SettingKey[];

/**
 * Settings VS Code ignores in an untrusted workspace (`capabilities.untrustedWorkspaces`): what a
 * repository could set to send a key somewhere, run something, or apply edits unreviewed.
 */
export const RESTRICTED_IN_UNTRUSTED_WORKSPACES: readonly SettingKey[] = ['models', 'roles', 'testCommand', 'autoApprove', 'autoApproveCommandChanges', 'runsDirectory', 'webTester.devServerCommand', 'webTester.browserPath', 'security.auditRegistry', 'mcp.servers', 'mcp.allow', 'templates', 'commands.allow', 'commands.roles', 'deploy.command', 'deploy.task'];

/** The JSON type a setting's value has; a value of another type is treated as unset (see readSettingValues). */
export type SettingJsonType = 'string' | 'number' | 'boolean' | 'array' | 'object';

/** The JSON type of a setting, read off its schema (defaults and optionals unwrapped). */
export function settingJsonType(key: SettingKey): SettingJsonType {
  let schema: z.core.$ZodType = settingsSchema.shape[key];
  while (schema._zod.def.type === 'default' || schema._zod.def.type === 'optional') {
    schema = (schema._zod.def as z.core.$ZodDefaultDef | z.core.$ZodOptionalDef).innerType;
  }
  const type = schema._zod.def.type;
  // Every enum of the settings is of strings (security.gate, security.severity).
  if (type === 'enum') return 'string';
  if (type === 'string' || type === 'number' || type === 'boolean' || type === 'array' || type === 'object') return type;
  if (type === 'record') return 'object';
  throw new Error(`Setting ${key} has a schema of type ${type}, which settings cannot hold.`);
}

/** Where VS Code keeps a setting: `application` ones only in the user's settings. */
export function settingScope(key: SettingKey): 'application' | 'resource' | undefined {
  const scope: unknown = settingsSchema.shape[key].meta()?.scope;
  return scope === 'application' || scope === 'resource' ? scope : undefined;
}

/** Setting values as read from the editor: of the right JSON type, otherwise unchecked. */
export type SettingValues = Partial<Record<SettingKey, unknown>>;

/**
 * Reads every setting through `read` (a VS Code configuration, or one scope of it), keeping only
 * values of the setting's JSON type: the Settings UI warns about the others, and they read as unset.
 */
export function readSettingValues(read: (key: SettingKey, scope: 'application' | 'resource' | undefined) => unknown): SettingValues {
  const values: SettingValues = {};
  for (const key of SETTING_KEYS) {
    const value = read(key, settingScope(key));
    if (value !== undefined && jsonTypeOf(value) === settingJsonType(key)) values[key] = value;
  }
  return values;
}

function jsonTypeOf(value: unknown): SettingJsonType | undefined {
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isFinite(value) ? 'number' : undefined;
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'object' && value !== null) return 'object';
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The run-config part of the settings: names and units mapped, nothing judged. resolveRunConfig
 * (core/config) validates the result with runConfigSchema and names the field that is wrong, so
 * the values are passed on as they are (cast only).
 */
export function runConfigFromSettings(values: SettingValues): Partial<RunConfig> {
  const trimmed = (value: unknown): string | undefined => (typeof value === 'string' && value.trim() ? value.trim() : undefined);
  const seconds = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? Math.round(value * 1000) : undefined);
  const config: RunConfigInput = {
    models: values.models as RunConfigInput['models'],
    roles: values.roles as RunConfigInput['roles'],
    concurrency: values.concurrency as number | undefined,
    maxFixAttempts: values.maxFixAttempts as number | undefined,
    autoApprove: values.autoApprove as boolean | undefined,
    requirePlanApproval: values.requirePlanApproval as boolean | undefined,
    // "" is the documented "detect the test command" value.
    testCommand: trimmed(values.testCommand),
    // A tasks.json label; "" means none.
    testTaskLabel: trimmed(values.testTask),
    testTimeoutMs: seconds(values.testTimeoutSeconds),
    reviewGate: values.reviewGate as boolean | undefined,
    autoApproveRules: autoApproveRulesFromSetting(values.autoApproveRules),
    autoApproveCommandChanges: values.autoApproveCommandChanges as boolean | undefined,
    checkpoints: values.checkpoints as boolean | undefined,
    gitMode: values.gitMode as boolean | undefined,
    budgets: budgetsFromSetting(values.budgets),
    timeouts: timeoutsFromSetting(values.timeouts),
    loopThreshold: values.loopThreshold as number | undefined,
    webTester: definedOnly({
      devServerCommand: trimmed(values['webTester.devServerCommand']),
      url: trimmed(values['webTester.url']),
      readyTimeoutMs: seconds(values['webTester.readyTimeoutSeconds']),
      browserPath: trimmed(values['webTester.browserPath']),
    }) as RunConfigInput['webTester'],
    security: definedOnly({
      gate: values['security.gate'] as RunConfig['security']['gate'] | undefined,
      severity: values['security.severity'] as RunConfig['security']['severity'] | undefined,
      maxRounds: values['security.maxRounds'] as number | undefined,
      audit: values['security.audit'] as boolean | undefined,
      auditTimeoutMs: seconds(values['security.auditTimeoutSeconds']),
      auditRegistry: trimmed(values['security.auditRegistry']),
    }) as RunConfigInput['security'],
    mcp: definedOrUndefined({
      servers: values['mcp.servers'] as NonNullable<RunConfigInput['mcp']>['servers'],
      allow: values['mcp.allow'] as string[] | undefined,
      connectTimeoutMs: seconds(values['mcp.connectTimeoutSeconds']),
      callTimeoutMs: seconds(values['mcp.callTimeoutSeconds']),
    }),
    rulesFiles: values.rulesFiles as boolean | undefined,
    commands: definedOrUndefined({
      allow: values['commands.allow'] as string[] | undefined,
      deny: values['commands.deny'] as string[] | undefined,
      roles: values['commands.roles'] as NonNullable<RunConfigInput['commands']>['roles'],
      timeoutMs: seconds(values['commands.timeoutSeconds']),
      outputLimit: values['commands.outputLimit'] as number | undefined,
    }),
    deploy: definedOrUndefined({
      command: trimmed(values['deploy.command']),
      taskLabel: trimmed(values['deploy.task']),
      timeoutMs: seconds(values['deploy.timeoutSeconds']),
    }),
  };
  return config as Partial<RunConfig>;
}

/** The object when any of its fields is set, else undefined (unset settings leave the config's defaults). */
function definedOrUndefined<T extends object>(value: T): T | undefined {
  return Object.values(value).some((field) => field !== undefined) ? value : undefined;
}

/** The object without its undefined fields; undefined when none is left (nothing of it was set). */
function definedOnly<T extends Record<string, unknown>>(value: T): Partial<T> | undefined {
  const entries = Object.entries(value).filter(([, field]) => field !== undefined);
  return entries.length ? (Object.fromEntries(entries) as Partial<T>) : undefined;
}

/** `softwareMaker.budgets` → RunConfig.budgets; undefined when the setting is absent or not an object. */
export function budgetsFromSetting(value: unknown): RunConfig['budgets'] | undefined {
  if (!isRecord(value)) return undefined;
  const budgets: Record<string, unknown> = { ...value };
  // The default action when only caps are set; an explicit value passes through (zod checks it).
  budgets.onExceed ??= DEFAULTS.budgets.onExceed;
  // Empty caps ({} from a half-edited setting) mean "no cap", not an error.
  for (const scope of ['run', 'task'] as const) if (isRecord(budgets[scope]) && Object.keys(budgets[scope]).length === 0) delete budgets[scope];
  if (isRecord(budgets.roles)) {
    const roles = Object.fromEntries(Object.entries(budgets.roles).filter(([, cap]) => !(isRecord(cap) && Object.keys(cap).length === 0)));
    if (Object.keys(roles).length === 0) delete budgets.roles;
    else budgets.roles = roles;
  }
  return budgets as RunConfig['budgets'];
}

/** `softwareMaker.timeouts` ({firstTokenSeconds, totalSeconds}) → RunConfig.timeouts in ms, the defaults filling a missing half. */
export function timeoutsFromSetting(value: unknown): RunConfig['timeouts'] | undefined {
  if (!isRecord(value)) return undefined;
  const seconds = (key: string): number | undefined => (typeof value[key] === 'number' && Number.isFinite(value[key]) ? Math.round(value[key] * 1000) : undefined);
  const firstTokenMs = seconds('firstTokenSeconds');
  const totalMs = seconds('totalSeconds');
  if (firstTokenMs === undefined && totalMs === undefined) return undefined;
  return { firstTokenMs: firstTokenMs ?? DEFAULTS.timeouts.firstTokenMs, totalMs: totalMs ?? DEFAULTS.timeouts.totalMs };
}

/** `softwareMaker.autoApproveRules`: undefined (no rules) when unset or when it names no role and no glob. */
function autoApproveRulesFromSetting(value: unknown): RunConfig['autoApproveRules'] {
  if (!isRecord(value)) return undefined;
  const roles = Array.isArray(value.roles) && value.roles.length > 0 ? value.roles : undefined;
  const globs = Array.isArray(value.globs) && value.globs.length > 0 ? value.globs : undefined;
  if (!roles && !globs) return undefined;
  // Other keys are passed on so resolveRunConfig (strict) names them instead of ignoring a typo.
  return { ...value, roles, globs } as RunConfig['autoApproveRules'];
}
