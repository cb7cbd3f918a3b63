// Guesses the command that runs a workspace's tests from the files at its top level.
// The user's setting always wins over this; it only fills the gap when there is none.
import { readdir, readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';

export interface DetectedTestCommand {
  command: string;
  /** Why this command was chosen, shown to the user. */
  reason: string;
}

// npm init writes this placeholder; running it only ever fails.
const NPM_PLACEHOLDER = /no test specified/i;

export async function detectTestCommand(root: string): Promise<DetectedTestCommand | undefined> {
  return (await fromPackageJson(root)) ?? (await fromPytest(root)) ?? (await fromGo(root)) ?? (await fromCargo(root));
}

async function fromPackageJson(root: string): Promise<DetectedTestCommand | undefined> {
  const text = await readOptional(path.join(root, 'package.json'));
  if (text === undefined) return undefined;
  let pkg: unknown;
  try {
    pkg = JSON.parse(text);
  } catch {
    // A broken package.json says nothing reliable; other ecosystems may still apply.
    return undefined;
  }
  if (!isRecord(pkg) || !isRecord(pkg.scripts)) return undefined;
  const script = pkg.scripts.test;
  if (typeof script !== 'string' || script.trim() === '' || NPM_PLACEHOLDER.test(script)) return undefined;
  const manager = await packageManager(root, pkg.packageManager);
  return { command: `${manager.name} test`, reason: `package.json has a test script (${JSON.stringify(script)}); ${manager.why}` };
}

async function packageManager(root: string, declared: unknown): Promise<{ name: string; why: string }> {
  if (typeof declared === 'string') {
    const name = declared.split('@')[0];
    if (name === 'npm' || name === 'pnpm' || name === 'yarn') return { name, why: `package.json declares packageManager ${declared}.` };
  }
  if (await exists(path.join(root, 'pnpm-lock.yaml'))) return { name: 'pnpm', why: 'pnpm-lock.yaml selects pnpm.' };
  if (await exists(path.join(root, 'yarn.lock'))) return { name: 'yarn', why: 'yarn.lock selects yarn.' };
  return { name: 'npm', why: 'no pnpm or yarn lockfile, so npm.' };
}

async function fromPytest(root: string): Promise<DetectedTestCommand | undefined> {
  const found = (why: string): DetectedTestCommand => ({ command: 'pytest', reason: why });
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
  return { command: 'go test ./...', reason: 'go.mod marks a Go module.' };
}

async function fromCargo(root: string): Promise<DetectedTestCommand | undefined> {
  if (!(await exists(path.join(root, 'Cargo.toml')))) return undefined;
  return { command: 'cargo test', reason: 'Cargo.toml marks a Rust crate.' };
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

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
