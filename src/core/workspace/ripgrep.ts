// search_text's file finder: ripgrep scans a 20,000-file workspace in a fraction of the time the
// JavaScript walk takes to read every file, and it honours every .gitignore (nested ones too).
// It only names the files that contain the text; their lines are still read and cut in JavaScript,
// so both ways give the same hits.
import { childEnvironment } from '../secrets';
import { startProgram, type GroupedCommand } from '../processGroup';
import { MAX_FILE_BYTES } from './paths';

/** Folders never searched, at any depth (the same as the walk's). */
const SKIPPED = ['.git', 'node_modules', '.software-maker'];
/** A listing beyond this many bytes is cut: the hits are bounded anyway, the memory must be too. */
const MAX_LISTING_BYTES = 16 * 1024 * 1024;

/**
 * Workspace-relative paths (forward slashes) of the files containing `query` as plain,
 * case-sensitive text; undefined when ripgrep cannot be run here, so the caller falls back to its
 * own scan.
 */
export function filesContaining(ripgrep: string, root: string, query: string): Promise<string[] | undefined> {
  const args = [
    '--no-config',
    '--files-with-matches',
    '--null',
    '--fixed-strings',
    '--case-sensitive',
    // The walk lists dotfiles (.github/…), reads .gitignore outside git repositories too, and ignores
    // what lies above the workspace; .ignore/.rgignore are ripgrep's own and are not read.
    '--hidden',
    '--no-require-git',
    '--no-ignore-parent',
    '--no-ignore-dot',
    '--max-filesize',
    String(MAX_FILE_BYTES),
    ...SKIPPED.flatMap((name) => ['--glob', `!${name}/`]),
    '--regexp',
    query,
    '--',
    '.',
  ];
  return new Promise((resolve) => {
    let child: GroupedCommand;
    try {
      child = startProgram(ripgrep, args, { cwd: root, env: childEnvironment() });
    } catch {
      resolve(undefined);
      return;
    }
    const chunks: Buffer[] = [];
    let bytes = 0;
    let settled = false;
    /** `code` undefined: ripgrep could not run (the caller scans instead). */
    const finish = (code: number | null | undefined): void => {
      if (settled) return;
      settled = true;
      child.dispose();
      if (code === undefined) {
        resolve(undefined);
        return;
      }
      const listing = Buffer.concat(chunks).toString('utf8');
      const cut = bytes >= MAX_LISTING_BYTES;
      // 0: matches, 1: none; 2 is an error, which still lists what it found (an unreadable file).
      if (code !== 0 && code !== 1 && listing === '' && !cut) {
        resolve(undefined);
        return;
      }
      const files = listing.split('\0');
      // The last name of a listing cut short may be cut too.
      if (cut) files.pop();
      resolve(files.filter((file) => file !== '').map((file) => file.replace(/\\/g, '/').replace(/^\.\//, '')));
    };
    child.stdout.on('data', (chunk: Buffer) => {
      if (bytes >= MAX_LISTING_BYTES) return;
      chunks.push(chunk);
      bytes += chunk.length;
      if (bytes >= MAX_LISTING_BYTES) finish(null);
    });
    // Its complaints (an unreadable file) are not ours to show; they must still be read off the pipe.
    child.stderr.resume();
    child.on('error', () => finish(undefined));
    child.on('close', (code: number | null) => finish(code));
  });
}

/**
 * The walk's order (plain code-unit order of full paths, a folder compared as "name/"), so hits come
 * in the same order whichever way the files were found.
 */
export function compareWalkOrder(a: string, b: string): number {
  const left = a.split('/');
  const right = b.split('/');
  for (let index = 0; index < Math.min(left.length, right.length); index++) {
    if (left[index] === right[index]) continue;
    const leftKey = index < left.length - 1 ? `${left[index]}/` : left[index]!;
    const rightKey = index < right.length - 1 ? `${right[index]}/` : right[index]!;
    return leftKey < rightKey ? -1 : leftKey > rightKey ? 1 : 0;
  }
  return left.length - right.length;
}
