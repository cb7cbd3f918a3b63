import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { REPO } from './helpers';

describe('the webview bundle', function () {
  this.timeout(60_000);

  it('carries no zod: the webview imports the protocol types, the host validates with the schemas', async () => {
    const esbuild = await import('esbuild');
    const result = await esbuild.build({
      entryPoints: { webview: join(REPO, 'webview/main.ts') },
      bundle: true,
      platform: 'browser',
      format: 'iife',
      target: 'es2022',
      minify: true,
      write: false,
      metafile: true,
      outdir: join(REPO, 'out', 'bundle-check'),
      loader: { '.ttf': 'file', '.css': 'css' },
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    assert.ok(inputs.some((input) => input.includes('webview/main.ts')), 'the metafile lists the bundle\'s inputs');
    const forbidden = inputs.filter((input) => /node_modules\/zod\/|src\/shared\/(protocolSchemas|runConfig|settingsSchema)\.ts$/.test(input));
    assert.deepEqual(forbidden, [], 'host-side validation reached the webview bundle');
  });
});
