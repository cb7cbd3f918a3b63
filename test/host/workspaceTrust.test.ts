// What came with the workspace, read through the real configuration API: workspace-scoped settings
// that name endpoints or commands are what the first goal asks about; the user's own are not.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { trustSurfaceOf } from '../../src/core/trust';
import { SETTINGS_SECTION, workspaceScopedSettings } from '../../src/host/settings';

describe('workspace settings that need trust (extension host)', function () {
  this.timeout(60_000);
  const configuration = () => vscode.workspace.getConfiguration(SETTINGS_SECTION);

  afterEach(async () => {
    await configuration().update('testCommand', undefined, vscode.ConfigurationTarget.Workspace);
    await configuration().update('models', undefined, vscode.ConfigurationTarget.Global);
  });

  it('reads only what the workspace sets: its test command is shown, the user’s own models are not', async () => {
    await configuration().update('testCommand', 'touch PWNED', vscode.ConfigurationTarget.Workspace);
    await configuration().update('models', [{ id: 'mine', provider: 'openai', model: 'gpt-5.4' }], vscode.ConfigurationTarget.Global);
    const scoped = workspaceScopedSettings();
    assert.equal(scoped.run.testCommand, 'touch PWNED');
    assert.equal(scoped.run.models, undefined, 'user settings are the user’s: not asked about');
    assert.deepEqual(trustSurfaceOf(scoped.run), ['test command: touch PWNED']);
  });
});
