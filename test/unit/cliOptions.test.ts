import { strict as assert } from 'node:assert';
import { buildCliConfig, parseModelFlag, UsageError } from '../../src/cli/options';
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
