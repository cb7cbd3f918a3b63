// Small text helpers shared by the output scrapers (parse.ts) and the report-file readers (reports.ts).
import * as path from 'node:path';

export const MAX_MESSAGE_LINES = 6;

const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-Z\\-_]/g;

export function stripAnsi(s: string): string {
  return s.replace(ANSI, '');
}

/** The first few non-blank lines, trimmed, joined by newlines. */
export function firstLines(lines: string[], max = MAX_MESSAGE_LINES): string {
  return lines
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .slice(0, max)
    .join('\n');
}

export function takeUntil(lines: string[], stop: (line: string) => boolean): string[] {
  const out: string[] = [];
  for (const line of lines) {
    if (stop(line)) break;
    out.push(line);
  }
  return out;
}

/** `{ location: "path:line:col" }` from a stack line "at fn (file:///path:4:34)" or "❯ path:6:17". */
export function locationFrom(line: string | undefined): { location?: string } {
  if (line === undefined) return {};
  const m = /\(?((?:file:\/\/)?[^\s()]+:\d+:\d+)\)?\s*$/.exec(line.trim());
  return m ? { location: m[1]!.replace(/^file:\/\//, '') } : {};
}

/** Whether a stack frame points into dependencies or Node itself rather than the user's code. */
export function isForeignFrame(line: string): boolean {
  return /node_modules|node:internal|\(node:|\bnode:[a-z_]+:\d|\(<anonymous>\)/.test(line);
}

/** "file:line:col" of the first stack frame in the user's code, relative to `cwd` when inside it. */
export function firstOwnFrame(stack: string, cwd?: string): string | undefined {
  for (const line of stack.split('\n')) {
    if (!/^\s+at /.test(line) || isForeignFrame(line)) continue;
    const { location } = locationFrom(line);
    if (location) return relativeLocation(location, cwd);
  }
  return undefined;
}

export function relativeLocation(location: string, cwd: string | undefined): string {
  if (cwd === undefined || !path.isAbsolute(location)) return location;
  const rel = path.relative(cwd, location);
  return rel.startsWith('..') || path.isAbsolute(rel) ? location : rel.split(path.sep).join('/');
}

export function count(text: string, re: RegExp): number {
  const m = re.exec(text);
  return m ? Number(m[1]) : 0;
}

/** The problem of a run in which test files failed to load (they have no tests in the counts). */
export function loadFailureProblem(broken: readonly string[]): string | undefined {
  return broken.length ? `${broken.length} test file${broken.length === 1 ? '' : 's'} failed to load: ${broken.join('; ')}` : undefined;
}
