import { strict as assert } from 'node:assert';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildCliConfig, parseModelFlag, raisedBudgets, readCliConfigFiles, UsageError } from '../../src/cli/options';
import type { BudgetBreach } from '../../src/shared/model';
import { tempDir } from './helpers';

describe('CLI model flags', () => {
  it('parses every provider shorthand into a spec the engine understands', () => {
    assert.deepEqual(parseModelFlag('openai:gpt-5.4', '/w', undefined), { id: 'openai:gpt-5.4', provider: 'openai', model: 'gpt-5.4' });
    assert.deepEqual(parseModelFlag('anthropic:claude-sonnet-4-5', '/w', undefined), { id: 'anthropic:claude-sonnet-4-5', provider: 'anthropic', model: 'claude-sonnet-4-5' });
    assert.deepEqual(parseModelFlag('groq:llama-3.3-70b', '/w', undefined), { id: 'groq:llama-3.3-70b', provider: 'openai-compatible', model: 'llama-3.3-70b', preset: 'groq' });
    assert.deepEqual(parseModelFlag('ollama:qwen2.5-coder:14b', '/w', undefined), { id: 'ollama:qwen2.5-coder:14b', provider: 'openai-compatible', model: 'qwen2.5-coder:14b', preset: 'ollama' });
    assert.deepEqual(parseModelFlag('openai-compatible:m@http://h:1/v1', '/w', 'MY_KEY'), { id: 'm', provider: 'openai-compatible', model: 'm', baseURL: 'http://h:1/v1', apiKeyName: 'MY_KEY' });
    assert.deepEqual(parseModelFlag('scripted:t.json', '/w', undefined), { id: 'scripted', provider: 'scripted', transcript: '/w/t.json' });
    assert.deepEqual(parseModelFlag('local', '/w', undefined), { ref: 'local' });
    assert.throws(() => parseModelFlag('bogus:x', '/w', undefined), /Unknown model "bogus:x". Use scripted:PATH, openai:MODEL, anthropic:MODEL, ollama:MODEL/);
  });

  it('turns bare models into a fallback chain and ROLE=SPEC into a role chain', async () => {
    const ws = await tempDir();
    const config = await buildCliConfig(ws, {
      models: ['openai:gpt-5.4', 'ollama:qwen', 'reviewer=anthropic:claude-sonnet-4-5'],
      yes: true,
      noReviewGate: false,
      gitMode: false,
      noCheckpoints: false,
      maxUsd: '2.5',
      onBudget: 'stop',
    });
    assert.deepEqual(config.roles.implementer, ['openai:gpt-5.4', 'ollama:qwen']);
    assert.deepEqual(config.roles.reviewer, ['anthropic:claude-sonnet-4-5']);
    assert.deepEqual(config.budgets, { onExceed: 'stop', run: { usd: 2.5 } });
    await assert.rejects(buildCliConfig(ws, { models: ['wizard=openai:x'], yes: true, noReviewGate: false, gitMode: false, noCheckpoints: false }), UsageError);
    await assert.rejects(buildCliConfig(ws, { models: ['openai:x'], yes: true, noReviewGate: false, gitMode: false, noCheckpoints: false, onBudget: 'panic' }), /--on-budget takes pause or stop/);
  });
});

describe('CLI config files and budgets', () => {
  it("reads the user's config (XDG_CONFIG_HOME) and the workspace's apart; --config replaces both", async () => {
    const ws = await tempDir();
    const home = await tempDir();
    await mkdir(join(home, 'software-maker'), { recursive: true });
    await writeFile(join(home, 'software-maker', 'config.json'), JSON.stringify({ models: [{ id: 'mine', provider: 'openai', model: 'gpt-5.4' }], concurrency: 2 }));
    await mkdir(join(ws, '.software-maker'), { recursive: true });
    await writeFile(join(ws, '.software-maker', 'config.json'), JSON.stringify({ concurrency: 5, testCommand: 'make check' }));
    const saved = process.env.XDG_CONFIG_HOME;
    process.env.XDG_CONFIG_HOME = home;
    try {
      const files = await readCliConfigFiles(ws, undefined);
      assert.deepEqual(files.user.models?.map((model) => model.id), ['mine']);
      assert.deepEqual(files.workspace?.config, { concurrency: 5, testCommand: 'make check' });
      const config = await buildCliConfig(ws, { models: ['mine'], yes: true, noReviewGate: false, gitMode: false, noCheckpoints: false }, files);
      assert.equal(config.concurrency, 5, "the workspace's harmless settings apply");
      assert.equal(config.testCommand, 'make check');
      const own = join(home, 'own.json');
      await writeFile(own, JSON.stringify({ models: [{ id: 'x', provider: 'scripted', transcript: '/t.json' }] }));
      assert.deepEqual(await readCliConfigFiles(ws, own), { user: { models: [{ id: 'x', provider: 'scripted', transcript: '/t.json' }] } });
      await writeFile(own, '[1]');
      await assert.rejects(readCliConfigFiles(ws, own), /must hold a JSON object/);
    } finally {
      if (saved === undefined) delete process.env.XDG_CONFIG_HOME;
      else process.env.XDG_CONFIG_HOME = saved;
    }
  });

  it('checks each config file with the run-config schema and names the file and the field that is wrong', async () => {
    const ws = await tempDir();
    const own = join(ws, 'own.json');
    await writeFile(own, JSON.stringify({ concurrency: 100, modles: [] }));
    await assert.rejects(readCliConfigFiles(ws, own), (error: Error) => {
      assert.ok(error instanceof UsageError);
      assert.match(error.message, new RegExp(`config file ${own.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is not a valid Software Maker config`));
      assert.match(error.message, /concurrency: /);
      assert.match(error.message, /modles/);
      return true;
    });
    await mkdir(join(ws, '.software-maker'), { recursive: true });
    await writeFile(join(ws, '.software-maker', 'config.json'), JSON.stringify({ models: [{ id: 'team model', provider: 'openai', model: 'x' }] }));
    await assert.rejects(readCliConfigFiles(ws, undefined), /\.software-maker\/config\.json is not a valid .*models\.0\.id: A model id has no spaces/);
  });

  it("a repository's .software-maker/config.json may lower the user's caps, not raise them, and says so on stderr", async () => {
    const ws = await tempDir();
    const home = await tempDir();
    await mkdir(join(home, 'software-maker'), { recursive: true });
    await writeFile(join(home, 'software-maker', 'config.json'), JSON.stringify({ budgets: { run: { usd: 5, tokens: 100000 }, roles: { reviewer: { usd: 1 } } } }));
    await mkdir(join(ws, '.software-maker'), { recursive: true });
    const repoConfig = join(ws, '.software-maker', 'config.json');
    await writeFile(repoConfig, JSON.stringify({ budgets: { run: { usd: 50, tokens: 2000 }, roles: { reviewer: { usd: 10 } } } }));
    const saved = process.env.XDG_CONFIG_HOME;
    process.env.XDG_CONFIG_HOME = home;
    const written: string[] = [];
    const write = process.stderr.write;
    // The CLI's own default: warnings go to stderr.
    process.stderr.write = ((chunk: string) => written.push(chunk) > 0) as typeof process.stderr.write;
    try {
      const config = await buildCliConfig(ws, { models: ['openai:x'], yes: true, noReviewGate: false, gitMode: false, noCheckpoints: false }, await readCliConfigFiles(ws, undefined));
      assert.deepEqual(config.budgets, { run: { usd: 5, tokens: 2000 }, roles: { reviewer: { usd: 1 } }, onExceed: 'pause' });
      assert.deepEqual(written, [
        `warning: budgets.run.usd in ${repoConfig}: ignoring the workspace's 50, which is looser than yours, 5; using 5 (a workspace may only tighten this setting).\n`,
        `warning: budgets.roles.reviewer.usd in ${repoConfig}: ignoring the workspace's 10, which is looser than yours, 1; using 1 (a workspace may only tighten this setting).\n`,
      ]);
      const flags = await buildCliConfig(ws, { models: ['openai:x'], yes: true, noReviewGate: false, gitMode: false, noCheckpoints: false, maxUsd: '20' }, await readCliConfigFiles(ws, undefined));
      assert.equal(flags.budgets.run?.usd, 20, 'a flag is the user asking: it may raise the cap');
    } finally {
      process.stderr.write = write;
      if (saved === undefined) delete process.env.XDG_CONFIG_HOME;
      else process.env.XDG_CONFIG_HOME = saved;
    }
  });

  it('resume --max-usd/--max-tokens raise the cap that paused the run, else the run cap', () => {
    const taskBreach: BudgetBreach = { scope: 'task', key: 't1', metric: 'tokens', limit: 1000, used: 900, estimate: 500 };
    const current = { onExceed: 'pause' as const, run: { usd: 1 }, task: { tokens: 1000 } };
    assert.deepEqual(raisedBudgets(current, taskBreach, { maxTokens: '50000' }), { onExceed: 'pause', run: { usd: 1 }, task: { tokens: 50000 } });
    assert.deepEqual(raisedBudgets(current, taskBreach, { maxUsd: '3' }), { onExceed: 'pause', run: { usd: 3 }, task: { tokens: 1000 } });
    const roleBreach: BudgetBreach = { scope: 'role', key: 'reviewer', metric: 'usd', limit: 1, used: 1, estimate: 0.1 };
    assert.deepEqual(raisedBudgets({ onExceed: 'pause', roles: { reviewer: { usd: 1, tokens: 9 } } }, roleBreach, { maxUsd: '2' }), { onExceed: 'pause', roles: { reviewer: { usd: 2, tokens: 9 } } });
    assert.equal(raisedBudgets(current, undefined, {}), undefined);
    assert.throws(() => raisedBudgets(current, undefined, { maxTokens: 'lots' }), /--max-tokens needs a positive number/);
  });
});
