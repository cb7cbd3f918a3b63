// TAP (node --test-reporter=tap, mocha --reporter tap, tape, …). node's TAP carries a YAML block per
// failure (error, location); mocha's prints the message and stack as indented text instead.
import type { TestFailure } from '../../shared/model';
import type { ParsedSummary } from './parse';
import { firstLines, isForeignFrame, locationFrom } from './textUtil';

// # pass 1 / # fail 2 / # skipped 1 / # todo 0; "not ok 2 - name" with a YAML block (error, location),
// or (mocha) "not ok 2 suite test" followed by the indented message and stack.

export function parseTap(text: string): ParsedSummary | undefined {
  const pass = [...text.matchAll(/^# pass (\d+)\s*$/gm)];
  if (pass.length === 0) return undefined;
  const summary: ParsedSummary = { framework: 'tap', passed: 0, failed: 0, skipped: 0, failures: [] };
  for (const m of pass) summary.passed += Number(m[1]);
  for (const m of text.matchAll(/^# (fail|cancelled) (\d+)\s*$/gm)) summary.failed += Number(m[2]);
  const skipLines = [...text.matchAll(/^# (skipped|skip|todo) (\d+)\s*$/gm)];
  for (const m of skipLines) summary.skipped += Number(m[2]);
  // Mocha prints no skip count; its skipped tests are "ok N name # SKIP -" lines.
  if (skipLines.length === 0) summary.skipped = [...text.matchAll(/^\s*ok \d+ .*# (SKIP|TODO)\b/gm)].length;

  const lines = text.split('\n');
  const subtests: { indent: number; name: string }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const sub = /^(\s*)# Subtest: (.*)$/.exec(lines[i]);
    if (sub) {
      const indent = sub[1].length;
      while (subtests.length > 0 && subtests[subtests.length - 1].indent >= indent) subtests.pop();
      subtests.push({ indent, name: sub[2] });
      continue;
    }
    const notOk = /^(\s*)not ok \d+ (?:- )?(.*?)(?: # (?:TODO|SKIP).*)?$/.exec(lines[i]);
    if (!notOk || /# TODO/.test(lines[i])) continue;
    const indent = notOk[1].length;
    while (subtests.length > 0 && subtests[subtests.length - 1].indent > indent) subtests.pop();
    const path = subtests.map((s) => s.name);
    if (path[path.length - 1] !== notOk[2]) path.push(notOk[2]);
    const yaml = tapYaml(lines, i + 1);
    // A suite fails because its tests failed; those tests are reported themselves.
    if (yaml.get('type') === 'suite' || yaml.get('failureType') === 'subtestsFailed') continue;
    const failure: TestFailure = { name: path.join(' > '), message: yaml.get('error') ?? '' };
    const location = yaml.get('location');
    if (location) failure.location = location;
    if (yaml.size === 0) Object.assign(failure, indentedDiagnostic(lines, i + 1, indent));
    summary.failures.push(failure);
  }
  return summary;
}

/** Mocha's TAP diagnostic: indented lines after "not ok": the message, the error again with its stack. */
function indentedDiagnostic(lines: string[], start: number, indent: number): { message: string; location?: string } {
  const block: string[] = [];
  for (let i = start; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() !== '' && /^\s*/.exec(line)![0].length <= indent) break;
    block.push(line);
  }
  const stackAt = block.findIndex((l) => /^\s+at /.test(l));
  // The error's own first line ("Error: boom") repeats the message with its type; it reads best.
  const head = stackAt === -1 ? block : block.slice(0, stackAt);
  const typed = head.findIndex((l) => /^\s*[A-Z]\w*(?: \[\w+\])?: /.test(l));
  const message = firstLines(typed === -1 ? head : head.slice(typed));
  const frame = block.find((l) => /^\s+at .*:\d+:\d+/.test(l) && !isForeignFrame(l));
  return { message, ...locationFrom(frame) };
}

/** The scalar keys of the YAML diagnostic block starting at `start` ("---" … "..."), block scalars included. */
function tapYaml(lines: string[], start: number): Map<string, string> {
  const values = new Map<string, string>();
  if (!/^\s*---\s*$/.test(lines[start] ?? '')) return values;
  const baseIndent = /^\s*/.exec(lines[start])![0].length;
  for (let i = start + 1; i < lines.length && !/^\s*\.\.\.\s*$/.test(lines[i]); i++) {
    const m = /^(\s*)([A-Za-z_]+): ?(.*)$/.exec(lines[i]);
    if (!m || m[1].length !== baseIndent) continue;
    const [, , key, raw] = m;
    if (raw === '|-' || raw === '|' || raw === '>-' || raw === '>') {
      const block: string[] = [];
      while (i + 1 < lines.length && (lines[i + 1].trim() === '' || /^\s*/.exec(lines[i + 1])![0].length > baseIndent) && !/^\s*\.\.\.\s*$/.test(lines[i + 1])) {
        block.push(lines[++i]);
      }
      values.set(key, firstLines(block));
    } else {
      values.set(key, unquote(raw.trim()));
    }
  }
  return values;
}

function unquote(s: string): string {
  if (s.length >= 2 && s.startsWith("'") && s.endsWith("'")) return s.slice(1, -1).replace(/''/g, "'");
  if (s.length >= 2 && s.startsWith('"') && s.endsWith('"')) {
    try {
      return JSON.parse(s) as string;
    } catch {
      return s.slice(1, -1);
    }
  }
  return s;
}

