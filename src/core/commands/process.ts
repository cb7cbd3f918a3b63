// One approved shell command as a process: its own process group (processGroup.ts, so a timeout, a
// stop, a cancel or our own death ends everything it started), an environment without provider keys,
// bounded output, and a result that always settles. The Node CommandRunner uses it as it is; the VS
// Code host runs it inside a task's pseudoterminal so the user sees the output live.
import { stat } from 'node:fs/promises';
import type { CommandResult } from '../ports';
import { childEnvironment } from '../secrets';
import { startInProcessGroup, type GroupedCommand } from '../processGroup';
import { BoundedOutput } from './output';
import { messageOf } from '../../shared/wording';

export class CommandStartError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CommandStartError';
  }
}

export interface CommandProcessOptions {
  /** Absolute working folder. */
  cwd: string;
  timeoutMs: number;
  /** Bytes of output kept (head and tail). */
  outputLimit: number;
  /** Variables added to the environment (childEnvironment still filters the result). */
  env?: Record<string, string>;
  /** Every piece of output as it arrives (a terminal mirrors it). */
  onOutput?: (text: string) => void;
  /** Time between SIGTERM and SIGKILL when stopping; default 2 s. */
  killGraceMs?: number;
  /** After the command exits, how long what it left running may hold the output open; default 1 s. */
  exitGraceMs?: number;
}

/** What a runner keeps at most (the largest commands.outputLimit): the engine bounds it to the run's setting. */
export const MAX_KEPT_OUTPUT = 1024 * 1024;

export type StopCause = 'timeout' | 'cancelled' | 'stopped';

/** Checks the folder a command is to run in, with an error that names it. */
export async function checkCommandFolder(command: string, cwd: string): Promise<void> {
  try {
    if (!(await stat(cwd)).isDirectory()) throw new Error('not a folder');
  } catch (error) {
    throw new CommandStartError(`Cannot run "${command}": the folder ${cwd} does not exist or is not a folder (${messageOf(error)}).`, { cause: error });
  }
}

export class CommandProcess {
  /** Settles when the command and its output ended; rejects only when it could not start at all. */
  readonly result: Promise<CommandResult>;
  private readonly output: BoundedOutput;
  private readonly child: GroupedCommand;
  private readonly started = performance.now();
  private stopCause: StopCause | undefined;
  private killTimer: NodeJS.Timeout | undefined;
  private readonly timeout: NodeJS.Timeout;
  private settled = false;
  private readonly killGrace: number;

  /** Starts the command now; throws CommandStartError when it cannot be spawned. */
  constructor(
    readonly command: string,
    options: CommandProcessOptions,
  ) {
    this.output = new BoundedOutput(options.outputLimit);
    this.killGrace = options.killGraceMs ?? 2000;
    const exitGraceMs = options.exitGraceMs ?? 1000;
    // No provider key, not even one a caller's variables name; Electron's flag would make apps the command starts run as Node.
    const env = childEnvironment({ ...process.env, FORCE_COLOR: '0', ...options.env });
    delete env.ELECTRON_RUN_AS_NODE;
    try {
      this.child = startInProcessGroup(command, { cwd: options.cwd, env });
    } catch (error) {
      throw new CommandStartError(`Cannot start "${command}": ${messageOf(error)}.`, { cause: error });
    }
    const child = this.child;
    this.timeout = setTimeout(() => this.stop('timeout'), options.timeoutMs);
    this.result = new Promise<CommandResult>((resolve, reject) => {
      let exitCode: number | null | undefined;
      let exitSignal: string | undefined;
      let exitTimer: NodeJS.Timeout | undefined;
      const settle = (): void => {
        if (this.settled) return;
        this.settled = true;
        clearTimeout(this.timeout);
        clearTimeout(this.killTimer);
        clearTimeout(exitTimer);
        // Whatever the command left running (and the guard) goes with it.
        child.dispose();
        const stoppedSignal = exitSignal ?? (this.stopCause ? 'SIGTERM' : undefined);
        const result: CommandResult = {
          exitCode: exitCode ?? null,
          output: this.output.text(),
          truncated: this.output.truncated,
          durationMs: Math.round(performance.now() - this.started),
          timedOut: this.stopCause === 'timeout',
        };
        if ((exitCode ?? null) === null && stoppedSignal) result.signal = stoppedSignal;
        resolve(result);
      };
      const onData = (chunk: Buffer): void => {
        this.output.push(chunk);
        options.onOutput?.(chunk.toString('utf8'));
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.on('error', (error: Error) => {
        if (this.settled) return;
        this.settled = true;
        clearTimeout(this.timeout);
        clearTimeout(this.killTimer);
        child.dispose();
        reject(new CommandStartError(`Cannot start "${command}" in ${options.cwd}: ${error.message}.`, { cause: error }));
      });
      child.on('exit', (code: number | null, signal: NodeJS.Signals | null) => {
        exitCode = code;
        exitSignal = signal ?? undefined;
        // Children left running (a server) would hold the output open forever.
        exitTimer = setTimeout(settle, exitGraceMs);
      });
      child.on('close', (code: number | null) => {
        if (exitCode === undefined) exitCode = code;
        settle();
      });
    });
  }

  /** Output so far (bounded). */
  currentOutput(): string {
    return this.output.text();
  }

  /** Ends the whole group: SIGTERM, then SIGKILL after the grace. The result settles when it is gone. */
  stop(cause: StopCause): void {
    if (this.settled || this.stopCause) return;
    this.stopCause = cause;
    clearTimeout(this.timeout);
    this.child.signal('SIGTERM');
    this.killTimer = setTimeout(() => this.child.signal('SIGKILL'), this.killGrace);
  }

  get stoppedBy(): StopCause | undefined {
    return this.stopCause;
  }
}
