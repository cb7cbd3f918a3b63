// Runs the real VS Code workbench and extension host (code-server) offline, and drives it with
// Playwright in Debian's Chromium. The recipe and its traps are in /work/shared/e2e/README.md:
// code-server 4.117.0 on Node 22, own process group, every state dir under a short RUN folder.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, rmSync, type WriteStream } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Root of the repository (this file is test/harness/codeServer.ts). */
export const repoRoot = path.resolve(__dirname, '..', '..');

/** Generous on 2 busy cores: the server listens in ~1 s, the workbench shows in 6–12 s. */
const LISTEN_TIMEOUT_MS = 60_000;

/** Settings that keep the workbench quiet and offline; per-test settings are merged over them. */
export const QUIET_SETTINGS: Readonly<Record<string, unknown>> = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'extensions.ignoreRecommendations': true,
  // code-server 4.117's built-in git extension cannot activate (missing @vscode/fs-copyfile).
  'git.enabled': false,
  'chat.disableAIFeatures': true,
  'security.workspace.trust.enabled': false,
  // files.autoSave stays at code-server's default (afterDelay): the edit applier must land edits
  // while VS Code auto-saves the same documents (test/host/editApplierFileOps.test.ts, "auto-save").
};

let cachedNodeBin: string | undefined;
let machineState: Promise<string> | undefined;
let cachedCodeServerDir: string | undefined;

/** Bin folder of the Node 22 toolchain (scripts/node22.sh installs it when missing). */
export function node22Bin(): string {
  cachedNodeBin ??= lastLine(execFileSync('bash', [path.join(repoRoot, 'scripts', 'node22.sh')], { encoding: 'utf8' }));
  return cachedNodeBin;
}

/** Package folder of code-server (scripts/install-code-server.sh installs it when missing). */
export function codeServerDir(): string {
  cachedCodeServerDir ??= lastLine(
    execFileSync('bash', [path.join(repoRoot, 'scripts', 'install-code-server.sh')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  );
  const entry = path.join(cachedCodeServerDir, 'out', 'node', 'entry.js');
  if (!existsSync(entry)) {
    throw new Error(`code-server is not installed: ${entry} is missing. Run: bash scripts/install-code-server.sh`);
  }
  return cachedCodeServerDir;
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n');
  return lines[lines.length - 1].trim();
}

export interface CodeServerOptions {
  /** User settings merged over QUIET_SETTINGS. */
  settings?: Record<string, unknown>;
  /** Where stop() copies the server log and the workbench/extension-host logs. */
  artifactsDir?: string;
  /** Extra environment for the server (its extension hosts and tasks inherit it). */
  env?: Record<string, string>;
  /** Keep workspace trust on (default: off, --disable-workspace-trust): for Restricted Mode scenarios; the user settings must enable it too. */
  workspaceTrust?: boolean;
}

/** Process groups still running; killed when this process exits, whatever the reason. */
const liveGroups = new Set<number>();
let exitHookInstalled = false;
/** Temp folders still in use; removed when this process exits (unless SM_KEEP_RUN=1). */
const liveTempDirs = new Set<string>();
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pgid of liveGroups) killGroup(pgid, 'SIGKILL');
    if (process.env.SM_KEEP_RUN === '1') return;
    for (const dir of liveTempDirs) {
      try {
        rmSync(dir, { recursive: true, force: true });
      } catch {
        // best effort at exit
      }
    }
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      for (const pgid of liveGroups) killGroup(pgid, 'SIGKILL');
      process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
    });
  }
}

/** A short temp folder (/tmp/<prefix>XXXXXX) that is removed at process exit if not removed before. */
export async function makeTempDir(prefix: string): Promise<string> {
  installExitHook();
  const dir = await mkdtemp(path.join('/tmp', prefix));
  liveTempDirs.add(dir);
  return dir;
}

/** Removes a folder made by makeTempDir (kept when SM_KEEP_RUN=1). */
export async function removeTempDir(dir: string): Promise<void> {
  liveTempDirs.delete(dir);
  if (process.env.SM_KEEP_RUN !== '1') await rm(dir, { recursive: true, force: true }).catch(() => undefined);
}

function killGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false; // already gone
  }
}

/**
 * One code-server instance with its own user data, extensions, config, XDG dirs and TMPDIR under a
 * short RUN folder (unix socket paths are limited to ~107 bytes).
 */
export class CodeServer {
  /** HTTP port, known after start(). */
  port = 0;
  private child: ChildProcess | undefined;
  private log: WriteStream | undefined;
  private logText = '';
  private stopped = false;

  private constructor(
    /** The RUN folder: user-data, extensions, config.yaml, xdg, tmp. */
    readonly runDir: string,
    readonly logFile: string,
    private readonly options: CodeServerOptions,
    private readonly machineStateDir: string,
  ) {}

  /** Creates the RUN folder and the quiet user settings; call installExtension() and start() next. */
  static async create(options: CodeServerOptions = {}): Promise<CodeServer> {
    const runDir = await makeTempDir('sm-');
    for (const dir of ['user-data/User', 'extensions', 'xdg/config', 'xdg/data', 'xdg/cache', 'xdg/runtime', 'tmp']) {
      await mkdir(path.join(runDir, dir), { recursive: true, mode: 0o700 });
    }
    await writeFile(path.join(runDir, 'config.yaml'), 'auth: none\n');
    const settings = { ...QUIET_SETTINGS, ...options.settings };
    await writeFile(path.join(runDir, 'user-data', 'User', 'settings.json'), JSON.stringify(settings, null, 2));
    // Every server this process starts is one machine: they share the user's state folder, so a
    // restarted editor finds what the extension recorded there (runs created here, trust answers).
    machineState ??= makeTempDir('sm-state-');
    return new CodeServer(runDir, path.join(runDir, 'code-server.log'), options, await machineState);
  }

  /** Creates a RUN folder, installs the given VSIX files and starts the server. */
  static async start(options: CodeServerOptions & { vsix?: string[] } = {}): Promise<CodeServer> {
    const server = await CodeServer.create(options);
    try {
      for (const vsix of options.vsix ?? []) await server.installExtension(vsix);
      await server.start();
      return server;
    } catch (error) {
      await server.stop();
      throw error;
    }
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Text the server printed so far (stdout and stderr). */
  get output(): string {
    return this.logText;
  }

  private commonArgs(): string[] {
    return [
      path.join(codeServerDir(), 'out', 'node', 'entry.js'),
      '--auth', 'none',
      '--disable-telemetry',
      '--disable-update-check',
      ...(this.options.workspaceTrust ? [] : ['--disable-workspace-trust']),
      '--disable-getting-started-override',
      '--user-data-dir', path.join(this.runDir, 'user-data'),
      '--extensions-dir', path.join(this.runDir, 'extensions'),
      '--config', path.join(this.runDir, 'config.yaml'),
    ];
  }

  private env(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    // A parent VS Code (or an npm run) must not leak its IPC hooks or node options into the server.
    for (const [key, value] of Object.entries(process.env)) {
      if (/^(VSCODE_|ELECTRON_)/.test(key) || key === 'NODE_OPTIONS' || key.startsWith('npm_')) continue;
      env[key] = value;
    }
    return {
      ...env,
      PATH: `${node22Bin()}:${env.PATH ?? ''}`,
      XDG_CONFIG_HOME: path.join(this.runDir, 'xdg', 'config'),
      XDG_DATA_HOME: path.join(this.runDir, 'xdg', 'data'),
      XDG_CACHE_HOME: path.join(this.runDir, 'xdg', 'cache'),
      XDG_RUNTIME_DIR: path.join(this.runDir, 'xdg', 'runtime'),
      XDG_STATE_HOME: this.machineStateDir,
      TMPDIR: path.join(this.runDir, 'tmp'),
      NO_COLOR: '1',
      ...this.options.env,
    };
  }

  /** `code-server --install-extension x.vsix` into this RUN's extensions dir (before start()). */
  async installExtension(vsixPath: string): Promise<void> {
    const vsix = path.resolve(vsixPath);
    if (!existsSync(vsix)) throw new Error(`Cannot install extension: ${vsix} does not exist (run npm run package first).`);
    const out = await runToEnd(path.join(node22Bin(), 'node'), [...this.commonArgs(), '--install-extension', vsix], this.env(), 120_000);
    this.append(`$ code-server --install-extension ${vsix}\n${out.text}\n`);
    if (out.code !== 0 || !/successfully installed|already installed/i.test(out.text)) {
      throw new Error(`code-server --install-extension ${vsix} failed (exit ${out.code}):\n${out.text}`);
    }
  }

  /** Starts the server in its own process group and waits for its port. */
  async start(): Promise<void> {
    installExitHook();
    this.log = createWriteStream(this.logFile, { flags: 'a' });
    const child = spawn(path.join(node22Bin(), 'node'), [...this.commonArgs(), '--bind-addr', '127.0.0.1:0'], {
      cwd: this.runDir,
      env: this.env(),
      detached: true, // own process group: stop() kills the server, its extension hosts and their children
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    if (child.pid) liveGroups.add(child.pid);
    const onData = (chunk: Buffer): void => this.append(chunk.toString('utf8'));
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);

    this.port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`code-server did not print its port within ${LISTEN_TIMEOUT_MS / 1000} s. Log: ${this.logFile}\n${this.logText.slice(-3000)}`)), LISTEN_TIMEOUT_MS);
      const check = (): void => {
        const match = /HTTP server listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(this.logText);
        if (match) finish(undefined, Number(match[1]));
      };
      const onExit = (code: number | null, signal: string | null): void =>
        finish(new Error(`code-server exited before listening (code ${code}, signal ${signal}). Log: ${this.logFile}\n${this.logText.slice(-3000)}`));
      const finish = (error: Error | undefined, port?: number): void => {
        clearTimeout(timer);
        child.stdout?.off('data', check);
        child.stderr?.off('data', check);
        child.off('exit', onExit);
        if (error) reject(error);
        else resolve(port ?? 0);
      };
      child.stdout?.on('data', check);
      child.stderr?.on('data', check);
      child.once('exit', onExit);
      check();
    });
  }

  /** `http://127.0.0.1:PORT/?folder=/abs/ws[&payload=...]` */
  workbenchUrl(folder: string, payload?: [string, string][]): string {
    let url = `${this.baseUrl}/?folder=${encodeURIComponent(path.resolve(folder))}`;
    if (payload) url += `&payload=${encodeURIComponent(JSON.stringify(payload))}`;
    return url;
  }

  /** The server-side path as the workbench addresses it (extension development payloads). */
  remoteUri(absPath: string): string {
    return `vscode-remote://127.0.0.1:${this.port}${path.resolve(absPath)}`;
  }

  /** Kills the process group, copies logs to artifactsDir, removes the RUN folder (unless SM_KEEP_RUN=1). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const child = this.child;
    if (child?.pid) {
      const exited = child.exitCode !== null || child.signalCode !== null
        ? Promise.resolve()
        : new Promise<void>((resolve) => child.once('exit', () => resolve()));
      killGroup(child.pid, 'SIGTERM');
      const timedOut = await Promise.race([exited.then(() => false), delay(5_000).then(() => true)]);
      // The group may hold extension hosts and task processes that outlive the server: always SIGKILL what is left.
      killGroup(child.pid, 'SIGKILL');
      if (timedOut) await Promise.race([exited, delay(5_000)]);
      liveGroups.delete(child.pid);
    }
    await new Promise<void>((resolve) => (this.log ? this.log.end(() => resolve()) : resolve()));
    if (this.options.artifactsDir) {
      await mkdir(this.options.artifactsDir, { recursive: true });
      await cp(this.logFile, path.join(this.options.artifactsDir, 'code-server.log')).catch(() => undefined);
      await cp(path.join(this.runDir, 'user-data', 'logs'), path.join(this.options.artifactsDir, 'vscode-logs'), { recursive: true }).catch(() => undefined);
    }
    await removeTempDir(this.runDir);
  }

  private append(text: string): void {
    this.logText += text;
    this.log?.write(text);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function runToEnd(command: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number | null; text: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let text = '';
    child.stdout.on('data', (c: Buffer) => (text += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (text += c.toString('utf8')));
    const timer = setTimeout(() => {
      if (child.pid) killGroup(child.pid, 'SIGKILL');
      reject(new Error(`${path.basename(command)} ${args.slice(-2).join(' ')} did not finish within ${timeoutMs / 1000} s:\n${text}`));
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, text });
    });
  });
}

/** Chromium flags from the e2e README: offline, no GPU, no sandbox (root), no background traffic. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export interface BrowserSession {
  context: BrowserContext;
  page: Page;
  /** Closes the browser and removes its profile; safe to call twice. */
  close(): Promise<void>;
}

/** Debian's Chromium (or CHROMIUM_PATH) headless, with a fresh profile dir. */
export async function startBrowser(options: { viewport?: { width: number; height: number } } = {}): Promise<BrowserSession> {
  const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(executablePath)) {
    throw new Error(`Chromium not found at ${executablePath}: apt-get install -y chromium (or set CHROMIUM_PATH).`);
  }
  const profileDir = await makeTempDir('sm-chromium-');
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: options.viewport ?? { width: 1440, height: 900 },
      timeout: 120_000,
    });
  } catch (error) {
    await removeTempDir(profileDir);
    throw error;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  let closed = false;
  return {
    context,
    page,
    async close() {
      if (closed) return;
      closed = true;
      await Promise.race([context.close().catch(() => undefined), delay(20_000)]);
      await removeTempDir(profileDir);
    },
  };
}
