import { strict as assert } from 'node:assert';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_RUN_CONFIG } from '../../src/core/config';
import { EditRejected, EditSet } from '../../src/core/edits/editSet';
import { EVENTS_FILE, EventLog } from '../../src/core/log/eventLog';
import { redactText } from '../../src/core/log/redact';
import { systemClock } from '../../src/core/ports';
import { writeRunFile } from '../../src/core/run/replay';
import { childEnvironment, MIN_REDACTED_SECRET_LENGTH, PROVIDER_KEY_NAMES, refuseSecretText, registeringSecrets, secretRegistry, SecretRegistry } from '../../src/core/secrets';
import { NodeWorkspace } from '../../src/core/workspace/nodeWorkspace';
import { calculatorWorkspace, makePorts, tempDir } from './helpers';

let counter = 0;
/** A key of a shape no pattern knows, unique per test. */
function customKey(): string {
  counter++;
  return `zz-custom-7f3a9c-unit-${counter}-${Date.now().toString(36)}`;
}

describe('secret registry', () => {
  it('redacts the exact values it was given, whatever their shape, longest first and in JSON-escaped form', () => {
    const registry = new SecretRegistry();
    registry.register('A_KEY', 'abc12345');
    registry.register('B_KEY', 'abc12345-and-more');
    registry.register('C_KEY', 'quote"and\\slash');
    assert.equal(registry.redact('x abc12345-and-more y abc12345 z'), 'x [redacted] y [redacted] z');
    assert.equal(registry.redact(JSON.stringify({ k: 'quote"and\\slash' })), '{"k":"[redacted]"}');
    assert.equal(registry.appearsIn('... abc12345 ...'), true);
    assert.deepEqual(registry.keyNames().sort(), ['A_KEY', 'B_KEY', 'C_KEY']);
  });

  it(`does not redact values shorter than ${MIN_REDACTED_SECRET_LENGTH} characters, which would shred ordinary text`, () => {
    const registry = new SecretRegistry();
    registry.register('SHORT', '1234567');
    assert.equal(registry.redact('pin 1234567'), 'pin 1234567');
    assert.deepEqual(registry.keyNames(), ['SHORT'], 'the name is still withheld from child processes');
  });

  it('the engine registers every key it reads through the host port', async () => {
    const key = customKey();
    const ports = registeringSecrets(await makePorts(await calculatorWorkspace(), { secret: async (name) => (name === 'SM_UNIT_KEY' ? key : undefined) }));
    assert.equal(redactText(`echo ${key}`), `echo ${key}`, 'not known before it is read');
    assert.equal(await ports.secret('SM_UNIT_KEY'), key);
    assert.equal(redactText(`echo ${key}`), 'echo [redacted]');
    assert.ok(secretRegistry.keyNames().includes('SM_UNIT_KEY'));
  });

  it('the event log and run files redact a registered key of any shape; proposals keep key-shaped text', async () => {
    const key = customKey();
    secretRegistry.register('SM_UNIT_KEY_2', key);
    const dir = await tempDir();
    const log = EventLog.openForAppend(dir, 'r', { events: [], validBytes: 0 }, systemClock);
    log.append({ type: 'run.created', goal: `goal ${key}`, workspace: dir, config: DEFAULT_RUN_CONFIG });
    log.append({ type: 'log', level: 'info', message: `the model said ${key}` });
    await log.close();
    assert.ok(!(await readFile(join(dir, EVENTS_FILE), 'utf8')).includes(key));
    await writeRunFile(dir, 'steps/t1.implement@v1.json', JSON.stringify({ prompt: key }));
    assert.equal(await readFile(join(dir, 'steps/t1.implement@v1.json'), 'utf8'), '{"prompt":"[redacted]"}');
    // A test fixture that merely looks like a key is applied from the proposal as written.
    const fixture = 'const fake = "sk-test-aaaaaaaaaaaaaaaaaaaaaaaa";';
    await writeRunFile(dir, 'proposals/t1-a1-5.json', JSON.stringify({ after: fixture }));
    assert.equal(JSON.parse(await readFile(join(dir, 'proposals/t1-a1-5.json'), 'utf8')).after, fixture);
    await writeRunFile(dir, 'plan.md', `# Plan\n${fixture}\n`);
    assert.doesNotMatch(await readFile(join(dir, 'plan.md'), 'utf8'), /sk-test/, 'shown artifacts redact key shapes too');
  });

  it('EditSet refuses a proposal holding a key, and a change to a file that holds one, with a tool error', async () => {
    const key = customKey();
    secretRegistry.register('SM_UNIT_KEY_3', key);
    const root = await calculatorWorkspace();
    await writeFile(join(root, '.env'), `SM_UNIT_KEY_3=${key}\n`);
    const edits = new EditSet(await NodeWorkspace.open(root), [], refuseSecretText);
    await assert.rejects(edits.stage({ path: 'src/new.js', content: `module.exports = '${key}';\n` }), (error: unknown) => error instanceof EditRejected && /src\/new\.js: the proposed text contains the value of a configured API key/.test(error.message));
    await assert.rejects(edits.stage({ path: 'src/calc.js', hunks: [{ search: 'return a - b;', replace: `return a + b; // ${key}` }] }), EditRejected);
    await assert.rejects(edits.stage({ path: '.env', hunks: [{ search: 'SM_UNIT_KEY_3', replace: 'OTHER' }] }), /\.env contains the value of a configured API key, so agents do not change it/);
    await assert.rejects(edits.stageDelete('.env'), EditRejected);
    await assert.rejects(edits.stageRename('.env', 'env.bak'), EditRejected);
    await edits.stage({ path: 'src/calc.js', hunks: [{ search: 'return a - b;', replace: 'return a + b;' }] });
    assert.deepEqual(edits.changed().map((file) => file.path), ['src/calc.js']);
  });

  it('a child environment has no provider key: known names, registered names, and their values under any name', () => {
    const registry = new SecretRegistry();
    registry.register('MY_MODEL_KEY', 'resolved-key-value-1');
    const env = childEnvironment(
      {
        PATH: '/bin',
        OPENAI_API_KEY: 'sk-openai-aaaaaaaaaaaa',
        GROQ_API_KEY: 'gsk-groq-bbbbbbbbbbbb',
        MY_MODEL_KEY: 'resolved-key-value-1',
        ALIAS_OF_RESOLVED: 'resolved-key-value-1',
        ALIAS_OF_OPENAI: 'sk-openai-aaaaaaaaaaaa',
        SHORT_ALIAS: 'x',
        STRIPE_API_KEY: 'not-a-model-provider',
      },
      registry,
    );
    assert.deepEqual(env, { PATH: '/bin', SHORT_ALIAS: 'x', STRIPE_API_KEY: 'not-a-model-provider' });
    for (const name of ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'DEEPSEEK_API_KEY', 'GROQ_API_KEY', 'OPENROUTER_API_KEY']) assert.ok(PROVIDER_KEY_NAMES.includes(name), name);
  });
});
