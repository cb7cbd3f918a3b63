import { strict as assert } from 'node:assert';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runProgram, startInProcessGroup, type GroupedCommand } from '../../src/core/processGroup';
import { processAlive } from './helpers';

const parentOf = (pid: number) => Number(execFileSync('ps', ['-o', 'ppid=', '-p', String(pid)], { encoding: 'utf8' }).trim());
const groupOf = (pid: number) => Number(execFileSync('ps', ['-o', 'pgid=', '-p', String(pid)], { encoding: 'utf8' }).trim());

async function until<T>(read: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function ended(command: GroupedCommand): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    let output = '';
    command.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    command.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    command.on('error', reject);
    command.on('close', (code: number | null) => resolve({ code, output }));
  });
}

(process.platform === 'win32' ? describe.skip : describe)('process groups started by the process host', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'sm-pgroup-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('starts every command from one small process of its own, each command leading its own group', async () => {
    const env = { PATH: process.env.PATH };
    const first = startInProcessGroup('echo $$; sleep 30', { cwd: dir, env });
    const second = startInProcessGroup('echo $$; sleep 30', { cwd: dir, env });
    try {
      const [one, two] = await Promise.all(
        [first, second].map((command) => new Promise<number>((resolve) => command.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString('utf8').trim()))))),
      );
      assert.equal(parentOf(one!), parentOf(two!), 'both commands have the same parent');
      assert.notEqual(parentOf(one!), process.pid, 'the parent is not this process');
      assert.equal(groupOf(one!), one);
      assert.equal(groupOf(two!), two);
      assert.equal(first.pid, one);
    } finally {
      first.dispose();
      second.dispose();
    }
  });

  it('passes output, exit codes and the exact environment through, and signals reach the whole group', async () => {
    const done = await ended(startInProcessGroup('echo out; echo err >&2; echo "[$SM_PGROUP_VALUE]"; exit 3', { cwd: dir, env: { PATH: process.env.PATH, SM_PGROUP_VALUE: 'kept' } }));
    assert.equal(done.code, 3);
    assert.match(done.output, /out\n/);
    assert.match(done.output, /err\n/);
    assert.match(done.output, /\[kept\]/);

    const pidFile = path.join(dir, 'bg.pid');
    const running = startInProcessGroup(`sleep 30 & echo $! > ${pidFile}; wait`, { cwd: dir, env: { PATH: process.env.PATH } });
    const result = ended(running);
    const background = Number(await until(() => readFile(pidFile, 'utf8').then((text) => text.trim() || undefined, () => undefined), 'the background pid'));
    running.signal('SIGTERM');
    assert.equal((await result).code, null);
    running.dispose();
    await until(() => (processAlive(background) ? undefined : true), 'the background sleep to die');
  });

  it('runs a program without a shell, feeding it input, and reports one that cannot start', async () => {
    const input = Buffer.from('line one\nline two\n');
    const counted = await runProgram('wc', ['-l'], { cwd: dir, env: { PATH: process.env.PATH }, input });
    assert.equal(counted.code, 0);
    assert.equal(counted.stdout.toString('utf8').trim(), '2');
    const literal = await runProgram('echo', ['$HOME', '*'], { cwd: dir, env: { PATH: process.env.PATH } });
    assert.equal(literal.stdout.toString('utf8'), '$HOME *\n', 'arguments are not expanded by a shell');
    await assert.rejects(runProgram('sm-no-such-program-7f3a', [], { cwd: dir, env: { PATH: process.env.PATH } }), /ENOENT/);
  });

  it('does not keep a process alive once its commands have ended, disposed or not', async function () {
    this.timeout(30_000);
    const script = `
      const { runProgram, startInProcessGroup } = require(${JSON.stringify(path.resolve(__dirname, '../../src/core/processGroup.ts'))});
      const left = startInProcessGroup('echo left', { cwd: ${JSON.stringify(dir)}, env: { PATH: process.env.PATH } });
      left.stdout.resume();
      left.on('close', () => runProgram('true', [], { cwd: ${JSON.stringify(dir)}, env: { PATH: process.env.PATH } }).then(() => console.log('done')));
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve(null);
      }, 20_000);
      child.on('exit', (exitCode) => {
        clearTimeout(timer);
        resolve(exitCode);
      });
    });
    assert.equal(code, 0, 'the process exited by itself');
    assert.equal(output.trim(), 'done');
  });

  it('when the host dies, running commands are reported ended and their groups killed; the next command gets a new host', async () => {
    const command = startInProcessGroup('echo $PPID; sleep 30', { cwd: dir, env: { PATH: process.env.PATH } });
    const result = ended(command);
    const hostPid = await new Promise<number>((resolve) => command.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString('utf8').trim()))));
    const group = await until(() => command.pid, 'the group id');
    process.kill(hostPid, 'SIGKILL');
    assert.equal((await result).code, null);
    await until(() => (processAlive(group) ? undefined : true), 'the orphaned command to die');
    command.dispose();
    const next = await ended(startInProcessGroup('echo $PPID', { cwd: dir, env: { PATH: process.env.PATH } }));
    assert.equal(next.code, 0);
    assert.notEqual(Number(next.output.trim()), hostPid);
  });
});
