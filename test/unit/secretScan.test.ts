import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { addedLines, maskSecret, scanChanges, scanLine, shannonEntropy } from '../../src/core/security/secretScan';

// Every secret-shaped value is assembled at run time: the repository itself holds none.
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
function random(length: number, alphabet = ALNUM): string {
  return [...randomBytes(length)].map((byte) => alphabet[byte % alphabet.length]).join('');
}
function shuffle(text: string): string {
  const chars = [...text];
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomBytes(1)[0]! % (i + 1);
    [chars[i], chars[j]] = [chars[j]!, chars[i]!];
  }
  return chars.join('');
}
const UPPER_DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const b64url = (length: number): string => random(length, `${ALNUM}_-`);

const SAMPLES: { rule: string; line: (value: string) => string; value: () => string; severity: string }[] = [
  { rule: 'aws-access-key', value: () => `AKIA${random(16, UPPER_DIGITS)}`, line: (v) => `const id = "${v}";`, severity: 'high' },
  { rule: 'aws-secret-key', value: () => random(40, `${ALNUM}/+`), line: (v) => `aws_secret_access_key = ${v}`, severity: 'critical' },
  { rule: 'github-token', value: () => `ghp_${random(36)}`, line: (v) => `token: '${v}'`, severity: 'critical' },
  { rule: 'github-token', value: () => `github_pat_${random(22)}_${random(59)}`, line: (v) => `GH=${v}`, severity: 'critical' },
  { rule: 'gitlab-token', value: () => `glpat-${b64url(20)}`, line: (v) => `gitlab("${v}")`, severity: 'critical' },
  { rule: 'slack-token', value: () => `xoxb-${random(12, '0123456789')}-${random(12, '0123456789')}-${random(24)}`, line: (v) => `slack.token = "${v}"`, severity: 'critical' },
  { rule: 'slack-webhook', value: () => `https://hooks.slack.com/services/T${random(8, UPPER_DIGITS)}/B${random(8, UPPER_DIGITS)}/${random(24)}`, line: (v) => `post("${v}")`, severity: 'high' },
  { rule: 'stripe-live-key', value: () => `sk_live_${random(24)}`, line: (v) => `stripe(${JSON.stringify(v)})`, severity: 'critical' },
  { rule: 'stripe-test-key', value: () => `sk_test_${random(24)}`, line: (v) => `stripe(${JSON.stringify(v)})`, severity: 'low' },
  { rule: 'provider-key', value: () => `sk-proj-${b64url(48)}`, line: (v) => `OPENAI_API_KEY=${v}`, severity: 'critical' },
  { rule: 'provider-key', value: () => `sk-ant-api03-${b64url(40)}`, line: (v) => `new Anthropic({ apiKey: "${v}" })`, severity: 'critical' },
  { rule: 'google-api-key', value: () => `AIza${b64url(35)}`, line: (v) => `maps.key = '${v}'`, severity: 'high' },
  {
    rule: 'jwt',
    value: () => `eyJ${b64url(20)}.eyJ${b64url(40)}.${b64url(43)}`,
    line: (v) => `Authorization: "${v}"`,
    severity: 'high',
  },
  { rule: 'generic-assignment', value: () => `Tr0ub4dor&3-${random(6)}`, line: (v) => `db_password = "${v}"`, severity: 'high' },
  { rule: 'generic-assignment', value: () => random(20), line: (v) => `const apiKey: string = '${v}';`, severity: 'high' },
];

describe('secret scanning', () => {
  for (const sample of SAMPLES) {
    it(`finds a ${sample.rule} (${sample.line('…').slice(0, 40)}) and never keeps its value`, () => {
      const value = sample.value();
      const findings = scanLine('src/config.ts', 7, sample.line(value));
      const hit = findings.find((finding) => finding.rule === sample.rule);
      assert.ok(hit, `no ${sample.rule} in ${JSON.stringify(findings.map((f) => f.rule))}`);
      assert.equal(hit.severity, sample.severity);
      assert.equal(hit.line, 7);
      assert.equal(findings.length, 1, `one finding per secret, not ${findings.map((f) => f.rule).join(', ')}`);
      assert.ok(!JSON.stringify(findings).includes(value), 'the value is not in the finding');
      assert.match(hit.masked, new RegExp(`\\(${value.length} chars\\)$`));
      assert.match(hit.fingerprint, /^[0-9a-f]{12}$/);
    });
  }

  it('finds a private key block by its header', () => {
    const [finding] = scanLine('deploy/id_rsa', 1, '-----BEGIN OPENSSH PRIVATE KEY-----');
    assert.equal(finding?.rule, 'private-key');
    assert.equal(finding?.severity, 'critical');
  });

  it('finds random strings by entropy: base64 and hex, in literals and NAME=value lines', () => {
    // Random, yet sure to clear the bars: digits and both cases in the base64, each hex digit three times (4 bits a character).
    const base64 = `${random(37, `${ALNUM}+`)}7Qa`;
    const hex = shuffle('0123456789abcdef'.repeat(3));
    const [b] = scanLine('src/a.ts', 1, `const blob = "${base64}";`);
    assert.equal(b?.rule, 'high-entropy');
    assert.equal(b?.severity, 'moderate');
    assert.ok(!b?.masked.includes(base64));
    const [h] = scanLine('.env', 2, `SESSION_SALT=${hex}`);
    assert.equal(h?.rule, 'high-entropy');
    assert.ok(shannonEntropy(base64) > shannonEntropy('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'));
  });

  it('does not flag what only looks long: integrity hashes, lockfiles, identifiers, UUIDs, URLs, placeholders', () => {
    const integrity = `sha512-${random(86, `${ALNUM}+/`)}==`;
    assert.deepEqual(scanLine('src/x.json', 1, `"integrity": "${integrity}"`), []);
    // A lockfile is all hashes: no entropy findings there, whatever the string.
    assert.deepEqual(scanLine('package-lock.json', 10, `"resolved": "https://r/${random(40)}", "x": "${random(40)}"`), []);
    assert.deepEqual(scanLine('src/x.ts', 1, 'const name = "createSecureContextForTheServerSideRenderer";'), []);
    assert.deepEqual(scanLine('src/x.ts', 1, 'const id = "550e8400-e29b-41d4-a716-446655440000";'), []);
    assert.deepEqual(scanLine('src/x.ts', 1, 'import x from "../../node_modules/some/deep/path/to/module.js";'), []);
    assert.deepEqual(scanLine('src/x.ts', 1, 'const api_key = "your-api-key-here";'), []);
    assert.deepEqual(scanLine('src/x.ts', 1, 'const password = "${DB_PASSWORD}";'), []);
    assert.deepEqual(scanLine('src/x.ts', 1, 'const token = process.env.GITHUB_TOKEN;'), []);
    assert.deepEqual(scanLine('src/x.ts', 1, 'const secret = "aaaaaaaaaaaa";'), [], 'a repeated character is not a secret');
  });

  it('flags secrets in test files and fixtures two levels lower, saying so', () => {
    const token = `ghp_${random(36)}`;
    for (const path of ['test/api.test.ts', 'src/__fixtures__/auth.json', 'pkg/testdata/creds.txt', 'src/login.spec.js']) {
      const [finding] = scanLine(path, 3, `token = "${token}"`);
      assert.equal(finding?.severity, 'moderate', path);
      assert.match(finding?.note ?? '', /test or fixture/);
    }
  });

  it('reads only the lines the run added', () => {
    const old = `const keep = "ghp_${random(36)}";`;
    const fresh = `ghp_${random(36)}`;
    const before = ['a', old, 'b'].join('\n');
    const after = ['a', old, 'b', `const added = "${fresh}";`].join('\n');
    assert.deepEqual(addedLines(before, after), [{ line: 4, text: `const added = "${fresh}";` }]);
    const findings = scanChanges([{ path: 'src/k.ts', before, after }]);
    assert.equal(findings.length, 1);
    assert.equal(findings[0]!.line, 4);
    // A new file is all added lines; a file emptied adds none.
    assert.equal(scanChanges([{ path: 'n.ts', before: '', after: old }]).length, 1);
    assert.equal(scanChanges([{ path: 'n.ts', before: old, after: '' }]).length, 0);
  });

  it('masks without revealing enough to use the value', () => {
    assert.equal(maskSecret('abcdefghijklmnopqrst'), 'abcd…st (20 chars)');
    assert.equal(maskSecret('abcdefghij'), 'ab… (10 chars)');
    assert.equal(maskSecret('short'), '… (5 chars)');
  });
});
