// Starts commands in process groups of their own, so one signal stops everything a command started
// (npm → node → a server a test forgot to close), and so those groups die with us even when we are
// killed hard (kill -9, a crashed editor), when no code of ours runs to clean up.
//
// On POSIX every command is started by one small Node process of ours, the process host, not by us.
// Starting a process from a large one blocks it while fork copies its page tables (`npm run bench`:
// 7 ms at 256 MB, 24 ms at 506 MB), during which no event of any other task is handled; handed to
// the 40 MB host it costs us an IPC message. The host holds an IPC channel
// from us; when it closes (we are gone, however we died) the host kills every group it started.
// Windows has no process groups: commands run directly and taskkill ends their tree.
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { PassThrough, type Readable } from 'node:stream';

const IS_WINDOWS = process.platform === 'win32';

// Plain CommonJS run with `node -e`. Messages are ordered on the channel: a command's output comes
// before its end, its start before any signal for it. SIGTERM and friends end the host like a lost
// channel does, groups first; it is detached, so a terminal's Ctrl-C reaches us, not it.
const HOST_SCRIPT = `
const { spawn } = require('node:child_process');
const children = new Map();
const send = (message) => { if (process.connected) process.send(message); };
const killGroup = (child, signal) => { try { process.kill(-child.pid, signal); } catch {} };
const killAll = () => { for (const child of children.values()) killGroup(child, 'SIGKILL'); process.exit(0); };
process.on('disconnect', killAll);
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, killAll);
process.on('message', (message) => {
  const { op, id } = message;
  if (op === 'start') {
    let child;
    try {
      child = spawn(message.file, message.args, { shell: message.shell, cwd: message.cwd, env: message.env, detached: true, stdio: [message.input ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    } catch (error) {
      send({ op: 'error', id, message: String((error && error.message) || error) });
      return;
    }
    child.on('error', (error) => send({ op: 'error', id, message: error.message }));
    if (child.pid === undefined) return;
    children.set(id, child);
    send({ op: 'spawned', id, pid: child.pid });
    if (message.input) {
      child.stdin.on('error', () => {});
      child.stdin.end(message.input);
    }
    for (const [fd, stream] of [[1, child.stdout], [2, child.stderr]]) {
      stream.on('data', (data) => send({ op: 'data', id, fd, data }));
      stream.on('close', () => send({ op: 'end', id, fd }));
    }
    child.on('exit', (code, signal) => send({ op: 'exit', id, code, signal }));
  } else if (op === 'signal' || op === 'forget') {
    const child = children.get(id);
    if (!child) return;
    killGroup(child, op === 'signal' ? message.signal : 'SIGKILL');
    if (op === 'forget') children.delete(id);
  }
});
`;

type HostReply =
  | { op: 'spawned'; id: number; pid: number }
  | { op: 'data'; id: number; fd: 1 | 2; data: Buffer }
  | { op: 'end'; id: number; fd: 1 | 2 }
  | { op: 'exit'; id: number; code: number | null; signal: NodeJS.Signals | null }
  | { op: 'error'; id: number; message: string };

type HostRequest =
  | { op: 'start'; id: number; file: string; args: string[]; shell: boolean; cwd: string; env: NodeJS.ProcessEnv; input?: Buffer }
  | { op: 'signal'; id: number; signal: NodeJS.Signals }
  | { op: 'forget'; id: number };

/**
 * A command running in its own process group. Events, like a ChildProcess's but about the command:
 * 'exit' (code, signal) when the command ended, 'close' (code) when it ended and its output ended
 * too, 'error' (Error) when it could not start.
 */
export abstract class GroupedCommand extends EventEmitter {
  abstract readonly stdout: Readable;
  abstract readonly stderr: Readable;
  /** The group's id once it has started (the host reports it a moment after the start). */
  abstract readonly pid: number | undefined;
  /** Signals every process of the group, also when its id is not known yet. */
  abstract signal(signal: NodeJS.Signals): void;
  /** Ends whatever is left of the group (children the command left running) and its output. */
  abstract dispose(): void;

  private exitCode: number | null | undefined;
  private outputOpen = 2;

  protected noteExit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.exitCode !== undefined) return;
    this.exitCode = code;
    this.emit('exit', code, signal);
    this.closeIfDone();
  }

  protected noteOutputEnd(): void {
    this.outputOpen -= 1;
    this.closeIfDone();
  }

  private closeIfDone(): void {
    if (this.exitCode === undefined || this.outputOpen > 0) return;
    this.outputOpen = -1;
    this.emit('close', this.exitCode);
  }
}

/** A command the process host started: its output arrives on the host's channel. */
class HostedCommand extends GroupedCommand {
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  private groupId: number | undefined;
  private disposed = false;

  constructor(
    private readonly host: ProcessHost,
    readonly id: number,
  ) {
    super();
    // Flowing from the start, as a child's pipes are read: output nobody listens to is dropped, and
    // the command still closes.
    for (const stream of [this.stdout, this.stderr]) stream.once('end', () => this.noteOutputEnd()).resume();
    this.once('close', () => host.ended(this));
    // Always listened to, so a failed start reaches the caller's listener, never an uncaught 'error'.
    this.on('error', () => host.ended(this));
  }

  get pid(): number | undefined {
    return this.groupId;
  }

  signal(signal: NodeJS.Signals): void {
    this.host.signal(this, signal);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.host.forget(this);
    for (const stream of [this.stdout, this.stderr]) stream.destroy();
  }

  /** What the host said about this command. */
  receive(reply: HostReply): void {
    switch (reply.op) {
      case 'spawned':
        this.groupId = reply.pid;
        return;
      case 'data':
        if (!this.disposed) (reply.fd === 1 ? this.stdout : this.stderr).write(reply.data);
        return;
      case 'end':
        (reply.fd === 1 ? this.stdout : this.stderr).end();
        return;
      case 'exit':
        this.noteExit(reply.code, reply.signal);
        return;
      case 'error':
        this.emit('error', new Error(reply.message));
        return;
    }
  }

  /** The host died under the command: its group goes too (it would run unwatched), and it is reported ended. */
  lost(): void {
    if (this.groupId === undefined) {
      this.emit('error', new Error('the process that starts commands stopped before this one started'));
      return;
    }
    killGroup(this.groupId, 'SIGKILL');
    this.noteExit(null, 'SIGKILL');
    for (const stream of [this.stdout, this.stderr]) stream.end();
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is gone already.
  }
}

/** The one small process that starts commands for this one; started on first use, again if it dies. */
class ProcessHost {
  private child: ChildProcess | undefined;
  private nextId = 1;
  private readonly commands = new Map<number, HostedCommand>();
  /** Commands that have not ended yet: while there are any, the channel keeps us alive to hear how they end. */
  private readonly running = new Set<number>();

  start(request: { file: string; args: string[]; shell: boolean; cwd: string; env: NodeJS.ProcessEnv; input?: Buffer }): GroupedCommand {
    const child = this.child ?? this.launch();
    const command = new HostedCommand(this, this.nextId++);
    this.commands.set(command.id, command);
    this.running.add(command.id);
    if (this.running.size === 1) child.channel?.ref();
    this.send({ op: 'start', id: command.id, ...request });
    return command;
  }

  /** The command ended (or never started); its group is still killed with the host until it is forgotten. */
  ended(command: HostedCommand): void {
    if (this.running.delete(command.id) && this.running.size === 0) this.child?.channel?.unref();
  }

  signal(command: HostedCommand, signal: NodeJS.Signals): void {
    if (this.commands.has(command.id)) this.send({ op: 'signal', id: command.id, signal });
  }

  forget(command: HostedCommand): void {
    this.ended(command);
    if (!this.commands.delete(command.id)) return;
    this.send({ op: 'forget', id: command.id });
  }

  private send(request: HostRequest): void {
    // A host that is gone has already reported its commands lost (launch's 'exit').
    if (this.child?.connected) this.child.send(request, (error) => error && this.child?.kill('SIGKILL'));
  }

  private launch(): ChildProcess {
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '' };
    // In VS Code's extension host process.execPath is Electron: this makes it run the host as Node.
    if (process.versions.electron) env.ELECTRON_RUN_AS_NODE = '1';
    const child = spawn(process.execPath, ['-e', HOST_SCRIPT], { cwd: '/', env, detached: true, stdio: ['ignore', 'ignore', 'ignore', 'ipc'], serialization: 'advanced' });
    this.child = child;
    child.unref();
    child.channel?.unref();
    child.on('message', (reply: HostReply) => this.commands.get(reply.id)?.receive(reply));
    child.on('error', () => undefined);
    child.on('exit', () => {
      if (this.child === child) this.child = undefined;
      const lost = [...this.commands.values()];
      this.commands.clear();
      this.running.clear();
      for (const command of lost) command.lost();
    });
    return child;
  }
}

let host: ProcessHost | undefined;

/** A Windows command, run directly (no process groups there); taskkill ends its tree. */
class DirectCommand extends GroupedCommand {
  readonly stdout: Readable;
  readonly stderr: Readable;
  private disposed = false;

  constructor(
    private readonly child: ChildProcess,
    input?: Buffer,
  ) {
    super();
    if (input) {
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(input);
    }
    this.stdout = child.stdout!;
    this.stderr = child.stderr!;
    for (const stream of [this.stdout, this.stderr]) stream.once('close', () => this.noteOutputEnd());
    child.on('error', (error) => this.emit('error', error));
    child.on('exit', (code, signal) => this.noteExit(code, signal));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  signal(): void {
    if (this.child.pid === undefined) return;
    spawn('taskkill', ['/pid', String(this.child.pid), '/T', '/F'], { stdio: 'ignore', windowsHide: true }).on('error', () => undefined);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.signal();
    for (const stream of this.child.stdio) stream?.destroy();
  }
}

/** Starts `command` through the shell in `cwd` with exactly `env`, in a process group of its own. */
export function startInProcessGroup(command: string, options: { cwd: string; env: NodeJS.ProcessEnv }): GroupedCommand {
  return start({ file: command, args: [], shell: true, cwd: options.cwd, env: options.env });
}

/** Starts a program (no shell) in a group of its own, fed `input` when given. */
export function startProgram(file: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; input?: string | Buffer }): GroupedCommand {
  return start({ file, args, shell: false, cwd: options.cwd, env: options.env, input: options.input === undefined ? undefined : Buffer.from(options.input) });
}

function start(request: { file: string; args: string[]; shell: boolean; cwd: string; env: NodeJS.ProcessEnv; input?: Buffer }): GroupedCommand {
  if (!IS_WINDOWS) return (host ??= new ProcessHost()).start(request);
  const { file, args, shell, cwd, env, input } = request;
  return new DirectCommand(spawn(file, args, { cwd, env, shell, windowsHide: true, stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'] }), input);
}

/** Runs a program to its end: git for the checkpoints, many times a run, which is why it goes through the host too. */
export function runProgram(file: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; input?: string | Buffer }): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: Buffer; stderr: Buffer }> {
  return new Promise((resolve, reject) => {
    const child = startProgram(file, args, options);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let signal: NodeJS.Signals | null = null;
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', (error: Error) => {
      child.dispose();
      reject(error);
    });
    child.on('exit', (_code: number | null, ended: NodeJS.Signals | null) => (signal = ended));
    child.on('close', (code: number | null) => {
      child.dispose();
      resolve({ code, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err) });
    });
  });
}
