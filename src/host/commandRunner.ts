// The CommandRunner port in VS Code: every approved command (run_command, a dev server, an audit, a
// deploy) is a VS Code task the user sees in the terminal panel, like the test runs. Its
// CustomExecution pseudoterminal runs the command itself (core's CommandProcess: its own process
// group, no provider keys, bounded output), so the output is both shown live and captured.
import * as vscode from 'vscode';
import type { BackgroundCommand, CommandRequest, CommandResult, CommandRunner } from '../core';
import { CommandProcess, MAX_KEPT_OUTPUT, resolveCommandFolder } from '../core/node';
import { closeTaskTerminal, TEST_TASK_TYPE, terminalLine, type TestTaskDefinition } from './taskTestRunner';
import { resolveTestTask } from './workspaceTestTask';

const TASK_SOURCE = 'Software Maker';

const PURPOSE_LABEL: Record<CommandRequest['purpose'], string> = { agent: 'command', 'dev-server': 'dev server', deploy: 'deploy', audit: 'audit' };

export class UntrustedWorkspaceError extends Error {
  constructor(command: string) {
    super(`"${command}" was not run: this workspace is not trusted. Trust it (Manage Workspace Trust) to let Software Maker run commands.`);
    this.name = 'UntrustedWorkspaceError';
  }
}

export class TaskCommandRunner implements CommandRunner {
  private invocations = 0;

  constructor(
    private readonly root: string,
    private readonly options: { outputLimit?: number; isTrusted?: () => boolean } = {},
  ) {}

  async run(request: CommandRequest, signal: AbortSignal): Promise<CommandResult> {
    if (signal.aborted) return { exitCode: null, output: 'Not started: the run was cancelled.', truncated: false, durationMs: 0, timedOut: false };
    const terminal = await this.launch(request);
    const onAbort = (): void => terminal.stop('cancelled');
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      return await terminal.result;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  async start(request: CommandRequest): Promise<BackgroundCommand> {
    const terminal = await this.launch(request);
    const exited = terminal.result.catch(
      (error: unknown): CommandResult => ({ exitCode: null, output: error instanceof Error ? error.message : String(error), truncated: false, durationMs: 0, timedOut: false }),
    );
    return {
      output: () => terminal.outputSoFar(),
      exited,
      stop: async () => {
        terminal.stop('stopped');
        await exited;
      },
    };
  }

  async resolveTask(label: string): Promise<{ command: string; cwd: string }> {
    const task = await resolveTestTask(label, this.root);
    return { command: task.commandLine, cwd: task.cwd };
  }

  private async launch(request: CommandRequest): Promise<CommandTerminal> {
    // The engine is trust-gated already; this holds even for a caller that is not.
    if (!(this.options.isTrusted ?? (() => vscode.workspace.isTrusted))()) throw new UntrustedWorkspaceError(request.command);
    const cwd = await resolveCommandFolder(this.root, request.cwd);
    this.invocations += 1;
    const definition: TestTaskDefinition = { type: TEST_TASK_TYPE, command: request.command, cwd, invocation: `cmd-${Date.now().toString(36)}-${this.invocations}` };
    const terminal = new CommandTerminal(request, cwd, this.options.outputLimit ?? MAX_KEPT_OUTPUT);
    const name = `${PURPOSE_LABEL[request.purpose]}${request.taskId ? ` (${request.taskId})` : ''}: ${request.command.length > 60 ? `${request.command.slice(0, 59)}…` : request.command}`;
    const task = new vscode.Task(definition, vscode.TaskScope.Workspace, name, TASK_SOURCE, new vscode.CustomExecution(async () => terminal));
    task.presentationOptions = { reveal: vscode.TaskRevealKind.Always, focus: false, panel: vscode.TaskPanelKind.Shared, clear: false, showReuseMessage: false };
    const ended = vscode.tasks.onDidEndTask((event) => {
      if ((event.execution.task.definition as Partial<TestTaskDefinition>).invocation === definition.invocation) terminal.taskEnded();
    });
    void terminal.result.finally(() => ended.dispose()).catch(() => undefined);
    try {
      await vscode.tasks.executeTask(task);
    } catch (error) {
      ended.dispose();
      throw new Error(`VS Code could not start the task for "${request.command}" (${error instanceof Error ? error.message : String(error)}). Tasks do not run in an untrusted workspace.`);
    }
    return terminal;
  }
}

/** A pseudoterminal that runs one approved command and shows what it prints. */
class CommandTerminal implements vscode.Pseudoterminal {
  private readonly writeEmitter = new vscode.EventEmitter<string>();
  private readonly closeEmitter = new vscode.EventEmitter<number>();
  readonly onDidWrite = this.writeEmitter.event;
  readonly onDidClose = this.closeEmitter.event;
  readonly result: Promise<CommandResult>;
  private resolveResult!: (result: CommandResult) => void;
  private rejectResult!: (error: Error) => void;
  private process: CommandProcess | undefined;
  private stopBeforeStart: 'cancelled' | 'stopped' | undefined;
  private opened = false;
  private openedAt = Date.now();

  constructor(
    private readonly request: CommandRequest,
    private readonly cwd: string,
    private readonly outputLimit: number,
  ) {
    this.result = new Promise((resolve, reject) => {
      this.resolveResult = resolve;
      this.rejectResult = reject;
    });
  }

  open(): void {
    this.opened = true;
    this.openedAt = Date.now();
    if (this.stopBeforeStart) {
      this.writeLine('[Software Maker] Stopped before the command started.');
      this.resolveResult({ exitCode: null, output: 'Stopped before it started.', truncated: false, durationMs: 0, timedOut: false });
      this.closeTerminal(1);
      return;
    }
    this.writeLine(`> ${this.request.command}${this.request.cwd ? `   (in ${this.request.cwd})` : ''}`);
    try {
      this.process = new CommandProcess(this.request.command, {
        cwd: this.cwd,
        timeoutMs: this.request.timeoutMs,
        outputLimit: this.outputLimit,
        // Terminals need carriage returns; a lone \n would staircase the output.
        onOutput: (text) => this.writeEmitter.fire(text.replace(/\r?\n/g, '\r\n')),
      });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.writeLine(message);
      this.rejectResult(new Error(message));
      this.closeTerminal(1);
      return;
    }
    this.process.result.then(
      (result) => {
        const how = result.timedOut
          ? `timed out after ${Math.round(this.request.timeoutMs / 1000)} s; the command and what it started were killed`
          : result.exitCode === null
            ? `stopped${result.signal ? ` (${result.signal})` : ''}`
            : `exit code ${result.exitCode} after ${(result.durationMs / 1000).toFixed(1)} s`;
        this.writeLine(`[Software Maker] ${how}`);
        this.resolveResult(result);
        this.closeTerminal(result.exitCode ?? 1);
      },
      (error: Error) => {
        this.writeLine(error.message);
        this.rejectResult(error);
        this.closeTerminal(1);
      },
    );
  }

  /** The user closed the terminal or ran "Terminate Task". */
  close(): void {
    this.stop('stopped');
  }

  stop(cause: 'cancelled' | 'stopped'): void {
    if (this.process) this.process.stop(cause);
    else this.stopBeforeStart = cause;
  }

  outputSoFar(): string {
    return this.process?.currentOutput() ?? '';
  }

  /** The task ended; if it never opened this terminal, nothing else settles the result. */
  taskEnded(): void {
    if (!this.opened) this.rejectResult(new Error('VS Code ended the task before it started the command.'));
  }

  private closeTerminal(exitCode: number): void {
    closeTaskTerminal(this.openedAt, this.writeEmitter, this.closeEmitter, exitCode);
  }

  private writeLine(line: string): void {
    this.writeEmitter.fire(terminalLine(line));
  }
}
