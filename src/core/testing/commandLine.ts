// Reads a test command line (a package.json script or a configured command) well enough to say which
// framework it runs and whether arguments appended to it reach that framework. It is deliberately
// conservative: when in doubt it says "cannot append", and the command then runs as written.
import type { TestFramework } from './detect';

export interface CommandAnalysis {
  framework: TestFramework;
  /** Arguments appended to the command reach the framework (it is the last command of the line, not piped). */
  canAppend: boolean;
  /** The framework's own arguments name test files or folders (so appended files would not narrow the run). */
  namesTests: boolean;
}

// Flags whose value is the next word; that word is then not a test path.
const VALUE_FLAGS = new Set([
  '--import', '--require', '-r', '--loader', '--experimental-loader', '--config', '-c', '--reporter', '-R', '--timeout', '-t',
  '--ui', '-u', '--test-reporter', '--test-reporter-destination', '--env-file', '--project', '--testTimeout', '--environment',
  '--dir', '--root', '--rootDir', '--selectProjects', '--extension', '--file', '--ignore', '--spec', '--package', '-p', '--test-name-pattern',
  '--maxWorkers', '-w', '--testNamePattern', '--testPathPattern', '--pool', '--mode',
]);

// Words that run the next word as the command (coverage tools, runners of local binaries).
const WRAPPERS = new Set(['npx', 'nyc', 'c8', 'cross-env', 'dotenv', 'env', 'bunx', 'time']);

const MAX_DEPTH = 4;

export function analyzeCommand(command: string, scripts: Record<string, string>, depth = 0): CommandAnalysis {
  const unknown: CommandAnalysis = { framework: 'unknown', canAppend: false, namesTests: false };
  if (depth > MAX_DEPTH) return unknown;
  // Split on shell operators; a pipe after the last segment means appended args would go to the pipe's reader.
  const parts = command.split(/(&&|\|\||;|\|)/).map((p) => p.trim());
  const segments: { text: string; piped: boolean }[] = [];
  for (let i = 0; i < parts.length; i += 2) segments.push({ text: parts[i] ?? '', piped: parts[i + 1] === '|' || parts[i - 1] === '|' });
  let found: { analysis: CommandAnalysis; index: number } | undefined;
  segments.forEach((segment, index) => {
    const analysis = analyzeSegment(words(segment.text), scripts, depth);
    if (analysis.framework !== 'unknown') found = { analysis, index };
  });
  if (!found) return unknown;
  const last = found.index === segments.length - 1 && !segments[found.index]!.piped;
  return { ...found.analysis, canAppend: found.analysis.canAppend && last };
}

function analyzeSegment(tokens: string[], scripts: Record<string, string>, depth: number): CommandAnalysis {
  let i = 0;
  // Leading FOO=bar assignments and wrappers (with their own flags and assignments).
  for (;;) {
    const t = tokens[i];
    if (t === undefined) return { framework: 'unknown', canAppend: false, namesTests: false };
    if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(t)) i++;
    else if (WRAPPERS.has(t)) {
      i++;
      while (tokens[i]?.startsWith('-')) i++;
    } else if ((t === 'pnpm' || t === 'yarn') && tokens[i + 1] === 'exec') i += 2;
    else break;
  }
  const head = basename(tokens[i]!);
  const rest = tokens.slice(i + 1);
  const direct = (framework: TestFramework, args: string[]): CommandAnalysis => ({ framework, canAppend: true, namesTests: hasPositional(args) });
  switch (head) {
    case 'jest':
      return direct('jest', rest);
    case 'vitest':
      return direct('vitest', rest[0] === 'run' || rest[0] === 'watch' || rest[0] === 'related' ? rest.slice(1) : rest);
    case 'mocha':
    case '_mocha':
      return direct('mocha', rest);
    case 'react-scripts':
    case 'craco':
    case 'react-app-rewired':
      return rest[0] === 'test' ? direct('jest', rest.slice(1)) : unknownSegment();
    case 'node':
    case 'tsx':
      return rest.includes('--test') ? direct('node-test', rest.filter((t) => t !== '--test')) : unknownSegment();
    case 'pytest':
    case 'py.test':
      return direct('pytest', rest);
    case 'python':
    case 'python3':
      return rest[0] === '-m' && rest[1] === 'pytest' ? direct('pytest', rest.slice(2)) : unknownSegment();
    case 'go':
      return rest[0] === 'test' ? direct('go', rest.slice(1)) : unknownSegment();
    case 'cargo':
      return rest[0] === 'test' ? direct('cargo', rest.slice(1)) : unknownSegment();
    case 'npm':
    case 'pnpm':
    case 'yarn': {
      // `npm test`, `npm run x`, `pnpm x`, `yarn x`: the framework is in the named script. Appending
      // through a second package manager call is not attempted (npm would read the flags itself).
      let name: string | undefined;
      if (rest[0] === 'test' || rest[0] === 't') name = 'test';
      else if (rest[0] === 'run' || rest[0] === 'run-script') name = rest[1];
      else if (head !== 'npm') name = rest[0];
      const script = name === undefined ? undefined : scripts[name];
      if (script === undefined) return unknownSegment();
      const inner = analyzeCommand(script, scripts, depth + 1);
      return { ...inner, canAppend: false };
    }
    default:
      return unknownSegment();
  }
}

function unknownSegment(): CommandAnalysis {
  return { framework: 'unknown', canAppend: false, namesTests: false };
}

/** Whether any word is a positional argument (not a flag, not a flag's value). */
function hasPositional(args: string[]): boolean {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') return i + 1 < args.length;
    if (a.startsWith('-')) {
      if (!a.includes('=') && VALUE_FLAGS.has(a)) i++;
      continue;
    }
    return true;
  }
  return false;
}

/** Shell-ish words: whitespace-separated, quotes removed (enough for test scripts). */
export function words(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g)) out.push(m[1] ?? m[2] ?? m[3] ?? '');
  return out;
}

function basename(word: string): string {
  const last = word.split(/[\\/]/).pop() ?? word;
  return last.replace(/\.(cmd|exe|js|mjs|cjs)$/i, '');
}
