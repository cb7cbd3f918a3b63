// The front door of the engine: what a host (src/host, src/cli, bench/, scripts/) may use of
// src/core; lint refuses imports past it. The Node implementations of the ports are in ./node.ts.
// Everything else in src/core is the engine's own business (tests may reach inside). Add an export
// here only when a host needs it.

// The engine, its API, and the errors it raises that a user can act on.
export { ConcurrentRunError, Engine, ForeignRunError, RollbackRefusedError, UnknownRunError } from './engine';
export type { EngineApi, RunHandle } from './engineApi';
export { CheckpointError, type Checkpoint, type RestoreReport } from './checkpoints/shadowGit';
export { ReplayError, readStepRecord, type ReplayResult, type StepRecord } from './run/replay';
export { TriageError } from './run/triage';

// The ports: what a host implements for the engine.
export {
  systemClock,
  type ApprovalDecision,
  type ApprovalRequest,
  type ApprovalSubject,
  type Approver,
  type BackgroundCommand,
  type CommandRequest,
  type CommandResult,
  type CommandRunner,
  type ContentWrite,
  type DeleteWrite,
  type EditApplier,
  type EditReviewer,
  type FileWrite,
  type HostPorts,
  type ProcessResult,
  type RenameWrite,
  type ReviewDecision,
  type ReviewRequest,
  type SearchHit,
  type TestRunner,
  type TestRunRequest,
  type Workspace,
  type WriteOutcome,
} from './ports';

// Run configuration, and where runs and this machine's records live.
export { ConfigError, modelSpecSchema, resolveRunConfig, runConfigSchema } from './config';
export { defaultRunsDir, STATE_DIR, userStateDir } from './runsDir';
export { applyTemplate, availableTemplates, BUILT_IN_TEMPLATES, parseTemplates } from './templates';

// Trust and secrets: what a repository may not decide, and keys kept out of every output.
export { describeIgnoredWorkspaceValue, realPathInside, tightenedBudgets, tightenedSecurity, tightenedTemplateBudgets, TrustRecords, trustDigest, trustSurfaceOf, type IgnoredWorkspaceValue } from './trust';
export { apiKeyNameOf, childEnvironment } from './secrets';
export { redactText } from './log/redact';

// Models, for the hosts' model features (configure, test a connection, show costs).
export { createLanguageModel, ModelConfigError, PRESET_DEFAULTS, resolveOpenAICompatible, type ProviderContext } from './models/providers';
export { ModelTimeoutError } from './models/failures';
export { TranscriptError } from './models/scripted';
export { formatUsd, priceFor } from './models/prices';

// Edits as a reviewer sees them.
export { unifiedDiff } from './edits/hunks';
export { describeHunk, diffHunks, type DiffHunk } from './edits/review';

// The workspace's tests, as the CLI's `test` command runs them.
export { detectTestCommand, frameworkLabel, type DetectedTestCommand } from './testing/detect';
export { runDetectedTests } from './testing/runTests';

// Commands (run_command, dev servers, audits, deploys): the policy, the approval, the bounds.
export { approveAction, type ActionDecision, type ActionRequest, type ApprovalContext } from './commands/approval';
export { commandPolicyOf, evaluateCommand, parseCommand, type CommandPolicy, type PolicyVerdict } from './commands/policy';
export { boundText } from './commands/output';
