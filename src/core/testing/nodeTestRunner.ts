// Runs a test command with child_process (CLI host and tests). The command gets its own process
// group so a timeout, a cancel or our own death stops everything it started, not just the shell;
// and an environment without provider keys.
import { stat } from 'node:fs/promises';
import type { ProcessResult, TestRunner } from '../ports';
import { childEnvironment } from '../secrets';
import { startInProcessGroup, type GroupedCommand } from '../processGroup';
import { messageOf } from '../../shared/wording';
import { BoundedOutput } from '../commands/output';

export class TestRunnerError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TestRunnerError';
  }
}

export interface NodeTestRunnerOptions {
  /** Output kept at most (head and tail, the middle is dropped); default 2 MB. */
  maxOutputBytes?: number;
  /** Time between SIGTERM and SIGKILL when stopping; default 2 s. */
  killGraceMs?: number;
  /** After the command exits, how long its leftover children may hold the output open; default 1 s. */
  exitGraceMs?: number;
}

export class NodeTestRunner implements TestRunner {
  private readonly maxOutputBytes: number;
  private readonly killGraceMs: number;
  private readonly exitGraceMs: number;

  constructor(options: NodeTestRunnerOptions = {}) {
    this.maxOutputBytes = options.maxOutputBytes ?? 2 * 1024 * 1024;
    this.killGraceMs = options.killGraceMs ?? 2000;
    this.exitGraceMs = options.exitGraceMs ?? 1000;
  }

  /** Resolves for every exit code, timeouts and cancels included; rejects only when the command cannot start. */
  async run(request: { command: string; cwd: string; timeoutMs: number; label: string }, signal: AbortSignal): Promise<ProcessResult> {
    if (signal.aborted) {
      return { exitCode: null, output: `${request.label}: not started, the run was cancelled.`, timedOut: false, durationMs: 0 };
    }
    try {
      if (!(await stat(request.cwd)).isDirectory()) throw new Error('not a folder');
    } catch (error) {
      throw new TestRunnerError(
        `Cannot run "${request.command}": the working folder ${request.cwd} does not exist or is not a folder (${messageOf(error)}); check the workspace path.`,
        { cause: error },
      );
    }

    const started = performance.now();
    const output = new BoundedOutput(this.maxOutputBytes);
    let child: GroupedCommand;
    try {
      child = startInProcessGroup(request.command, { cwd: request.cwd, env: childEnvironment({ ...process.env, FORCE_COLOR: '0', CI: '1' }) });
    } catch (error) {
      throw new TestRunnerError(`Cannot start "${request.command}": ${messageOf(error)}.`, { cause: error });
    }

    return new Promise<ProcessResult>((resolve, reject) => {
      let timedOut = false;
      let exitCode: number | null | undefined;
      let settled = false;
      let killTimer: NodeJS.Timeout | undefined;
      let exitTimer: NodeJS.Timeout | undefined;

      const stop = (): void => {
        if (killTimer !== undefined) return;
        child.signal('SIGTERM');
        killTimer = setTimeout(() => child.signal('SIGKILL'), this.killGraceMs);
      };
      const onAbort = (): void => stop();
      const timeout = setTimeout(() => {
        timedOut = true;
        stop();
      }, request.timeoutMs);
      signal.addEventListener('abort', onAbort, { once: true });

      const finish = (): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timeout);
        clearTimeout(killTimer);
        clearTimeout(exitTimer);
        signal.removeEventListener('abort', onAbort);
        // Whatever the command left running (and the guard) goes with it.
        child.dispose();
        resolve({ exitCode: exitCode ?? null, output: output.text(), timedOut, durationMs: Math.round(performance.now() - started) });
      };

      child.stdout?.on('data', (chunk: Buffer) => output.push(chunk));
      child.stderr?.on('data', (chunk: Buffer) => output.push(chunk));
      child.on('error', (error: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timeout);
        clearTimeout(killTimer);
        signal.removeEventListener('abort', onAbort);
        child.dispose();
        reject(new TestRunnerError(`Cannot start "${request.command}" in ${request.cwd}: ${error.message}.`, { cause: error }));
      });
      child.on('exit', (code: number | null) => {
        exitCode = code;
        // Children left running (a server a test forgot to close) would hold the output open forever.
        exitTimer = setTimeout(finish, this.exitGraceMs);
      });
      child.on('close', (code: number | null) => {
        if (exitCode === undefined) exitCode = code;
        finish();
      });
    });
  }
}
