// The CLI as it ships, for tests that run it. Kept out of helpers.ts because the in-editor suite
// (test/host) bundles helpers.ts, and this module's esbuild import must not be bundled with it.
import { join } from 'node:path';
import { REPO, tempDir } from './helpers';

let cliBundle: Promise<string> | undefined;

/**
 * The CLI as it ships (one esbuild bundle run by node), built once per test process. playwright-core
 * stays external as in esbuild.mjs: a test that runs the web tester gives the CLI NODE_PATH.
 */
export function buildCli(): Promise<string> {
  cliBundle ??= (async () => {
    const out = await tempDir('sm-cli-');
    const file = join(out, 'cli.js');
    const esbuild = await import('esbuild');
    await esbuild.build({ entryPoints: [join(REPO, 'src/cli/main.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node22', outfile: file, logLevel: 'error', external: ['playwright-core'] });
    return file;
  })();
  return cliBundle;
}
