// API keys never leave SecretStorage: a key stored the way "Set API Key" stores it is sent to the
// endpoint, and appears in no event, no run log, no line this extension writes to its output channel
// and no setting, even when the endpoint echoes it back in an error. The key is not shaped like a
// key (no sk- prefix), so the log's pattern-based redaction cannot be what hides it: the exact-key
// scrubbing in the provider layer has to.
import * as assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { resolveRunConfig } from '../../src/core/config';
import type { EngineApi } from '../../src/core/engineApi';
import { addModelSetting, ModelFeatures } from '../../src/host/models/modelCommands';
import { logModelEvent } from '../../src/host/models/modelLog';
import { apiKeySecretId, createSecretLookup } from '../../src/host/secrets';
import { SETTINGS_SECTION } from '../../src/host/settings';
import type { ModelSpec } from '../../src/shared/model';
import { startFakeOpenAI, type FakeReply, type FakeServer } from '../support/fakeProviders';
import { fakeTestRunner, makeEngine, tapOutput } from '../unit/helpers';

const KEY = 'correct-horse-battery-staple-91c2';
const KEY_NAME = 'LEAK_TEST_KEY';

/** SecretStorage in memory, with the real interface. */
class MemorySecrets implements vscode.SecretStorage {
  private readonly values = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.SecretStorageChangeEvent>();
  readonly onDidChange = this.changed.event;
  async get(key: string): Promise<string | undefined> {
    return this.values.get(key);
  }
  async store(key: string, value: string): Promise<void> {
    this.values.set(key, value);
    this.changed.fire({ key });
  }
  async delete(key: string): Promise<void> {
    this.values.delete(key);
    this.changed.fire({ key });
  }
  keys(): Thenable<string[]> {
    return Promise.resolve([...this.values.keys()]);
  }
}

/** A LogOutputChannel that keeps every line written to it. */
function recordingChannel(): vscode.LogOutputChannel & { lines: string[] } {
  const lines: string[] = [];
  const write = (level: string) => (message: string | Error) => void lines.push(`${level} ${message instanceof Error ? message.message : message}`);
  return { lines, trace: write('trace'), debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error'), append: write('append'), appendLine: write('line') } as unknown as vscode.LogOutputChannel & { lines: string[] };
}

const call = (name: string, input: Record<string, unknown>): FakeReply => ({ kind: 'answer', toolCalls: [{ name, input }] });
const PLAN = { summary: 'Fix add().', tasks: [{ id: 't1', title: 'Fix add()', description: 'Return a + b.', role: 'implementer', dependsOn: [], acceptance: ['add tests pass'], files: ['src/calc.js'] }] };
const RUN_REPLIES: FakeReply[] = [
  call('finish', PLAN),
  call('propose_edit', { path: 'src/calc.js', hunks: [{ search: 'return a - b;', replace: 'return a + b;' }] }),
  call('finish', { summary: 'add adds' }),
  call('finish', { approved: true, summary: 'good', issues: [] }),
];

describe('API keys stay in SecretStorage (extension host)', function () {
  this.timeout(60_000);
  const servers: FakeServer[] = [];
  let secrets: MemorySecrets;
  let workspaceDir: string;

  before(async () => {
    secrets = new MemorySecrets();
    await secrets.store(apiKeySecretId(KEY_NAME), KEY);
    workspaceDir = await mkdtemp(path.join(tmpdir(), 'sm-keys-'));
    await mkdir(path.join(workspaceDir, 'src'), { recursive: true });
    await writeFile(path.join(workspaceDir, 'src', 'calc.js'), 'function add(a, b) {\n  return a - b;\n}\nmodule.exports = { add };\n');
    await writeFile(path.join(workspaceDir, 'package.json'), JSON.stringify({ name: 'calc', scripts: { test: 'node --test' } }));
  });

  after(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
    await vscode.workspace.getConfiguration(SETTINGS_SECTION).update('models', undefined, vscode.ConfigurationTarget.Workspace);
    await rm(workspaceDir, { recursive: true, force: true });
  });

  it('keeps the key out of events, the run log and the output lines of a run whose first endpoint echoes it', async () => {
    const echoing = await startFakeOpenAI();
    echoing.setFallbackReply({ kind: 'error', status: 503, message: `upstream busy for key ${KEY}` });
    const backup = await startFakeOpenAI(...RUN_REPLIES);
    servers.push(echoing, backup);
    const models: ModelSpec[] = [
      { id: 'primary', provider: 'openai-compatible', model: 'm1', baseURL: echoing.url, apiKeyName: KEY_NAME, prices: { inputPerMTok: 1, outputPerMTok: 1 } },
      { id: 'backup', provider: 'openai-compatible', model: 'm2', baseURL: backup.url, apiKeyName: KEY_NAME },
    ];
    const config = resolveRunConfig({
      models,
      roles: Object.fromEntries(['planner', 'implementer', 'reviewer', 'fixer'].map((role) => [role, ['primary', 'backup']])),
      autoApprove: true,
      testCommand: 'npm test',
      checkpoints: false,
    });
    // Baseline: the add test fails; every later run passes.
    const testRunner = fakeTestRunner((n) => (n === 1 ? { exitCode: 1, output: tapOutput(1, ['add adds']) } : { exitCode: 0, output: tapOutput(2, []) }));
    const { engine, events, runsDir } = await makeEngine(workspaceDir, { secret: createSecretLookup(secrets), testRunner });
    const output = recordingChannel();
    engine.onEvent((runId, event) => logModelEvent(output, runId, event));
    try {
      const handle = await engine.startRun('Fix the failing add test', config);
      const final = await handle.finished;
      assert.equal(final.status, 'completed', final.statusReason);
      assert.ok(events.some((event) => event.type === 'model.fallback'), 'the echoing endpoint failed over to the backup');
      assert.ok(output.lines.some((line) => line.includes('falling over to "backup"')), 'the fallback is in the output');
      assert.equal(echoing.requests[0]?.headers.authorization, `Bearer ${KEY}`, 'the stored key was used');
      assert.ok(!JSON.stringify(events).includes(KEY), 'no event holds the key');
      assert.ok(!output.lines.join('\n').includes(KEY), 'no output line holds the key');
      const log = await readFile(path.join(runsDir, handle.runId, 'events.jsonl'), 'utf8');
      assert.ok(!log.includes(KEY), 'the run log holds no key');
    } finally {
      await engine.dispose();
    }
  });

  it('writes model settings with a key name only, and "Test Model Connection" reports without the key', async () => {
    const server = await startFakeOpenAI({ kind: 'error', status: 401, message: `Incorrect API key provided: ${KEY}` }, { kind: 'answer', text: 'OK' });
    servers.push(server);
    // The settings writer of "Configure Models": a key NAME goes to settings, never a key.
    await vscode.workspace.getConfiguration(SETTINGS_SECTION).update('models', [], vscode.ConfigurationTarget.Workspace);
    await addModelSetting({ id: 'leaky', provider: 'openai-compatible', model: 'm', baseURL: server.url, apiKeyName: KEY_NAME });
    const inspected = vscode.workspace.getConfiguration(SETTINGS_SECTION).inspect('models');
    assert.deepEqual(inspected?.workspaceValue, [{ id: 'leaky', provider: 'openai-compatible', model: 'm', baseURL: server.url, apiKeyName: KEY_NAME }]);
    const output = recordingChannel();
    const context = { secrets } as unknown as vscode.ExtensionContext;
    const features = new ModelFeatures({ context, engine: {} as EngineApi, output, workspaceRoot: workspaceDir, hostModels: undefined, resume: async () => undefined, confirmWorkspaceSettings: async () => undefined });
    // First test: the endpoint refuses the key and echoes it. The error notification waits for a
    // click that never comes in a test, so the command is not awaited; the output line is.
    void features.testModelConnection('leaky');
    await until(() => output.lines.length >= 1);
    assert.match(output.lines[0]!, /Connection test of "leaky" failed: .*refused the API key "LEAK_TEST_KEY"/);
    // Second test: success.
    await features.testModelConnection('leaky');
    assert.match(output.lines[1]!, /Connection test: Model "leaky" answered in [\d.]+ s .*"OK"/);
    assert.ok(!output.lines.join('\n').includes(KEY), 'no output line holds the key');
    const settingsFile = vscode.workspace.workspaceFolders?.[0] ? path.join(vscode.workspace.workspaceFolders[0].uri.fsPath, '.vscode', 'settings.json') : undefined;
    if (settingsFile) assert.ok(!(await readFile(settingsFile, 'utf8').catch(() => '')).includes(KEY), 'the settings file holds no key');
    assert.ok(!JSON.stringify(vscode.workspace.getConfiguration(SETTINGS_SECTION)).includes(KEY), 'no setting holds the key');
  });

  it('"Test Model Connection" sends nothing to a workspace-scoped endpoint the user did not trust', async () => {
    const server = await startFakeOpenAI({ kind: 'answer', text: 'OK' });
    servers.push(server);
    await vscode.workspace.getConfiguration(SETTINGS_SECTION).update('models', [], vscode.ConfigurationTarget.Workspace);
    await addModelSetting({ id: 'planted', provider: 'openai-compatible', model: 'm', baseURL: server.url, apiKeyName: KEY_NAME });
    const output = recordingChannel();
    const context = { secrets } as unknown as vscode.ExtensionContext;
    let asked = 0;
    const features = new ModelFeatures({
      context,
      engine: {} as EngineApi,
      output,
      workspaceRoot: workspaceDir,
      hostModels: undefined,
      resume: async () => undefined,
      confirmWorkspaceSettings: async () => {
        asked++;
        throw new Error('The workspace settings were not trusted.');
      },
    });
    await features.testModelConnection('planted');
    assert.equal(asked, 1, 'the user was asked about the workspace settings');
    assert.equal(server.requests.length, 0, 'no request reached the endpoint the workspace named');
  });
});

async function until(check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('Timed out waiting for the output line.');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
