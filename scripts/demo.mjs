// The demo: a goal on the bundled calculator sample, replayed from a recorded transcript, headless.
// Its edits turn the sample's failing tests green; the run is gated by those tests.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const step = (text) => console.log(`\n=== ${text}`);
const run = (cmd, args, options = {}) => spawnSync(cmd, args, { stdio: 'inherit', ...options });

step('Building');
if (run(process.execPath, [join(root, 'esbuild.mjs')], { cwd: root }).status !== 0) process.exit(1);

const workspace = mkdtempSync(join(tmpdir(), 'software-maker-demo-'));
cpSync(join(root, 'samples/calculator'), workspace, { recursive: true });
step(`Sample workspace: ${workspace} (a copy of samples/calculator)`);

step('Its tests before the run (two fail: add() subtracts)');
const before = spawnSync(process.execPath, ['--test'], { cwd: workspace, encoding: 'utf8' });
console.log(before.stdout.split('\n').filter((line) => /^# (pass|fail)|^not ok/.test(line)).join('\n'));

step('software-maker run "Fix the failing calculator tests" (recorded transcript, edits auto-approved)');
const result = run(process.execPath, [
  join(root, 'dist/cli.js'),
  'run',
  'Fix the failing calculator tests',
  '--workspace',
  workspace,
  '--model',
  `scripted:${join(root, 'samples/transcripts/calculator.json')}`,
  '--yes',
]);

step('Its tests after the run');
const after = spawnSync(process.execPath, ['--test'], { cwd: workspace, encoding: 'utf8' });
console.log(after.stdout.split('\n').filter((line) => /^# (pass|fail)|^not ok/.test(line)).join('\n'));
console.log(`\nThe workspace stays at ${workspace}; its run log and report are in .software-maker/runs/.`);
process.exit(result.status === 0 && after.status === 0 ? 0 : 1);
