// Bundles the extension host, the CLI, the webview and the in-editor test suite.
// Type checking is separate (tsc --noEmit), so a build never waits on it.
import * as esbuild from 'esbuild';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

const common = {
  bundle: true,
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'warning',
  legalComments: 'none',
};

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
  {
    ...common,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    entryPoints: { webview: 'webview/main.ts' },
    outdir: 'dist',
    loader: { '.ttf': 'file', '.css': 'css' },
  },
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
await copyPlaywrightCore();

if (watch) {
  for (const options of builds) await (await esbuild.context(options)).watch();
} else {
  await Promise.all(builds.map((options) => esbuild.build(options)));
}
