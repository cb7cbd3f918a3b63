// Runs a detected test command once, end to end: a fresh temp folder for the report file, the
// command with its reporter (and `only` files), the report read back, the whole parsed into a
// TestReport. The report wins over the scraped output when it exists and parses; the exit code
// still has the last word. Hosts with their own runner (the VS Code task) pass it in.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { TestReport } from '../../shared/model';
import type { TestRunner } from '../ports';
import type { DetectedTestCommand } from './detect';
import { buildTestInvocation, type TestInvocation } from './invocation';
import { parseTestOutput } from './parse';

export class TestCommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TestCommandError';
  }
}

export interface RunDetectedOptions {
  timeoutMs: number;
  signal: AbortSignal;
  label?: string;
  /** The run's baseline (TestRunRequest.baseline). */
  baseline?: boolean;
  /** Workspace-relative test files to run instead of the whole suite (see relatedTests). */
  only?: string[];
  /** The workspace root `only` paths are relative to. */
  root?: string;
}

export interface DetectedRun {
  report: TestReport;
  invocation: TestInvocation;
}

export async function runDetectedTests(runner: TestRunner, detected: DetectedTestCommand, options: RunDetectedOptions): Promise<DetectedRun> {
  if (detected.taskLabel !== undefined) {
    throw new TestCommandError(`The tests are the tasks.json task "${detected.taskLabel}", which only the editor can run; set a test command to run them here.`);
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'sm-report-'));
  try {
    const extension = detected.reporter === 'junit-xml' ? 'xml' : detected.reporter === 'tap' ? 'tap' : 'json';
    const reportFile = path.join(dir, `report.${extension}`);
    const invocation = buildTestInvocation(detected, { reportFile, only: options.only, root: options.root });
    const result = await runner.run({ command: invocation.command, cwd: invocation.cwd, timeoutMs: options.timeoutMs, label: options.label ?? 'tests', ...(options.baseline ? { baseline: true } : {}) }, options.signal);
    let report: { format: NonNullable<TestInvocation['report']>['format']; content: string } | undefined;
    if (invocation.report) {
      // A missing report (the command crashed first) is no error: the output is scraped instead.
      const content = invocation.report.file === undefined ? result.output : await readFile(invocation.report.file, 'utf8').catch(() => undefined);
      if (content !== undefined) report = { format: invocation.report.format, content };
    }
    const parsed = parseTestOutput({
      command: invocation.command,
      exitCode: result.exitCode,
      output: result.output,
      timedOut: result.timedOut,
      durationMs: result.durationMs,
      framework: detected.framework,
      report,
      cwd: invocation.cwd,
    });
    return { report: parsed, invocation };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
