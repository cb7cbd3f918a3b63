// `software-maker test`: detects the workspace's test command, runs it with a machine-readable
// reporter where the framework has one, and prints the structured report (the same one the test gate
// judges). Exit code 0 when the tests pass, 1 when they do not, 2 when nothing could be run.
import { isAbsolute, join, relative } from 'node:path';
import { detectTestCommand, frameworkLabel, runDetectedTests, STATE_DIR, type DetectedTestCommand } from '../core';
import { NodeTestRunner } from '../core/node';
import type { TestReport } from '../shared/model';
import { UsageError } from './options';

export interface TestCommandOptions {
  workspace: string;
  json: boolean;
  /** Paths (relative to the workspace or absolute) of files a change touches: the nearest package's tests run. */
  near: string[];
  /** --test-command, or the config's testCommand (the workspace's only once trusted: cli/trust.ts); otherwise detection. */
  testCommand?: string;
  timeoutMs?: number;
}

export interface TestCommandIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const DEFAULT_TIMEOUT_MS = 10 * 60_000;
const MAX_LISTED_FAILURES = 20;

export async function runTestCommand(options: TestCommandOptions, io: TestCommandIo = defaultIo): Promise<number> {
  const configured = options.testCommand;
  if (configured !== undefined && configured.trim() === 'none') {
    throw new UsageError('Tests are switched off for this workspace (testCommand "none"). Pass --test-command CMD to run some anyway.');
  }
  const near = options.near.map((p) => (isAbsolute(p) ? relative(options.workspace, p) : p));
  if (near.some((p) => p.startsWith('..'))) throw new UsageError(`--near paths must be inside the workspace ${options.workspace}.`);
  const detected = await detectTestCommand(options.workspace, { near, override: configured });
  if (!detected) {
    throw new UsageError(
      `No test command found in ${options.workspace} (looked for a package.json test script, pytest, go.mod and Cargo.toml). Pass --test-command CMD, or set "testCommand" in ${join(STATE_DIR, 'config.json')}.`,
    );
  }
  const controller = new AbortController();
  const onSigint = (): void => controller.abort();
  process.once('SIGINT', onSigint);
  try {
    if (!options.json) io.stderr(`Running ${describe(detected, options.workspace)}\n`);
    const { report, invocation } = await runDetectedTests(new NodeTestRunner(), detected, {
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      signal: controller.signal,
      label: 'software-maker test',
      root: options.workspace,
    });
    if (options.json) io.stdout(`${JSON.stringify(report, null, 2)}\n`);
    else io.stdout(formatTestReport(report, invocation.cwd === options.workspace ? undefined : relative(options.workspace, invocation.cwd)));
    return report.ok ? 0 : 1;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

function describe(detected: DetectedTestCommand, workspace: string): string {
  const where = detected.cwd === workspace ? '' : ` in ${relative(workspace, detected.cwd)}`;
  const framework = detected.framework === 'unknown' ? '' : ` [${frameworkLabel(detected.framework)}]`;
  return `${detected.command}${where}${framework}: ${detected.reason}`;
}

/** A short human summary: the verdict line, each failure with message and location, and the problem. */
export function formatTestReport(report: TestReport, folder?: string): string {
  const lines: string[] = [];
  const counts = `${report.passed} passed, ${report.failed} failed, ${report.skipped} skipped`;
  const from = [report.framework, report.source === 'report' ? 'from its report file' : report.source === 'output' ? 'from its output' : undefined].filter(Boolean).join(', ');
  lines.push(`${report.ok ? 'PASSED' : 'FAILED'}: ${counts}${from ? ` (${from})` : ''} in ${formatMs(report.durationMs)}${folder ? ` [${folder}]` : ''}`);
  for (const failure of report.failures.slice(0, MAX_LISTED_FAILURES)) {
    lines.push(`  ✖ ${failure.name}${failure.location ? `  (${failure.location})` : ''}`);
    for (const line of failure.message.split('\n').filter((l) => l.trim() !== '')) lines.push(`      ${line}`);
  }
  if (report.failures.length > MAX_LISTED_FAILURES) lines.push(`  … and ${report.failures.length - MAX_LISTED_FAILURES} more`);
  if (report.problem) lines.push(`Problem: ${report.problem}`);
  // Without named failures the output is the only clue (a crash, a compile error).
  if (!report.ok && report.failures.length === 0 && report.outputTail.trim() !== '') {
    lines.push('Last lines of the output:');
    for (const line of report.outputTail.trimEnd().split('\n').slice(-20)) lines.push(`  | ${line}`);
  }
  lines.push(`Exit code: ${report.exitCode === null ? 'none (stopped)' : report.exitCode}`);
  return `${lines.join('\n')}\n`;
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${ms} ms`;
}

const defaultIo: TestCommandIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};
