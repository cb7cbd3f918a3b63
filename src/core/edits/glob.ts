// Workspace-relative glob matching (auto-approve rules, task file scopes): `**` crosses folders, `*`
// and `?` do not, `{a,b}` is either alternative, `[abc]` one character of the class.
const cache = new Map<string, RegExp>();

export function globToRegExp(glob: string): RegExp {
  let regex = cache.get(glob);
  if (regex) return regex;
  regex = new RegExp(`^${globSource(normalize(glob))}$`);
  cache.set(glob, regex);
  return regex;
}

function globSource(pattern: string): string {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i]!;
    if (char === '*' && pattern[i + 1] === '*') {
      // `**/` matches zero or more folders; a trailing `**` matches everything below.
      if (pattern[i + 2] === '/') {
        source += '(?:.*/)?';
        i += 2;
      } else {
        source += '.*';
        i += 1;
      }
    } else if (char === '*') {
      source += '[^/]*';
    } else if (char === '?') {
      source += '[^/]';
    } else if (char === '{' && pattern.indexOf('}', i) > i) {
      const end = pattern.indexOf('}', i);
      source += `(?:${pattern.slice(i + 1, end).split(',').map(globSource).join('|')})`;
      i = end;
    } else if (char === '[' && pattern.indexOf(']', i + 2) > i) {
      const end = pattern.indexOf(']', i + 2);
      const body = pattern.slice(i + 1, end).replace(/^!/, '^').replace(/[\\\]]/g, '\\$&');
      source += `(?!/)[${body}]`;
      i = end;
    } else {
      source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
  }
  return source;
}

function normalize(path: string): string {
  return path.replace(/\\/g, '/').replace(/^\.\//, '');
}

export function matchesAnyGlob(path: string, globs: readonly string[]): boolean {
  const normalized = normalize(path);
  return globs.some((glob) => globToRegExp(glob).test(normalized));
}

/**
 * Whether a path lies in a task's planned file scope: an entry is a file, a folder (everything under
 * it) or a glob; an empty scope is anywhere. Every path this admits starts with the entry's literal
 * prefix, which is what the scheduler compares (core/scheduler.ts), so two tasks it lets run together
 * can never both stage one file.
 */
export function inFileScope(path: string, scope: readonly string[]): boolean {
  if (scope.length === 0) return true;
  const normalized = normalize(path);
  return scope.some((entry) => {
    const pattern = normalize(entry).replace(/\/+$/, '');
    if (/[*?[{]/.test(pattern)) return globToRegExp(pattern).test(normalized);
    return normalized === pattern || normalized.startsWith(`${pattern}/`);
  });
}
