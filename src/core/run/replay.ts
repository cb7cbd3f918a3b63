// Step records and replays. Every agent turn leaves a record of its inputs and output beside the log
// (steps/t1.implement@v1.json). A replay runs one step again from that record, optionally with
// another model, and stores the result as the next version of the stage with a diff to the original.
// A replay never changes the workspace: its edits are staged and shown, not applied.
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { EngineEvent, NewEvent } from '../../shared/events';
import type { Role } from '../../shared/model';
import type { RunState } from '../../shared/runState';
import { deployOutputSchema, planSchema, reviewOutputSchema, systemPrompt, workOutputSchema } from '../agents/roles';
import { runAgentTurn, type AgentTurnResult } from '../agents/runAgent';
import { buildTools } from '../agents/tools';
import { EditSet } from '../edits/editSet';
import { redactText } from '../log/redact';
import { secretRegistry } from '../secrets';
import { unifiedDiff } from '../edits/hunks';
import type { CircuitBreakers } from '../models/breakers';
import type { ProviderContext } from '../models/providers';
import { RunModels } from '../models/registry';
import { keyOf } from '../models/scripted';
import { turnModel } from '../models/turnModel';
import type { HostPorts, Workspace } from '../ports';
import { proposalIdPrefix, readProposal } from './landing';
import { UserError } from '../../shared/errors';
import { messageOf } from '../../shared/wording';

/** What a step leaves beside the log. */
export interface StepRecord {
  stepId: string;
  role: Role;
  taskId?: string;
  attempt: number;
  model: string;
  system: string;
  prompt: string;
  result: AgentTurnResult;
  /** Set on replays: the step this one re-ran. */
  replayOf?: string;
  /** Replays: the edits the replayed turn proposed (never applied), as diffs. */
  edits?: { path: string; kind: string; diff: string }[];
  /** Replays: how the output differs from the original step's. */
  diffFromOriginal?: string;
}

export class ReplayError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'ReplayError';
  }
}

/** Writes a file beside a run's log (creating folders), keys redacted; the caller logs artifact.written. */
export async function writeRunFile(runDir: string, name: string, content: string): Promise<void> {
  const path = join(runDir, name);
  await mkdir(dirname(path), { recursive: true });
  // A proposal is applied from what is stored here, so key-SHAPED text in it (a test fixture) must
  // stay as it is; the exact keys are cut (staging refuses proposals holding one in the first place).
  await writeFile(path, name.split(/[\\/]/)[0] === 'proposals' ? secretRegistry.redact(content) : redactText(content));
}

/** `t1:implement@v1` is stored as `steps/t1.implement@v1.json`. */
export function stepRecordName(stepId: string): string {
  return join('steps', `${stepId.replace(':', '.')}.json`);
}

/** `t1:implement@v1` → { prefix: 't1:implement', version: 1 }. */
export function parseStepId(stepId: string): { prefix: string; version: number } {
  const match = /^(.+)@v(\d+)$/.exec(stepId);
  if (!match) throw new ReplayError(`"${stepId}" is not a step id (like t1:implement@v1 or plan@v1).`);
  return { prefix: match[1]!, version: Number(match[2]) };
}

export async function readStepRecord(runDir: string, stepId: string): Promise<StepRecord> {
  parseStepId(stepId);
  try {
    return JSON.parse(await readFile(join(runDir, stepRecordName(stepId)), 'utf8')) as StepRecord;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      const known = await listStepIds(runDir);
      throw new ReplayError(`Step ${stepId} has no record in this run. Recorded steps: ${known.join(', ') || 'none'}.`);
    }
    throw error;
  }
}

export async function listStepIds(runDir: string): Promise<string[]> {
  const names = await readdir(join(runDir, 'steps')).catch(() => [] as string[]);
  return names
    .filter((name) => name.endsWith('.json'))
    .map((name) => name.slice(0, -'.json'.length).replace('.', ':'))
    .sort();
}

/**
 * `wanted` unless a step of the log (or a record beside it) already has that id; otherwise the next
 * version of its stage after every one used. A real attempt is `@v<attempt>` when it can be, and a
 * replay took that version before it: the attempt then gets the next free one, never the replay's.
 */
export function freshStepId(used: readonly string[], wanted: string): string {
  if (!used.includes(wanted)) return wanted;
  const { prefix } = parseStepId(wanted);
  const versions = used.filter((id) => id.startsWith(`${prefix}@v`)).map((id) => parseStepId(id).version);
  return `${prefix}@v${Math.max(0, ...versions) + 1}`;
}

/** The next free version of a step's stage: replays of implement@v1 become implement@v2, @v3, … */
export async function nextStepId(runDir: string, stepId: string, started: readonly string[] = []): Promise<string> {
  parseStepId(stepId);
  const used = [stepId, ...(await listStepIds(runDir)), ...started].filter((id) => /@v\d+$/.test(id));
  return freshStepId(used, stepId);
}

function outputSchemaFor(role: Role) {
  if (role === 'planner') return planSchema;
  if (role === 'reviewer') return reviewOutputSchema;
  // A replayed deployer writes its runbook again; nothing is deployed (replays run no command).
  if (role === 'deployer') return deployOutputSchema;
  return workOutputSchema;
}

/** Scripted transcripts are keyed by role/task: a replay starts where the original step started. */
export function scriptedOffsetBefore(events: readonly EngineEvent[], stepId: string): number {
  const started = events.find((event) => event.type === 'step.started' && event.stepId === stepId);
  if (!started || started.type !== 'step.started') return 0;
  const replays = replayStepIds(events);
  return events.filter(
    (event) =>
      event.type === 'llm.call' && event.outcome === 'ok' && event.seq < started.seq && event.role === started.role && event.taskId === started.taskId && !replays.has(event.stepId),
  ).length;
}

/** Step ids of the log's replays: their model calls used fresh models, not the run's transcript. */
export function replayStepIds(events: readonly EngineEvent[]): Set<string> {
  return new Set(events.flatMap((event) => (event.type === 'step.started' && event.replayOf !== undefined ? [event.stepId] : [])));
}

export interface ReplayRequest {
  runDir: string;
  state: RunState;
  stepId: string;
  /** Another configured model id; the original step's model by default. */
  modelId?: string;
  workspace: Workspace;
  models: RunModels;
  breakers: CircuitBreakers;
  signal: AbortSignal;
  emit: (event: NewEvent) => void;
  writeArtifact: (name: string, content: string, taskId?: string) => Promise<void>;
}

export interface ReplayResult {
  replayId: string;
  artifact: string;
  ok: boolean;
  summary: string;
  record: StepRecord;
}

export async function replayStep(request: ReplayRequest): Promise<ReplayResult> {
  const original = await readStepRecord(request.runDir, request.stepId);
  const modelId = request.modelId ?? original.model;
  if (!request.state.config.models.some((model) => model.id === modelId)) {
    throw new ReplayError(`Model "${modelId}" is not configured for this run. Known: ${request.state.config.models.map((m) => m.id).join(', ')}.`);
  }
  const resolved = await request.models.byId(modelId);
  const replayId = await nextStepId(request.runDir, request.stepId, request.state.stepIds);
  const role = original.role;
  const workspace = await asTheStepSawIt(request.workspace, request.runDir, request.state, original);
  const edits = role === 'planner' || role === 'reviewer' ? undefined : new EditSet(workspace);
  const tools = buildTools({ workspace, edits }, outputSchemaFor(role));
  // replayOf: the fold records it as history; the task's attempts and status stay as they are.
  request.emit({ type: 'step.started', stepId: replayId, taskId: original.taskId, role, attempt: original.attempt, model: resolved.id, replayOf: original.stepId });
  const turn = turnModel({
    chain: [resolved],
    breakers: request.breakers,
    timeouts: request.state.config.timeouts,
    stepId: replayId,
    role,
    taskId: original.taskId,
    emit: request.emit,
  });
  let result: AgentTurnResult | undefined;
  let failure: string | undefined;
  try {
    result = await runAgentTurn({
      role,
      taskId: original.taskId,
      stepId: replayId,
      model: turn.model,
      system: original.system || systemPrompt(role),
      prompt: original.prompt,
      tools,
      maxSteps: request.state.config.maxAgentSteps,
      loopThreshold: request.state.config.loopThreshold,
      signal: request.signal,
      emit: request.emit,
    });
  } catch (error) {
    if (request.signal.aborted) throw error;
    failure = messageOf(error);
  }
  const summary = failure ?? summarize(result!.output);
  request.emit({ type: 'step.finished', stepId: replayId, taskId: original.taskId, role, ok: !failure, summary });
  const record: StepRecord = {
    stepId: replayId,
    role,
    taskId: original.taskId,
    attempt: original.attempt,
    model: resolved.id,
    system: original.system,
    prompt: original.prompt,
    result: result ?? { output: undefined, modelCalls: 0, toolCalls: [] },
    replayOf: original.stepId,
    edits: edits?.changed().map((file) => ({ path: file.path, kind: file.kind, diff: unifiedDiff(file.path, file.before, file.after) })),
    diffFromOriginal: unifiedDiff(`${original.stepId} output`, pretty(original.result.output), pretty(result?.output)),
  };
  const artifact = stepRecordName(replayId);
  await request.writeArtifact(artifact, JSON.stringify(record, null, 2), original.taskId);
  request.emit({ type: 'step.replayed', stepId: original.stepId, artifact, model: resolved.id, ok: !failure, summary });
  return { replayId, artifact, ok: !failure, summary, record };
}

/**
 * The workspace as the original step saw it, as far as the log knows: files the step's own proposal
 * touched read as they were then (the proposal kept their base text); other files as they are now.
 */
async function asTheStepSawIt(workspace: Workspace, runDir: string, state: RunState, original: StepRecord): Promise<Workspace> {
  const then = new Map<string, string | undefined>();
  const prefix = proposalIdPrefix(original.taskId ?? '', original.attempt);
  for (const proposal of Object.values(state.proposals)) {
    if (proposal.taskId !== original.taskId || !proposal.id.startsWith(prefix)) continue;
    const artifact = await readProposal(runDir, proposal.id).catch(() => undefined);
    for (const file of artifact?.files ?? []) then.set(file.path, file.kind === 'create' ? undefined : file.before);
  }
  if (then.size === 0) return workspace;
  return {
    root: workspace.root,
    readText: async (path) => {
      const key = path.replace(/\\/g, '/').replace(/^\.\//, '');
      return then.has(key) ? then.get(key) : workspace.readText(path);
    },
    listFiles: (dir, limit) => workspace.listFiles(dir, limit),
    searchText: (query, limit) => workspace.searchText(query, limit),
  };
}

function pretty(value: unknown): string {
  return value === undefined ? '' : `${JSON.stringify(value, null, 2)}\n`;
}

function summarize(output: unknown): string {
  if (output && typeof output === 'object' && 'summary' in output && typeof output.summary === 'string') return output.summary;
  return 'finished';
}

/**
 * Models for a replay: fresh instances, with a scripted transcript starting where the original step
 * started, and the host's models (vscode-lm) where the host has them.
 */
export function replayModels(
  state: RunState,
  events: readonly EngineEvent[],
  stepId: string,
  ports: HostPorts,
  options: { scriptedLatencyMs?: number; hostModels?: ProviderContext['hostModels'] } = {},
): RunModels {
  const models = new RunModels(state.config, { workspaceRoot: ports.workspace.root, secret: (name) => ports.secret(name), scriptedLatencyMs: options.scriptedLatencyMs, hostModels: options.hostModels });
  const started = events.find((event) => event.type === 'step.started' && event.stepId === stepId);
  if (started?.type === 'step.started') {
    models.setScriptedConsumed(new Map([[keyOf(started.role, started.taskId), scriptedOffsetBefore(events, stepId)]]));
  }
  return models;
}
