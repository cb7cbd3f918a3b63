import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { resolveRunConfig } from '../../src/core/config';
import type { TranscriptTurn } from '../../src/core/models/scripted';
import { NodeCommandRunner } from '../../src/core/node';
import { scanChanges } from '../../src/core/security/secretScan';
import type { RunConfig } from '../../src/shared/model';
import { foldEvents } from '../../src/shared/runState';
import { describeEvent } from '../../src/shared/wording';
import { calculatorWorkspace, makeEngine, ofType, tempDir, writeTranscript } from './helpers';

const GOAL = 'Fix add() and wire the API client';

/** A GitHub-token-shaped value made at run time (the repository holds no secret-shaped text). */
function fakeGithubToken(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return `ghp_${[...randomBytes(36)].map((byte) => alphabet[byte % alphabet.length]).join('')}`;
}

function config(transcript: string, security: Partial<RunConfig['security']>, overrides: Partial<RunConfig> = {}): RunConfig {
  return resolveRunConfig({
    models: [{ id: 'scripted', provider: 'scripted', transcript }],
    autoApprove: true,
    reviewGate: false,
    security: { gate: 'enforce', ...security },
    ...overrides,
  });
}

const plan = (files: string[]): TranscriptTurn => ({
  role: 'planner',
  toolCalls: [{ tool: 'finish', input: { summary: 'One task.', tasks: [{ id: 't1', title: 'Do it', description: 'Do the goal.', role: 'implementer', dependsOn: [], acceptance: ['done'], files }] } }],
});
const finish = (role: string, task: string, summary: string, expect?: string): TranscriptTurn => ({ role, task, ...(expect ? { expect } : {}), toolCalls: [{ tool: 'finish', input: { summary } }] });

/** Every file of a run's folder, as text. */
async function runFiles(runDir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const entry of await readdir(runDir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) files.set(join(entry.parentPath, entry.name), await readFile(join(entry.parentPath, entry.name), 'utf8'));
  }
  return files;
}

describe('security gate: secrets loop back to a security task', function () {
  this.timeout(60_000);

  it('finds the key a task added, adds a security task that removes it, and passes on the second round', async () => {
    const ws = await calculatorWorkspace();
    const token = fakeGithubToken();
    const transcript = await writeTranscript(ws, [
      plan(['src/calc.js', 'src/client.js']),
      {
        role: 'implementer',
        task: 't1',
        toolCalls: [
          { tool: 'propose_edit', input: { path: 'src/calc.js', hunks: [{ search: 'return a - b;', replace: 'return a + b;' }] } },
          { tool: 'propose_edit', input: { path: 'src/client.js', content: `const token = "${token}";\nmodule.exports = { token };\n` } },
        ],
      },
      finish('implementer', 't1', 'fixed add and added the client'),
      {
        role: 'security',
        task: 'sec1',
        // The task is told where and what, masked: never the value.
        expect: `src/client.js:1: GitHub token (critical) ghp_…`,
        toolCalls: [{ tool: 'propose_edit', input: { path: 'src/client.js', hunks: [{ search: `"${token}"`, replace: 'process.env.GITHUB_TOKEN' }] } }],
      },
      finish('security', 'sec1', 'the token is read from the environment'),
    ]);
    const { engine, events, runsDir } = await makeEngine(ws);
    const handle = await engine.startRun(GOAL, config(transcript, { audit: false }));
    const final = await handle.finished;
    assert.equal(final.status, 'completed', final.statusReason);

    const scans = ofType(events, 'security.scanned');
    assert.deepEqual(
      scans.map((scan) => [scan.round, scan.blocking]),
      [
        [1, 1],
        [2, 0],
      ],
    );
    assert.equal(scans[0]!.findings[0]?.kind === 'secret' && scans[0]!.findings[0].rule, 'github-token');
    const [added] = ofType(events, 'task.added');
    assert.equal(added?.task.id, 'sec1');
    assert.equal(added?.task.role, 'security');
    assert.deepEqual(added?.task.files, ['src/client.js']);
    assert.equal(final.tasks.sec1?.status, 'done');
    assert.deepEqual(final.security?.fixTasks, ['sec1']);
    // The security gate came before the final tests.
    const order = events.map((event) => (event.type === 'test.finished' ? `test:${event.phase}` : event.type)).filter((type) => type === 'security.scanned' || type === 'test:final');
    assert.deepEqual(order, ['security.scanned', 'security.scanned', 'test:final']);
    assert.equal(await readFile(join(ws, 'src/client.js'), 'utf8'), 'const token = process.env.GITHUB_TOKEN;\nmodule.exports = { token };\n');

    // The state is the fold of the log on disk.
    const runDir = join(runsDir, final.id);
    const logged = (await readFile(join(runDir, 'events.jsonl'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line));
    assert.deepEqual(foldEvents(logged)?.security, final.security);
    // Findings, their wording, the report and the artifacts never hold the value.
    const files = await runFiles(runDir);
    for (const name of ['security.md', 'security.json', 'report.md']) {
      const text = [...files].find(([path]) => path.endsWith(name))?.[1];
      assert.ok(text, `${name} written`);
      assert.ok(!text.includes(token), `${name} holds the token`);
    }
    assert.match(files.get(join(runDir, 'security.md'))!, /GitHub token/);
    for (const scan of scans) {
      assert.ok(!JSON.stringify(scan).includes(token));
      assert.ok(!describeEvent(scan).text.includes(token));
    }
  });

  it('fails the run when the finding is still there after the allowed rounds', async () => {
    const ws = await calculatorWorkspace();
    const token = fakeGithubToken();
    const transcript = await writeTranscript(ws, [
      plan(['src/calc.js', 'src/client.js']),
      {
        role: 'implementer',
        task: 't1',
        toolCalls: [
          { tool: 'propose_edit', input: { path: 'src/calc.js', hunks: [{ search: 'return a - b;', replace: 'return a + b;' }] } },
          { tool: 'propose_edit', input: { path: 'src/client.js', content: `module.exports = "${token}";\n` } },
        ],
      },
      finish('implementer', 't1', 'done'),
      finish('security', 'sec1', 'nothing to do, I think'),
    ]);
    const { engine, events } = await makeEngine(ws);
    const final = await (await engine.startRun(GOAL, config(transcript, { audit: false, maxRounds: 1 }))).finished;
    assert.equal(final.status, 'failed');
    assert.match(final.statusReason ?? '', /security gate still finds 1 issue at or above high after 1 security task/);
    assert.equal(ofType(events, 'task.added').length, 1);
    assert.equal(ofType(events, 'security.scanned').length, 2);
  });

  it('in warn mode reports findings without looping back; below the threshold they are reported only', async () => {
    const ws = await calculatorWorkspace();
    const transcript = await writeTranscript(ws, [
      plan(['src/calc.js', 'src/client.js']),
      {
        role: 'implementer',
        task: 't1',
        toolCalls: [
          { tool: 'propose_edit', input: { path: 'src/calc.js', hunks: [{ search: 'return a - b;', replace: 'return a + b;' }] } },
          { tool: 'propose_edit', input: { path: 'src/client.js', content: `module.exports = "${fakeGithubToken()}";\n` } },
        ],
      },
      finish('implementer', 't1', 'done'),
    ]);
    const { engine, events } = await makeEngine(ws);
    const final = await (await engine.startRun(GOAL, config(transcript, { gate: 'warn', audit: false }))).finished;
    assert.equal(final.status, 'completed', final.statusReason);
    const [scan] = ofType(events, 'security.scanned');
    assert.equal(scan?.blocking, 1);
    assert.equal(ofType(events, 'task.added').length, 0);
    assert.match(describeEvent(scan!, { short: true }).text, /1 at or above high \(warn only\)/);
  });

  it('records the 200 most severe findings of a change full of random strings and counts the rest', async () => {
    const ws = await calculatorWorkspace();
    const hex = (): string => randomBytes(24).toString('hex');
    const token = fakeGithubToken();
    const blob = [...Array.from({ length: 250 }, (_, i) => `exports.k${i} = "${hex()}";`), `exports.t = "${token}";`].join('\n') + '\n';
    const transcript = await writeTranscript(ws, [
      plan(['src/calc.js', 'src/blob.js']),
      {
        role: 'implementer',
        task: 't1',
        toolCalls: [
          { tool: 'propose_edit', input: { path: 'src/calc.js', hunks: [{ search: 'return a - b;', replace: 'return a + b;' }] } },
          { tool: 'propose_edit', input: { path: 'src/blob.js', content: blob } },
        ],
      },
      finish('implementer', 't1', 'done'),
    ]);
    const { engine, events } = await makeEngine(ws);
    const final = await (await engine.startRun(GOAL, config(transcript, { gate: 'warn', audit: false }))).finished;
    assert.equal(final.status, 'completed', final.statusReason);
    const [scan] = ofType(events, 'security.scanned');
    // Random hex clears the entropy bar almost always; the scanner itself says how many did this time.
    const total = scanChanges([{ path: 'src/blob.js', before: '', after: blob }]).length;
    assert.ok(total > 240, `${total} findings`);
    assert.equal(scan?.findings.length, 200);
    assert.equal(scan?.omitted, total - 200);
    assert.equal(scan?.findings[0]?.severity, 'critical', 'the most severe first');
    assert.equal(scan?.blocking, 1);
    assert.match(describeEvent(scan!, { short: true }).text, new RegExp(`${total} findings, 1 at or above high`));
  });
});

// ---- a real npm audit against a local registry ---------------------------------------------------

const ADVISORY = { id: 1099001, url: 'https://github.com/advisories/GHSA-xxxx-yyyy-zzzz', title: 'Prototype pollution in tiny-template', severity: 'high', vulnerable_versions: '<1.2.5', cwe: ['CWE-1321'], cvss: { score: 7.5, vectorString: null } };

/**
 * npm's audit endpoints as the registry speaks them: POST /-/npm/v1/security/advisories/bulk (a
 * gzipped {name: [versions]} body; the answer is {name: [advisory]}) and the packument npm reads
 * to say whether a fix exists. npm itself filters the advisory by the installed version.
 */
function fakeRegistry(): Promise<{ server: Server; url: string; bulkBodies: Record<string, string[]>[] }> {
  const bulkBodies: Record<string, string[]>[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      if (req.method === 'POST' && req.url === '/-/npm/v1/security/advisories/bulk') {
        const raw = Buffer.concat(chunks);
        const body = JSON.parse((req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString()) as Record<string, string[]>;
        bulkBodies.push(body);
        res.end(JSON.stringify(body['tiny-template'] ? { 'tiny-template': [ADVISORY] } : {}));
      } else if (req.url === '/tiny-template') {
        const version = (v: string) => ({ name: 'tiny-template', version: v, dist: { tarball: `http://127.0.0.1/tiny-template-${v}.tgz` } });
        res.end(JSON.stringify({ name: 'tiny-template', 'dist-tags': { latest: '1.2.5' }, versions: { '1.2.0': version('1.2.0'), '1.2.5': version('1.2.5') } }));
      } else {
        res.statusCode = 404;
        res.end('{}');
      }
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, bulkBodies })));
}

async function lockedWorkspace(version: string): Promise<string> {
  const ws = await tempDir('sm-audit-');
  await writeFile(join(ws, 'package.json'), JSON.stringify({ name: 'audit-fixture', version: '1.0.0', private: true, dependencies: { 'tiny-template': version } }, null, 2) + '\n');
  await writeFile(join(ws, 'package-lock.json'), lockfile(version));
  return ws;
}

function lockfile(version: string): string {
  return (
    JSON.stringify(
      {
        name: 'audit-fixture',
        version: '1.0.0',
        lockfileVersion: 3,
        requires: true,
        packages: {
          '': { name: 'audit-fixture', version: '1.0.0', dependencies: { 'tiny-template': version } },
          'node_modules/tiny-template': { version, resolved: `https://registry.npmjs.org/tiny-template/-/tiny-template-${version}.tgz` },
        },
      },
      null,
      2,
    ) + '\n'
  );
}

describe('security gate: a real npm audit', function () {
  this.timeout(120_000);
  let registry: Awaited<ReturnType<typeof fakeRegistry>>;
  before(async () => (registry = await fakeRegistry()));
  after(() => new Promise<void>((resolve) => registry.server.close(() => resolve())));

  it('finds the advisory of a locked dependency, loops back to a security task that upgrades it, and passes', async () => {
    const ws = await lockedWorkspace('1.2.0');
    const transcript = await writeTranscript(ws, [
      plan(['README.md']),
      finish('implementer', 't1', 'nothing to change'),
      {
        role: 'security',
        task: 'sec1',
        expect: 'tiny-template 1.2.0 (high): Prototype pollution in tiny-template; fixed in tiny-template@1.2.5',
        toolCalls: [
          { tool: 'propose_edit', input: { path: 'package.json', hunks: [{ search: '"tiny-template": "1.2.0"', replace: '"tiny-template": "1.2.5"' }] } },
          { tool: 'propose_edit', input: { path: 'package-lock.json', hunks: [{ search: lockfile('1.2.0').trimEnd(), replace: lockfile('1.2.5').trimEnd() }] } },
        ],
      },
      finish('security', 'sec1', 'upgraded tiny-template to 1.2.5'),
    ]);
    const bulkBefore = registry.bulkBodies.length;
    const { engine, events } = await makeEngine(ws, { commandRunner: new NodeCommandRunner(ws) });
    const final = await (await engine.startRun('Audit the dependencies', config(transcript, { auditRegistry: registry.url }, { testCommand: 'none' }))).finished;
    assert.equal(final.status, 'completed', final.statusReason);
    // npm asked the local registry, once per round, for the locked version.
    assert.deepEqual(registry.bulkBodies.slice(bulkBefore), [{ 'tiny-template': ['1.2.0'] }, { 'tiny-template': ['1.2.5'] }]);
    const scans = ofType(events, 'security.scanned');
    assert.equal(scans.length, 2);
    assert.deepEqual(scans[0]!.audit.status === 'ok' && scans[0]!.audit.counts, { high: 1 });
    assert.deepEqual(scans[0]!.findings, [
      { kind: 'dependency', package: 'tiny-template', severity: 'high', titles: ['Prototype pollution in tiny-template'], urls: [ADVISORY.url], range: '1.2.0', fixAvailable: 'tiny-template@1.2.5', direct: true },
    ]);
    assert.equal(scans[1]!.audit.status, 'ok');
    assert.equal(scans[1]!.findings.length, 0);
    assert.equal(ofType(events, 'task.added')[0]?.task.id, 'sec1');
    // The audit is a command of the run like any other, logged with its purpose.
    const started = ofType(events, 'command.started');
    assert.deepEqual(
      started.map((event) => [event.purpose, event.command]),
      [
        ['audit', `npm audit --json --registry '${registry.url}'`],
        ['audit', `npm audit --json --registry '${registry.url}'`],
      ],
    );
  });

  it('reports an audit that cannot reach its registry as not run, never as clean', async () => {
    const ws = await lockedWorkspace('1.2.0');
    const closed = await new Promise<string>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(`http://127.0.0.1:${port}/`));
      });
    });
    const transcript = await writeTranscript(ws, [plan(['README.md']), finish('implementer', 't1', 'nothing to change')]);
    const { engine, events } = await makeEngine(ws, { commandRunner: new NodeCommandRunner(ws) });
    const final = await (await engine.startRun('Audit the dependencies', config(transcript, { auditRegistry: closed }, { testCommand: 'none' }))).finished;
    assert.equal(final.status, 'completed', final.statusReason);
    const [scan] = ofType(events, 'security.scanned');
    assert.equal(scan?.audit.status, 'failed');
    assert.match(scan?.audit.status === 'failed' ? scan.audit.reason : '', /ECONNREFUSED/);
    assert.match(describeEvent(scan!).text, /npm audit could not run/);
  });

  it('in the CLI: npm audit runs through its command runner, the advisory is printed and loops back', async () => {
    const { buildCli } = await import('./builtCli');
    const { runCli } = await import('./helpers');
    const cli = await buildCli();
    const ws = await lockedWorkspace('1.2.0');
    const dir = await tempDir();
    const transcript = await writeTranscript(dir, [
      plan(['README.md']),
      finish('implementer', 't1', 'nothing to change'),
      {
        role: 'security',
        task: 'sec1',
        toolCalls: [
          { tool: 'propose_edit', input: { path: 'package.json', hunks: [{ search: '"tiny-template": "1.2.0"', replace: '"tiny-template": "1.2.5"' }] } },
          { tool: 'propose_edit', input: { path: 'package-lock.json', hunks: [{ search: lockfile('1.2.0').trimEnd(), replace: lockfile('1.2.5').trimEnd() }] } },
        ],
      },
      finish('security', 'sec1', 'upgraded tiny-template'),
    ]);
    const configFile = join(dir, 'config.json');
    await writeFile(configFile, JSON.stringify({ security: { gate: 'enforce', auditRegistry: registry.url } }));
    const args = ['run', 'Audit the dependencies', '--workspace', ws, '--model', `scripted:${transcript}`, '--yes', '--no-review-gate', '--test-command', 'none', '--config', configFile];
    const run = await runCli(cli, args, { env: { XDG_STATE_HOME: await tempDir('sm-state-') } });
    assert.equal(run.code, 0, run.stderr + run.stdout);
    assert.match(run.stdout, /security gate \(round 1\): 1 finding, 1 at or above high · npm audit: 1 high/);
    assert.match(run.stdout, /high · tiny-template 1\.2\.0: Prototype pollution in tiny-template \(fix: tiny-template@1\.2\.5\)/);
    assert.match(run.stdout, /security gate \(round 2\): no findings in 2 changed files · npm audit: no known vulnerabilities/);
    assert.match(run.stdout, /run completed/);
  });

  it('says so when the host cannot run commands', async () => {
    const ws = await lockedWorkspace('1.2.0');
    const transcript = await writeTranscript(ws, [plan(['README.md']), finish('implementer', 't1', 'nothing to change')]);
    const { engine, events } = await makeEngine(ws);
    await (await engine.startRun('Audit', config(transcript, {}, { testCommand: 'none' }))).finished;
    const [scan] = ofType(events, 'security.scanned');
    assert.deepEqual(scan?.audit.status === 'failed' && scan.audit.reason, 'this host cannot run commands');
  });
});

describe('security gate: configuration and the fold', () => {
  it('takes --security-gate and --security-severity (a severity alone turns enforce on), and refuses other values', async () => {
    const { buildCliConfig } = await import('../../src/cli/options');
    const ws = await tempDir();
    const base = { models: ['scripted:/tmp/none.json'], yes: false, noReviewGate: false, gitMode: false, noCheckpoints: false };
    assert.equal((await buildCliConfig(ws, base)).security.gate, 'off');
    assert.deepEqual((await buildCliConfig(ws, { ...base, securityGate: 'warn' })).security, { gate: 'warn', severity: 'high', maxRounds: 2, audit: true, auditTimeoutMs: 120_000 });
    const severe = await buildCliConfig(ws, { ...base, securitySeverity: 'critical' });
    assert.deepEqual([severe.security.gate, severe.security.severity], ['enforce', 'critical']);
    await assert.rejects(buildCliConfig(ws, { ...base, securityGate: 'on' }), /--security-gate takes off, warn, enforce, not "on"/);
    await assert.rejects(buildCliConfig(ws, { ...base, securitySeverity: 'medium' }), /--security-severity takes low, moderate, high, critical/);
  });

  it('maps the VS Code settings to the run config', async () => {
    const { runConfigFromSettings } = await import('../../src/shared/settingsSchema');
    const models = [{ id: 'm', provider: 'scripted' as const, transcript: 't.json' }];
    const config = resolveRunConfig({ ...runConfigFromSettings({ 'security.gate': 'enforce', 'security.severity': 'moderate', 'security.auditTimeoutSeconds': 30, 'security.auditRegistry': ' http://127.0.0.1:4873/ ' }), models });
    assert.deepEqual(config.security, { gate: 'enforce', severity: 'moderate', maxRounds: 2, audit: true, auditTimeoutMs: 30_000, auditRegistry: 'http://127.0.0.1:4873/' });
    assert.equal(resolveRunConfig({ ...runConfigFromSettings({ 'security.auditRegistry': '' }), models }).security.auditRegistry, undefined);
  });

  it('folds task.added into the plan, and refuses one before a plan, with a taken id or an unknown dependency', () => {
    const at = '2026-01-01T00:00:00.000Z';
    const task = { id: 't1', title: 'x', description: 'x', role: 'implementer' as const, dependsOn: [], acceptance: [], files: [] };
    const head = [
      { seq: 1, at, runId: 'r', type: 'run.created' as const, goal: 'g', workspace: '/w', config: resolveRunConfig({ models: [{ id: 'm', provider: 'scripted', transcript: 't.json' }] }) },
      { seq: 2, at, runId: 'r', type: 'plan.accepted' as const, plan: { summary: 's', tasks: [task] }, repairs: 0 },
    ];
    const add = (seq: number, id: string, dependsOn: string[] = []) => ({ seq, at, runId: 'r', type: 'task.added' as const, by: 'security-gate' as const, reason: 'r', task: { ...task, id, role: 'security' as const, dependsOn } });
    const state = foldEvents([...head, add(3, 'sec1', ['t1'])])!;
    assert.deepEqual(state.taskOrder, ['t1', 'sec1']);
    assert.equal(state.tasks.sec1?.status, 'pending');
    assert.deepEqual(state.plan?.tasks.map((t) => t.id), ['t1', 'sec1']);
    assert.deepEqual(state.security, { rounds: [], fixTasks: ['sec1'] });
    assert.throws(() => foldEvents([head[0]!, add(2, 'sec1')]), /before any plan was accepted/);
    assert.throws(() => foldEvents([...head, add(3, 't1')]), /which the plan already has/);
    assert.throws(() => foldEvents([...head, add(3, 'sec1', ['nope'])]), /names task "nope"/);
    assert.throws(() => foldEvents([...head, add(3, '__proto__')]), /reserved/);
  });
});

describe('security gate: in the CLI', function () {
  this.timeout(120_000);

  it('--security-gate enforce: the finding is printed masked, the security task runs, the run completes', async () => {
    const { buildCli } = await import('./builtCli');
    const { runCli } = await import('./helpers');
    const cli = await buildCli();
    const ws = await calculatorWorkspace();
    const token = fakeGithubToken();
    const transcript = await writeTranscript(await tempDir(), [
      plan(['src/calc.js', 'src/client.js']),
      {
        role: 'implementer',
        task: 't1',
        toolCalls: [
          { tool: 'propose_edit', input: { path: 'src/calc.js', hunks: [{ search: 'return a - b;', replace: 'return a + b;' }] } },
          { tool: 'propose_edit', input: { path: 'src/client.js', content: `const token = "${token}";\nmodule.exports = { token };\n` } },
        ],
      },
      finish('implementer', 't1', 'fixed add and added the client'),
      { role: 'security', task: 'sec1', toolCalls: [{ tool: 'propose_edit', input: { path: 'src/client.js', hunks: [{ search: `"${token}"`, replace: 'process.env.GITHUB_TOKEN' }] } }] },
      finish('security', 'sec1', 'the token is read from the environment'),
    ]);
    const run = await runCli(cli, ['run', GOAL, '--workspace', ws, '--model', `scripted:${transcript}`, '--yes', '--no-review-gate', '--security-gate', 'enforce'], { env: { XDG_STATE_HOME: await tempDir('sm-state-') } });
    assert.equal(run.code, 0, run.stderr + run.stdout);
    assert.match(run.stdout, /security gate \(round 1\): 1 finding, 1 at or above high/);
    assert.match(run.stdout, /critical · GitHub token in src\/client\.js:1: ghp_…/);
    assert.match(run.stdout, /task sec1 \[security\] added by the security-gate/);
    assert.match(run.stdout, /security gate \(round 2\): no findings/);
    assert.match(run.stdout, /run completed/);
    assert.ok(!run.stdout.includes(token) && !run.stderr.includes(token), 'the CLI printed the token');
  });
});
