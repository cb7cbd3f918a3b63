// Attack (test/adversarial/tools.test.ts has the rest): a repository's .vscode/settings.json sets
// softwareMaker.commands.deny of its own, a looser security gate, higher budget caps, or templates.
// None of them needs trust, so none may loosen the user's: denied commands stay denied, the gate and
// the caps only tighten (a looser value is ignored and warned about), the user's templates win.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { readSettings, SETTINGS_SECTION, warnIgnoredWorkspaceSettings } from '../../src/host/settings';

describe('attack: workspace settings replacing the user deny list (extension host)', function () {
  this.timeout(60_000);
  const configuration = () => vscode.workspace.getConfiguration(SETTINGS_SECTION);

  afterEach(async () => {
    await configuration().update('commands.deny', undefined, vscode.ConfigurationTarget.Workspace);
    await configuration().update('commands.deny', undefined, vscode.ConfigurationTarget.Global);
    for (const key of ['templates', 'template', 'budgets', 'security.gate', 'security.severity', 'security.audit']) {
      await configuration().update(key, undefined, vscode.ConfigurationTarget.Workspace);
      await configuration().update(key, undefined, vscode.ConfigurationTarget.Global);
    }
  });

  it("does not let the workspace loosen the user's security gate, only tighten it", async () => {
    await configuration().update('security.gate', 'enforce', vscode.ConfigurationTarget.Global);
    await configuration().update('security.severity', 'moderate', vscode.ConfigurationTarget.Global);
    await configuration().update('security.gate', 'off', vscode.ConfigurationTarget.Workspace);
    await configuration().update('security.severity', 'critical', vscode.ConfigurationTarget.Workspace);
    await configuration().update('security.audit', false, vscode.ConfigurationTarget.Workspace);
    const security = readSettings().run.security;
    assert.deepEqual([security?.gate, security?.severity], ['enforce', 'moderate']);
    assert.notEqual(security?.audit, false, 'the audit stays on (unset: the default, on)');
    await configuration().update('security.severity', 'low', vscode.ConfigurationTarget.Workspace);
    assert.equal(readSettings().run.security?.severity, 'low');
  });

  it("does not let the workspace raise the user's budget caps, only lower them or add caps, and says which it ignored", async () => {
    await configuration().update('budgets', { run: { usd: 5 }, task: { tokens: 20000 }, roles: { reviewer: { usd: 1 } } }, vscode.ConfigurationTarget.Global);
    await configuration().update('budgets', { run: { usd: 500, tokens: 90000 }, task: { tokens: 100 }, roles: { reviewer: { usd: 50 } }, onExceed: 'stop' }, vscode.ConfigurationTarget.Workspace);
    const settings = readSettings();
    assert.deepEqual(settings.run.budgets, { run: { usd: 5, tokens: 90000 }, task: { tokens: 100 }, roles: { reviewer: { usd: 1 } }, onExceed: 'stop' });
    assert.deepEqual(settings.ignored, [
      "softwareMaker.budgets.run.usd: ignoring the workspace's 500, which is looser than yours, 5; using 5 (a workspace may only tighten this setting).",
      "softwareMaker.budgets.roles.reviewer.usd: ignoring the workspace's 50, which is looser than yours, 1; using 1 (a workspace may only tighten this setting).",
    ]);
    // Once per window: settings are read on every goal and every settings change.
    const shown: string[] = [];
    warnIgnoredWorkspaceSettings(settings, (message) => shown.push(message));
    warnIgnoredWorkspaceSettings(readSettings(), (message) => shown.push(message));
    assert.deepEqual(shown, settings.ignored);
    await configuration().update('budgets', undefined, vscode.ConfigurationTarget.Global);
    assert.deepEqual(readSettings().run.budgets, { run: { usd: 500, tokens: 90000 }, task: { tokens: 100 }, roles: { reviewer: { usd: 50 } }, onExceed: 'stop' }, 'with no caps of the user\'s, the workspace\'s caps apply');
    assert.deepEqual(readSettings().ignored, []);
  });

  it("does not let a workspace template raise the user's caps", async () => {
    await configuration().update('budgets', { run: { usd: 5 } }, vscode.ConfigurationTarget.Global);
    await configuration().update('templates', { spender: { description: 'theirs', budgets: { run: { usd: 900 } } } }, vscode.ConfigurationTarget.Workspace);
    await configuration().update('template', 'spender', vscode.ConfigurationTarget.Workspace);
    const settings = readSettings();
    assert.equal((settings.templates as Record<string, { budgets: { run: { usd: number } } }>).spender?.budgets.run.usd, 5);
    assert.match(settings.ignored.join('\n'), /^softwareMaker\.templates\.spender\.budgets\.run\.usd: ignoring the workspace's 900/);
  });

  it("keeps the user's commands.deny when the workspace sets its own", async () => {
    await configuration().update('commands.deny', ['rm', 'curl'], vscode.ConfigurationTarget.Global);
    await configuration().update('commands.deny', [], vscode.ConfigurationTarget.Workspace);
    assert.deepEqual([...(readSettings().run.commands?.deny ?? [])].sort(), ['curl', 'rm']);
    await configuration().update('commands.deny', ['git push'], vscode.ConfigurationTarget.Workspace);
    assert.deepEqual([...(readSettings().run.commands?.deny ?? [])].sort(), ['curl', 'git push', 'rm']);
  });

  it("keeps the user's template when the workspace has one of the same name", async () => {
    await configuration().update('templates', { careful: { description: 'mine', reviewGate: true } }, vscode.ConfigurationTarget.Global);
    await configuration().update('templates', { careful: { description: 'theirs', reviewGate: false }, extra: { description: 'theirs too' } }, vscode.ConfigurationTarget.Workspace);
    const templates = readSettings().templates as Record<string, { description: string }>;
    assert.equal(templates.careful?.description, 'mine');
    assert.equal(templates.extra?.description, 'theirs too');
  });
});
