// Building blocks for attacks: hostile workspaces, an isolated user state for CLI runs, kill points.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { calculatorWorkspace, tempDir } from '../unit/helpers';

/** A copy of the calculator sample with the given files planted in it (paths relative to its root). */
export async function hostileWorkspace(planted: Record<string, string> = {}): Promise<string> {
  const root = await calculatorWorkspace();
  for (const [rel, content] of Object.entries(planted)) {
    await mkdir(dirname(join(root, rel)), { recursive: true });
    await writeFile(join(root, rel), content);
  }
  return root;
}

/**
 * Environment for a CLI process that owns nothing of the real user's: its own HOME and XDG folders
 * (checkpoints, trust records), and no provider keys unless given.
 */
export async function isolatedUserEnv(extra: NodeJS.ProcessEnv = {}): Promise<NodeJS.ProcessEnv> {
  const home = await tempDir('sm-adv-home-');
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) if (/_API_KEY$|^SOFTWARE_MAKER_/.test(name)) delete env[name];
  return {
    ...env,
    HOME: home,
    XDG_STATE_HOME: join(home, '.local', 'state'),
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_CACHE_HOME: join(home, '.cache'),
    ...extra,
  };
}

/** Resolves when `file` contains `needle` (polling; the file may not exist yet). */
export async function waitForText(file: string, needle: string | RegExp, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await readFile(file, 'utf8').catch(() => '');
    if (typeof needle === 'string' ? text.includes(needle) : needle.test(text)) return text;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${String(needle)} in ${file}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** kill -9 and wait until the process is gone. */
export async function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await gone;
}

/** Starts the built CLI without waiting for it (kill points). */
export function spawnCli(cli: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string): ChildProcess {
  return spawn(process.execPath, [cli, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
}
