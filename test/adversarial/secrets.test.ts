// Attacks on the user's API keys: a model that echoes the key it was sent (a custom shape, which no
// pattern knows) into its text, tool inputs, the plan and a proposed file; a test command that dumps
// its environment. The key must appear in no file of the run, no output of the CLI, no file of the
// workspace, and no child process's environment.
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ECHOED_KEY, startFakeOpenAI, type FakeReply, type FakeServer } from '../support/fakeProviders';
import { runCli, tempDir, type CliResult } from '../unit/helpers';
import { buildCli } from '../unit/builtCli';
import { hostileWorkspace, isolatedUserEnv } from './support';

const GOAL = 'Fix the failing calculator tests';

/** Every file under `dir` (recursively) with its text. */
async function filesUnder(dir: string): Promise<{ path: string; text: string }[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  const files: { path: string; text: string }[] = [];
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    files.push({ path, text: await readFile(path, 'latin1') });
  }
  return files;
}

/**
 * `run` through the built CLI against the fake server, the key in SM_ADV_MODEL_KEY; every test run
 * dumps its environment into a file of `dumps`.
 */
async function runAgainst(server: FakeServer, ws: string, env: NodeJS.ProcessEnv): Promise<{ result: CliResult; dumps: string }> {
  const dumps = await tempDir('sm-adv-env-');
  const args = ['run', GOAL, '--workspace', ws, '--model', `openai-compatible:fake-model@${server.url}`, '--api-key-env', 'SM_ADV_MODEL_KEY'];
  const result = await runCli(await buildCli(), [...args, '--test-command', `env > "${dumps}/env-$$.txt"; node --test`, '--yes'], { env });
  return { result, dumps };
}

const answer = (toolCalls: { name: string; input: Record<string, unknown> }[], text?: string): FakeReply => ({ kind: 'answer', text, toolCalls });

describe('attacks on API keys', function () {
  this.timeout(180_000);
  let server: FakeServer | undefined;

  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('a model echoes a custom-shaped key into text, tool inputs, the plan and a proposed file: the key is in no artifact, output or workspace file', async () => {
    const key = `zz-custom-7f3a9c${randomBytes(12).toString('hex')}`;
    const plan = {
      summary: `Fix add(). (I was called with ${ECHOED_KEY})`,
      tasks: [
        {
          id: 't1',
          title: 'Fix add()',
          description: `Make add return a + b. Key for reference: ${ECHOED_KEY}`,
          role: 'implementer',
          dependsOn: [],
          acceptance: [`add tests pass, ${ECHOED_KEY}`],
          files: ['src/calc.js', 'src/key.js'],
        },
      ],
    };
    server = await startFakeOpenAI(
      answer([{ name: 'finish', input: plan }], `Planning. My key is ${ECHOED_KEY}.`),
      // Tool inputs carrying the key: a search for it, and proposals that would write it into files.
      answer([
        { name: 'search_text', input: { query: ECHOED_KEY } },
        { name: 'propose_edit', input: { path: 'src/calc.js', hunks: [{ search: 'return a - b;', replace: `return a + b; // ${ECHOED_KEY}` }] } },
        { name: 'propose_edit', input: { path: 'src/key.js', content: `module.exports = '${ECHOED_KEY}';\n` } },
      ]),
      answer([{ name: 'propose_edit', input: { path: 'src/calc.js', hunks: [{ search: 'return a - b;', replace: 'return a + b;' }] } }]),
      answer([{ name: 'finish', input: { summary: `fixed add() with ${ECHOED_KEY}` } }], `Done, ${ECHOED_KEY}`),
      answer([{ name: 'finish', input: { approved: true, summary: `looks right (${ECHOED_KEY})`, issues: [] } }]),
    );
    const ws = await hostileWorkspace();
    const env = await isolatedUserEnv({ SM_ADV_MODEL_KEY: key });
    const { result } = await runAgainst(server, ws, env);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.ok(server.requests.some((request) => request.headers.authorization === `Bearer ${key}`), 'the model was called with the key');

    const leaks: string[] = [];
    if (result.stdout.includes(key)) leaks.push('CLI stdout');
    if (result.stderr.includes(key)) leaks.push('CLI stderr');
    // The run folder is inside the workspace (.software-maker/runs): events, step records, plan.md,
    // report.md, proposals. And the isolated user state: checkpoints.
    for (const file of [...(await filesUnder(ws)), ...(await filesUnder(env.HOME!))]) if (file.text.includes(key)) leaks.push(file.path);
    assert.deepEqual(leaks, [], `the key leaked into: ${leaks.join(', ')}`);

    const runFiles = (await filesUnder(join(ws, '.software-maker', 'runs'))).map((file) => file.path);
    for (const expected of [/events\.jsonl$/, /plan\.md$/, /report\.md$/, /steps\/plan@v1\.json$/, /steps\/t1\.implement@v1\.json$/, /proposals\/.*\.json$/]) {
      assert.ok(runFiles.some((path) => expected.test(path)), `no ${expected} was written, so it was not checked`);
    }
    const events = (await filesUnder(join(ws, '.software-maker', 'runs'))).find((file) => file.path.endsWith('events.jsonl'))!.text;
    assert.match(events, /contains the value of a configured API key/, 'the agent was told why its proposals were refused');
    assert.match(await readFile(join(ws, 'src/calc.js'), 'utf8'), /return a \+ b;\n/, 'the clean proposal landed');
    await assert.rejects(readFile(join(ws, 'src/key.js')), { code: 'ENOENT' });
  });

  it('a test command dumps its environment: no provider key, known, configured or copied under another name', async () => {
    const key = `zz-custom-7f3a9c${randomBytes(12).toString('hex')}`;
    const known = `sk-proj-${randomBytes(16).toString('hex')}`;
    server = await startFakeOpenAI(
      answer([{ name: 'finish', input: { summary: 'Fix add().', tasks: [{ id: 't1', title: 'Fix add()', description: 'Make add return a + b.', role: 'implementer', dependsOn: [], acceptance: ['add tests pass'], files: ['src/calc.js'] }] } }]),
      answer([{ name: 'propose_edit', input: { path: 'src/calc.js', hunks: [{ search: 'return a - b;', replace: 'return a + b;' }] } }]),
      answer([{ name: 'finish', input: { summary: 'fixed add()' } }]),
      answer([{ name: 'finish', input: { approved: true, summary: 'ok', issues: [] } }]),
    );
    const ws = await hostileWorkspace();
    const env = await isolatedUserEnv({ SM_ADV_MODEL_KEY: key, SM_ADV_COPY_OF_KEY: key, OPENAI_API_KEY: known, ANTHROPIC_API_KEY: `sk-ant-${randomBytes(16).toString('hex')}`, SM_ADV_HARMLESS: 'passed-on' });
    const { result, dumps } = await runAgainst(server, ws, env);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const dumped = await filesUnder(dumps);
    assert.ok(dumped.length >= 3, `baseline, task and final test runs each dumped their environment (${dumped.length})`);
    for (const dump of dumped) {
      assert.match(dump.text, /^SM_ADV_HARMLESS=passed-on$/m, 'other variables reach the tests');
      for (const name of ['SM_ADV_MODEL_KEY', 'SM_ADV_COPY_OF_KEY', 'OPENAI_API_KEY', 'ANTHROPIC_API_KEY']) assert.doesNotMatch(dump.text, new RegExp(`^${name}=`, 'm'), `${name} reached the test command`);
      assert.ok(!dump.text.includes(key) && !dump.text.includes(known), 'a key value reached the test command');
    }
  });
});
