// @vscode/test-cli configuration, for machines that CAN run desktop VS Code: set
// VSCODE_EXECUTABLE_PATH to a VS Code binary, or let test-cli download one (needs update.code.visualstudio.com).
//   npm run build && npx vscode-test
// CI here runs the same extension-host tests in code-server instead (test/harness/hostTests.ts), because
// Microsoft's VS Code download is not reachable offline.
//
// out/test/suite/index.js is the esbuild bundle of test/host/index.ts with every test/host/**/*.test.ts
// inside it; loaded as a mocha file it registers those tests (see the end of test/host/index.ts).
import { defineConfig } from '@vscode/test-cli';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

// The host tests write into their workspace: give them a throwaway copy of the fixture.
const workspace = path.join(mkdtempSync(path.join(tmpdir(), 'sm-vscode-test-')), 'host-workspace');
cpSync(path.resolve('test/fixtures/host-workspace'), workspace, { recursive: true });

const executable = process.env.VSCODE_EXECUTABLE_PATH;

export default defineConfig({
  label: 'host',
  files: 'out/test/suite/index.js',
  // engines.vscode floor; overridden by an explicit executable.
  version: process.env.VSCODE_TEST_VERSION ?? 'stable',
  ...(executable ? { useInstallation: { fromPath: executable } } : {}),
  workspaceFolder: workspace,
  launchArgs: ['--disable-extensions', '--disable-workspace-trust', '--skip-welcome', '--skip-release-notes'],
  mocha: { ui: 'bdd', timeout: 60_000, color: false },
});
