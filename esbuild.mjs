// Bundles the extension host, the CLI, the webview and the in-editor test suite.
// Type checking is separate (tsc --noEmit), so a build never waits on it.
import * as esbuild from 'esbuild';
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

const commonOf = (production) => ({
  bundle: true,
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'warning',
  legalComments: 'none',
});
const common = commonOf(production);

/**
 * The panel's browser bundle (dist/webview.js and dist/webview.css). Exported so the bench
 * (bench/webviewFirstRender.ts) loads exactly what the VSIX ships in a real browser.
 */
export function webviewBuild(production) {
  return {
    ...commonOf(production),
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    entryPoints: { webview: 'webview/main.ts' },
    outdir: 'dist',
    loader: { '.ttf': 'file', '.css': 'css' },
  };
}

const node = {
  ...common,
  platform: 'node',
  format: 'cjs',
  target: 'node22',
  // playwright-core stays external: it is large and only the web tester loads it, lazily.
  external: ['vscode', 'playwright-core'],
  mainFields: ['module', 'main'],
};

const builds = [
  { ...node, entryPoints: { extension: 'src/host/extension.ts' }, outdir: 'dist' },
  { ...node, entryPoints: { cli: 'src/cli/main.ts' }, outdir: 'dist', banner: { js: '#!/usr/bin/env node' } },
  webviewBuild(production),
  // Runs inside the real extension host (see test/host); mocha stays external.
  { ...node, entryPoints: { 'suite/index': 'test/host/index.ts' }, outdir: 'out/test', external: ['vscode', 'mocha', 'playwright-core'] },
];

// playwright-core is external (above): the extension and the CLI load it from dist/node_modules,
// which the VSIX ships (.vscodeignore). Only what it runs from: no browsers, it never downloads one.
async function copyPlaywrightCore() {
  const { cp, rm } = await import('node:fs/promises');
  const target = 'dist/node_modules/playwright-core';
  await rm(target, { recursive: true, force: true });
  for (const entry of ['package.json', 'index.js', 'index.mjs', 'browsers.json', 'lib', 'LICENSE', 'NOTICE', 'ThirdPartyNotices.txt']) {
    await cp(`node_modules/playwright-core/${entry}`, `${target}/${entry}`, { recursive: true });
  }
}
// Builds only when run (node esbuild.mjs), not when the bench imports webviewBuild.
if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  await copyPlaywrightCore();
  if (watch) {
    for (const options of builds) await (await esbuild.context(options)).watch();
  } else {
    await Promise.all(builds.map((options) => esbuild.build(options)));
  }
}
