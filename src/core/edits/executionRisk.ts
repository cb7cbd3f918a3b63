// Which staged files change what will be executed: the test gate's command (package scripts, test
// runner and package manager configuration, the script or Makefile the command names), git hooks
// (git mode commits), and what the user's editor or shell runs (VS Code tasks and settings, direnv).
// A diff of such a file reads like configuration, so the review says what it changes and why, and
// auto-approval never lets it through on its own (core/run/landing.ts).

/** One file of a proposal as the review sees it. */
export interface ReviewedChange {
  path: string;
  kind: 'create' | 'modify' | 'delete' | 'rename';
  /** For a rename: where the file comes from. */
  from?: string;
  before: string;
  after: string;
}

export interface ExecutionContext {
  /** The command the test gate runs (detected or configured), when there is one. */
  testCommand?: string;
}

const MAX_VALUE_CHARS = 160;

/** package.json fields besides `scripts` that decide what runs, and what they decide. */
const PACKAGE_FIELDS: Record<string, string> = {
  bin: 'the commands the package installs',
  workspaces: "which packages' scripts npm runs",
  packageManager: 'which package manager (and version) is downloaded and run',
  husky: 'git hooks (husky)',
  'simple-git-hooks': 'git hooks (simple-git-hooks)',
  'pre-commit': 'git hooks (pre-commit)',
  gitHooks: 'git hooks (yorkie)',
  'lint-staged': 'commands run on commit (lint-staged)',
  mocha: 'mocha options (e.g. files it requires before the tests)',
  jest: 'jest options (e.g. setup files it runs before the tests)',
  ava: 'ava options (e.g. modules it requires before the tests)',
  c8: 'the coverage wrapper around the tests (c8)',
  nyc: 'the coverage wrapper around the tests (nyc)',
};

/** npm runs these on install, publish or pack: not the test gate, but the user's next `npm install`. */
const LIFECYCLE_SCRIPTS = new Set(['preinstall', 'install', 'postinstall', 'prepare', 'preprepare', 'postprepare', 'prepublish', 'prepublishOnly', 'prepack', 'postpack', 'dependencies']);

interface PathRule {
  test: (path: string, name: string) => boolean;
  why: string;
}

const PATH_RULES: PathRule[] = [
  { test: (_p, name) => name === '.npmrc', why: 'npm reads .npmrc before it runs any script (node-options, script-shell and the like decide what runs)' },
  { test: (_p, name) => name === '.yarnrc' || name === '.yarnrc.yml', why: 'yarn reads it before it runs any script (yarnPath, plugins and node options run code)' },
  { test: (_p, name) => /^\.pnpmfile\.c?js$|^\.pnpmfile\.mjs$/.test(name), why: 'pnpm runs .pnpmfile hooks when it installs' },
  { test: (_p, name) => name === 'bunfig.toml', why: 'bun reads it before the tests (preload scripts run first)' },
  { test: (p) => /(^|\/)\.husky\//.test(p), why: 'a git hook (husky): git runs it on commit or push, including the commits git mode makes' },
  { test: (p) => /(^|\/)\.githooks\//.test(p), why: 'a git hook folder: git runs these hooks when core.hooksPath points here' },
  { test: (_p, name) => /^\.?lefthook(-local)?\.(ya?ml|json|toml)$/.test(name), why: 'lefthook configuration: the commands git hooks run' },
  { test: (_p, name) => name === '.pre-commit-config.yaml' || name === '.pre-commit-hooks.yaml', why: 'pre-commit configuration: the commands git hooks run' },
  { test: (_p, name) => /^\.?simple-git-hooks\.(c?js|json)$|^\.huskyrc/.test(name), why: 'git hook configuration: the commands git hooks run' },
  { test: (_p, name) => /^\.lintstagedrc|^lint-staged\.config\./.test(name), why: 'lint-staged configuration: commands run on commit' },
  { test: (_p, name) => name === '.gitconfig', why: 'git configuration (core.hooksPath, aliases, filters) for whoever includes it' },
  { test: (p) => /(^|\/)\.vscode\/tasks\.json$/.test(p), why: 'VS Code tasks: commands the editor runs, and the test gate when a task runs the tests' },
  { test: (p) => /(^|\/)\.vscode\/launch\.json$/.test(p), why: 'VS Code launch configurations: programs the editor starts (and their preLaunchTask)' },
  { test: (p) => /(^|\/)\.vscode\/settings\.json$/.test(p), why: 'VS Code workspace settings can name programs the editor and extensions run (shells, interpreters, formatters, test commands)' },
  { test: (_p, name) => name.endsWith('.code-workspace'), why: 'a VS Code workspace file: its settings, tasks and launch configurations run programs' },
  { test: (p, name) => name === '.devcontainer.json' || /(^|\/)\.devcontainer\//.test(p), why: 'dev container configuration: commands run when the container is created or started' },
  { test: (_p, name) => name === '.envrc', why: 'direnv runs .envrc in your shell when you enter the folder' },
  { test: (_p, name) => /^\.mocharc\.(c?js|mjs|json|jsonc|ya?ml)$/.test(name), why: 'mocha configuration: what mocha loads before the tests (require, spec)' },
  { test: (_p, name) => /^(jest|vitest|vitest\.workspace|vite|ava|playwright|cypress)\.config\.[cm]?[jt]s$|^karma\.conf\.[cm]?[jt]s$/.test(name), why: 'test runner configuration: code the test runner loads before any test' },
  { test: (_p, name) => /^\.(c8|nyc)rc(\.json|\.ya?ml)?$/.test(name), why: 'coverage configuration: the wrapper the tests run in' },
  { test: (_p, name) => name === 'pytest.ini' || name === 'tox.ini' || name === 'noxfile.py', why: 'pytest/tox configuration: options and plugins the test command loads' },
  { test: (p) => /(^|\/)\.cargo\/config(\.toml)?$/.test(p), why: 'cargo configuration: runners, aliases and flags of `cargo test`' },
  { test: (_p, name) => name === 'build.rs', why: 'a cargo build script: `cargo test` runs it before compiling' },
];

/**
 * Why this change alters what will be executed, one reason per line; empty when it does not.
 * A rename counts as deleting its source and creating its target.
 */
export function changesWhatRuns(change: ReviewedChange, context: ExecutionContext = {}): string[] {
  if (change.kind === 'rename' && change.from !== undefined) {
    const moved = change.before === change.after ? '' : ' (with changes)';
    return [
      ...reasonsFor(change.from, change.before, '', 'delete', context).map((reason) => `moved away from ${change.from}: ${reason}`),
      ...reasonsFor(change.path, '', change.after, 'create', context).map((reason) => `moved here from ${change.from}${moved}: ${reason}`),
    ];
  }
  const reasons = reasonsFor(change.path, change.before, change.after, change.kind, context);
  // package.json says itself how a new or deleted manifest changes things.
  if (/(^|\/)package\.json$/.test(change.path)) return reasons;
  if (change.kind === 'delete') return reasons.map((reason) => `deleted: ${reason}`);
  if (change.kind === 'create') return reasons.map((reason) => `new file: ${reason}`);
  return reasons;
}

function reasonsFor(path: string, before: string, after: string, kind: ReviewedChange['kind'], context: ExecutionContext): string[] {
  if (kind === 'modify' && before === after) return [];
  const name = path.slice(path.lastIndexOf('/') + 1);
  const reasons: string[] = [];
  if (name === 'package.json') reasons.push(...packageJsonReasons(path, before, after, kind, context));
  for (const rule of PATH_RULES) if (rule.test(path, name)) reasons.push(rule.why);
  reasons.push(...pythonConfigReasons(name, before, after));
  reasons.push(...testCommandReasons(path, name, context.testCommand));
  return reasons;
}

function packageJsonReasons(path: string, before: string, after: string, kind: ReviewedChange['kind'], context: ExecutionContext): string[] {
  const dir = path.includes('/') ? `${path.slice(0, path.lastIndexOf('/'))}/` : 'the workspace';
  const gateScripts = testGateScripts(context.testCommand);
  if (kind === 'delete') return [`deleting ${path} changes which package (and which test script) the test gate uses for the files in ${dir}`];
  const next = parseManifest(after);
  if (next === undefined) return [`${path} is not valid JSON after this change, so what npm runs from it cannot be checked`];
  if (kind === 'create') {
    const scripts = [...scriptsOf(next)];
    const listed = scripts.length ? `its scripts: ${scripts.map(([key, value]) => `${key}: ${show(value)}${gateNote(key, gateScripts)}`).join('; ')}` : 'it declares no scripts';
    const fields = Object.keys(PACKAGE_FIELDS).filter((field) => Object.hasOwn(next, field)).map((field) => `${field}: ${show(next[field])} (${PACKAGE_FIELDS[field]})`);
    return [`a new package.json: the files in ${dir} become a package of their own, and the test gate runs its scripts for them; ${listed}`, ...fields];
  }
  const previous = parseManifest(before) ?? {};
  const reasons: string[] = [];
  const oldScripts = scriptsOf(previous);
  const newScripts = scriptsOf(next);
  for (const key of [...new Set([...oldScripts.keys(), ...newScripts.keys()])].sort()) {
    const was = oldScripts.get(key);
    const now = newScripts.get(key);
    if (was === now) continue;
    const note = gateNote(key, gateScripts);
    if (was === undefined) reasons.push(`scripts.${key} added: ${show(now)}${note}`);
    else if (now === undefined) reasons.push(`scripts.${key} removed (was ${show(was)})${note}`);
    else reasons.push(`scripts.${key}: ${show(was)} → ${show(now)}${note}`);
  }
  for (const [field, what] of Object.entries(PACKAGE_FIELDS)) {
    const was = Object.hasOwn(previous, field) ? previous[field] : undefined;
    const now = Object.hasOwn(next, field) ? next[field] : undefined;
    if (JSON.stringify(was) === JSON.stringify(now)) continue;
    reasons.push(`${field}: ${was === undefined ? '(none)' : show(was)} → ${now === undefined ? '(none)' : show(now)} (${what})`);
  }
  return reasons;
}

/** The scripts `npm test` (or the configured `npm run X`) runs, with their pre and post scripts. */
function testGateScripts(testCommand: string | undefined): Set<string> {
  const match = /^\s*(?:npm|pnpm|yarn|bun)\s+(?:(?:run|run-script)\s+)?([\w:.-]+)/.exec(testCommand ?? 'npm test');
  const name = !match || match[1] === 't' ? 'test' : match[1]!;
  return new Set([name, `pre${name}`, `post${name}`]);
}

function gateNote(script: string, gateScripts: Set<string>): string {
  if (gateScripts.has(script)) return ' (the test gate runs it next)';
  if (LIFECYCLE_SCRIPTS.has(script)) return ' (npm runs it on install)';
  return '';
}

/** pyproject.toml and setup.cfg count only when their pytest section changes. */
function pythonConfigReasons(name: string, before: string, after: string): string[] {
  if (name !== 'pyproject.toml' && name !== 'setup.cfg') return [];
  const header = name === 'pyproject.toml' ? /^\[tool\.pytest[^\]]*\]/ : /^\[tool:pytest\]/;
  return iniSection(before, header) === iniSection(after, header) ? [] : ['its pytest section changed: options and plugins pytest loads'];
}

function iniSection(text: string, header: RegExp): string {
  const lines = text.split(/\r?\n/);
  const start = lines.findIndex((line) => header.test(line.trim()));
  if (start === -1) return '';
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((line) => /^\[/.test(line.trim()));
  return (end === -1 ? rest : rest.slice(0, end)).join('\n');
}

/** The Makefile (or justfile, Taskfile, script) the test command itself runs. */
function testCommandReasons(path: string, name: string, testCommand: string | undefined): string[] {
  if (!testCommand) return [];
  const words = testCommand.trim().split(/\s+/);
  const program = words[0] ?? '';
  if (program === 'make' && /^(GNUmakefile|makefile|Makefile)$|\.mk$/.test(name)) return [`the test command (${testCommand}) runs its recipes`];
  if (program === 'just' && /^\.?[Jj]ustfile$/.test(name)) return [`the test command (${testCommand}) runs its recipes`];
  if (program === 'task' && /^Taskfile(\.dist)?\.ya?ml$/.test(name)) return [`the test command (${testCommand}) runs its tasks`];
  const named = words
    .filter((word) => /[/.]/.test(word) && !word.startsWith('-'))
    .map((word) => word.replace(/^['"]|['"]$/g, '').replace(/^\.\//, ''))
    .some((word) => word === path || path.endsWith(`/${word}`));
  return named ? [`the test command (${testCommand}) runs this file`] : [];
}

function parseManifest(text: string): Record<string, unknown> | undefined {
  if (!text.trim()) return {};
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A Map, not an object: a script may be called `constructor` or `__proto__`. */
function scriptsOf(manifest: Record<string, unknown>): Map<string, string> {
  const value = Object.hasOwn(manifest, 'scripts') ? manifest.scripts : undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return new Map();
  return new Map(Object.entries(value).map(([key, entry]) => [key, typeof entry === 'string' ? entry : JSON.stringify(entry)]));
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS)}…` : text;
}
