import { strict as assert } from 'node:assert';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { defaultRunsDir, ensureRunsDir, STATE_DIR } from '../../src/core/runsDir';
import { REPO } from './helpers';

interface Manifest {
  activationEvents: string[];
}

describe('activation (package.json) in a workspace that has runs', () => {
  it('activates at startup through a path VS Code checks directly, not through its search, which the state folder’s .gitignore hides the runs from', async () => {
    const manifest = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as Manifest;
    const root = await mkdtemp(join(tmpdir(), 'sm-activation-'));
    try {
      const runsDir = defaultRunsDir(root);
      await ensureRunsDir(runsDir);
      // The engine keeps its state out of the user's commits with a `*` .gitignore; VS Code's file
      // search (what a `workspaceContains:` glob runs) honours it, so a glob finds no run and the
      // offer to resume (or adopt) interrupted runs never shows. A pattern without wildcards is
      // checked as a path (stat), which no ignore file hides.
      assert.equal((await readFile(join(root, STATE_DIR, '.gitignore'), 'utf8')).trim(), '*');
      const runsPath = relative(root, runsDir).split('\\').join('/');
      const byPath = manifest.activationEvents
        .filter((event) => event.startsWith('workspaceContains:'))
        .map((event) => event.slice('workspaceContains:'.length))
        .filter((pattern) => !/[*?]/.test(pattern));
      assert.ok(
        byPath.some((pattern) => runsPath === pattern || runsPath.startsWith(`${pattern}/`)),
        `an activation event "workspaceContains:${runsPath}" (or a folder above it, without wildcards); found ${JSON.stringify(manifest.activationEvents)}`,
      );
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
