// What a call costs before the provider says so: its prompt tokens (what the budget admits it on),
// and the output a stream carries (the output ceiling, and usage when the provider reports none).
import type { LanguageModelV4CallOptions, LanguageModelV4StreamPart, LanguageModelV4Usage } from '@ai-sdk/provider';

// Length of the value as JSON (what goes over the wire: keys, quotes, brackets and commas
// included, escapes not), with binary file parts at their base64 length.
function serializedLength(value: unknown, depth = 0): number {
  if (depth > 64) return 0;
  if (typeof value === 'string') return value.length + 2;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value).length;
  if (value === null) return 4;
  if (value instanceof Uint8Array) return Math.ceil(value.byteLength / 3) * 4 + 2;
  if (value instanceof URL) return value.href.length + 2;
  if (Array.isArray(value)) return 2 + Math.max(0, value.length - 1) + value.reduce((sum: number, item) => sum + serializedLength(item, depth + 1), 0);
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, item]) => item !== undefined);
    return 2 + Math.max(0, entries.length - 1) + entries.reduce((sum, [key, item]) => sum + key.length + 3 + serializedLength(item, depth + 1), 0);
  }
  return 0;
}

/**
 * Prompt tokens of a call, estimated as its messages and tool definitions serialized as JSON, at
 * three characters a token. No tokenizer is needed, and it errs high: prose runs at about four
 * characters a token, code and JSON schemas nearer three, and counting the JSON punctuation covers
 * what providers add around each message and tool. Erring low would let parallel calls cross a
 * budget; erring high only pauses a little early. Provider options are not counted.
 */
export function estimatePromptTokens(options: Pick<LanguageModelV4CallOptions, 'prompt' | 'tools'>): number {
  return Math.ceil((serializedLength(options.prompt) + serializedLength(options.tools ?? [])) / 3);
}


export interface TokenCounts {
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
}

export function tokensOf(usage: LanguageModelV4Usage | TokenCounts | undefined): TokenCounts {
  if (usage && 'cachedInputTokens' in usage) return usage;
  return {
    inputTokens: usage?.inputTokens.total ?? 0,
    outputTokens: usage?.outputTokens.total ?? 0,
    cachedInputTokens: usage?.inputTokens.cacheRead ?? 0,
  };
}

export function hasUsage(usage: LanguageModelV4Usage | undefined): boolean {
  return usage?.inputTokens.total !== undefined || usage?.outputTokens.total !== undefined;
}

/** Characters of output a stream part carries (text, reasoning, tool input), for the output ceiling and usage estimates. */
export function outputChars(part: LanguageModelV4StreamPart, streamedToolInputs: Set<string>): number {
  switch (part.type) {
    case 'text-delta':
    case 'reasoning-delta':
      return part.delta.length;
    case 'tool-input-delta':
      streamedToolInputs.add(part.id);
      return part.delta.length;
    case 'tool-call':
      // Providers that stream tool inputs repeat the whole input here; count it once.
      return streamedToolInputs.has(part.toolCallId) ? 0 : part.input.length;
    default:
      return 0;
  }
}

