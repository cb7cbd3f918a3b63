// Turns a detected test command into the command line actually run: with a machine-readable reporter
// where the framework allows one next to its human output, and narrowed to some test files when asked.
//
// Reporters (the report wins over scraping the output when it exists and parses; the exit code still
// has the last word):
//   jest       --json --outputFile=<file>                    (human output stays on stderr)
//   vitest     --reporter=default --reporter=json --outputFile=<file>
//   mocha      --reporter json --reporter-option output=<file>   (mocha >= 9.2). Mocha runs one reporter
//              only, so the terminal shows the tests' own logging but not the spec tree; `quietTerminal`
//              tells the host to print the parsed summary instead. Chosen over scraping the spec
//              reporter because the JSON carries every failure's file, full title and stack unambiguously.
//   node:test  --test-reporter=tap --test-reporter-destination=<file> --test-reporter=spec --test-reporter-destination=stdout
//   pytest     --junitxml=<file>
//   go         -json: the report is the output itself (go test writes JSON events to stdout; build
//              errors stay plain text on stderr), so `quietTerminal` is set too.
//   cargo      none: libtest's JSON output needs nightly; the human output is parsed.
//
// Narrowing (`only`, paths relative to the workspace root; see relatedTests):
//   jest, vitest       file paths as positional patterns
//   mocha, node:test   file paths as arguments (mocha: not when .mocharc or package.json sets `spec`,
//                      which mocha adds to the command line's files instead of replacing)
//   pytest             file paths or node ids (tests/test_x.py::test_y)
//   go                 package folders (./pkg/a) replacing ./...
//   cargo              integration test files (tests/x.rs → --test x); others run everything
// A command that already names its test files, a compound script or a tasks.json task is never
// narrowed: it runs whole, which is slower but never wrong.
import * as path from 'node:path';
import type { DetectedTestCommand, ReportFormat, TestFramework } from './detect';

export interface TestInvocation {
  /** The shell command to run; empty for a tasks.json task (`taskLabel`). */
  command: string;
  cwd: string;
  framework: TestFramework;
  taskLabel?: string;
  /** Where the machine-readable report will be: a file, or the output itself (go -json). Absent: scrape the output. */
  report?: { format: ReportFormat; file?: string };
  /** The terminal shows no test summary of its own (mocha json, go -json): the host should print the parsed report. */
  quietTerminal?: boolean;
  /** What became of the `only` request. */
  only?: { requested: string[]; applied: boolean; note: string };
}

export interface InvocationOptions {
  /** Absolute path for the report file (a fresh temp file); without it no file reporter is added. */
  reportFile?: string;
  /** Workspace-relative test files (or go package folders, pytest node ids) to run instead of the whole suite. */
  only?: string[];
  /** The workspace root `only` paths are relative to; default: the command's folder. */
  root?: string;
  /** Quoting rules for the shell that runs the command; default: this platform's. */
  platform?: NodeJS.Platform;
}

export function buildTestInvocation(detected: DetectedTestCommand, options: InvocationOptions = {}): TestInvocation {
  const invocation: TestInvocation = { command: detected.command, cwd: detected.cwd, framework: detected.framework };
  if (detected.taskLabel !== undefined) {
    invocation.taskLabel = detected.taskLabel;
    if (options.only?.length) invocation.only = { requested: options.only, applied: false, note: 'a tasks.json task runs as configured; it cannot be narrowed to some files.' };
    return invocation;
  }
  const platform = options.platform ?? process.platform;
  const q = (word: string): string => quote(word, platform);
  const args: string[] = [];
  let command = detected.command;

  if (detected.argStyle !== undefined && detected.reporter !== undefined) {
    const file = options.reportFile;
    switch (detected.reporter) {
      case 'jest-json':
        if (file) args.push('--json', `--outputFile=${q(file)}`);
        break;
      case 'vitest-json':
        if (file) args.push('--reporter=default', '--reporter=json', `--outputFile=${q(file)}`);
        break;
      case 'mocha-json':
        if (file) args.push('--reporter', 'json', '--reporter-option', `output=${q(file)}`);
        break;
      case 'tap':
        if (file) args.push('--test-reporter=tap', `--test-reporter-destination=${q(file)}`, '--test-reporter=spec', '--test-reporter-destination=stdout');
        break;
      case 'junit-xml':
        if (file) args.push(`--junitxml=${q(file)}`);
        break;
      case 'go-json':
        command = insertAfter(command, /^(\s*go\s+test)\b/, ' -json');
        break;
    }
    if (detected.reporter === 'go-json' && command !== detected.command) {
      invocation.report = { format: 'go-json' };
      invocation.quietTerminal = true;
    } else if (detected.reporter !== 'go-json' && file) {
      invocation.report = { format: detected.reporter, file };
      if (detected.reporter === 'mocha-json') invocation.quietTerminal = true;
    }
  }

  if (options.only && options.only.length > 0) {
    const narrowed = narrow(detected, command, options.only, options.root ?? detected.cwd, q);
    invocation.only = { requested: options.only, applied: narrowed.applied, note: narrowed.note };
    if (narrowed.applied) {
      command = narrowed.command;
      args.push(...narrowed.args);
    }
  }

  if (args.length > 0) command = detected.argStyle === 'npm' ? `${command} -- ${args.join(' ')}` : `${command} ${args.join(' ')}`;
  invocation.command = command;
  return invocation;
}

function narrow(
  detected: DetectedTestCommand,
  command: string,
  only: string[],
  root: string,
  q: (word: string) => string,
): { applied: boolean; note: string; command: string; args: string[] } {
  const no = (note: string): { applied: boolean; note: string; command: string; args: string[] } => ({ applied: false, note, command, args: [] });
  if (detected.argStyle === undefined) return no('the test command cannot take extra arguments safely (a compound or indirect script); the whole suite runs.');
  // Paths relative to the folder the command runs in.
  const rel = only.map((p) => {
    const [file, ...rest] = p.split('::');
    const relative = path.relative(detected.cwd, path.resolve(root, file!)).split(path.sep).join('/') || '.';
    return [relative, ...rest].join('::');
  });
  if (rel.some((p) => p.startsWith('../'))) return no(`some files are outside ${detected.cwd}, where the tests run; the whole suite runs.`);
  switch (detected.framework) {
    case 'jest':
    case 'vitest':
    case 'mocha':
    case 'node-test':
    case 'pytest':
      if (detected.namesTests) return no('the test command already names its test files; adding more would not narrow it, so the whole suite runs.');
      return { applied: true, note: `runs ${rel.join(', ')}`, command, args: rel.map((p) => q(p)) };
    case 'go': {
      if (!/(^|\s)\.\/\.\.\.(\s|$)/.test(command)) return no('the go test command names no ./... pattern to replace; the whole suite runs.');
      const packages = [...new Set(rel.map((p) => (p.endsWith('.go') ? path.posix.dirname(p) : p)).map((p) => (p === '.' ? '.' : `./${p.replace(/^\.\//, '')}`)))];
      return { applied: true, note: `runs packages ${packages.join(', ')}`, command: command.replace(/(^|\s)\.\/\.\.\.(?=\s|$)/, `$1${packages.map(q).join(' ')}`), args: [] };
    }
    case 'cargo': {
      const targets = rel.map((p) => /^tests\/([^/]+)\.rs$/.exec(p)?.[1]);
      if (targets.some((t) => t === undefined)) return no('cargo can only be narrowed to integration test files (tests/x.rs); the whole suite runs.');
      return { applied: true, note: `runs ${targets.join(', ')}`, command, args: targets.flatMap((t) => ['--test', q(t!)]) };
    }
    default:
      return no('the test framework is unknown, so it is not known how to pick files; the whole suite runs.');
  }
}

function insertAfter(command: string, re: RegExp, text: string): string {
  const m = re.exec(command);
  if (!m) return command;
  return command.slice(0, m.index + m[0].length) + text + command.slice(m.index + m[0].length);
}

/** One shell word: bare when safe, else single-quoted (POSIX) or double-quoted (Windows cmd). */
export function quote(word: string, platform: NodeJS.Platform = process.platform): string {
  if (/^[\w@%+=:,./-]+$/.test(word)) return word;
  if (platform === 'win32') return `"${word.replace(/"/g, '""')}"`;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
