import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { tempDir } from './helpers';
import { buildCli } from './builtCli';

/** Runs the built CLI with its stdout read by nobody: the reading end is closed before the CLI writes. */
function runIntoClosedReader(cli: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    // Closed in the same tick as the spawn: the child cannot have booted, let alone written, yet.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
}

describe('CLI output into a closed pipe (software-maker status | head)', function () {
  this.timeout(60_000);

  it('exits quietly, without an EPIPE stack trace, for status and for help', async () => {
    const cli = await buildCli();
    const workspace = await tempDir('sm-pipe-');
    const env = { XDG_STATE_HOME: await tempDir('sm-state-') };
    for (const args of [['status', '--workspace', workspace], ['--help']]) {
      const result = await runIntoClosedReader(cli, args, env);
      assert.equal(result.stderr, '', `${args.join(' ')} wrote to stderr: ${result.stderr}`);
      assert.equal(result.code, 0, args.join(' '));
    }
  });
});
