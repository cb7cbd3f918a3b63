// The workspace as the CLI (and tests) see it: plain files on disk under one folder.
import type { Dirent } from 'node:fs';
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import * as path from 'node:path';
import type { SearchHit, Workspace } from '../ports';
import { isBinary, isMissing, MAX_FILE_BYTES, relativeInside, resolveInWorkspace, WorkspaceError } from './paths';
import { compareWalkOrder, filesContaining } from './ripgrep';
import { messageOf } from '../../shared/wording';

/** Folders never listed or searched, at any depth. */
const SKIPPED_DIRS = new Set(['.git', 'node_modules', '.software-maker']);
const MAX_HIT_TEXT = 200;

export interface NodeWorkspaceOptions {
  /**
   * The ripgrep program search_text uses to find the files that contain the text ("rg" on PATH by
   * default; VS Code passes its own bundled one); false, or a program that cannot run, means the
   * JavaScript scan of every file.
   */
  ripgrep?: string | false;
}

export class NodeWorkspace implements Workspace {
  private ignoreRules: Promise<IgnoreRule[]> | undefined;
  private ripgrep: string | false;

  /** `root` must already be a real path; use NodeWorkspace.open for a folder given by a user. */
  constructor(
    readonly root: string,
    options: NodeWorkspaceOptions = {},
  ) {
    this.ripgrep = options.ripgrep ?? 'rg';
  }

  /** Opens an existing folder, resolving symlinks in its path. Throws WorkspaceError when it is missing. */
  static async open(root: string, options: NodeWorkspaceOptions = {}): Promise<NodeWorkspace> {
    let real: string;
    try {
      real = await realpath(root);
    } catch (error) {
      throw new WorkspaceError('invalid', `The workspace folder ${root} does not exist or cannot be read (${messageOf(error)}); pass an existing folder.`);
    }
    if (!(await stat(real)).isDirectory()) {
      throw new WorkspaceError('invalid', `The workspace path ${root} is a file, not a folder; pass the project folder.`);
    }
    return new NodeWorkspace(real, options);
  }

  async readText(relPath: string): Promise<string | undefined> {
    const { abs, rel } = await resolveInWorkspace(this.root, relPath);
    let size: number;
    try {
      const info = await stat(abs);
      if (info.isDirectory()) {
        throw new WorkspaceError('invalid', `${rel} is a folder, not a file; use listFiles to see what it contains.`, relPath);
      }
      size = info.size;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
    if (size > MAX_FILE_BYTES) {
      throw new WorkspaceError('too-large', `${rel} is ${size} bytes, over the ${MAX_FILE_BYTES}-byte limit for files agents read or edit; work with a smaller file.`, relPath);
    }
    let buf: Buffer;
    try {
      buf = await readFile(abs);
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
    // Checked again after reading: the file may have grown between stat and read.
    if (buf.length > MAX_FILE_BYTES) {
      throw new WorkspaceError('too-large', `${rel} is ${buf.length} bytes, over the ${MAX_FILE_BYTES}-byte limit for files agents read or edit; work with a smaller file.`, relPath);
    }
    if (isBinary(buf)) {
      throw new WorkspaceError('binary', `${rel} is a binary (or non-UTF-8) file; agents can only read and edit UTF-8 text files.`, relPath);
    }
    // toString keeps a BOM, so writing the text back leaves the file's bytes as they were.
    return buf.toString('utf8');
  }

  async listFiles(relDir: string, limit: number): Promise<string[]> {
    const files: string[] = [];
    if (limit <= 0) return files;
    for await (const file of this.walk(relDir)) {
      files.push(file.rel);
      if (files.length >= limit) break;
    }
    return files;
  }

  async searchText(query: string, limit: number): Promise<SearchHit[]> {
    if (query === '') {
      throw new WorkspaceError('invalid', 'The search text is empty; give the text to look for.');
    }
    const hits: SearchHit[] = [];
    if (limit <= 0) return hits;
    // A line never contains a line break, so such a query has no hits (and ripgrep would split it).
    if (query.includes('\n')) return hits;
    for await (const file of this.searchCandidates(query)) {
      const text = await readSearchable(file.abs);
      if (text === undefined || !text.includes(query)) continue;
      const lines = text.split('\n');
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i].replace(/\r$/, '');
        if (!line.includes(query)) continue;
        hits.push({ path: file.rel, line: i + 1, text: excerpt(line, query) });
        if (hits.length >= limit) return hits;
      }
    }
    return hits;
  }

  /** The files that may contain `query`, in walk order: those ripgrep names, else every file. */
  private async *searchCandidates(query: string): AsyncGenerator<{ abs: string; rel: string }> {
    // A carriage return only matches inside a line as the scan splits them: that scan decides.
    const found = this.ripgrep && !query.includes('\r') ? await filesContaining(this.ripgrep, this.root, query) : undefined;
    if (found === undefined) {
      // Not there (no rg on PATH, an editor without its bundled one): not asked again.
      if (this.ripgrep && !query.includes('\r')) this.ripgrep = false;
      yield* this.walk('');
      return;
    }
    for (const rel of found.sort(compareWalkOrder)) yield { abs: path.join(this.root, rel), rel };
  }

  /** Files under relDir in sorted order (plain code-unit order of their full paths). */
  private async *walk(relDir: string): AsyncGenerator<{ abs: string; rel: string }> {
    const trimmed = relDir.replace(/\\/g, '/').trim();
    let start: { abs: string; rel: string };
    if (trimmed === '' || trimmed === '.' || trimmed === './' || trimmed === '/') {
      start = { abs: this.root, rel: '' };
    } else {
      start = await resolveInWorkspace(this.root, relDir);
    }
    const rules = await this.loadIgnoreRules();
    yield* this.walkDir(start.abs, start.rel, rules);
  }

  private async *walkDir(absDir: string, relDir: string, rules: IgnoreRule[]): AsyncGenerator<{ abs: string; rel: string }> {
    let entries: Dirent[];
    try {
      entries = await readdir(absDir, { withFileTypes: true });
    } catch (error) {
      if (isMissing(error)) return;
      throw error;
    }
    const items: { name: string; key: string; dir: boolean; abs: string; rel: string }[] = [];
    for (const entry of entries) {
      if (entry.isDirectory() && SKIPPED_DIRS.has(entry.name)) continue;
      const abs = path.join(absDir, entry.name);
      const rel = relDir === '' ? entry.name : `${relDir}/${entry.name}`;
      let dir = entry.isDirectory();
      if (entry.isSymbolicLink()) {
        // Linked folders are not followed (cycles, escapes); linked files are listed only when they point inside.
        const target = await linkedFileInside(abs, this.root);
        if (!target) continue;
        dir = false;
      } else if (!dir && !entry.isFile()) {
        continue;
      }
      if (isIgnored(rules, rel, dir)) continue;
      // Sorting by "name/" for folders makes depth-first order equal to sorted order of the full paths.
      items.push({ name: entry.name, key: dir ? `${entry.name}/` : entry.name, dir, abs, rel });
    }
    items.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    for (const item of items) {
      if (item.dir) yield* this.walkDir(item.abs, item.rel, rules);
      else yield { abs: item.abs, rel: item.rel };
    }
  }

  private loadIgnoreRules(): Promise<IgnoreRule[]> {
    this.ignoreRules ??= readFile(path.join(this.root, '.gitignore'), 'utf8').then(parseGitignore, () => []);
    return this.ignoreRules;
  }
}

async function linkedFileInside(abs: string, root: string): Promise<boolean> {
  try {
    const real = await realpath(abs);
    if (relativeInside(root, real) === undefined) return false;
    return (await stat(real)).isFile();
  } catch {
    return false;
  }
}

async function readSearchable(abs: string): Promise<string | undefined> {
  try {
    const info = await stat(abs);
    if (info.size > MAX_FILE_BYTES) return undefined;
    const buf = await readFile(abs);
    if (isBinary(buf)) return undefined;
    return buf.toString('utf8');
  } catch (error) {
    // A file deleted while we search is simply not a hit.
    if (isMissing(error)) return undefined;
    throw error;
  }
}

/** The trimmed line, or for a long line a window of at most 200 characters around the match. */
function excerpt(line: string, query: string): string {
  const trimmed = line.trim();
  if (trimmed.length <= MAX_HIT_TEXT) return trimmed;
  const at = trimmed.indexOf(query);
  const start = Math.max(0, Math.min(at - 40, trimmed.length - MAX_HIT_TEXT));
  let window = trimmed.slice(start, start + MAX_HIT_TEXT);
  if (start > 0) window = `…${window.slice(1)}`;
  if (start + MAX_HIT_TEXT < trimmed.length) window = `${window.slice(0, -1)}…`;
  return window;
}

// A deliberately small subset of .gitignore (top-level file only): enough to keep build output and
// dependencies out of listings. Negations are not supported and are skipped, which can only hide
// fewer files than git would.
export interface IgnoreRule {
  regex: RegExp;
  dirOnly: boolean;
}

export function parseGitignore(text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (const raw of text.split(/\r?\n/)) {
    let line = raw.replace(/(?<!\\)\s+$/, '');
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    const dirOnly = line.endsWith('/');
    if (dirOnly) line = line.replace(/\/+$/, '');
    // A slash anywhere but the end anchors the pattern to the top folder; otherwise it matches at any depth.
    const anchored = line.includes('/');
    line = line.replace(/^\//, '');
    if (line === '') continue;
    let body = globToRegex(line);
    if (!anchored) body = `(?:.*/)?${body}`;
    rules.push({ regex: new RegExp(`^${body}$`), dirOnly });
  }
  return rules;
}

function globToRegex(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') {
      if (glob[i + 1] === '*') {
        const slashAfter = glob[i + 2] === '/';
        out += slashAfter ? '(?:.*/)?' : '.*';
        i += slashAfter ? 2 : 1;
      } else {
        out += '[^/]*';
      }
    } else if (c === '?') {
      out += '[^/]';
    } else if (c === '\\' && i + 1 < glob.length) {
      out += escapeRegex(glob[++i]);
    } else {
      out += escapeRegex(c);
    }
  }
  return out;
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** A path is ignored when it, or any folder above it, matches a rule (git does not look inside ignored folders). */
export function isIgnored(rules: IgnoreRule[], rel: string, isDir: boolean): boolean {
  if (rules.length === 0) return false;
  for (const rule of rules) {
    if (rule.dirOnly && !isDir) continue;
    if (rule.regex.test(rel)) return true;
  }
  return false;
}
