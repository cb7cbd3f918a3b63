// The TestRunner port in VS Code: each test run is a real VS Code task, so it shows in the terminal
// panel and in "Tasks: Show Running Tasks" like any other. The task's CustomExecution hands VS Code
// a pseudoterminal that spawns the command itself: that is how the output is both shown and
// captured for parsing, with the exit code, a time limit and cancellation under our control.
import * as vscode from 'vscode';
import { childEnvironment, type ProcessResult, type TestRunner, type TestRunRequest } from '../core';
import { startInProcessGroup, type GroupedCommand } from '../core/node';
import { resolveTestTask, type ResolvedTestTask } from './workspaceTestTask';

/** The task type, declared under `taskDefinitions` in package.json. */
export const TEST_TASK_TYPE = 'softwareMaker';
/** Longer than VS Code's terminal launch window, see closeTaskTerminal. */
const MIN_TERMINAL_LIFETIME_MS = 800;

/**
 * Closes a task's pseudoterminal with `exitCode` once VS Code's launch window (500 ms) has passed
 * since it opened: a terminal that ends with a non-zero code within it reads "failed to launch",
 * which is false for a quick failing command. The emitters live until then.
 */
export function closeTaskTerminal(openedAt: number, writeEmitter: vscode.EventEmitter<string>, closeEmitter: vscode.EventEmitter<number>, exitCode: number): void {
  setTimeout(
    () => {
      closeEmitter.fire(exitCode);
      writeEmitter.dispose();
      closeEmitter.dispose();
    },
    Math.max(0, openedAt + MIN_TERMINAL_LIFETIME_MS - Date.now()),
  );
}

/** A line for a pseudoterminal, which needs CR LF. */
export function terminalLine(line: string): string {
  return `${line.replace(/\r?\n/g, '\r\n')}\r\n`;
}
const TASK_SOURCE = 'Software Maker';

/** Output kept for parsing; the end of the output (the summary, the last failures) matters most. */
const MAX_CAPTURE_CHARS = 2 * 1024 * 1024;
/** Time between the polite SIGTERM and SIGKILL. */
const KILL_GRACE_MS = 2000;

export interface TestTaskDefinition extends vscode.TaskDefinition {
  type: typeof TEST_TASK_TYPE;
  command: string;
  cwd: string;
  /** Unique per run: two runs of one command are two tasks, so VS Code never calls one "already active". */
  invocation: string;
}

export class TaskTestRunner implements TestRunner {
  private invocations = 0;

  constructor(private readonly scope: vscode.WorkspaceFolder | vscode.TaskScope.Workspace = vscode.TaskScope.Workspace) {}

  /**
   * Runs the command, or with `taskLabel` the workspace's task of that label: its resolved command
   * line runs in this pseudoterminal task (output and exit code captured). Throws TestTaskError when
   * the task does not exist or cannot be captured (a custom-execution task).
   */
  async run(request: TestRunRequest, signal: AbortSignal): Promise<ProcessResult> {
    if (signal.aborted) return { exitCode: null, output: 'The test run was cancelled before it started.', timedOut: false, durationMs: 0 };
    const workspaceTask: ResolvedTestTask | undefined = request.taskLabel ? await resolveTestTask(request.taskLabel, request.cwd) : undefined;
    const command = workspaceTask?.commandLine ?? request.command;
    const cwd = workspaceTask?.cwd ?? request.cwd;
    this.invocations += 1;
    const definition: TestTaskDefinition = {
      type: TEST_TASK_TYPE,
      command,
      cwd,
      invocation: `${Date.now().toString(36)}-${this.invocations}`,
    };
    const terminal = new ProcessTerminal(command, cwd, workspaceTask?.env, workspaceTask ? `tasks.json "${workspaceTask.label}": ` : '', request.baseline ?? false);
    const task = new vscode.Task(definition, this.scope, request.label, TASK_SOURCE, new vscode.CustomExecution(async () => terminal));
    task.group = vscode.TaskGroup.Test;
    // Always, not Silent: Silent reveals only a task that ends non-zero, and neither the baseline
    // (exit 0 by design) nor a passing gate does; the user must see their tests run. No focus stolen.
    task.presentationOptions = {
      reveal: vscode.TaskRevealKind.Always,
      focus: false,
      panel: vscode.TaskPanelKind.Shared,
      clear: true,
      showReuseMessage: false,
    };

    const timer = setTimeout(() => terminal.stop('timeout', request.timeoutMs), request.timeoutMs);
    const onAbort = (): void => terminal.stop('abort');
    signal.addEventListener('abort', onAbort, { once: true });
    // If VS Code ends the task without ever opening the terminal, the result must still settle.
    const ended = vscode.tasks.onDidEndTask((event) => {
      if ((event.execution.task.definition as Partial<TestTaskDefinition>).invocation === definition.invocation) terminal.taskEnded();
    });
    try {
      try {
        await vscode.tasks.executeTask(task);
      } catch (error) {
        throw new Error(
          `VS Code could not start the test task "${request.label}" (${error instanceof Error ? error.message : String(error)}). ` +
            'Tasks do not run in an untrusted workspace: trust the workspace, or run the tests from a terminal.',
        );
      }
      return await terminal.result;
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      ended.dispose();
      terminal.dispose();
    }
  }
}

/** A pseudoterminal that runs one shell command in its own process group. */
class ProcessTerminal implements vscode.Pseudoterminal {
  private readonly writeEmitter = new vscode.EventEmitter<string>();
  private readonly closeEmitter = new vscode.EventEmitter<number>();
  readonly onDidWrite = this.writeEmitter.event;
  readonly onDidClose = this.closeEmitter.event;

  readonly result: Promise<ProcessResult>;
  private resolveResult!: (result: ProcessResult) => void;
  private settled = false;
  private opened = false;
  private child: GroupedCommand | undefined;
  private killTimer: NodeJS.Timeout | undefined;
  private stopReason: { kind: 'timeout'; afterMs: number } | { kind: 'abort' } | { kind: 'closed' } | undefined;
  private startedAt = Date.now();
  private openedAt = Date.now();
  private readonly output = new OutputTail(MAX_CAPTURE_CHARS);

  constructor(
    private readonly command: string,
    private readonly cwd: string,
    /** A workspace task's own environment additions. */
    private readonly taskEnv: Record<string, string> = {},
    /** Shown before the command line (which task it came from). */
    private readonly origin = '',
    /** The run's baseline: failing tests are noted as already there, and the task does not end as failed. */
    private readonly baseline = false,
  ) {
    this.result = new Promise((resolve) => (this.resolveResult = resolve));
  }

  open(): void {
    this.opened = true;
    this.openedAt = Date.now();
    // Stopped (timeout, cancel) before VS Code opened the terminal: say so and end the task.
    if (this.stopReason) {
      this.writeLine(`[Software Maker] ${this.describeStop()} before the command started.`);
      this.closeTerminal(1);
      return;
    }
    this.writeLine(`> ${this.origin}${this.command}`);
    this.startedAt = Date.now();
    // No provider key, even one the task's own env names: tasks.json is the repository's, not the user's.
    const env = childEnvironment({ ...process.env, FORCE_COLOR: '0', ...this.taskEnv });
    // Inherited from the extension host; it would make Electron apps the tests start behave as Node.
    delete env.ELECTRON_RUN_AS_NODE;
    let child: GroupedCommand;
    try {
      // Its own process group, which dies with the extension host even when that is killed hard.
      child = startInProcessGroup(this.command, { cwd: this.cwd, env });
    } catch (error) {
      this.finish(null, `Could not start "${this.command}" in ${this.cwd}: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    this.child = child;
    child.stdout?.setEncoding('utf8');
    child.stderr?.setEncoding('utf8');
    child.stdout?.on('data', (text: string) => this.append(text));
    child.stderr?.on('data', (text: string) => this.append(text));
    child.on('error', (error: Error) => {
      this.finish(null, `Could not run "${this.command}" in ${this.cwd}: ${error.message}. Check the folder exists and the test command is right (softwareMaker.testCommand).`);
    });
    // 'close' (not 'exit'): all output has been read by then.
    child.on('close', (code: number | null) => this.finish(code));
  }

  /** VS Code closed the terminal (the user closed it or ran "Terminate Task"). */
  close(): void {
    this.stop('closed');
  }

  stop(kind: 'timeout' | 'abort' | 'closed', afterMs = 0): void {
    if (this.settled || this.stopReason) return;
    this.stopReason = kind === 'timeout' ? { kind, afterMs } : { kind };
    if (!this.child) {
      // Never spawned: nothing to kill; the result settles now.
      this.finish(null);
      return;
    }
    this.killGroup('SIGTERM');
    this.killTimer = setTimeout(() => this.killGroup('SIGKILL'), KILL_GRACE_MS);
  }

  /** The task ended; if it never opened this terminal, nothing else will settle the result. */
  taskEnded(): void {
    if (!this.opened) this.finish(null, 'VS Code ended the test task before it started the command.');
  }

  dispose(): void {
    // The run is over for the caller: nothing may keep running behind its back.
    this.child?.dispose();
    if (this.killTimer) clearTimeout(this.killTimer);
  }

  private append(text: string): void {
    this.output.append(text);
    // Terminals need carriage returns; lone \n would staircase the output.
    this.writeEmitter.fire(text.replace(/\r?\n/g, '\r\n'));
  }

  private finish(exitCode: number | null, problem?: string): void {
    if (this.settled) return;
    this.settled = true;
    if (this.killTimer) clearTimeout(this.killTimer);
    if (problem) this.output.append(`\n${problem}\n`);
    const durationMs = Date.now() - this.startedAt;
    const timedOut = this.stopReason?.kind === 'timeout';
    if (this.stopReason) this.output.append(`\n[Software Maker] ${this.describeStop()}; the process was killed.\n`);
    if (this.opened) {
      if (problem) this.writeLine(problem);
      this.writeLine(
        this.stopReason
          ? `[Software Maker] ${this.describeStop()}; the process was killed.`
          : `[Software Maker] exit code ${exitCode ?? 'none'} after ${(durationMs / 1000).toFixed(1)} s`,
      );
      const expected = this.baseline && !this.stopReason && exitCode !== 0;
      if (expected) this.writeLine('[Software Maker] This is the baseline, run before any change: these failures were already there, and tasks are not blamed for them.');
      this.closeTerminal(expected ? 0 : (exitCode ?? 1));
    }
    this.resolveResult({ exitCode: this.stopReason ? null : exitCode, output: this.output.text(), timedOut, durationMs });
  }

  private describeStop(): string {
    switch (this.stopReason?.kind) {
      case 'timeout':
        return `Timed out after ${Math.round(this.stopReason.afterMs / 1000)} s (softwareMaker.testTimeoutSeconds)`;
      case 'abort':
        return 'Cancelled';
      case 'closed':
        return 'The task was terminated';
      default:
        return 'Stopped';
    }
  }

  private killGroup(signal: NodeJS.Signals): void {
    this.child?.signal(signal);
  }

  /**
   * The emitters live until the terminal is closed: VS Code may open it after the caller gave up.
   * A terminal that ends with a non-zero code within VS Code's launch window (500 ms) is reported as
   * "failed to launch", which is false for a quick failing test suite; so the close waits that window
   * out. The caller's result is not delayed: it resolved already.
   */
  private closeTerminal(exitCode: number): void {
    closeTaskTerminal(this.openedAt, this.writeEmitter, this.closeEmitter, exitCode);
  }

  private writeLine(line: string): void {
    this.writeEmitter.fire(terminalLine(line));
  }
}

/** Keeps the last `limit` characters of a stream, noting how much was dropped. */
class OutputTail {
  private chunks: string[] = [];
  private length = 0;
  private dropped = 0;

  constructor(private readonly limit: number) {}

  append(text: string): void {
    this.chunks.push(text);
    this.length += text.length;
    // Compact only now and then, so appending stays cheap.
    if (this.length > this.limit * 1.5) this.compact();
  }

  text(): string {
    this.compact();
    const joined = this.chunks.join('');
    return this.dropped > 0 ? `[... ${this.dropped} characters of earlier output dropped ...]\n${joined}` : joined;
  }

  private compact(): void {
    if (this.length <= this.limit) return;
    const joined = this.chunks.join('');
    const tail = joined.slice(joined.length - this.limit);
    this.dropped += joined.length - tail.length;
    this.chunks = [tail];
    this.length = tail.length;
  }
}
