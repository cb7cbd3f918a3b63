// The run configuration, written once: these zod schemas check every config (VS Code settings, the
// CLI's config files, a run's snapshot), the TypeScript types are inferred from them, and
// package.json's settings are generated from them (scripts/gen-config.ts, via settingsSchema.ts).
// The descriptions in `.meta` are what the Settings UI shows. Pure: the webview imports the types
// from model.ts with `import type`, so this file (and zod) never reaches its bundle through them.
import { z } from 'zod';
import { OPENAI_COMPATIBLE_PRESETS, ROLES, type OpenAICompatiblePreset, type Role } from './model';

/** A strict object with one optional field per role, in ROLES order (each described for its role). */
function perRole<T extends z.ZodType>(field: (role: Role) => T): z.ZodObject<{ [R in Role]: z.ZodOptional<T> }, z.core.$strict> {
  const shape = Object.fromEntries(ROLES.map((role) => [role, field(role).optional()])) as { [R in Role]: z.ZodOptional<T> };
  return z.strictObject(shape);
}

/** No two equal entries: a repeated role or glob is a typo, not a second rule. */
function distinct<T extends z.ZodType>(item: T) {
  return z
    .array(item)
    .refine((items) => new Set(items).size === items.length, { message: 'Each entry may appear only once.' })
    .meta({ uniqueItems: true });
}

// ---- models -------------------------------------------------------------------------------------

export const modelPriceSchema = z
  .strictObject({
    inputPerMTok: z.number().min(0).meta({ description: 'USD per million input tokens.' }),
    outputPerMTok: z.number().min(0).meta({ description: 'USD per million output tokens.' }),
    cachedInputPerMTok: z
      .number()
      .min(0)
      .optional()
      .meta({ description: 'USD per million input tokens read from the prompt cache; the input price when absent.' }),
  })
  .meta({
    description:
      'USD per million tokens. Overrides the built-in price table; without it (and without a table entry) the model\'s cost shows as "unknown cost" and USD budgets cannot count it.',
  });

const modelIdField = z
  .string()
  .min(1)
  .regex(/^\S+$/, 'A model id has no spaces.')
  .meta({ patternErrorMessage: 'A model id has no spaces.', description: 'The id roles refer to in softwareMaker.roles.' });

/** Settings every model spec may carry (after the provider's own). */
const commonSpecFields = {
  contextWindow: z.number().int().min(1).optional().meta({ description: 'Tokens the model accepts in one prompt.' }),
  maxOutputTokens: z
    .number()
    .int()
    .min(1)
    .optional()
    .meta({ description: 'Cap on output tokens per call; also the worst case the budget check assumes for a call.' }),
  prices: modelPriceSchema.optional(),
  images: z.boolean().optional().meta({ description: 'The model takes images: images pasted into the chat are sent to it (a message with images is refused for roles whose models do not).' }),
};

const KEY_NAME_IS_NOT_A_KEY = 'This is the NAME of a secret (letters, digits, _ . -), not the key itself: store the key with "Software Maker: Set API Key".';

function apiKeyNameField(defaultName: string | undefined) {
  return z
    .string()
    .min(1)
    .regex(/^[A-Za-z0-9_.-]+$/, KEY_NAME_IS_NOT_A_KEY)
    .optional()
    .meta({
      patternErrorMessage: KEY_NAME_IS_NOT_A_KEY,
      description: `Name of the secret that holds the API key (${defaultName ? `default ${defaultName}; ` : ''}set it with "Software Maker: Set API Key"; never put the key itself in settings).`,
    });
}

function baseUrlField(description: string) {
  return z
    .url({ protocol: /^https?$/, error: 'An http:// or https:// URL.' })
    .optional()
    .meta({ pattern: '^https?://', patternErrorMessage: 'An http:// or https:// URL.', description });
}

const modelNameField = (description: string) => z.string().min(1).meta({ description });

/** What each preset supplies, for the Settings UI (the values themselves are in core/models/providers.ts). */
const PRESET_DESCRIPTIONS: Record<OpenAICompatiblePreset, string> = {
  ollama: 'Ollama on http://127.0.0.1:11434/v1, no key',
  lmstudio: 'LM Studio on http://127.0.0.1:1234/v1, no key',
  vllm: 'vLLM on http://127.0.0.1:8000/v1, no key',
  llamacpp: 'llama.cpp server on http://127.0.0.1:8080/v1, no key',
  deepseek: 'DeepSeek, key DEEPSEEK_API_KEY',
  groq: 'Groq, key GROQ_API_KEY',
  openrouter: 'OpenRouter, key OPENROUTER_API_KEY',
};

/** How one model id is reached. */
export const modelSpecSchema = z.discriminatedUnion('provider', [
  z
    .strictObject({
      id: modelIdField,
      provider: z.literal('openai'),
      model: modelNameField('Model name sent to the API, e.g. "gpt-5.4-mini".'),
      apiKeyName: apiKeyNameField('OPENAI_API_KEY'),
      baseURL: baseUrlField('Base URL of an OpenAI-compatible proxy; default https://api.openai.com/v1.'),
      api: z
        .enum(['responses', 'chat'])
        .optional()
        .meta({
          enumDescriptions: ['The Responses API (default).', 'Chat completions, for proxies and older deployments.'],
          description: 'Which OpenAI endpoint to call.',
        }),
      ...commonSpecFields,
    })
    .meta({ title: 'OpenAI' }),
  z
    .strictObject({
      id: modelIdField,
      provider: z.literal('anthropic'),
      model: modelNameField('Model name sent to the API, e.g. "claude-sonnet-4-5".'),
      apiKeyName: apiKeyNameField('ANTHROPIC_API_KEY'),
      baseURL: baseUrlField('Base URL of a proxy; default https://api.anthropic.com/v1.'),
      ...commonSpecFields,
    })
    .meta({ title: 'Anthropic' }),
  z
    .strictObject({
      id: modelIdField,
      provider: z.literal('openai-compatible'),
      model: modelNameField('Model name sent to the endpoint, e.g. "qwen2.5-coder:7b".'),
      preset: z
        .enum(OPENAI_COMPATIBLE_PRESETS)
        .optional()
        .meta({
          enumDescriptions: OPENAI_COMPATIBLE_PRESETS.map((preset) => PRESET_DESCRIPTIONS[preset]),
          description: 'A well-known endpoint: supplies the base URL and key name (your own values win).',
        }),
      baseURL: baseUrlField('Endpoint base URL, e.g. "http://localhost:11434/v1". Required unless a preset supplies it.'),
      apiKeyName: apiKeyNameField(undefined),
      ...commonSpecFields,
    })
    .refine((spec) => spec.baseURL !== undefined || spec.preset !== undefined, {
      message: `an openai-compatible model needs a baseURL, or a preset (${OPENAI_COMPATIBLE_PRESETS.join(', ')}) that supplies one`,
      path: ['baseURL'],
    })
    // The refinement above, as JSON Schema says it.
    .meta({ title: 'OpenAI-compatible endpoint (Ollama, LM Studio, vLLM, llama.cpp, DeepSeek, Groq, OpenRouter, ...)', anyOf: [{ required: ['baseURL'] }, { required: ['preset'] }] }),
  z
    .strictObject({
      id: modelIdField,
      provider: z.literal('vscode-lm'),
      vendor: z.string().min(1).optional().meta({ description: 'Vendor of the chat model, e.g. "copilot".' }),
      family: z.string().min(1).optional().meta({ description: 'Family of the chat model, e.g. "gpt-4o" or "claude-sonnet-4".' }),
      model: z.string().min(1).optional().meta({ description: 'Id of one chat model (as "Software Maker: Configure Models" lists them).' }),
      ...commonSpecFields,
    })
    .meta({ title: 'VS Code chat model (GitHub Copilot and other installed chat models)' }),
  z
    .strictObject({
      id: modelIdField,
      provider: z.literal('scripted'),
      transcript: z.string().min(1).meta({ description: 'Transcript file, absolute or relative to the workspace.' }),
      ...commonSpecFields,
    })
    .meta({ title: 'Scripted model (tests, demos, replays)' }),
]);

/** Model chain per role: an ordered list of model ids (the first is used; the router falls over). */
export const roleModelsSchema = perRole((role) =>
  z
    .array(z.string().min(1))
    .min(1)
    .meta({ description: `Model ids for the ${role} role, in order of preference.` }),
);

// ---- budgets ------------------------------------------------------------------------------------

/** A spending cap; an absent field is no cap. */
export const capSchema = z.strictObject({
  usd: z
    .number()
    .positive()
    .optional()
    .meta({
      markdownDescription:
        'Most USD to spend. A model without a known price (see `prices` in softwareMaker.models) cannot run under a USD cap: its call pauses the run, since its cost cannot be bounded.',
    }),
  tokens: z.number().int().min(1).optional().meta({ description: 'Most tokens (input + output) to use.' }),
});

/** Hard spending caps, checked before every model call with a worst-case estimate. */
export const budgetsSchema = z.strictObject({
  run: capSchema.optional().meta({ description: 'Caps for the whole run.' }),
  task: capSchema.optional().meta({ description: 'Caps for each task of the plan, separately.' }),
  roles: perRole((role) => capSchema.meta({ description: `Caps for the ${role} role.` }))
    .optional()
    .meta({ description: 'Caps per role, over the whole run.' }),
  onExceed: z
    .enum(['pause', 'stop'])
    .default('pause')
    .meta({
      enumDescriptions: ['Pause the run; raise the cap and resume it.', 'Stop the run (status stopped_budget).'],
      description: 'What a breached cap does.',
    }),
});

// ---- the run ------------------------------------------------------------------------------------

/** Which proposals skip the review: by the role that made them, or when every file matches a glob. */
export const autoApproveRulesSchema = z.strictObject({
  roles: distinct(z.enum(ROLES)).optional().meta({ description: 'Roles whose proposals are applied without review, e.g. ["docs"].' }),
  globs: distinct(z.string().min(1))
    .optional()
    .meta({ description: 'Workspace-relative globs; a proposal whose files all match is applied without review, e.g. ["docs/**", "**/*.md"].' }),
});

/** How the web tester reaches the app under development and a browser (core/web). */
export const webTesterSchema = z
  .strictObject({
    devServerCommand: z
      .string()
      .min(1)
      .optional()
      .meta({ description: 'Shell command that starts the app under development (e.g. "npm start"); it is approved like any command before it runs.' }),
    url: z
      .url({ protocol: /^https?$/, error: 'An http:// or https:// URL.' })
      .optional()
      .meta({ pattern: '^https?://', patternErrorMessage: 'An http:// or https:// URL.', description: 'Where the started app answers, e.g. "http://127.0.0.1:3000/". Flows may not leave its origin.' }),
    readyTimeoutMs: z.number().int().min(1000).default(60_000).meta({ description: 'Milliseconds to wait for the URL to answer after the dev server starts.' }),
    browserPath: z
      .string()
      .min(1)
      .optional()
      .meta({ description: 'Chrome or Chromium executable; absent: an installed Chrome/Edge, then well-known Chromium paths. A browser is never downloaded.' }),
  })
  .meta({ description: 'The web tester role: the dev server it starts, the URL it tests and the browser it drives.' });

/** The security gate after the tasks: secrets in the run's added lines, and the package manager's audit. */
export const securitySchema = z
  .strictObject({
    gate: z
      .enum(['off', 'warn', 'enforce'])
      .default('off')
      .meta({
        enumDescriptions: [
          'No security gate.',
          'Scan and audit after the tasks and report the findings (security.md); nothing loops back.',
          'As warn, and findings at or above the severity loop back to a security task; the run fails while they remain.',
        ],
        description: "Scan the run's changes for secrets and audit the dependencies after the tasks, before the final tests.",
      }),
    severity: z
      .enum(['low', 'moderate', 'high', 'critical'])
      .default('high')
      .meta({ description: 'Findings at or above this severity loop back (enforce); the ones below are only reported.' }),
    maxRounds: z.number().int().min(1).max(5).default(2).meta({ description: 'How many security fix tasks the gate may add before the run fails with the findings still there.' }),
    audit: z.boolean().default(true).meta({ description: 'Run the package manager\'s audit (npm/pnpm/yarn, by lockfile) as part of the gate.' }),
    auditTimeoutMs: z.number().int().min(1000).default(120_000).meta({ description: 'Time limit of the audit, in milliseconds.' }),
    auditRegistry: z
      .url({ protocol: /^https?$/, error: 'An http:// or https:// URL.' })
      .optional()
      .meta({ pattern: '^https?://', patternErrorMessage: 'An http:// or https:// URL.', description: "Registry the audit asks (--registry); absent: the package manager's own configuration." }),
  })
  .meta({ description: 'The security gate: secret scanning of the run\'s changes and the dependency audit.' });

/** How a role may use run_command: not at all, only what commands.allow names, or ask about the rest. */
export const ROLE_COMMAND_POLICIES = ['never', 'ask', 'allowListed'] as const;
export type RoleCommandPolicy = (typeof ROLE_COMMAND_POLICIES)[number];

/** The roles that get run_command when commands.roles does not name them (the rest: never). */
export const DEFAULT_COMMAND_ROLES: Partial<Record<Role, RoleCommandPolicy>> = { implementer: 'ask', tester: 'ask', fixer: 'ask', deployer: 'ask' };

/** The run_command tool's rules (core/commands/policy.ts). */
export const commandsSchema = z
  .strictObject({
    allow: distinct(z.string().trim().min(1)).default([]).meta({
      description:
        'Commands that run without asking: each entry matches the first words of the parsed command ("npm test" allows "npm test -- -g x", not "npm run test"). A compound command (;, &&, |, redirections, $(…)) only matches an entry that spells out the same compound command.',
    }),
    deny: distinct(z.string().trim().min(1)).default([]).meta({
      description: 'Commands that never run, not even when approved: each entry matches the first words of any part of a command (also after sudo, env, timeout…). Deny wins over allow.',
    }),
    roles: perRole((role) =>
      z.enum(ROLE_COMMAND_POLICIES).meta({
        enumDescriptions: ['Never offered run_command.', 'Allow-listed commands run, others are asked about.', 'Only allow-listed commands run; others are refused without asking.'],
        description: `run_command for the ${role} role${DEFAULT_COMMAND_ROLES[role] ? ` (default ${DEFAULT_COMMAND_ROLES[role]})` : ' (default never)'}.`,
      }),
    )
      .default({})
      .meta({ description: 'Per role: never, ask or allowListed. Roles left out: implementer, tester, fixer and deployer ask; the others never.' }),
    timeoutMs: z.number().int().min(1000).max(24 * 3_600_000).default(5 * 60_000).meta({ description: 'Time limit of one command in milliseconds; its whole process group is killed when it passes.' }),
    outputLimit: z.number().int().min(1024).max(1024 * 1024).default(16 * 1024).meta({ description: 'Bytes of a command\'s output fed back to the agent and logged (head and tail, the middle dropped).' }),
  })
  .meta({ description: 'The run_command tool: allow and deny lists, per-role policy, time and output limits.' });

/** The deployer role's command: one of the two, run only after the user approves it (never by a rule or --yes). */
export const deploySchema = z
  .strictObject({
    command: z.string().trim().min(1).optional().meta({ description: 'Shell command that deploys, e.g. "npm run deploy".' }),
    taskLabel: z.string().trim().min(1).optional().meta({ description: 'A tasks.json task (by label) that deploys; wins over command.' }),
    timeoutMs: z.number().int().min(1000).max(24 * 3_600_000).default(30 * 60_000).meta({ description: 'Time limit of the deploy in milliseconds.' }),
  })
  .meta({ description: 'How the deployer role deploys: always after an explicit approval, never by default.' });

// ---- MCP servers --------------------------------------------------------------------------------

const stringMap = (description: string) => z.record(z.string().min(1), z.string()).optional().meta({ description });
const secretMap = (what: string) =>
  z
    .record(z.string().min(1), z.string().regex(/^[A-Za-z0-9_.-]+$/, KEY_NAME_IS_NOT_A_KEY))
    .optional()
    .meta({ description: `${what} → the NAME of a secret holding its value (stored with "Software Maker: Set API Key"; the CLI reads the environment variable of that name).` });

const mcpServerCommon = {
  roles: distinct(z.enum(ROLES)).optional().meta({ description: "Roles offered this server's tools; absent: every role." }),
  tools: distinct(z.string().min(1)).optional().meta({ description: "Only these tools of the server are offered (by their MCP names); absent: all of them." }),
};

/** One MCP server the user configured: a program spoken to over stdio, or a streamable HTTP endpoint. */
export const mcpServerSchema = z.discriminatedUnion('type', [
  z
    .strictObject({
      type: z.literal('stdio'),
      command: z.string().min(1).meta({ description: 'The program that runs the server, e.g. "npx" or "node".' }),
      args: z.array(z.string()).optional().meta({ description: 'Its arguments.' }),
      cwd: z.string().min(1).optional().meta({ description: 'Working folder, relative to the workspace; default the workspace folder.' }),
      env: stringMap('Environment variables for the server (on top of ours, which never include provider API keys).'),
      secretEnv: secretMap('Environment variable'),
      ...mcpServerCommon,
    })
    .meta({ title: 'MCP server started as a process (stdio)' }),
  z
    .strictObject({
      type: z.literal('http'),
      url: z.url({ protocol: /^https?$/, error: 'An http:// or https:// URL.' }).meta({ pattern: '^https?://', patternErrorMessage: 'An http:// or https:// URL.', description: 'The server\'s streamable HTTP endpoint, e.g. "http://127.0.0.1:3001/mcp".' }),
      headers: stringMap('HTTP headers sent with every request (not secrets: use secretHeaders).'),
      secretHeaders: secretMap('HTTP header'),
      ...mcpServerCommon,
    })
    .meta({ title: 'MCP server over streamable HTTP' }),
]);

export const mcpConfigSchema = z
  .strictObject({
    servers: z
      .record(z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'A server name is 1-32 letters, digits, _ or -.'), mcpServerSchema)
      .default({})
      .meta({ description: 'MCP servers by name; their tools are offered to agents as mcp__<name>__<tool>.' }),
    allow: distinct(z.string().trim().min(3).regex(/^[^/]+\/.+$/, 'An entry is server/tool; * matches any characters, e.g. "docs/*".'))
      .default([])
      .meta({ description: 'MCP tool calls that run without asking, as server/tool with * for any characters (e.g. "docs/search", "github/get_*"). Every other call is asked about, and refused when nobody can be asked.' }),
    connectTimeoutMs: z.number().int().min(1000).max(600_000).default(30_000).meta({ description: 'Milliseconds a server may take to start and list its tools; a slower one is left out of the run, with the reason logged.' }),
    callTimeoutMs: z.number().int().min(1000).max(3_600_000).default(120_000).meta({ description: 'Milliseconds one tool call may take; it is cancelled after that and the agent is told.' }),
  })
  .meta({ description: 'MCP servers whose tools agents may call, each call approved like a command.' });

/** The run configuration; every field but the models has a default, so `{}` parses to the defaults. */
export const runConfigSchema = z.strictObject({
  models: z.array(modelSpecSchema).default([]).meta({ description: 'The models runs can use; roles refer to them by id.' }),
  roles: roleModelsSchema.default({}).meta({ description: 'Model chain per role; roles left out use the first configured model.' }),
  concurrency: z
    .number()
    .int()
    .min(1)
    .max(32)
    .default(3)
    .meta({ description: 'How many tasks of a plan may run at once (tasks touching the same files never run together).' }),
  maxFixAttempts: z
    .number()
    .int()
    .min(0)
    .max(20)
    .default(2)
    .meta({ description: "Fix attempts after a task's first try fails its tests, before it goes to the dead-letter list." }),
  maxAgentSteps: z.number().int().min(1).max(200).default(25).meta({ description: 'Tool-loop steps one agent turn may take.' }),
  autoApprove: z.boolean().default(false).meta({ description: 'Apply proposed edits without showing them for review first.' }),
  requirePlanApproval: z.boolean().default(false).meta({ description: 'Stop after planning until the user approves the plan.' }),
  testCommand: z
    .string()
    .min(1)
    .optional()
    .meta({ description: 'Shell command that runs the workspace\'s tests; absent: detect it; "none": run without a test gate.' }),
  testTaskLabel: z
    .string()
    .min(1)
    .optional()
    .meta({ description: 'A tasks.json task (by label) that runs the tests; the editor runs it and its output is parsed. Wins over testCommand.' }),
  testTimeoutMs: z.number().int().min(1000).default(10 * 60_000).meta({ description: 'Time limit of one test run, in milliseconds.' }),
  reviewGate: z.boolean().default(true).meta({ description: 'Have the reviewer role check each task after its tests pass.' }),
  budgets: budgetsSchema.default({ onExceed: 'pause' }),
  timeouts: z
    .strictObject({
      firstTokenMs: z.number().int().min(100).default(60_000).meta({ description: 'Milliseconds to wait for the first output of a streaming call.' }),
      totalMs: z.number().int().min(1000).default(10 * 60_000).meta({ description: 'Milliseconds one model call may take in all.' }),
    })
    .default({ firstTokenMs: 60_000, totalMs: 10 * 60_000 })
    .meta({ description: 'Per-call model timeouts; a timeout before any output falls over to the next model.' }),
  loopThreshold: z
    .number()
    .int()
    .min(2)
    .max(20)
    .default(3)
    .meta({
      description:
        'The same tool call with the same arguments, or the same test failure, this many times in a row stops the task (it goes to the dead-letter list instead of looping).',
    }),
  autoApproveRules: autoApproveRulesSchema.optional(),
  autoApproveCommandChanges: z.boolean().default(false).meta({
    description:
      'Let auto-approval (autoApprove, autoApproveRules, the CLI\'s --yes) through for edits that change what will be executed (package scripts, git hooks, editor tasks…; core/edits/executionRisk.ts). Off: such edits always go to a human, or are rejected when nobody can be asked.',
  }),
  checkpoints: z.boolean().default(true).meta({ description: "Take a checkpoint of the workspace before each task's edits land (rollback to any task boundary)." }),
  gitMode: z.boolean().default(false).meta({ description: 'Work on a branch of its own and commit per task (git workspaces only).' }),
  relatedTestsFirst: z.boolean().default(true).meta({ description: "Run the tests related to a task's files first, the whole suite only when they pass." }),
  webTester: webTesterSchema.default({ readyTimeoutMs: 60_000 }),
  commands: commandsSchema.default({ allow: [], deny: [], roles: {}, timeoutMs: 5 * 60_000, outputLimit: 16 * 1024 }),
  deploy: deploySchema.default({ timeoutMs: 30 * 60_000 }),
  mcp: mcpConfigSchema.default({ servers: {}, allow: [], connectTimeoutMs: 30_000, callTimeoutMs: 120_000 }),
  security: securitySchema.default({ gate: 'off', severity: 'high', maxRounds: 2, audit: true, auditTimeoutMs: 120_000 }),
  rulesFiles: z.boolean().default(true).meta({ description: "Add the repository's AGENTS.md, CLAUDE.md and .github/copilot-instructions.md (16,000 characters in all) to every role's system prompt, quoted as the repository's text." }),
  template: z
    .strictObject({ name: z.string().min(1), description: z.string().optional() })
    .optional()
    .meta({ description: 'The team template the run was started with (its values are already in this config).' }),
});

// ---- team templates -----------------------------------------------------------------------------

const runFields = runConfigSchema.shape;

/** A named team preset: what it sets wins over the settings when a run starts with it, and is snapshotted into the run. */
export const teamTemplateSchema = z
  .strictObject({
    description: z.string().max(300).optional().meta({ description: 'One line shown when picking the template.' }),
    roles: roleModelsSchema.optional().meta({ description: 'Model chain per role (model ids from the models setting).' }),
    concurrency: runFields.concurrency.unwrap().optional(),
    maxFixAttempts: runFields.maxFixAttempts.unwrap().optional(),
    maxAgentSteps: runFields.maxAgentSteps.unwrap().optional(),
    reviewGate: runFields.reviewGate.unwrap().optional().meta({ description: 'Have the reviewer check each task.' }),
    requirePlanApproval: runFields.requirePlanApproval.unwrap().optional().meta({ description: 'Stop after planning until the plan is approved.' }),
    relatedTestsFirst: runFields.relatedTestsFirst.unwrap().optional(),
    budgets: budgetsSchema.optional().meta({ description: 'Spending caps (replace the settings\' caps as a whole).' }),
    autoApprove: runFields.autoApprove.unwrap().optional().meta({ description: 'Apply proposed edits without review.' }),
    autoApproveRules: autoApproveRulesSchema.optional(),
  })
  .meta({ description: 'A team preset: models per role, gates, budgets, concurrency, auto-approval.' });

export const teamTemplatesSchema = z
  .record(z.string().regex(/^[A-Za-z0-9_.-]{1,40}$/, 'A template name is 1-40 letters, digits, _ . or -.'), teamTemplateSchema)
  .meta({ description: 'Team templates by name, besides the built-in solo, careful and fast.' });

/** Immutable snapshot of everything a run was started with. */
export type RunConfig = z.output<typeof runConfigSchema>;
/** What a config file or the settings may say: every field optional (the defaults fill the rest). */
export type RunConfigInput = z.input<typeof runConfigSchema>;
export type ModelSpec = z.output<typeof modelSpecSchema>;
export type ScriptedModelSpec = Extract<ModelSpec, { provider: 'scripted' }>;
export type OpenAIModelSpec = Extract<ModelSpec, { provider: 'openai' }>;
export type AnthropicModelSpec = Extract<ModelSpec, { provider: 'anthropic' }>;
export type OpenAICompatibleModelSpec = Extract<ModelSpec, { provider: 'openai-compatible' }>;
/** A chat model the VS Code host already has (vscode.lm); only the extension can create it. */
export type VscodeLmModelSpec = Extract<ModelSpec, { provider: 'vscode-lm' }>;
/** Prices of one model in USD per million tokens; cached input is a prompt-cache read. */
export type ModelPrice = z.output<typeof modelPriceSchema>;
export type RoleModels = z.output<typeof roleModelsSchema>;
export type Cap = z.output<typeof capSchema>;
export type Budgets = z.output<typeof budgetsSchema>;
export type AutoApproveRules = z.output<typeof autoApproveRulesSchema>;
export type WebTesterConfig = z.output<typeof webTesterSchema>;
export type CommandsConfig = z.output<typeof commandsSchema>;
export type DeployConfig = z.output<typeof deploySchema>;
export type McpConfig = z.output<typeof mcpConfigSchema>;
export type SecurityConfig = z.output<typeof securitySchema>;
export type McpServerSpec = z.output<typeof mcpServerSchema>;
export type TeamTemplate = z.output<typeof teamTemplateSchema>;
