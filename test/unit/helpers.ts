// Shared fixtures for engine-level tests: temp workspaces, transcripts and scripted ports.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, cp, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { resolveRunConfig } from '../../src/core/config';
import { NodeEditApplier } from '../../src/core/edits/nodeApplier';
import { Engine } from '../../src/core/engine';
import type { EditReviewer, HostPorts, ReviewDecision, ReviewRequest, TestRunner } from '../../src/core/ports';
import { systemClock } from '../../src/core/ports';
import { NodeTestRunner } from '../../src/core/testing/nodeTestRunner';
import { NodeWorkspace } from '../../src/core/workspace/nodeWorkspace';
import type { TranscriptTurn } from '../../src/core/models/scripted';
import type { EngineEvent } from '../../src/shared/events';
import type { RunConfig } from '../../src/shared/model';

export const REPO = resolve(__dirname, '../..');
export const CALCULATOR = join(REPO, 'samples/calculator');
export const CALCULATOR_TRANSCRIPT = join(REPO, 'samples/transcripts/calculator.json');

/**
 * Makes a folder refuse new files for this process: chmod for a normal user; root ignores modes, so
 * for root the folder is made immutable (chattr +i). Returns the undo, or undefined when neither works.
 */
export async function makeFolderReadOnly(dir: string): Promise<(() => Promise<void>) | undefined> {
  if (process.getuid?.() !== 0) {
    await chmod(dir, 0o555);
    return () => chmod(dir, 0o755);
  }
  return spawnSync('chattr', ['+i', dir]).status === 0 ? async () => void spawnSync('chattr', ['-i', dir]) : undefined;
}

export async function tempDir(prefix = 'sm-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** A fresh copy of the calculator sample (its add() is broken, so two tests fail). */
export async function calculatorWorkspace(): Promise<string> {
  const dir = await tempDir('sm-calc-');
  await cp(CALCULATOR, dir, { recursive: true });
  return dir;
}

export async function writeTranscript(dir: string, turns: TranscriptTurn[]): Promise<string> {
  const path = join(dir, `transcript-${Math.random().toString(36).slice(2)}.json`);
  await writeFile(path, JSON.stringify({ version: 1, turns }));
  return path;
}

export function scriptedConfig(transcript: string, overrides: Partial<RunConfig> = {}): RunConfig {
  return resolveRunConfig({ models: [{ id: 'scripted', provider: 'scripted', transcript }], autoApprove: true, ...overrides });
}

/** A reviewer the test drives: each review waits for `decide`, or answers with a fixed policy. */
export class ScriptedReviewer implements EditReviewer {
  readonly requests: ReviewRequest[] = [];
  private waiting: { request: ReviewRequest; resolve: (decision: ReviewDecision) => void }[] = [];
  private arrived: (() => void) | undefined;

  constructor(private readonly policy?: (request: ReviewRequest) => ReviewDecision) {}

  review(request: ReviewRequest, signal: AbortSignal): Promise<ReviewDecision> {
    this.requests.push(request);
    if (this.policy) return Promise.resolve(this.policy(request));
    return new Promise((resolve, reject) => {
      this.waiting.push({ request, resolve });
      this.arrived?.();
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
  }

  async next(): Promise<{ request: ReviewRequest; resolve: (decision: ReviewDecision) => void }> {
    while (this.waiting.length === 0) await new Promise<void>((resolve) => (this.arrived = resolve));
    return this.waiting.shift()!;
  }
}

export async function makePorts(root: string, overrides: Partial<HostPorts> = {}): Promise<HostPorts> {
  const workspace = await NodeWorkspace.open(root);
  return {
    workspace,
    applier: new NodeEditApplier(workspace.root),
    reviewer: new ScriptedReviewer((request) => ({ accepted: request.files.map((file) => file.path) })),
    testRunner: new NodeTestRunner(),
    clock: systemClock,
    secret: async () => undefined,
    ...overrides,
  };
}

/**
 * "This machine" of the tests: where engines record the runs they created, so an engine made again
 * over the same workspace (a restart) finds its runs its own. One per test process.
 */
let machineRecords: Promise<string> | undefined;
export function testMachineRecords(): Promise<string> {
  machineRecords ??= tempDir('sm-machine-');
  return machineRecords;
}

export async function makeEngine(root: string, overrides: Partial<HostPorts> = {}): Promise<{ engine: Engine; events: EngineEvent[]; runsDir: string }> {
  const ports = await makePorts(root, overrides);
  const runsDir = join(root, '.software-maker', 'runs');
  const engine = new Engine({ ports, runsDir, recordsDir: await testMachineRecords() });
  const events: EngineEvent[] = [];
  engine.onEvent((_runId, event) => events.push(event));
  return { engine, events, runsDir };
}

/** A test runner that answers from a script instead of running anything. */
export function fakeTestRunner(respond: (call: number) => { exitCode: number; output: string }): TestRunner & { calls: number } {
  const runner = {
    calls: 0,
    async run() {
      runner.calls++;
      const { exitCode, output } = respond(runner.calls);
      return { exitCode, output, timedOut: false, durationMs: 1 };
    },
  };
  return runner;
}

/** node:test TAP-ish output the parser understands, for fake runners. */
export function tapOutput(passed: number, failed: string[]): string {
  const lines = ['TAP version 13'];
  let n = 0;
  for (let i = 0; i < passed; i++) lines.push(`ok ${++n} - passing test ${i + 1}`);
  for (const name of failed) lines.push(`not ok ${++n} - ${name}`, '  ---', `  error: '${name} failed'`, '  ...');
  lines.push(`1..${n}`, `# tests ${n}`, `# pass ${passed}`, `# fail ${failed.length}`);
  return lines.join('\n') + '\n';
}

export function ofType<T extends EngineEvent['type']>(events: EngineEvent[], type: T): Extract<EngineEvent, { type: T }>[] {
  return events.filter((event): event is Extract<EngineEvent, { type: T }> => event.type === type);
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI with no terminal on stdin, as in CI. */
export function runCli(cli: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd: options.cwd ?? REPO, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Alive and not a zombie: a killed child whose parent is gone can linger as one until it is reaped. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return true;
  }
}
