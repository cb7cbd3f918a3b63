// Starts a shell command in a process group of its own, so one signal stops everything it started
// (npm → node → a server a test forgot to close), and so that group dies with us even when we are
// killed hard (kill -9, a crashed editor), when no code of ours runs to clean up.
//
// On POSIX the command runs under a tiny guard: a Node process that leads the group, starts the
// command in it, and holds a pipe from us. When the pipe closes (we are gone), the guard kills the
// group. The guard reports the command's exit on a pipe of its own and lives until the group is
// killed. Windows has no process groups: the command runs directly and taskkill ends its tree.
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';

const IS_WINDOWS = process.platform === 'win32';

// Plain CommonJS run with `node -e`: argv is [command, keepElectronRunAsNode].
// SIGTERM is ignored so the guard can still report how the command ended; SIGKILL ends it.
const GUARD_SCRIPT = `
const { spawn } = require('node:child_process');
const { closeSync, writeSync } = require('node:fs');
const [command, keepElectron] = process.argv.slice(1);
const report = (status) => { try { writeSync(3, JSON.stringify(status) + '\\n'); } catch {} };
const killGroup = () => { try { process.kill(-process.pid, 'SIGKILL'); } catch {} process.exit(137); };
process.on('SIGTERM', () => {});
process.stdin.on('end', killGroup);
process.stdin.on('error', killGroup);
process.stdin.resume();
const env = { ...process.env };
if (keepElectron !== '1') delete env.ELECTRON_RUN_AS_NODE;
let child;
try {
  child = spawn(command, { shell: true, stdio: ['ignore', 1, 2], env });
} catch (error) {
  report({ error: String(error && error.message) });
  process.exit(127);
}
child.on('error', (error) => report({ error: error.message }));
child.on('exit', (code, signal) => report({ code, signal }));
// Only the command holds the output pipes now: they end when it (and what it started) is done.
closeSync(1);
closeSync(2);
`;

type GuardStatus = { code: number | null; signal: NodeJS.Signals | null } | { error: string };

/**
 * A command running in its own process group. Events, like a ChildProcess's but about the command:
 * 'exit' (code, signal) when the command ended, 'close' (code) when it ended and its output ended
 * too, 'error' (Error) when it could not start.
 */
export class GroupedCommand extends EventEmitter {
  readonly stdout: Readable;
  readonly stderr: Readable;
  private exitCode: number | null | undefined;
  private outputOpen = 2;
  private disposed = false;

  /** `guarded`: the child is the guard, which reports the command's exit on its fd 3. */
  constructor(
    private readonly child: ChildProcess,
    guarded: boolean,
  ) {
    super();
    this.stdout = child.stdout!;
    this.stderr = child.stderr!;
    for (const stream of [this.stdout, this.stderr]) {
      stream.once('close', () => {
        this.outputOpen -= 1;
        this.closeIfDone();
      });
    }
    child.on('error', (error) => this.emit('error', error));
    // Without a guard the child is the command; with one, a guard that died before it could report
    // was killed with its group, and the command with it.
    child.on('exit', (code, signal) => (guarded ? this.noteExit(null, signal ?? 'SIGKILL') : this.noteExit(code, signal)));
    if (guarded) this.readStatus(child.stdio[3] as Readable);
  }

  /** The group's id (the guard's pid), undefined when it never started. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Signals every process of the group. */
  signal(signal: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (pid === undefined) return;
    try {
      if (IS_WINDOWS) {
        spawn('taskkill', ['/pid', String(pid), '/T', '/F'], { stdio: 'ignore', windowsHide: true }).on('error', () => undefined);
      } else {
        process.kill(-pid, signal);
      }
    } catch {
      // ESRCH: the group is gone already.
    }
  }

  /** Ends whatever is left of the group (the guard, children the command left running) and its output. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.signal('SIGKILL');
    for (const stream of this.child.stdio) stream?.destroy();
  }

  private noteExit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.exitCode !== undefined) return;
    this.exitCode = code;
    this.emit('exit', code, signal);
    this.closeIfDone();
  }

  private readStatus(pipe: Readable): void {
    let text = '';
    pipe.setEncoding('utf8');
    pipe.on('data', (chunk: string) => {
      text += chunk;
      const end = text.indexOf('\n');
      if (end < 0) return;
      const status = JSON.parse(text.slice(0, end)) as GuardStatus;
      if ('error' in status) this.emit('error', new Error(status.error));
      else this.noteExit(status.code, status.signal);
    });
  }

  private closeIfDone(): void {
    if (this.exitCode === undefined || this.outputOpen > 0) return;
    this.outputOpen = -1;
    this.emit('close', this.exitCode);
  }
}

/** Starts `command` through the shell in `cwd` with exactly `env`, in a process group of its own. */
export function startInProcessGroup(command: string, options: { cwd: string; env: NodeJS.ProcessEnv }): GroupedCommand {
  if (IS_WINDOWS) {
    return new GroupedCommand(spawn(command, { cwd: options.cwd, env: options.env, shell: true, windowsHide: true, stdio: ['ignore', 'pipe', 'pipe'] }), false);
  }
  // In VS Code's extension host process.execPath may be Electron: this makes it run the guard as Node.
  const guardEnv: NodeJS.ProcessEnv = process.versions.electron ? { ...options.env, ELECTRON_RUN_AS_NODE: '1' } : options.env;
  const keepElectron = options.env.ELECTRON_RUN_AS_NODE !== undefined ? '1' : '0';
  const guard = spawn(process.execPath, ['-e', GUARD_SCRIPT, command, keepElectron], {
    cwd: options.cwd,
    env: guardEnv,
    detached: true,
    // stdin is the lifeline: never written, closed only when this process is gone.
    stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
  });
  guard.stdin?.on('error', () => undefined);
  return new GroupedCommand(guard, true);
}
