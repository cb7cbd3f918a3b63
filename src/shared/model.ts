// Domain types shared by the engine, both hosts and the webview.
// Pure data: no Node, no DOM, no vscode.
// The run configuration's types are inferred from its zod schemas (runConfig.ts); they are
// re-exported here as types only, so importing this file never loads zod.
export type {
  AnthropicModelSpec,
  AutoApproveRules,
  Budgets,
  Cap,
  ModelPrice,
  ModelSpec,
  OpenAICompatibleModelSpec,
  OpenAIModelSpec,
  RoleModels,
  RunConfig,
  RunConfigInput,
  ScriptedModelSpec,
  VscodeLmModelSpec,
} from './runConfig';

/** The agent roles a plan may assign. */
export const ROLES = ['planner', 'architect', 'implementer', 'tester', 'reviewer', 'fixer', 'docs', 'security', 'web_tester', 'deployer'] as const;
export type Role = (typeof ROLES)[number];

/** Roles that may own a plan task (the planner plans, the reviewer gates, the fixer repairs). */
export const TASK_ROLES = ['architect', 'implementer', 'tester', 'docs', 'security', 'web_tester', 'deployer'] as const;
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
  /** The run ended (cancelled, failed, budget) while the task was unfinished: the fold ends it. */
  'cancelled',
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

/** OpenAI-compatible endpoints with a known default base URL and key name. */
export const OPENAI_COMPATIBLE_PRESETS = ['ollama', 'lmstudio', 'vllm', 'llamacpp', 'deepseek', 'groq', 'openrouter'] as const;
export type OpenAICompatiblePreset = (typeof OPENAI_COMPATIBLE_PRESETS)[number];

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
/** What an approval is about, exactly as the user is shown it (core/commands/approval.ts). */
export type ApprovalSubject =
  | { kind: 'command'; command: string; cwd: string; reason: string }
  | { kind: 'mcp'; server: string; tool: string; input: string; reason?: string }
  | { kind: 'deploy'; command: string; runbook: string };

export interface ReviewVerdict {
  approved: boolean;
  summary: string;
  issues: string[];
}

/**
 * One step of a web acceptance flow (the web tester writes them; core/web/flows.ts checks and runs
 * them in a real browser). Selectors are Playwright selectors; `path` is relative to the app's URL.
 */
export type WebFlowStep =
  | { action: 'goto'; path: string }
  | { action: 'fill'; selector: string; value: string }
  | { action: 'click'; selector: string }
  | { action: 'expectText'; text: string; selector?: string }
  | { action: 'screenshot'; name: string };

export interface WebFlow {
  name: string;
  steps: WebFlowStep[];
}

/** How one flow went; screenshots are run artifacts (PNG), named relative to the run folder. */
export interface WebFlowResult {
  flow: string;
  ok: boolean;
  /** 0-based index of the step that failed, and why. */
  failedStep?: number;
  error?: string;
  screenshots: { name: string; artifact: string }[];
  durationMs: number;
}
