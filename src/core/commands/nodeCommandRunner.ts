// The CommandRunner port on Node (the CLI, tests, the benchmark): child_process in a process group of
// its own, in a folder of the workspace, with no provider keys in its environment.
import type { BackgroundCommand, CommandRequest, CommandResult, CommandRunner } from '../ports';
import { resolveCommandFolder } from './agentCommand';
import { checkCommandFolder, CommandProcess, MAX_KEPT_OUTPUT, type CommandProcessOptions } from './process';
import { messageOf } from '../../shared/wording';

export interface NodeCommandRunnerOptions {
  /** Bytes of output kept per command (head and tail); default 1 MiB (callers bound it further: commands.outputLimit). */
  outputLimit?: number;
  killGraceMs?: number;
  exitGraceMs?: number;
  /** Sees every piece of output as it arrives (the CLI prints it). */
  onOutput?: (request: CommandRequest, text: string) => void;
}

export class NodeCommandRunner implements CommandRunner {
  constructor(
    /** The workspace folder; a request's cwd is relative to it and may not leave it. */
    private readonly root: string,
    private readonly options: NodeCommandRunnerOptions = {},
  ) {}

  async run(request: CommandRequest, signal: AbortSignal): Promise<CommandResult> {
    if (signal.aborted) return { exitCode: null, output: 'Not started: the run was cancelled.', truncated: false, durationMs: 0, timedOut: false };
    const process = await this.spawn(request);
    const onAbort = (): void => process.stop('cancelled');
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      return await process.result;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  async start(request: CommandRequest): Promise<BackgroundCommand> {
    const process = await this.spawn(request);
    // A start that fails after spawning (ENOENT of the shell) still settles `exited`, as an exit.
    const exited = process.result.catch(
      (error: unknown): CommandResult => ({ exitCode: null, output: messageOf(error), truncated: false, durationMs: 0, timedOut: false }),
    );
    return {
      output: () => process.currentOutput(),
      exited,
      stop: async () => {
        process.stop('stopped');
        await exited;
      },
    };
  }

  private async spawn(request: CommandRequest): Promise<CommandProcess> {
    const cwd = await resolveCommandFolder(this.root, request.cwd);
    await checkCommandFolder(request.command, cwd);
    const options: CommandProcessOptions = {
      cwd,
      timeoutMs: request.timeoutMs,
      outputLimit: this.options.outputLimit ?? MAX_KEPT_OUTPUT,
      killGraceMs: this.options.killGraceMs,
      exitGraceMs: this.options.exitGraceMs,
    };
    const onOutput = this.options.onOutput;
    if (onOutput) options.onOutput = (text) => onOutput(request, text);
    return new CommandProcess(request.command, options);
  }
}
