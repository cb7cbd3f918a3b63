// Secret scanning of a run's changes: only the lines the run added are read, against known token
// shapes (cloud, forge, chat and payment keys, private key blocks, JWTs, model provider keys, generic
// `api_key = "…"` assignments), then for high-entropy strings. A finding carries a masked preview and
// a fingerprint, never the value: findings become events, and events reach the panel and the disk.
import { createHash } from 'node:crypto';
import type { SecretFinding, Severity } from '../../shared/security';
import { SEVERITIES } from '../../shared/security';

interface Rule {
  id: string;
  title: string;
  severity: Severity;
  pattern: RegExp;
  /** The capture group holding the secret (0: the whole match). */
  group?: number;
  /** False for rules whose value may be a placeholder ("your-key-here"): such values are skipped. */
  exact?: boolean;
}

const RULES: readonly Rule[] = [
  { id: 'private-key', title: 'private key block', severity: 'critical', pattern: /-----BEGIN (?:RSA |EC |DSA |OPENSSH |PGP |ENCRYPTED )?PRIVATE KEY(?: BLOCK)?-----/g, exact: true },
  { id: 'aws-access-key', title: 'AWS access key id', severity: 'high', pattern: /\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b/g, exact: true },
  { id: 'aws-secret-key', title: 'AWS secret access key', severity: 'critical', pattern: /\baws_?secret_?(?:access_?)?key\b["']?\s*[:=]\s*["']?([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])/gi, group: 1, exact: true },
  { id: 'github-token', title: 'GitHub token', severity: 'critical', pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{50,255})\b/g, exact: true },
  { id: 'gitlab-token', title: 'GitLab token', severity: 'critical', pattern: /\bgl(?:pat|dt|rt|ptt)-[A-Za-z0-9_-]{20,}/g, exact: true },
  { id: 'slack-token', title: 'Slack token', severity: 'critical', pattern: /\bxox[abposr]-[A-Za-z0-9-]{10,}/g, exact: true },
  { id: 'slack-webhook', title: 'Slack webhook URL', severity: 'high', pattern: /https:\/\/hooks\.slack\.com\/services\/T[A-Z0-9]+\/B[A-Z0-9]+\/[A-Za-z0-9]{16,}/g, exact: true },
  { id: 'stripe-live-key', title: 'Stripe live key', severity: 'critical', pattern: /\b(?:sk|rk)_live_[A-Za-z0-9]{20,}/g, exact: true },
  { id: 'stripe-test-key', title: 'Stripe test key', severity: 'low', pattern: /\b(?:sk|rk)_test_[A-Za-z0-9]{20,}/g, exact: true },
  { id: 'provider-key', title: 'model provider API key (sk-…)', severity: 'critical', pattern: /\bsk-(?:ant-(?:api\d\d-)?|proj-|or-v1-)?[A-Za-z0-9_-]{20,}/g, exact: true },
  { id: 'google-api-key', title: 'Google API key', severity: 'high', pattern: /\bAIza[0-9A-Za-z_-]{35}\b/g, exact: true },
  { id: 'jwt', title: 'JSON Web Token', severity: 'high', pattern: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, exact: true },
  {
    id: 'generic-assignment',
    title: 'secret assigned in code',
    severity: 'high',
    pattern: /\b[A-Za-z0-9_.-]*(?:api[_-]?key|apikey|secret|token|passw(?:or)?d|pwd|access[_-]?key|auth[_-]?key|credentials?|private[_-]?key)[A-Za-z0-9_.-]*["']?(?:\s*:\s*[A-Za-z_][\w<>[\]| ]*?)?\s*(?::=|=>|[:=])\s*(["'`])([^"'`\s]{8,})\1/gi,
    group: 2,
  },
];

/** Files whose long strings are hashes by design: entropy says nothing there. */
const LOCKFILES = /(^|\/)(package-lock\.json|npm-shrinkwrap\.json|yarn\.lock|pnpm-lock\.yaml|bun\.lock|Cargo\.lock|poetry\.lock|Pipfile\.lock|composer\.lock|go\.sum|Gemfile\.lock|uv\.lock)$/;
/** Test code and fixtures: secrets there are usually fakes, so they are flagged two levels lower. */
const TEST_PATH = /(^|\/)(tests?|__tests__|spec|specs|fixtures?|__fixtures__|testdata|__mocks__|mocks?)\/|\.(test|spec)\.[cm]?[jt]sx?$|(^|\/)test_[^/]+\.py$|_test\.(go|py)$/;
/** Values that stand for a secret rather than being one. */
const PLACEHOLDER = /^(?:\$\{?|%|<|\{\{)|(?:example|placeholder|changeme|change_me|your[_-]|dummy|redacted|xxxx|\*\*\*\*|process\.env|os\.environ|getenv)/i;

const BASE64_TOKEN = /[A-Za-z0-9+/_-]{24,}={0,2}/g;
const HEX_TOKEN = /\b[0-9a-fA-F]{32,}\b/g;
const STRING_LITERAL = /(["'`])((?:(?!\1)[^\\\n]|\\.){16,}?)\1/g;
const ENV_ASSIGNMENT = /^\s*(?:export\s+)?[A-Za-z_][A-Za-z0-9_]*\s*=\s*([^\s#'"]{16,})/;

/** Entropy thresholds (bits per character) above which a string of that alphabet looks random. */
export const ENTROPY = { base64: { minLength: 24, bits: 4.3 }, hex: { minLength: 32, bits: 3.5 } } as const;
/** Lines longer than this (minified bundles) are matched against the rules but not scanned for entropy. */
const MAX_ENTROPY_LINE = 4000;

export interface ChangedFile {
  path: string;
  /** The file when the run started ('' for a file the run created). */
  before: string;
  /** The file now. */
  after: string;
}

/** Shannon entropy of `text` in bits per character. */
export function shannonEntropy(text: string): number {
  if (!text) return 0;
  const counts = new Map<string, number>();
  for (const char of text) counts.set(char, (counts.get(char) ?? 0) + 1);
  let bits = 0;
  for (const count of counts.values()) {
    const p = count / text.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/** "AKIA…LE (20 chars)": enough to find it again, never enough to use it. */
export function maskSecret(value: string): string {
  const head = value.length >= 16 ? 4 : value.length >= 8 ? 2 : 0;
  const tail = value.length >= 16 ? 2 : 0;
  return `${value.slice(0, head)}…${tail ? value.slice(-tail) : ''} (${value.length} chars)`;
}

export function fingerprintOf(value: string): string {
  return createHash('sha256').update(value).digest('hex').slice(0, 12);
}

/**
 * The lines of `after` that are not in `before`, with their 1-based line numbers. Counted as a
 * multiset (a line that moved is not new): linear, and exact enough to say what the run introduced.
 */
export function addedLines(before: string, after: string): { line: number; text: string }[] {
  const remaining = new Map<string, number>();
  if (before) for (const line of before.split('\n')) remaining.set(line, (remaining.get(line) ?? 0) + 1);
  const added: { line: number; text: string }[] = [];
  after.split('\n').forEach((text, index) => {
    const left = remaining.get(text) ?? 0;
    if (left > 0) remaining.set(text, left - 1);
    else if (text.trim()) added.push({ line: index + 1, text });
  });
  return added;
}

function lowered(severity: Severity, steps: number): Severity {
  return SEVERITIES[Math.max(0, SEVERITIES.indexOf(severity) - steps)]!;
}

/** The secrets in one line of `path`. */
export function scanLine(path: string, lineNumber: number, text: string): SecretFinding[] {
  const findings: SecretFinding[] = [];
  const taken: [number, number][] = [];
  const overlaps = (start: number, end: number): boolean => taken.some(([a, b]) => start < b && end > a);
  const inTest = TEST_PATH.test(path);
  const add = (rule: Pick<Rule, 'id' | 'title' | 'severity'>, value: string, start: number): void => {
    if (overlaps(start, start + value.length)) return;
    taken.push([start, start + value.length]);
    findings.push({
      kind: 'secret',
      rule: rule.id,
      title: rule.title,
      severity: inTest ? lowered(rule.severity, 2) : rule.severity,
      path,
      line: lineNumber,
      // A key block's header is its shape, not its secret; the key itself is on the lines below.
      masked: rule.id === 'private-key' ? value : maskSecret(value),
      fingerprint: fingerprintOf(value),
      ...(inTest ? { note: 'in a test or fixture file: severity lowered' } : {}),
    });
  };
  for (const rule of RULES) {
    for (const match of text.matchAll(rule.pattern)) {
      const value = match[rule.group ?? 0] ?? '';
      if (!value) continue;
      if (!rule.exact && (PLACEHOLDER.test(value) || shannonEntropy(value) < 2.5)) continue;
      add(rule, value, (match.index ?? 0) + match[0].lastIndexOf(value));
    }
  }
  if (!LOCKFILES.test(path) && text.length <= MAX_ENTROPY_LINE) {
    for (const { value, start } of entropyCandidates(text)) {
      if (overlaps(start, start + value.length) || !looksRandom(value)) continue;
      add({ id: 'high-entropy', title: 'high-entropy string', severity: 'moderate' }, value, start);
    }
  }
  return findings;
}

/** Tokens of a base64 or hex alphabet inside string literals or `NAME=value` lines, where secrets are written. */
function entropyCandidates(text: string): { value: string; start: number }[] {
  const regions: { text: string; start: number }[] = [];
  for (const match of text.matchAll(STRING_LITERAL)) regions.push({ text: match[2]!, start: (match.index ?? 0) + 1 });
  const env = ENV_ASSIGNMENT.exec(text);
  if (env) regions.push({ text: env[1]!, start: text.indexOf(env[1]!) });
  const out: { value: string; start: number }[] = [];
  for (const region of regions) {
    for (const pattern of [BASE64_TOKEN, HEX_TOKEN]) {
      for (const match of region.text.matchAll(pattern)) out.push({ value: match[0], start: region.start + (match.index ?? 0) });
    }
  }
  return out;
}

function looksRandom(value: string): boolean {
  // Integrity hashes (sha512-…), URLs and paths are long and varied without being secrets.
  if (/^(?:sha(?:1|256|384|512)-|https?:|\/|\.\/)/.test(value) || PLACEHOLDER.test(value)) return false;
  if (/^[0-9a-fA-F]+$/.test(value)) return value.length >= ENTROPY.hex.minLength && shannonEntropy(value) >= ENTROPY.hex.bits;
  if (value.length < ENTROPY.base64.minLength) return false;
  // Identifiers and words (camelCase, snake_case) have letters only; random keys have digits too.
  if (!/\d/.test(value) || !/[a-z]/.test(value) || !/[A-Z]/.test(value)) return false;
  if ((value.match(/\//g)?.length ?? 0) > 2) return false;
  return shannonEntropy(value) >= ENTROPY.base64.bits;
}

/** Secrets in what the run added to `files`. */
export function scanChanges(files: readonly ChangedFile[]): SecretFinding[] {
  const findings: SecretFinding[] = [];
  for (const file of files) {
    for (const { line, text } of addedLines(file.before, file.after)) findings.push(...scanLine(file.path, line, text));
  }
  return findings;
}
