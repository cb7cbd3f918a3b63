// Picks the tests likely to cover a set of changed files, so a task's own tests run first and fast;
// the whole suite still runs before a run ends. Conventions, per framework:
//   JS/TS (jest, vitest, mocha, node:test): a changed test file itself; x.ts ↔ x.test.ts / x.spec.ts
//     in the same folder, in __tests__/, or under a test(s)/ folder; and any test file that imports
//     the changed module by a relative path.
//   pytest: a changed test file itself; x.py ↔ test_x.py / x_test.py anywhere in the project.
//   go: the package folder of each changed .go file (./pkg), test files included.
//   cargo: changed integration tests (tests/x.rs) only; anything else maps to the whole suite ([]).
// Returns workspace-relative paths (go: package folders "./pkg"); [] means "no idea, run everything".
import { readdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { TestFramework } from './detect';

const SKIP_DIRS = new Set(['node_modules', '.git', 'dist', 'build', 'out', 'target', 'vendor', '.venv', 'venv', '__pycache__', 'coverage', '.software-maker', '.next', '.turbo']);
/** Directory entries looked at, at most: a repository of this size is covered whole; a bigger one is not searched for ever. */
const MAX_ENTRIES = 500_000;
const MAX_IMPORT_SCANS = 2_000;
const JS_EXT = /\.(m|c)?(j|t)sx?$/;
const JS_TEST = /(\.|_)(test|spec)\.(m|c)?(j|t)sx?$/;

export async function relatedTests(root: string, changedFiles: string[], framework: TestFramework): Promise<string[]> {
  const changed = [...new Set(changedFiles.map((f) => toPosix(path.relative(root, path.resolve(root, f)))))].filter((f) => !f.startsWith('../'));
  if (changed.length === 0) return [];
  switch (framework) {
    case 'go':
      return [...new Set(changed.filter((f) => f.endsWith('.go')).map((f) => (path.posix.dirname(f) === '.' ? '.' : `./${path.posix.dirname(f)}`)))].sort();
    case 'cargo':
      return changed.filter((f) => /^tests\/[^/]+\.rs$/.test(f)).sort();
    case 'pytest':
      return relatedPython(root, changed);
    default:
      return relatedJs(root, changed);
  }
}

async function relatedJs(root: string, changed: string[]): Promise<string[]> {
  const tests = await listTestFiles(root, (f) => JS_TEST.test(f) || (/(^|\/)__tests__\//.test(f) && JS_EXT.test(f)));
  const found = new Set<string>();
  const sources: string[] = [];
  for (const file of changed) {
    if (tests.includes(file)) found.add(file);
    else if (JS_EXT.test(file)) sources.push(file);
  }
  for (const source of sources) {
    const stem = jsStem(source);
    const dir = path.posix.dirname(source);
    const name = stem === 'index' ? path.posix.basename(dir) : stem;
    const tail = stripTopFolder(dir);
    for (const test of tests) {
      if (testStem(test) !== name) continue;
      const testDir = path.posix.dirname(test);
      // Same folder, __tests__ beside it, or a test(s)/ tree mirroring the source's path.
      const beside = testDir === dir || testDir === path.posix.join(dir, '__tests__');
      const mirrored = /(^|\/)(tests?|__tests__|spec)(\/|$)/.test(testDir) && stripTopFolder(testDir).endsWith(tail);
      if (beside || mirrored) found.add(test);
    }
  }
  // Test files that import a changed module by a relative path.
  if (sources.length > 0) {
    const targets = new Set(sources.map((s) => s.replace(JS_EXT, '')));
    for (const dirIndex of sources.filter((s) => jsStem(s) === 'index')) targets.add(path.posix.dirname(dirIndex));
    for (const test of tests.slice(0, MAX_IMPORT_SCANS)) {
      if (found.has(test)) continue;
      const text = await readFile(path.join(root, test), 'utf8').catch(() => '');
      for (const m of text.matchAll(/(?:from\s+|require\(\s*|import\(\s*|import\s+)['"](\.{1,2}\/[^'"]+)['"]/g)) {
        const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(test), m[1]!)).replace(JS_EXT, '');
        if (targets.has(resolved)) {
          found.add(test);
          break;
        }
      }
    }
  }
  return [...found].sort();
}

async function relatedPython(root: string, changed: string[]): Promise<string[]> {
  const isTest = (f: string): boolean => /(^|\/)(test_[^/]*|[^/]*_test)\.py$/.test(f);
  const tests = await listTestFiles(root, isTest);
  const found = new Set<string>();
  for (const file of changed) {
    if (isTest(file)) {
      found.add(file);
      continue;
    }
    if (!file.endsWith('.py')) continue;
    const stem = path.posix.basename(file, '.py');
    const name = stem === '__init__' ? path.posix.basename(path.posix.dirname(file)) : stem;
    for (const test of tests) {
      const base = path.posix.basename(test, '.py');
      if (base === `test_${name}` || base === `${name}_test`) found.add(test);
    }
  }
  return [...found].sort();
}

/**
 * The test files of the tree (skipping dependency, build and dot folders), sorted. Only test files
 * are kept and the cap counts every entry looked at, so a large tree whose test folder sorts after
 * thousands of sources still has its tests found. Folders are read side by side.
 */
async function listTestFiles(root: string, isTest: (file: string) => boolean): Promise<string[]> {
  const out: string[] = [];
  let seen = 0;
  const walk = async (rel: string): Promise<void> => {
    if (seen >= MAX_ENTRIES) return;
    const entries = await readdir(path.join(root, rel), { withFileTypes: true }).catch(() => []);
    seen += entries.length;
    const folders: string[] = [];
    for (const entry of entries) {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (!SKIP_DIRS.has(entry.name) && !entry.name.startsWith('.')) folders.push(child);
      } else if (entry.isFile() && isTest(child)) out.push(child);
    }
    await Promise.all(folders.map(walk));
  };
  await walk('');
  return out.sort();
}

function jsStem(file: string): string {
  return path.posix.basename(file).replace(JS_EXT, '');
}

/** "x" of x.test.ts, x.spec.js, x_test.ts, or __tests__/x.ts. */
function testStem(file: string): string {
  return path.posix.basename(file).replace(JS_TEST, '').replace(JS_EXT, '');
}

/** src/a/b → a/b: the part of a path a test tree mirrors. */
function stripTopFolder(dir: string): string {
  const parts = dir.split('/').filter((p) => p !== '.' && !/^(src|lib|source|app|tests?|__tests__|spec)$/.test(p));
  return parts.join('/');
}

function toPosix(p: string): string {
  return p.split(path.sep).join('/');
}
