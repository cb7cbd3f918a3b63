import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAuditOutput, planAudit } from '../../src/core/security/audit';
import { REPO, tempDir } from './helpers';

// Captured from npm 11 (`npm audit --json`) against a local registry that speaks the bulk advisory endpoint.
const fixture = (name: string): string => readFileSync(join(REPO, 'test/fixtures/audit', name), 'utf8');

describe('dependency audit: npm audit --json', () => {
  it('reads a direct vulnerability with its advisory, severity and fix', () => {
    const parsed = parseAuditOutput('npm', fixture('npm-audit-v2-high.json'));
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.counts, { high: 1 });
    assert.deepEqual(parsed.findings, [
      {
        kind: 'dependency',
        package: 'tiny-template',
        severity: 'high',
        titles: ['Prototype pollution in tiny-template'],
        urls: ['https://github.com/advisories/GHSA-xxxx-yyyy-zzzz'],
        range: '1.2.0',
        fixAvailable: 'tiny-template@1.2.5',
        direct: true,
      },
    ]);
  });

  it('reads a transitive one whose fix is `true` (an update within range)', () => {
    const parsed = parseAuditOutput('npm', fixture('npm-audit-v2-transitive.json'));
    assert.ok(parsed.ok);
    assert.equal(parsed.findings[0]?.direct, false);
    assert.equal(parsed.findings[0]?.fixAvailable, true);
  });

  it('reads a clean audit as no findings', () => {
    assert.deepEqual(parseAuditOutput('npm', fixture('npm-audit-v2-clean.json')), { ok: true, findings: [], counts: {} });
  });

  it('reports an audit that could not reach its registry, or had no lockfile, as a failure with the reason, never as clean', () => {
    const offline = parseAuditOutput('npm', fixture('npm-audit-offline.json'));
    assert.equal(offline.ok, false);
    assert.match(!offline.ok ? offline.reason : '', /ECONNREFUSED/);
    const server = parseAuditOutput('npm', fixture('npm-audit-http500.json'));
    assert.match(!server.ok ? server.reason : '', /500 Internal Server Error/);
    const noLock = parseAuditOutput('npm', fixture('npm-audit-enolock.json'));
    assert.match(!noLock.ok ? noLock.reason : '', /ENOLOCK: This command requires an existing lockfile/);
    assert.equal(parseAuditOutput('npm', '').ok, false);
    assert.equal(parseAuditOutput('npm', 'npm ERR! something').ok, false);
  });

  // The shapes below follow the package managers' documented JSON (npm 6 / pnpm `advisories`, yarn 1
  // NDJSON, yarn 2+ NDJSON); they were not captured here, since those managers are not installed.
  it('reads the advisories shape (pnpm audit --json, npm 6)', () => {
    const json = JSON.stringify({
      advisories: {
        '1': { module_name: 'lodash', severity: 'critical', title: 'Prototype Pollution', url: 'https://x/1', vulnerable_versions: '<4.17.21', patched_versions: '>=4.17.21' },
        '2': { module_name: 'lodash', severity: 'moderate', title: 'ReDoS', url: 'https://x/2', vulnerable_versions: '<4.17.20', patched_versions: '>=4.17.20' },
      },
      metadata: { vulnerabilities: { critical: 1, moderate: 1 } },
    });
    const parsed = parseAuditOutput('pnpm', json);
    assert.ok(parsed.ok);
    assert.equal(parsed.findings.length, 1, 'one finding per package');
    assert.equal(parsed.findings[0]?.severity, 'critical');
    assert.deepEqual(parsed.findings[0]?.titles, ['Prototype Pollution', 'ReDoS']);
  });

  it('reads yarn 1 and yarn 2+ lines', () => {
    const classic = [
      JSON.stringify({ type: 'auditAdvisory', data: { resolution: { path: 'a>minimist' }, advisory: { module_name: 'minimist', severity: 'moderate', title: 'Prototype Pollution', url: 'https://x/3', patched_versions: '>=1.2.6' } } }),
      JSON.stringify({ type: 'auditSummary', data: { vulnerabilities: { moderate: 1 } } }),
    ].join('\n');
    const yarn = parseAuditOutput('yarn', classic);
    assert.ok(yarn.ok);
    assert.equal(yarn.findings[0]?.fixAvailable, '>=1.2.6');
    const berry = JSON.stringify({ value: 'semver', children: { ID: 1, Issue: 'ReDoS in semver', URL: 'https://x/4', Severity: 'high', 'Vulnerable Versions': '<7.5.2' } });
    const parsed = parseAuditOutput('yarn-berry', berry);
    assert.ok(parsed.ok);
    assert.equal(parsed.findings[0]?.severity, 'high');
  });

  it('picks the audit by lockfile and passes the registry as one shell word', async () => {
    const root = await tempDir();
    assert.equal(await planAudit(root), undefined);
    await writeFile(join(root, 'pnpm-lock.yaml'), '');
    assert.equal((await planAudit(root))?.command, 'pnpm audit --json');
    await writeFile(join(root, 'package-lock.json'), '{}');
    assert.equal((await planAudit(root, "http://127.0.0.1:1/'x"))?.command, `npm audit --json --registry 'http://127.0.0.1:1/'\\''x'`);
    const yarnRoot = await tempDir();
    await writeFile(join(yarnRoot, 'yarn.lock'), '');
    assert.equal((await planAudit(yarnRoot))?.manager, 'yarn');
    await mkdir(join(yarnRoot, '.yarn'), { recursive: true });
    await writeFile(join(yarnRoot, '.yarnrc.yml'), '');
    assert.equal((await planAudit(yarnRoot))?.manager, 'yarn-berry');
  });
});
