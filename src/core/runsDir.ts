// Where runs live: one folder per run with its events.jsonl and artifacts.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const STATE_DIR = '.software-maker';

/**
 * This user's state folder on this machine (`$XDG_STATE_HOME/software-maker`, else
 * `~/.local/state/software-maker`): outside every workspace, shared by the CLI and VS Code, so a run
 * one of them created is this machine's own in the other too.
 */
export function userStateDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'software-maker');
}

/** `<root>/.software-maker/runs`; the state folder gets a .gitignore of `*` so it is visible but never committed. */
export function defaultRunsDir(workspaceRoot: string): string {
  return join(workspaceRoot, STATE_DIR, 'runs');
}

export async function ensureRunsDir(runsDir: string): Promise<void> {
  await mkdir(runsDir, { recursive: true });
  if (runsDir.endsWith(join(STATE_DIR, 'runs'))) {
    await writeFile(join(runsDir, '..', '.gitignore'), '*\n', { flag: 'wx' }).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
  }
}

/** Sortable, unique run id: time first so folder order is creation order. */
export function newRunId(now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z').replace('T', '-');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

export async function listRunIds(runsDir: string): Promise<string[]> {
  try {
    const entries = await readdir(runsDir, { withFileTypes: true });
    return entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort().reverse();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}
