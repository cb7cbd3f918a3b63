// The scripts a newcomer's `npm install && npm test` and CI go through, with a fake npm on PATH:
// - scripts/install-code-server.sh runs a nested `npm install` from inside `npm test`: it must not hand
//   that npm the outer npm's state (npm_config_user_agent naming the system Node made code-server's
//   postinstall refuse with "requires node v22" on a fresh machine). The fake npm records the
//   environment it was started with and refuses the way code-server's postinstall does.
// - .ci/run runs exactly the README's command and ends with its `N passed, N failed` line.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { REPO, tempDir } from './helpers';

const FAKE_NPM = `#!/usr/bin/env bash
env > "$PWD/npm-env.txt"
major=$(echo "\${npm_config_user_agent:-}" | sed -n 's/.*node\\/v\\([^.]*\\).*/\\1/p')
if [ -n "$major" ] && [ "$major" != 22 ]; then echo "ERROR: code-server currently requires node v22." >&2; exit 1; fi
`;

/** What an outer `npm test` on Node 20 exports to its children (taken from a real `npm run`). */
function outerNpmEnvironment(fakeBin: string, project: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PATH: [fakeBin, path.join(project, 'node_modules', '.bin'), '/usr/lib/node_modules/npm/node_modules/@npmcli/run-script/lib/node-gyp-bin', process.env.PATH].join(':'),
    npm_config_user_agent: 'npm/11.19.1 node/v20.20.2 linux x64 workspaces/false',
    npm_config_nodedir: '/usr',
    npm_config_node_gyp: '/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
    npm_config_local_prefix: project,
    npm_lifecycle_event: 'test',
    npm_lifecycle_script: 'bash scripts/with-node22.sh node scripts/test.mjs',
    npm_package_name: 'software-maker',
    npm_package_json: path.join(project, 'package.json'),
    npm_execpath: '/usr/lib/node_modules/npm/bin/npm-cli.js',
    npm_node_execpath: '/usr/bin/node',
    npm_command: 'test',
    NPM_CONFIG_USER_AGENT: 'npm/11.19.1 node/v20.20.2 linux x64 workspaces/false',
    INIT_CWD: project,
    NODE: '/usr/bin/node',
    NODE_OPTIONS: '--require /nonexistent/hook.js',
    HOME: process.env.HOME ?? '/root',
    https_proxy: 'http://proxy.invalid:3128',
  };
}

function parseEnv(text: string): Map<string, string> {
  const vars = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) vars.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return vars;
}

describe('scripts/install-code-server.sh inside an outer npm run', function () {
  this.timeout(60_000);
  let dir: string;

  beforeEach(async () => {
    dir = await tempDir('sm-install-');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('starts the nested npm install without the outer npm state, keeping HOME, the proxy and its own settings', () => {
    const fakeBin = path.join(dir, 'bin');
    mkdirSync(fakeBin);
    writeFileSync(path.join(fakeBin, 'npm'), FAKE_NPM);
    // Debian's rg is copied into the ripgrep seed; any file will do here.
    writeFileSync(path.join(fakeBin, 'rg'), '#!/bin/sh\n');
    for (const tool of ['npm', 'rg']) chmodSync(path.join(fakeBin, tool), 0o755);
    const cache = path.join(dir, 'cache');

    const result = spawnSync('bash', [path.join(REPO, 'scripts', 'install-code-server.sh')], {
      encoding: 'utf8',
      env: { ...outerNpmEnvironment(fakeBin, REPO), SOFTWARE_MAKER_CACHE: cache, CODE_SERVER_VERSION: '4.117.0' },
    });
    assert.equal(result.status, 0, `install-code-server.sh failed:\n${result.stderr}${result.stdout}`);
    const target = path.join(cache, 'code-server-4.117.0');
    assert.equal(result.stdout.trim().split('\n').at(-1), path.join(target, 'node_modules', 'code-server'));

    const seen = parseEnv(readFileSync(path.join(target, 'npm-env.txt'), 'utf8'));
    const leaked = [...seen.keys()].filter((key) => /^npm_/i.test(key) && !['npm_config_yes', 'npm_config_nodedir'].includes(key));
    assert.deepEqual(leaked, [], 'no npm_* variable of the outer npm reaches the nested install');
    for (const key of ['INIT_CWD', 'NODE', 'NODE_OPTIONS']) assert.equal(seen.get(key), undefined, `${key} is not passed on`);
    const pathDirs = (seen.get('PATH') ?? '').split(':');
    assert.deepEqual(pathDirs.filter((entry) => /node_modules\/\.bin$|node-gyp-bin$/.test(entry)), [], 'no node_modules/.bin or node-gyp-bin folder of the outer run on PATH');
    assert.ok(pathDirs.includes(fakeBin), 'the rest of PATH is kept');
    assert.equal(seen.get('HOME'), process.env.HOME ?? '/root');
    assert.equal(seen.get('https_proxy'), 'http://proxy.invalid:3128');
    assert.equal(seen.get('npm_config_yes'), 'true');
    assert.match(seen.get('npm_config_nodedir') ?? '', /\S/, 'the Node 22 headers folder');
    assert.notEqual(seen.get('npm_config_nodedir'), '/usr', 'the headers of Node 22, not of the system Node');
    assert.equal(seen.get('TMPDIR'), path.join(target, 'tmp'));
  });
});

describe('.ci/run', function () {
  this.timeout(60_000);
  let dir: string;

  beforeEach(async () => {
    dir = await tempDir('sm-ci-');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs a copy of .ci/run in a checkout of its own, with `npm` a script that logs its arguments and does `behaviour`. */
  function runCi(behaviour: string): { status: number | null; lines: string[]; npmCalls: string[] } {
    const checkout = path.join(dir, 'checkout');
    mkdirSync(path.join(checkout, '.ci'), { recursive: true });
    copyFileSync(path.join(REPO, '.ci', 'run'), path.join(checkout, '.ci', 'run'));
    const fakeBin = path.join(dir, 'bin');
    mkdirSync(fakeBin);
    const calls = path.join(dir, 'npm-calls.txt');
    writeFileSync(path.join(fakeBin, 'npm'), `#!/usr/bin/env bash\necho "$*" >> ${JSON.stringify(calls)}\n[ "$1" = --version ] && { echo 11.0.0; exit 0; }\n${behaviour}\n`);
    chmodSync(path.join(fakeBin, 'npm'), 0o755);
    const result = spawnSync('bash', [path.join(checkout, '.ci', 'run')], { encoding: 'utf8', env: { ...process.env, PATH: `${fakeBin}:${process.env.PATH}` } });
    const npmCalls = readFileSync(calls, 'utf8').trim().split('\n').filter((call) => call !== '--version');
    return { status: result.status, lines: `${result.stdout}${result.stderr}`.trim().split('\n'), npmCalls };
  }

  it('runs the README command (npm install, then npm test) and ends with its summary and exit code', () => {
    const { status, lines, npmCalls } = runCi('[ "$1" = test ] && { echo "3 passed, 1 failed"; exit 1; }\nexit 0');
    assert.deepEqual(npmCalls, ['install', 'test']);
    assert.equal(status, 1);
    assert.equal(lines.at(-1), '3 passed, 1 failed');
  });

  it('passes when npm test passes', () => {
    const { status, lines } = runCi('[ "$1" = test ] && echo "12 passed, 0 failed"\nexit 0');
    assert.equal(status, 0);
    assert.equal(lines.at(-1), '12 passed, 0 failed');
  });

  it('when npm install fails: npm test does not run, the exit code is not 0 and the last line still counts a failure', () => {
    const { status, lines, npmCalls } = runCi('[ "$1" = install ] && exit 7\nexit 0');
    assert.deepEqual(npmCalls, ['install']);
    assert.equal(status, 7);
    assert.equal(lines.at(-1), '0 passed, 1 failed');
  });
});

