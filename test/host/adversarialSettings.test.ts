// Attack (test/adversarial/tools.test.ts has the rest): a repository's .vscode/settings.json sets
// softwareMaker.commands.deny of its own. A deny list needs no trust, so it must not replace the
// user's: the commands the user denied stay denied.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { readSettings, SETTINGS_SECTION } from '../../src/host/settings';

describe('attack: workspace settings replacing the user deny list (extension host)', function () {
  this.timeout(60_000);
  const configuration = () => vscode.workspace.getConfiguration(SETTINGS_SECTION);

  afterEach(async () => {
    await configuration().update('commands.deny', undefined, vscode.ConfigurationTarget.Workspace);
    await configuration().update('commands.deny', undefined, vscode.ConfigurationTarget.Global);
  });

  it("keeps the user's commands.deny when the workspace sets its own", async () => {
    await configuration().update('commands.deny', ['rm', 'curl'], vscode.ConfigurationTarget.Global);
    await configuration().update('commands.deny', [], vscode.ConfigurationTarget.Workspace);
    assert.deepEqual([...(readSettings().run.commands?.deny ?? [])].sort(), ['curl', 'rm']);
    await configuration().update('commands.deny', ['git push'], vscode.ConfigurationTarget.Workspace);
    assert.deepEqual([...(readSettings().run.commands?.deny ?? [])].sort(), ['curl', 'git push', 'rm']);
  });
});
