// The mocha runner that runs INSIDE the extension host (real `vscode` API). The workbench (code-server
// with an extensionTestsPath payload, or @vscode/test-electron) loads out/test/suite/index.js, calls
// run() and exits with 0/1 when the promise settles.
//
// esbuild bundles this file with the test files, so mocha cannot `require` them by path: each file is
// required inside the bundle (a glob require, so every test/host/**/*.test.ts is included) after
// emitting mocha's `pre-require` event, which is what puts describe/it/before... on globalThis.
//
// @vscode/test-cli (.vscode-test.mjs) instead loads this bundle as a mocha test FILE with its own
// runner: then describe() already exists when the bundle loads, and the test files register directly.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as mochaImport from 'mocha';

/** mocha 12 is ESM: require('mocha') may be the class, `{ default: Mocha }`, or deeper. */
function mochaConstructor(): typeof Mocha {
  let candidate: unknown = mochaImport;
  for (let depth = 0; depth < 3 && typeof candidate !== 'function'; depth++) {
    candidate = (candidate as { default?: unknown } | undefined)?.default;
  }
  if (typeof candidate !== 'function') throw new Error('Could not load mocha: require("mocha") has no constructor.');
  return candidate as typeof Mocha;
}

/** The test files, by name; the sources sit in test/host of the extension development folder. */
function testFileNames(): string[] {
  // Bundled to out/test/suite/index.js: the sources are ../../../test/host from here.
  const sourceDir = path.resolve(__dirname, '..', '..', '..', 'test', 'host');
  const names = fs.existsSync(sourceDir)
    ? fs.readdirSync(sourceDir, { recursive: true, encoding: 'utf8' })
        .map((name) => name.split(path.sep).join('/'))
        .filter((name) => name.endsWith('.test.ts'))
        .sort()
    : [];
  const only = process.env.SM_HOST_TEST_FILES?.split(',').map((name) => name.trim()).filter(Boolean);
  return only?.length ? names.filter((name) => only.some((wanted) => name.startsWith(wanted))) : names;
}

/** Evaluates one bundled test file (its describe/it calls register with the current mocha). */
function requireTestFile(name: string): void {
  const base = name.replace(/\.test\.ts$/, '');
  // A template require makes esbuild bundle every ./**/*.test.ts under this folder (none: a build
  // warning), and evaluates it synchronously, which a mocha runner that loads this file needs.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require(`./${base}.test.ts`);
}

export async function run(): Promise<void> {
  const MochaClass = mochaConstructor();
  const mocha = new MochaClass({ ui: 'bdd', timeout: 60_000, color: false, reporter: 'spec' });
  const names = testFileNames();
  try {
    if (names.length === 0) throw new Error('No extension-host test files (test/host/**/*.test.ts) were found.');
    for (const name of names) {
      mocha.suite.emit('pre-require', globalThis, name, mocha);
      requireTestFile(name);
      mocha.suite.emit('post-require', globalThis, name, mocha);
    }
  } catch (error) {
    // A file that cannot load is a failure, never "0 tests".
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    console.log('HOST-TESTS passed=0 failed=1');
    throw error;
  }
  const { failures, passes } = await new Promise<{ failures: number; passes: number }>((resolve, reject) => {
    try {
      const runner = mocha.run((failed) => resolve({ failures: failed, passes: runner.stats?.passes ?? 0 }));
    } catch (error) {
      reject(error instanceof Error ? error : new Error(String(error)));
    }
  });
  console.log(`HOST-TESTS passed=${passes} failed=${failures}`);
  if (failures > 0) throw new Error(`${failures} extension-host test(s) failed.`);
  if (passes === 0) throw new Error('The extension-host suite ran no tests.');
}

// Loaded as a test file by @vscode/test-cli's runner (its mocha has emitted pre-require already).
if (process.env.VSCODE_TEST_OPTIONS && typeof (globalThis as { describe?: unknown }).describe === 'function') {
  for (const name of testFileNames()) requireTestFile(name);
}
