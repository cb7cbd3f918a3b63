// What a model call costs. A built-in table covers well-known hosted models; a spec's own `prices`
// win over it. A hosted model the table does not know has no price (undefined), which callers must
// report as "unknown cost" — never as 0, or a budget would silently pass an expensive model.
import type { ModelPrice, ModelSpec } from '../../shared/model';

export type { ModelPrice } from '../../shared/model';

/** Token counts of one call, as the router records them. `inputTokens` includes the cached ones. */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
}

/** Local servers run on the user's machine: they cost nothing. */
export const FREE: ModelPrice = Object.freeze({ inputPerMTok: 0, outputPerMTok: 0, cachedInputPerMTok: 0 });

function price(inputPerMTok: number, outputPerMTok: number, cachedInputPerMTok?: number): ModelPrice {
  return Object.freeze(cachedInputPerMTok === undefined ? { inputPerMTok, outputPerMTok } : { inputPerMTok, outputPerMTok, cachedInputPerMTok });
}

// USD per million tokens, standard tier, from the providers' pricing pages as of mid 2026. Prices
// change: a spec's `prices` overrides any entry. Where a provider bills long prompts at a higher
// rate (some Claude and GPT models above ~200K input tokens) the table holds the base rate.
// Anthropic bills cache *writes* above the input rate; they are counted at the input rate here.
const OPENAI_PRICES: Readonly<Record<string, ModelPrice>> = {
  'gpt-5.5': price(5, 30, 0.5),
  'gpt-5.5-pro': price(30, 180),
  'gpt-5.4': price(2.5, 15, 0.25),
  'gpt-5.4-mini': price(0.75, 4.5, 0.075),
  'gpt-5.4-nano': price(0.2, 1.25, 0.02),
  'gpt-5.4-pro': price(30, 180),
  'gpt-5.2': price(1.75, 14, 0.175),
  'gpt-5.2-codex': price(1.75, 14, 0.175),
  'gpt-5.2-pro': price(21, 168),
  'gpt-5.1': price(1.25, 10, 0.125),
  'gpt-5.1-codex': price(1.25, 10, 0.125),
  'gpt-5.1-codex-mini': price(0.25, 2, 0.025),
  'gpt-5': price(1.25, 10, 0.125),
  'gpt-5-codex': price(1.25, 10, 0.125),
  'gpt-5-mini': price(0.25, 2, 0.025),
  'gpt-5-nano': price(0.05, 0.4, 0.005),
  'gpt-5-pro': price(15, 120),
  'gpt-4.1': price(2, 8, 0.5),
  'gpt-4.1-mini': price(0.4, 1.6, 0.1),
  'gpt-4.1-nano': price(0.1, 0.4, 0.025),
  'gpt-4o': price(2.5, 10, 1.25),
  'gpt-4o-mini': price(0.15, 0.6, 0.075),
  o3: price(2, 8, 0.5),
  'o3-mini': price(1.1, 4.4, 0.55),
  'o4-mini': price(1.1, 4.4, 0.275),
};

const ANTHROPIC_PRICES: Readonly<Record<string, ModelPrice>> = {
  'claude-opus-5': price(5, 25, 0.5),
  'claude-opus-4-8': price(5, 25, 0.5),
  'claude-opus-4-7': price(5, 25, 0.5),
  'claude-opus-4-6': price(5, 25, 0.5),
  'claude-opus-4-5': price(5, 25, 0.5),
  'claude-opus-4-1': price(15, 75, 1.5),
  'claude-opus-4': price(15, 75, 1.5),
  'claude-opus-4-0': price(15, 75, 1.5),
  'claude-sonnet-5': price(2, 10, 0.2),
  'claude-sonnet-4-6': price(3, 15, 0.3),
  'claude-sonnet-4-5': price(3, 15, 0.3),
  'claude-sonnet-4': price(3, 15, 0.3),
  'claude-sonnet-4-0': price(3, 15, 0.3),
  'claude-3-7-sonnet': price(3, 15, 0.3),
  'claude-haiku-4-5': price(1, 5, 0.1),
  'claude-3-5-haiku': price(0.8, 4, 0.08),
  'claude-3-haiku': price(0.25, 1.25, 0.03),
};

const DEEPSEEK_PRICES: Readonly<Record<string, ModelPrice>> = {
  'deepseek-chat': price(0.28, 0.42, 0.028),
  'deepseek-reasoner': price(0.28, 0.42, 0.028),
};

const GROQ_PRICES: Readonly<Record<string, ModelPrice>> = {
  'openai/gpt-oss-120b': price(0.15, 0.6, 0.075),
  'openai/gpt-oss-20b': price(0.075, 0.3),
  'llama-3.3-70b-versatile': price(0.59, 0.79),
  'llama-3.1-8b-instant': price(0.05, 0.08),
};

/** The built-in table by provider family, for tests and for a settings UI that shows the defaults. */
export const DEFAULT_PRICES: Readonly<Record<'openai' | 'anthropic' | 'deepseek' | 'groq', Readonly<Record<string, ModelPrice>>>> = {
  openai: OPENAI_PRICES,
  anthropic: ANTHROPIC_PRICES,
  deepseek: DEEPSEEK_PRICES,
  groq: GROQ_PRICES,
};

// A dated snapshot ("gpt-4o-2024-08-06", "claude-sonnet-4-5-20250929") or a "-latest" alias costs
// what its base model costs. Nothing else is stripped: "gpt-5.5-pro" must not fall back to
// "gpt-5.5", which costs a sixth as much.
const SNAPSHOT_SUFFIX = /-(?:\d{4}-\d{2}-\d{2}|\d{8}|latest)$/;

function lookUp(table: Readonly<Record<string, ModelPrice>>, model: string): ModelPrice | undefined {
  const name = model.trim().toLowerCase();
  return table[name] ?? table[name.replace(SNAPSHOT_SUFFIX, '')];
}

// OpenRouter passes provider prices through; its model names carry the provider as a prefix.
function openRouterPrice(model: string): ModelPrice | undefined {
  const slash = model.indexOf('/');
  if (slash <= 0) return undefined;
  const vendor = model.slice(0, slash).toLowerCase();
  const name = model.slice(slash + 1);
  if (vendor === 'openai') return lookUp(OPENAI_PRICES, name);
  if (vendor === 'anthropic') return lookUp(ANTHROPIC_PRICES, name.replace(/\./g, '-'));
  if (vendor === 'deepseek') return lookUp(DEEPSEEK_PRICES, name);
  return undefined;
}

const LOCAL_PRESETS = new Set(['ollama', 'lmstudio', 'vllm', 'llamacpp']);

function isLoopback(baseURL: string | undefined): boolean {
  if (!baseURL) return false;
  try {
    const host = new URL(baseURL).hostname;
    return host === 'localhost' || host === '[::1]' || host === '::1' || /^127\./.test(host);
  } catch {
    return false;
  }
}

/**
 * The price of a configured model: the spec's own `prices`, else the built-in table; local servers
 * (local presets, or any endpoint on a loopback address) and scripted models are free. Undefined
 * means unknown: report "unknown cost", do not count it as 0.
 */
export function priceFor(spec: ModelSpec): ModelPrice | undefined {
  if (spec.prices) return spec.prices;
  switch (spec.provider) {
    case 'scripted':
      return FREE;
    case 'openai':
      return lookUp(OPENAI_PRICES, spec.model);
    case 'anthropic':
      return lookUp(ANTHROPIC_PRICES, spec.model);
    case 'openai-compatible': {
      if (spec.preset && LOCAL_PRESETS.has(spec.preset)) return FREE;
      if (spec.preset === 'deepseek') return lookUp(DEEPSEEK_PRICES, spec.model);
      if (spec.preset === 'groq') return lookUp(GROQ_PRICES, spec.model);
      if (spec.preset === 'openrouter') return openRouterPrice(spec.model);
      // A loopback endpoint is a server on this machine (a proxy to a paid API should set `prices`).
      return isLoopback(spec.baseURL) ? FREE : undefined;
    }
    case 'vscode-lm':
      // Billed through the user's subscription (e.g. Copilot), not per token: unknown to us.
      return undefined;
  }
}

/**
 * USD for one call: cached input tokens at the cached price (the input price when the model has
 * none), the rest of the input at the input price, output at the output price.
 */
export function costOf(usage: TokenUsage, price: ModelPrice): number {
  const cached = Math.min(Math.max(usage.cachedInputTokens, 0), Math.max(usage.inputTokens, 0));
  const uncached = Math.max(usage.inputTokens, 0) - cached;
  const cachedPrice = price.cachedInputPerMTok ?? price.inputPerMTok;
  return (uncached * price.inputPerMTok + cached * cachedPrice + Math.max(usage.outputTokens, 0) * price.outputPerMTok) / 1_000_000;
}

/** The most a call can cost: every prompt token uncached and every allowed output token used. */
export function worstCaseCost(promptTokens: number, maxOutputTokens: number, price: ModelPrice): number {
  return costOf({ inputTokens: promptTokens, outputTokens: maxOutputTokens, cachedInputTokens: 0 }, price);
}

// The one USD wording (src/shared/wording.ts), here too because hosts reach prices through core's front door.
export { formatUsd } from '../../shared/wording';
