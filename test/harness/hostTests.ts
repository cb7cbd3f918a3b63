// Runs the extension-host test suite (out/test/suite/index.js, built from test/host/index.ts) inside a
// real VS Code: code-server's workbench with the extensionDevelopmentPath/extensionTestsPath payload,
// the same contract as @vscode/test-electron. The workbench reports mocha's output through
// window.codeAutomationLog and the result through window.codeAutomationExit(0|1).
//
//   npx tsx test/harness/hostTests.ts            (prints HOST-TESTS passed=N failed=M last)
//
// Env: SM_HOST_EXTENSION (extension folder, default the repo), SM_HOST_FIXTURE (workspace to copy,
// default test/fixtures/host-workspace), SM_HOST_TIMEOUT_MS (default 600000).
import { cp, mkdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { format } from 'node:util';
import { CodeServer, makeTempDir, removeTempDir, repoRoot, startBrowser, type BrowserSession } from './codeServer';

export interface HostTestResult {
  /** 0 when the workbench reported success; 1 on failure; undefined when it never reported. */
  exitCode: number | undefined;
  passed: number;
  failed: number;
  /** Everything mocha printed, formatted. */
  output: string;
  durationMs: number;
}

export interface HostTestOptions {
  extensionPath?: string;
  /** Module exporting run() (default <extensionPath>/out/test/suite/index). */
  testsPath?: string;
  /** Extra environment for code-server and its extension host. */
  env?: Record<string, string>;
  fixture?: string;
  artifactsDir?: string;
  timeoutMs?: number;
  /** Extra user settings for the run. */
  settings?: Record<string, unknown>;
  /** Called with each formatted output line as it arrives. */
  onOutput?: (text: string) => void;
}

export async function runHostTests(options: HostTestOptions = {}): Promise<HostTestResult> {
  const started = Date.now();
  const extensionPath = path.resolve(options.extensionPath ?? repoRoot);
  const testsModule = path.resolve(options.testsPath ?? path.join(extensionPath, 'out', 'test', 'suite', 'index'));
  if (!existsSync(testsModule) && !existsSync(`${testsModule}.js`)) {
    throw new Error(`${testsModule}.js is missing: build first (npm run build).`);
  }
  const fixture = path.resolve(options.fixture ?? path.join(repoRoot, 'test', 'fixtures', 'host-workspace'));
  if (!existsSync(fixture)) throw new Error(`Fixture workspace ${fixture} does not exist.`);
  const artifactsDir = path.resolve(options.artifactsDir ?? path.join(repoRoot, 'test-results', 'host'));
  await rm(artifactsDir, { recursive: true, force: true });
  await mkdir(artifactsDir, { recursive: true });
  const timeoutMs = options.timeoutMs ?? 600_000;

  const workspaceParent = await makeTempDir('sm-ws-');
  const workspace = path.join(workspaceParent, path.basename(fixture));
  await cp(fixture, workspace, { recursive: true });

  let server: CodeServer | undefined;
  let browser: BrowserSession | undefined;
  const lines: string[] = [];
  try {
    server = await CodeServer.start({ settings: options.settings, artifactsDir, env: options.env });
    browser = await startBrowser();
    const { context, page } = browser;

    let reportExit: (code: number) => void = () => undefined;
    const exited = new Promise<number>((resolve) => (reportExit = resolve));
    await context.exposeFunction('codeAutomationLog', (_type: string, args: unknown[]) => {
      const text = format(...(Array.isArray(args) ? args : [args]));
      lines.push(text);
      options.onOutput?.(text);
    });
    await context.exposeFunction('codeAutomationExit', (code: number) => reportExit(code));
    page.on('pageerror', (error) => lines.push(`[page error] ${error.message}`));

    const payload: [string, string][] = [
      ['extensionDevelopmentPath', server.remoteUri(extensionPath)],
      ['extensionTestsPath', server.remoteUri(testsModule)],
    ];
    await page.goto(server.workbenchUrl(workspace, payload), { timeout: 120_000 });

    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), timeoutMs)));
    const exitCode = await Promise.race([exited, timeout]);
    clearTimeout(timer);
    if (exitCode === undefined) {
      lines.push(`[harness] the workbench did not report an exit code within ${timeoutMs / 1000} s`);
    }
    if (exitCode !== 0) await page.screenshot({ path: path.join(artifactsDir, 'failure.png') }).catch(() => undefined);

    const output = lines.join('\n');
    const summary = [...output.matchAll(/HOST-TESTS passed=(\d+) failed=(\d+)/g)].pop();
    const passed = summary ? Number(summary[1]) : 0;
    let failed = summary ? Number(summary[2]) : 0;
    // Never report a crash, a hang or an empty run as success.
    if (exitCode !== 0 && failed === 0) failed = 1;
    if (exitCode === 0 && passed === 0) failed = Math.max(failed, 1);
    return { exitCode, passed, failed, output, durationMs: Date.now() - started };
  } finally {
    await writeFile(path.join(artifactsDir, 'output.log'), lines.join('\n') + '\n').catch(() => undefined);
    await browser?.close();
    await server?.stop();
    await removeTempDir(workspaceParent);
  }
}

/** Workbench chatter that is not the tests' output (kept in test-results/host/output.log). */
const NOISE = [
  /open-vsx\.org|ENOTFOUND/,
  /^(Resolving|Resolved) connection token/,
  /^Creating a socket/,
  /^\[reconnection-grace-time\]/,
  /^Updating additional builtin extensions cache/,
  /^\[Service Worker\]/,
  /vsda/,
  // code-server 4.117's built-in git extension cannot load @vscode/fs-copyfile (README: harmless).
  /@vscode\/fs-copyfile/,
];

export function isWorkbenchNoise(text: string): boolean {
  return NOISE.some((pattern) => pattern.test(text));
}

async function main(): Promise<void> {
  const timeout = process.env.SM_HOST_TIMEOUT_MS ? Number(process.env.SM_HOST_TIMEOUT_MS) : undefined;
  try {
    const result = await runHostTests({
      extensionPath: process.env.SM_HOST_EXTENSION,
      fixture: process.env.SM_HOST_FIXTURE,
      timeoutMs: timeout,
      onOutput: (text) => {
        if (process.env.SM_HOST_VERBOSE === '1' || !isWorkbenchNoise(text)) process.stdout.write(`${text}\n`);
      },
    });
    console.log(`host tests: exit code ${result.exitCode ?? 'none (timed out)'} in ${(result.durationMs / 1000).toFixed(1)} s`);
    console.log(`HOST-TESTS passed=${result.passed} failed=${result.failed}`);
    process.exitCode = result.failed > 0 || result.exitCode !== 0 ? 1 : 0;
  } catch (error) {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    console.log('HOST-TESTS passed=0 failed=1');
    process.exitCode = 1;
  }
}

if (require.main === module) void main();
