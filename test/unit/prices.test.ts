import { strict as assert } from 'node:assert';
import { costOf, DEFAULT_PRICES, formatUsd, FREE, priceFor, worstCaseCost } from '../../src/core/models/prices';
import type { ModelSpec } from '../../src/shared/model';

function close(actual: number, expected: number): void {
  assert.ok(Math.abs(actual - expected) < 1e-12, `${actual} ≠ ${expected}`);
}

describe('prices', () => {
  describe('costOf', () => {
    const price = { inputPerMTok: 3, outputPerMTok: 15, cachedInputPerMTok: 0.3 };

    it('charges uncached input at the input price, cached input at the cached price, output at the output price', () => {
      close(costOf({ inputTokens: 1_000_000, outputTokens: 0, cachedInputTokens: 0 }, price), 3);
      close(costOf({ inputTokens: 1_000_000, outputTokens: 0, cachedInputTokens: 1_000_000 }, price), 0.3);
      close(costOf({ inputTokens: 0, outputTokens: 1_000_000, cachedInputTokens: 0 }, price), 15);
      // 120 in of which 20 cached, 30 out.
      close(costOf({ inputTokens: 120, outputTokens: 30, cachedInputTokens: 20 }, price), (100 * 3 + 20 * 0.3 + 30 * 15) / 1e6);
    });

    it('charges cached tokens at the input price when the model has no cached price', () => {
      close(costOf({ inputTokens: 1000, outputTokens: 0, cachedInputTokens: 400 }, { inputPerMTok: 2, outputPerMTok: 8 }), 1000 * 2 / 1e6);
    });

    it('never counts more cached tokens than input tokens, nor negative tokens', () => {
      close(costOf({ inputTokens: 10, outputTokens: -5, cachedInputTokens: 50 }, price), 10 * 0.3 / 1e6);
    });

    it('is free on a free model', () => {
      assert.equal(costOf({ inputTokens: 123_456, outputTokens: 7890, cachedInputTokens: 100 }, FREE), 0);
    });
  });

  it('worstCaseCost assumes no cache hit and every allowed output token', () => {
    close(worstCaseCost(2000, 4096, { inputPerMTok: 5, outputPerMTok: 25, cachedInputPerMTok: 0.5 }), (2000 * 5 + 4096 * 25) / 1e6);
    assert.equal(worstCaseCost(2000, 4096, FREE), 0);
  });

  describe('priceFor', () => {
    const spec = (value: ModelSpec): ModelSpec => value;

    it('knows current OpenAI, Anthropic, DeepSeek and Groq models, with cached prices where they exist', () => {
      assert.deepEqual(priceFor(spec({ id: 'a', provider: 'openai', model: 'gpt-5.4' })), { inputPerMTok: 2.5, outputPerMTok: 15, cachedInputPerMTok: 0.25 });
      assert.deepEqual(priceFor(spec({ id: 'a', provider: 'openai', model: 'gpt-4o-mini' })), { inputPerMTok: 0.15, outputPerMTok: 0.6, cachedInputPerMTok: 0.075 });
      assert.deepEqual(priceFor(spec({ id: 'a', provider: 'openai', model: 'gpt-5.4-pro' })), { inputPerMTok: 30, outputPerMTok: 180 });
      assert.deepEqual(priceFor(spec({ id: 'a', provider: 'anthropic', model: 'claude-opus-4-5' })), { inputPerMTok: 5, outputPerMTok: 25, cachedInputPerMTok: 0.5 });
      assert.deepEqual(priceFor(spec({ id: 'a', provider: 'anthropic', model: 'claude-haiku-4-5' })), { inputPerMTok: 1, outputPerMTok: 5, cachedInputPerMTok: 0.1 });
      assert.deepEqual(priceFor(spec({ id: 'a', provider: 'openai-compatible', model: 'deepseek-chat', preset: 'deepseek' })), { inputPerMTok: 0.28, outputPerMTok: 0.42, cachedInputPerMTok: 0.028 });
      assert.deepEqual(priceFor(spec({ id: 'a', provider: 'openai-compatible', model: 'llama-3.3-70b-versatile', preset: 'groq' })), { inputPerMTok: 0.59, outputPerMTok: 0.79 });
      for (const [family, table] of Object.entries(DEFAULT_PRICES)) {
        for (const [model, price] of Object.entries(table)) {
          assert.ok(price.inputPerMTok > 0 && price.outputPerMTok >= price.inputPerMTok, `${family}/${model}: output costs at least input`);
          if (price.cachedInputPerMTok !== undefined) assert.ok(price.cachedInputPerMTok < price.inputPerMTok, `${family}/${model}: cache reads are cheaper`);
        }
      }
    });

    it('prices dated snapshots like their model, and nothing else by prefix', () => {
      assert.deepEqual(priceFor(spec({ id: 'a', provider: 'openai', model: 'gpt-4o-2024-08-06' })), priceFor(spec({ id: 'b', provider: 'openai', model: 'gpt-4o' })));
      assert.deepEqual(priceFor(spec({ id: 'a', provider: 'anthropic', model: 'claude-sonnet-4-5-20250929' })), { inputPerMTok: 3, outputPerMTok: 15, cachedInputPerMTok: 0.3 });
      assert.deepEqual(priceFor(spec({ id: 'a', provider: 'anthropic', model: 'claude-opus-4-20250514' })), { inputPerMTok: 15, outputPerMTok: 75, cachedInputPerMTok: 1.5 });
      assert.equal(priceFor(spec({ id: 'a', provider: 'openai', model: 'gpt-5.4-turbo-preview' })), undefined, 'an unlisted variant is unknown, not its base price');
    });

    it('takes OpenRouter prices from the model behind the vendor prefix', () => {
      assert.deepEqual(priceFor(spec({ id: 'a', provider: 'openai-compatible', model: 'anthropic/claude-sonnet-4.5', preset: 'openrouter' })), { inputPerMTok: 3, outputPerMTok: 15, cachedInputPerMTok: 0.3 });
      assert.deepEqual(priceFor(spec({ id: 'a', provider: 'openai-compatible', model: 'openai/gpt-5-mini', preset: 'openrouter' })), { inputPerMTok: 0.25, outputPerMTok: 2, cachedInputPerMTok: 0.025 });
      assert.equal(priceFor(spec({ id: 'a', provider: 'openai-compatible', model: 'mistralai/devstral', preset: 'openrouter' })), undefined);
    });

    it('local servers and scripted models are free; unknown hosted models have no price', () => {
      for (const preset of ['ollama', 'lmstudio', 'vllm', 'llamacpp'] as const) {
        assert.deepEqual(priceFor(spec({ id: 'a', provider: 'openai-compatible', model: 'qwen2.5-coder:14b', preset })), FREE);
      }
      assert.deepEqual(priceFor(spec({ id: 'a', provider: 'openai-compatible', model: 'x', baseURL: 'http://localhost:9999/v1' })), FREE);
      assert.deepEqual(priceFor(spec({ id: 'a', provider: 'openai-compatible', model: 'x', baseURL: 'http://127.0.0.1:11434/v1' })), FREE);
      assert.deepEqual(priceFor(spec({ id: 's', provider: 'scripted', transcript: 't.json' })), FREE);
      assert.equal(priceFor(spec({ id: 'a', provider: 'openai-compatible', model: 'x', baseURL: 'https://llm.example.com/v1' })), undefined);
      assert.equal(priceFor(spec({ id: 'a', provider: 'openai-compatible', model: 'mystery', preset: 'groq' })), undefined);
      assert.equal(priceFor(spec({ id: 'a', provider: 'openai', model: 'gpt-unreleased' })), undefined);
      assert.equal(priceFor(spec({ id: 'a', provider: 'vscode-lm', vendor: 'copilot' })), undefined);
    });

    it("a spec's own prices win over the table and over 'free'", () => {
      const prices = { inputPerMTok: 9, outputPerMTok: 9 };
      assert.deepEqual(priceFor(spec({ id: 'a', provider: 'openai', model: 'gpt-5.4', prices })), prices);
      assert.deepEqual(priceFor(spec({ id: 'a', provider: 'openai-compatible', model: 'x', preset: 'ollama', prices })), prices);
      assert.deepEqual(priceFor(spec({ id: 'a', provider: 'vscode-lm', prices })), prices);
    });
  });

  it('formats an unknown cost as "unknown cost", not $0', () => {
    assert.equal(formatUsd(undefined), 'unknown cost');
    assert.equal(formatUsd(0), '$0.0000');
    assert.equal(formatUsd(0.00045), '$0.00045');
    assert.equal(formatUsd(0.25), '$0.2500');
    assert.equal(formatUsd(12.5), '$12.50');
  });
});
