// Domain types shared by the engine, both hosts and the webview.
// Pure data: no Node, no DOM, no vscode.

/** The agent roles a plan may assign. */
export const ROLES = ['planner', 'architect', 'implementer', 'tester', 'reviewer', 'fixer', 'docs', 'security'] as const;
export type Role = (typeof ROLES)[number];

/** Roles that may own a plan task (the planner plans, the reviewer gates, the fixer repairs). */
export const TASK_ROLES = ['architect', 'implementer', 'tester', 'docs', 'security'] as const;
export type TaskRole = (typeof TASK_ROLES)[number];

export const RUN_STATUSES = [
  'queued',
  'planning',
  'awaiting-approval',
  'running',
  'paused',
  'completed',
  'failed',
  'cancelled',
  'stopped_budget',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const TASK_STATUSES = [
  'pending',
  'ready',
  'running',
  'awaiting-review',
  'testing',
  'reviewing',
  'done',
  'failed',
  'dead_letter',
  'skipped',
] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** One task of a plan, as the planner wrote it (validated by core/plan). */
export interface PlanTask {
  /** Short stable id, unique in the plan, e.g. "t1". */
  id: string;
  title: string;
  /** What to do, for the agent that does it. */
  description: string;
  role: TaskRole;
  /** Ids of the tasks that must be done first. */
  dependsOn: string[];
  /** Checkable statements that say when the task is done. */
  acceptance: string[];
  /** Workspace-relative paths or globs the task may touch; overlapping scopes never run at once. */
  files: string[];
}

export interface Plan {
  summary: string;
  tasks: PlanTask[];
}

/** Model assignment of one role: an ordered chain of model ids (the first is used; the router falls over). */
export type RoleModels = Partial<Record<Role, string[]>>;

/** Prices of one model in USD per million tokens; cached input is a prompt-cache read. */
export interface ModelPrice {
  inputPerMTok: number;
  outputPerMTok: number;
  /** Price of input tokens read from the provider's prompt cache; the input price when absent. */
  cachedInputPerMTok?: number;
}

/** OpenAI-compatible endpoints with a known default base URL and key name. */
export const OPENAI_COMPATIBLE_PRESETS = ['ollama', 'lmstudio', 'vllm', 'llamacpp', 'deepseek', 'groq', 'openrouter'] as const;
export type OpenAICompatiblePreset = (typeof OPENAI_COMPATIBLE_PRESETS)[number];

/** Settings every model spec may carry. */
export interface ModelSpecCommon {
  id: string;
  /** Tokens the model accepts in one prompt. */
  contextWindow?: number;
  /** Cap on output tokens per call; also the worst case the budget check assumes. */
  maxOutputTokens?: number;
  /** Overrides the built-in price table (core/models/prices.ts). */
  prices?: ModelPrice;
}

export interface ScriptedModelSpec extends ModelSpecCommon {
  provider: 'scripted';
  /** Path of the transcript file, absolute or relative to the workspace. */
  transcript: string;
}

export interface OpenAIModelSpec extends ModelSpecCommon {
  provider: 'openai';
  /** Model name sent to the API, e.g. "gpt-5.4-mini". */
  model: string;
  /** Secret / environment variable holding the key; OPENAI_API_KEY when absent. */
  apiKeyName?: string;
  baseURL?: string;
  /** Which OpenAI endpoint to call; the Responses API when absent. */
  api?: 'responses' | 'chat';
}

export interface AnthropicModelSpec extends ModelSpecCommon {
  provider: 'anthropic';
  /** Model name sent to the API, e.g. "claude-sonnet-4-5". */
  model: string;
  /** Secret / environment variable holding the key; ANTHROPIC_API_KEY when absent. */
  apiKeyName?: string;
  baseURL?: string;
}

export interface OpenAICompatibleModelSpec extends ModelSpecCommon {
  provider: 'openai-compatible';
  /** Model name sent to the endpoint, e.g. "qwen2.5-coder:7b". */
  model: string;
  /** Required unless a preset supplies it. */
  baseURL?: string;
  /** Name of the environment variable (CLI) or secret (VS Code) that holds the key; none for local servers. */
  apiKeyName?: string;
  /** Supplies the default base URL and key name of a well-known endpoint. */
  preset?: OpenAICompatiblePreset;
}

/** A chat model the VS Code host already has (vscode.lm); only the extension can create it. */
export interface VscodeLmModelSpec extends ModelSpecCommon {
  provider: 'vscode-lm';
  vendor?: string;
  family?: string;
  model?: string;
}

/** How one model id is reached. */
export type ModelSpec = ScriptedModelSpec | OpenAIModelSpec | AnthropicModelSpec | OpenAICompatibleModelSpec | VscodeLmModelSpec;

/** Immutable snapshot of everything a run was started with. */
export interface RunConfig {
  models: ModelSpec[];
  roles: RoleModels;
  /** How many tasks may run at once. */
  concurrency: number;
  /** Fix attempts after the first try before a task is dead-lettered. */
  maxFixAttempts: number;
  /** Tool-loop steps one agent turn may take. */
  maxAgentSteps: number;
  /** Apply edits without asking. */
  autoApprove: boolean;
  /** Stop after planning until the user approves the plan. */
  requirePlanApproval: boolean;
  /** Shell command that runs the workspace's tests; undefined means detect; "none" runs without a test gate. */
  testCommand?: string;
  /** A tasks.json task (by label) that runs the tests; the editor runs it and its output is parsed. Wins over testCommand. */
  testTaskLabel?: string;
  testTimeoutMs: number;
  /** Run the reviewer role as a gate after tests pass. */
  reviewGate: boolean;
  /** Hard spending caps, checked before every model call with a worst-case estimate. */
  budgets: Budgets;
  /** Per-call model timeouts; a timeout before any output falls over to the next model. */
  timeouts: { firstTokenMs: number; totalMs: number };
  /** The same tool call with the same arguments, or the same failure, this many times stops the task. */
  loopThreshold: number;
  /** Auto-approve only some proposals: by the role that made them, or when every file matches a glob. */
  autoApproveRules?: { roles?: Role[]; globs?: string[] };
  /**
   * Let auto-approval (autoApprove, autoApproveRules, the CLI's --yes) through for edits that change
   * what will be executed (package scripts, git hooks, editor tasks…; core/edits/executionRisk.ts).
   * Off or absent: such edits always go to a human, or are rejected when nobody can be asked.
   */
  autoApproveCommandChanges?: boolean;
  /** Take a checkpoint of the workspace before each task's edits land (rollback to any task boundary). */
  checkpoints: boolean;
  /** Work on a branch of its own and commit per task (git workspaces only). */
  gitMode: boolean;
  /** Run the tests related to a task's files first, the whole suite only when they pass. */
  relatedTestsFirst: boolean;
}

/** A cap a call would have crossed (the budget gate's refusal, and the budget.exceeded event). */
export interface BudgetBreach {
  scope: 'run' | 'task' | 'role';
  /** The task id or role name the cap belongs to; the run id for run caps. */
  key: string;
  metric: 'usd' | 'tokens';
  limit: number;
  used: number;
  /** The call's worst case (NaN for a call of unknown cost under a USD cap). */
  estimate: number;
}

/** A spending cap; an absent field is no cap. */
export interface Cap {
  usd?: number;
  tokens?: number;
}

export interface Budgets {
  run?: Cap;
  /** Applies to each task separately. */
  task?: Cap;
  roles?: Partial<Record<Role, Cap>>;
  /** What a breach does: pause the run (resumable after raising the cap) or stop it as stopped_budget. */
  onExceed: 'pause' | 'stop';
}

/** One file of an edit set as the reviewer sees it. */
export interface FileChange {
  /** Workspace-relative, forward slashes. For a rename, the new path. */
  path: string;
  kind: 'create' | 'modify' | 'delete' | 'rename';
  /** For a rename: the path the file is moved from. */
  from?: string;
  /**
   * sha256 of the text the change was computed against: "" hash for a new file, the deleted text for
   * a delete, the source's text for a rename.
   */
  baseHash: string;
  /** sha256 of the proposed text ("" hash for a delete). */
  newHash: string;
  /** Lines added and removed, for summaries. */
  added: number;
  removed: number;
}

/** Structured result of one test run (parsers in core/testing). */
export interface TestReport {
  command: string;
  exitCode: number | null;
  /** True when the process ran past its time limit and was killed. */
  timedOut: boolean;
  passed: number;
  failed: number;
  skipped: number;
  /** Full names of failing tests with their messages and locations where the output gives them. */
  failures: TestFailure[];
  durationMs: number;
  /** The exit code has the last word: true only for exit 0 with at least one test run and none failed. */
  ok: boolean;
  /** Why ok is false when no single failure explains it (no tests ran, crash, timeout). */
  problem?: string;
  /** Last part of the output, ANSI stripped, for humans and the fixer. */
  outputTail: string;
  /** The test framework that produced the report (jest, vitest, mocha, node-test, tap, pytest, go, cargo), when known. */
  framework?: string;
  /** Where the counts came from: the framework's machine-readable report file, or the scraped output. */
  source?: 'report' | 'output';
}

export interface TestFailure {
  name: string;
  message: string;
  location?: string;
}

export interface Usage {
  calls: number;
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  /** Sum over the priced calls only: calls of a model without a price add nothing here (see unpricedCalls). */
  usd: number;
  /** Calls of models without a known price (llm.call `priced: false`): `usd` leaves their cost out. Absent when none. */
  unpricedCalls?: number;
}

export const EMPTY_USAGE: Usage = { calls: 0, inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, usd: 0 };

/** The reviewer's verdict on a task. */
export interface ReviewVerdict {
  approved: boolean;
  summary: string;
  issues: string[];
}
