// Finds the command that runs a workspace's tests, and what it is: the framework, the folder to run
// it in, and whether reporter and file arguments can be added to it. The user's setting always wins;
// detection only fills the gap when there is none. In a monorepo the package nearest to the task's
// files is picked, so a task in packages/api runs packages/api's tests, not the whole repository's.
import { readdir, readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { analyzeCommand, type CommandAnalysis } from './commandLine';
import { UserError } from '../../shared/errors';

export type TestFramework = 'jest' | 'vitest' | 'mocha' | 'node-test' | 'pytest' | 'go' | 'cargo' | 'unknown';
export type PackageManager = 'npm' | 'pnpm' | 'yarn';
/** Machine-readable report formats `parseReportFile` reads. */
export type ReportFormat = 'jest-json' | 'vitest-json' | 'mocha-json' | 'tap' | 'junit-xml' | 'go-json';

/** A configured test command: a shell command, or the label of a tasks.json task the host runs itself. */
export type TestCommandOverride = { kind: 'command'; command: string } | { kind: 'taskLabel'; label: string };

export interface DetectedTestCommand {
  /** The shell command. Empty for a tasks.json task (`taskLabel`): the host runs that task, never a shell command. */
  command: string;
  /** Absolute folder the command runs in: the workspace root, or the package nearest to the task's files. */
  cwd: string;
  framework: TestFramework;
  /** Why this command was chosen, shown to the user. */
  reason: string;
  /** The machine-readable report the command can be asked for (see buildTestInvocation); none for cargo or an opaque command. */
  reporter?: ReportFormat;
  source: 'detected' | 'configured' | 'task';
  /** The tasks.json task to run instead of a command (source "task"). */
  taskLabel?: string;
  packageManager?: PackageManager;
  /** How extra arguments reach the framework; undefined when they cannot be added safely (compound scripts, indirections, tasks). */
  argStyle?: ArgStyle;
  /** The command already names test files or folders, so file arguments would add to them rather than narrow the run. */
  namesTests?: boolean;
}

/** "append": after the command; "npm": after `--` (npm passes what follows to the script). */
export type ArgStyle = 'append' | 'npm';

export interface DetectOptions {
  /** Workspace-relative paths of the files a task touches: the package nearest to them is tested. */
  near?: string[];
  /** A configured command (string or override) wins over detection. */
  override?: string | TestCommandOverride;
}

export class TestDetectionError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'TestDetectionError';
  }
}

// npm init writes this placeholder; running it only ever fails.
const NPM_PLACEHOLDER = /no test specified/i;

export async function detectTestCommand(root: string, options: DetectOptions = {}): Promise<DetectedTestCommand | undefined> {
  const absRoot = path.resolve(root);
  if (options.override !== undefined) {
    const override: TestCommandOverride = typeof options.override === 'string' ? { kind: 'command', command: options.override } : options.override;
    return fromOverride(absRoot, override);
  }
  const near = options.near ?? [];
  if (near.length > 0) {
    const found = await nearestProject(absRoot, near);
    if (found) return found;
  }
  return detectIn(absRoot, absRoot);
}

/** Detection in one folder: package.json, then pytest, go, cargo. */
async function detectIn(dir: string, root: string): Promise<DetectedTestCommand | undefined> {
  return (await fromPackageJson(dir, root)) ?? (await fromPytest(dir)) ?? (await fromGo(dir)) ?? (await fromCargo(dir));
}

/**
 * Walks up from each path to the closest folder that detection recognises (never above the root).
 * When the paths lead to different packages, the one most of them share wins; ties go to the first.
 */
async function nearestProject(root: string, near: string[]): Promise<DetectedTestCommand | undefined> {
  const votes = new Map<string, { detected: DetectedTestCommand; count: number; order: number; via: string }>();
  let order = 0;
  const cache = new Map<string, DetectedTestCommand | undefined>();
  for (const rel of near) {
    const abs = path.resolve(root, rel);
    if (!isInside(root, abs)) continue;
    let dir = (await isDirectory(abs)) ? abs : path.dirname(abs);
    for (;;) {
      let detected = cache.get(dir);
      if (!cache.has(dir)) {
        detected = await detectIn(dir, root);
        cache.set(dir, detected);
      }
      if (detected) {
        const vote = votes.get(dir);
        if (vote) vote.count++;
        else votes.set(dir, { detected, count: 1, order: order++, via: rel });
        break;
      }
      if (dir === root || !isInside(root, dir)) break;
      dir = path.dirname(dir);
    }
  }
  const best = [...votes.values()].sort((a, b) => b.count - a.count || a.order - b.order)[0];
  if (!best) return undefined;
  const relDir = path.relative(root, best.detected.cwd) || '.';
  if (relDir === '.') return best.detected;
  return { ...best.detected, reason: `${relDir} is the package nearest to ${best.via}: ${best.detected.reason}` };
}

async function fromOverride(root: string, override: TestCommandOverride): Promise<DetectedTestCommand> {
  if (override.kind === 'taskLabel') {
    if (override.label.trim() === '') throw new TestDetectionError('The configured test task label is empty. Name a task from .vscode/tasks.json, or clear the setting to detect the command.');
    return { command: '', cwd: root, framework: 'unknown', reason: `the configured task "${override.label}" runs the tests.`, source: 'task', taskLabel: override.label };
  }
  const command = override.command.trim();
  if (command === '') throw new TestDetectionError('The configured test command is empty. Set a command, "none" to run without tests, or clear the setting to detect one.');
  const scripts = await readScripts(root);
  const analysis = analyzeCommand(command, scripts);
  const detected: DetectedTestCommand = { command, cwd: root, framework: analysis.framework, reason: `the configured test command${analysis.framework === 'unknown' ? '' : ` (${frameworkLabel(analysis.framework)})`}.`, source: 'configured' };
  await addArgs(detected, analysis, 'append', root);
  return detected;
}

async function fromPackageJson(dir: string, root: string): Promise<DetectedTestCommand | undefined> {
  const pkg = await readPackageJson(dir);
  if (!pkg || !isRecord(pkg.scripts)) return undefined;
  const script = pkg.scripts.test;
  if (typeof script !== 'string' || script.trim() === '' || NPM_PLACEHOLDER.test(script)) return undefined;
  const manager = await packageManager(dir, root, pkg.packageManager);
  const scripts = stringRecord(pkg.scripts);
  const analysis = analyzeCommand(script, scripts);
  let framework = analysis.framework;
  let frameworkWhy = framework === 'unknown' ? '' : ` that runs ${frameworkLabel(framework)}`;
  if (framework === 'unknown') {
    // The script hides the runner (a wrapper, turbo, a shell script): the dependencies may still say which.
    const deps = { ...stringRecord(pkg.dependencies), ...stringRecord(pkg.devDependencies) };
    const known = (['jest', 'vitest', 'mocha'] as const).filter((name) => name in deps);
    if (known.length === 1) {
      framework = known[0]!;
      frameworkWhy = `; ${known[0]} is a dependency`;
      // The script's own command line is unknown, so no arguments are added to it.
      analysis.canAppend = false;
    }
  }
  const detected: DetectedTestCommand = {
    command: `${manager.name} test`,
    cwd: dir,
    framework,
    reason: `package.json has a test script (${JSON.stringify(script)})${frameworkWhy}; ${manager.why}`,
    source: 'detected',
    packageManager: manager.name,
  };
  await addArgs(detected, { ...analysis, framework }, manager.name === 'npm' ? 'npm' : 'append', root);
  return detected;
}

/** Fills argStyle, namesTests and reporter from the analysis of the command line. */
async function addArgs(detected: DetectedTestCommand, analysis: CommandAnalysis, style: ArgStyle, root: string): Promise<void> {
  if (!analysis.canAppend) return;
  detected.argStyle = style;
  detected.namesTests = analysis.namesTests || (analysis.framework === 'mocha' && (await mochaConfigNamesSpec(detected.cwd)));
  const reporter = await reporterFor(analysis.framework, detected.cwd, root);
  if (reporter) detected.reporter = reporter;
}

async function reporterFor(framework: TestFramework, dir: string, root: string): Promise<ReportFormat | undefined> {
  switch (framework) {
    case 'jest':
      return 'jest-json';
    case 'vitest':
      return 'vitest-json';
    case 'node-test':
      return 'tap';
    case 'pytest':
      return 'junit-xml';
    case 'go':
      return 'go-json';
    case 'mocha': {
      // The json reporter's `output` option arrived in mocha 9.2; older ones would ignore it and print JSON.
      const version = await installedVersion('mocha', dir, root);
      return version !== undefined && compareVersions(version, [9, 2]) >= 0 ? 'mocha-json' : undefined;
    }
    default:
      return undefined;
  }
}

/** Mocha adds `spec` from its config file to the command line's files; narrowing then does nothing. */
async function mochaConfigNamesSpec(dir: string): Promise<boolean> {
  for (const name of ['.mocharc.js', '.mocharc.cjs', '.mocharc.mjs', '.mocharc.json', '.mocharc.jsonc', '.mocharc.yaml', '.mocharc.yml']) {
    const text = await readOptional(path.join(dir, name));
    if (text !== undefined && /\bspec\b/.test(text)) return true;
  }
  const pkg = await readOptional(path.join(dir, 'package.json'));
  if (pkg === undefined) return false;
  try {
    const parsed: unknown = JSON.parse(pkg);
    return typeof parsed === 'object' && parsed !== null && 'mocha' in parsed && /"spec"/.test(JSON.stringify((parsed as { mocha: unknown }).mocha));
  } catch {
    return false;
  }
}

async function installedVersion(name: string, dir: string, root: string): Promise<string | undefined> {
  for (let at = dir; ; at = path.dirname(at)) {
    const text = await readOptional(path.join(at, 'node_modules', name, 'package.json'));
    if (text !== undefined) {
      try {
        const pkg: unknown = JSON.parse(text);
        if (isRecord(pkg) && typeof pkg.version === 'string') return pkg.version;
      } catch {
        return undefined;
      }
    }
    if (at === root || !isInside(root, at) || path.dirname(at) === at) return undefined;
  }
}

function compareVersions(version: string, min: number[]): number {
  const parts = version.split(/[.-]/).map((p) => Number(p));
  for (let i = 0; i < min.length; i++) {
    const diff = (Number.isFinite(parts[i]) ? parts[i]! : 0) - min[i]!;
    if (diff !== 0) return diff;
  }
  return 0;
}

/** npm, pnpm or yarn: the packageManager field, then lockfiles in the package's folder and its ancestors up to the root. */
async function packageManager(dir: string, root: string, declared: unknown): Promise<{ name: PackageManager; why: string }> {
  for (let at = dir; ; at = path.dirname(at)) {
    const field = at === dir ? declared : (await readPackageJson(at))?.packageManager;
    if (typeof field === 'string') {
      const name = field.split('@')[0];
      if (name === 'npm' || name === 'pnpm' || name === 'yarn') return { name, why: `${where(at, dir, root, 'package.json')} declares packageManager ${field}.` };
    }
    if (await exists(path.join(at, 'pnpm-lock.yaml'))) return { name: 'pnpm', why: `${where(at, dir, root, 'pnpm-lock.yaml')} selects pnpm.` };
    if (await exists(path.join(at, 'yarn.lock'))) return { name: 'yarn', why: `${where(at, dir, root, 'yarn.lock')} selects yarn.` };
    if (await exists(path.join(at, 'package-lock.json'))) return { name: 'npm', why: `${where(at, dir, root, 'package-lock.json')} selects npm.` };
    if (at === root || !isInside(root, at) || path.dirname(at) === at) break;
  }
  return { name: 'npm', why: 'no pnpm or yarn lockfile, so npm.' };
}

function where(at: string, dir: string, root: string, file: string): string {
  return at === dir ? file : `${file} in ${path.relative(root, at) || 'the workspace root'}`;
}

async function fromPytest(root: string): Promise<DetectedTestCommand | undefined> {
  const found = (why: string): DetectedTestCommand => ({ command: 'pytest', cwd: root, framework: 'pytest', reason: why, source: 'detected', argStyle: 'append', namesTests: false, reporter: 'junit-xml' });
  if (await exists(path.join(root, 'pytest.ini'))) return found('pytest.ini configures pytest.');
  const pyproject = await readOptional(path.join(root, 'pyproject.toml'));
  if (pyproject !== undefined && /^\s*\[tool\.pytest[.\]]/m.test(pyproject)) return found('pyproject.toml has a [tool.pytest] section.');
  const setupCfg = await readOptional(path.join(root, 'setup.cfg'));
  if (setupCfg !== undefined && /^\s*\[tool:pytest\]/m.test(setupCfg)) return found('setup.cfg has a [tool:pytest] section.');
  const tox = await readOptional(path.join(root, 'tox.ini'));
  if (tox !== undefined && /^\s*\[pytest\]/m.test(tox)) return found('tox.ini has a [pytest] section.');
  for (const dir of ['tests', 'test']) {
    const names = await readdir(path.join(root, dir)).catch(() => [] as string[]);
    const testFile = names.find((n) => /^test_.*\.py$/.test(n) || /_test\.py$/.test(n));
    if (testFile !== undefined) return found(`${dir}/${testFile} is a pytest-style test file.`);
  }
  return undefined;
}

async function fromGo(root: string): Promise<DetectedTestCommand | undefined> {
  if (!(await exists(path.join(root, 'go.mod')))) return undefined;
  return { command: 'go test ./...', cwd: root, framework: 'go', reason: 'go.mod marks a Go module.', source: 'detected', argStyle: 'append', namesTests: true, reporter: 'go-json' };
}

async function fromCargo(root: string): Promise<DetectedTestCommand | undefined> {
  if (!(await exists(path.join(root, 'Cargo.toml')))) return undefined;
  return { command: 'cargo test', cwd: root, framework: 'cargo', reason: 'Cargo.toml marks a Rust crate.', source: 'detected', argStyle: 'append', namesTests: false };
}

export function frameworkLabel(framework: TestFramework): string {
  return framework === 'node-test' ? 'node:test' : framework === 'go' ? 'go test' : framework === 'cargo' ? 'cargo test' : framework;
}

async function readPackageJson(dir: string): Promise<Record<string, unknown> | undefined> {
  const text = await readOptional(path.join(dir, 'package.json'));
  if (text === undefined) return undefined;
  try {
    const pkg: unknown = JSON.parse(text);
    return isRecord(pkg) ? pkg : undefined;
  } catch {
    // A broken package.json says nothing reliable; other ecosystems may still apply.
    return undefined;
  }
}

async function readScripts(dir: string): Promise<Record<string, string>> {
  return stringRecord((await readPackageJson(dir))?.scripts);
}

function stringRecord(value: unknown): Record<string, string> {
  if (!isRecord(value)) return {};
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) if (typeof v === 'string') out[key] = v;
  return out;
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

async function isDirectory(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isDirectory();
  } catch {
    return false;
  }
}

function isInside(root: string, target: string): boolean {
  const rel = path.relative(root, target);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
