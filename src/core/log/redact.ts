// Keys never reach what we write or show: the exact values of the keys the engine resolved (any
// shape, core/secrets.ts), and anything shaped like a provider API key, are replaced before writing.
import { REDACTED, secretRegistry } from '../secrets';

const KEY_PATTERNS: RegExp[] = [
  /\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{16,}/g,
  /\b(?:gsk|xai|pplx|or)-[A-Za-z0-9_-]{20,}/g,
  /\bBearer\s+[A-Za-z0-9._~+/-]{16,}=*/g,
  /\bAIza[0-9A-Za-z_-]{30,}/g,
];

export function redactText(text: string): string {
  let out = secretRegistry.redact(text);
  for (const pattern of KEY_PATTERNS) out = out.replace(pattern, REDACTED);
  return out;
}

/** Deep copy with every string redacted. */
export function redactSecrets<T>(value: T): T {
  if (typeof value === 'string') return redactText(value) as T;
  if (Array.isArray(value)) return value.map((item) => redactSecrets(item)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [redactText(key), redactSecrets(item)])) as T;
  }
  return value;
}
