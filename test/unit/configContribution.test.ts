import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { configContribution } from '../../src/host/settingsContribution';
import { resolveRunConfig } from '../../src/core/config';
import { runConfigSchema } from '../../src/shared/runConfig';
import { readSettingValues, runConfigFromSettings, SETTING_KEYS, settingJsonType, settingsSchema } from '../../src/shared/settingsSchema';

const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
  contributes: { configuration: unknown };
  capabilities: { untrustedWorkspaces: { restrictedConfigurations: string[] } };
};

describe('the settings schema (src/shared/settingsSchema.ts) and package.json', () => {
  it('package.json holds exactly the generated settings: run `npm run gen:config` after changing the schema', () => {
    const generated = configContribution();
    assert.deepEqual(manifest.contributes.configuration, generated.configuration, 'contributes.configuration differs from the schema: run `npm run gen:config`');
    assert.deepEqual(manifest.capabilities.untrustedWorkspaces.restrictedConfigurations, generated.restrictedConfigurations);
  });

  it('every setting default is a value its own schema accepts, and maps to a valid run config', () => {
    const defaults = settingsSchema.parse({});
    const config = runConfigFromSettings(defaults);
    const resolved = resolveRunConfig({ ...config, models: [{ id: 'm', provider: 'scripted', transcript: 't.json' }] });
    // The defaults of the settings are the run config's defaults, in the settings' units.
    const bare = runConfigSchema.parse({});
    for (const key of ['concurrency', 'maxFixAttempts', 'testTimeoutMs', 'reviewGate', 'budgets', 'timeouts', 'loopThreshold', 'checkpoints', 'gitMode'] as const) {
      assert.deepEqual(resolved[key], bare[key], key);
    }
    assert.equal(resolved.testCommand, undefined, '"" means detect');
    assert.equal(resolved.autoApproveRules, undefined, '{} means no rules');
  });

  it('reads each setting by its JSON type: a value of another type reads as unset, and user-only settings from their scope only', () => {
    const raw: Record<string, unknown> = { concurrency: '3', maxFixAttempts: 4, testTimeoutSeconds: 30, models: {}, testTask: ' unit ', autoApproveCommandChanges: true };
    const scopes: string[] = [];
    const values = readSettingValues((key, scope) => {
      if (scope) scopes.push(`${key}:${scope}`);
      return raw[key];
    });
    assert.deepEqual(values, { maxFixAttempts: 4, testTimeoutSeconds: 30, testTask: ' unit ', autoApproveCommandChanges: true });
    assert.deepEqual(scopes.sort(), ['autoApproveCommandChanges:application', 'runsDirectory:resource', 'webTester.browserPath:application']);
    assert.deepEqual(runConfigFromSettings(values), {
      ...Object.fromEntries(Object.keys(runConfigFromSettings({})).map((key) => [key, undefined])),
      maxFixAttempts: 4,
      testTimeoutMs: 30_000,
      testTaskLabel: 'unit',
      autoApproveCommandChanges: true,
    });
  });

  it('knows the JSON type of every setting', () => {
    for (const key of SETTING_KEYS) assert.ok(['string', 'number', 'boolean', 'array', 'object'].includes(settingJsonType(key)), key);
  });

  it('checks in zod what the Settings UI checks: model ids without spaces, key names, http(s) base URLs, distinct auto-approve entries', () => {
    const model = (spec: Record<string, unknown>) => ({ models: [{ id: 'm', provider: 'openai', model: 'gpt', ...spec }] });
    const refused = (input: unknown, message: RegExp) => {
      const parsed = runConfigSchema.safeParse(input);
      assert.ok(!parsed.success, `${JSON.stringify(input)} is refused`);
      assert.match(z.prettifyError(parsed.error), message);
    };
    refused(model({ id: 'my model' }), /no spaces/);
    refused(model({ apiKeyName: 'sk-proj abc' }), /NAME of a secret/);
    refused(model({ baseURL: 'ftp://example.com/v1' }), /http:\/\/ or https:\/\//);
    refused({ autoApproveRules: { globs: ['docs/**', 'docs/**'] } }, /only once/);
    assert.ok(runConfigSchema.safeParse(model({ apiKeyName: 'OPENAI_API_KEY', baseURL: 'https://proxy.example/v1' })).success);
  });
});
