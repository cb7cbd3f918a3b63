// A cloned repository's settings may tighten the safety settings, never loosen them silently: the
// security gate and the budgets (CLI config file and VS Code settings), and a run folder's symlinked screenshot.
import { strict as assert } from 'node:assert';
import { mkdtemp, mkdir, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCliConfig } from '../../src/cli/options';
import { describeIgnoredWorkspaceValue, realPathInside, tightenedBudgets, tightenedSecurity, type IgnoredWorkspaceValue } from '../../src/core/trust';
import type { Budgets } from '../../src/shared/model';

const FLAGS = { models: ['openai:x'], yes: true, noReviewGate: false, gitMode: false, noCheckpoints: false };

describe('adversarial: workspace settings only tighten safety', () => {
  it('a workspace config cannot turn the user\'s security gate off, raise the severity, or drop the audit', async () => {
    const ws = await mkdtemp(join(tmpdir(), 'sm-merge-'));
    const config = await buildCliConfig(ws, FLAGS, {
      user: { security: { gate: 'enforce', severity: 'moderate', audit: true } as never },
      workspace: { path: join(ws, '.software-maker/config.json'), config: { security: { gate: 'off', severity: 'critical', audit: false, maxRounds: 1 } as never } },
    }, () => {});
    assert.equal(config.security.gate, 'enforce');
    assert.equal(config.security.severity, 'moderate');
    assert.equal(config.security.audit, true);
    assert.equal(config.security.maxRounds, 1, 'fields that loosen nothing still merge');
  });

  it('a workspace config may tighten the gate above the default', async () => {
    const ws = await mkdtemp(join(tmpdir(), 'sm-merge-'));
    const config = await buildCliConfig(ws, FLAGS, { user: {}, workspace: { path: 'x', config: { security: { gate: 'enforce', severity: 'low' } as never } } });
    assert.equal(config.security.gate, 'enforce');
    assert.equal(config.security.severity, 'low');
  });

  it('tightenedSecurity keeps the default as the floor when the user set nothing, and notes what it left out', () => {
    const ignored: IgnoredWorkspaceValue[] = [];
    assert.deepEqual(tightenedSecurity(undefined, { gate: 'off', severity: 'critical', audit: false }, ignored), {});
    assert.deepEqual(ignored, [
      { setting: 'security.severity', workspace: 'critical', used: 'high', isDefault: true },
      { setting: 'security.audit', workspace: false, used: true, isDefault: true },
    ], 'gate "off" is the default itself: nothing was loosened');
    assert.deepEqual(tightenedSecurity({ gate: 'warn' }, { gate: 'off' }), { gate: 'warn' });
    assert.deepEqual(tightenedSecurity({ audit: false }, { audit: true }), { audit: true });
  });

  it('a workspace may lower every cap and add caps the user has not set, never raise one', () => {
    const user: Partial<Budgets> = { run: { usd: 5, tokens: 100_000 }, task: { tokens: 20_000 }, roles: { implementer: { usd: 2 } }, onExceed: 'stop' };
    const ignored: IgnoredWorkspaceValue[] = [];
    const merged = tightenedBudgets(user, {
      run: { usd: 500 },
      task: { usd: 1, tokens: 5_000 },
      roles: { implementer: { usd: 3, tokens: 9 }, reviewer: { tokens: 1_000 } },
      onExceed: 'pause',
    }, ignored);
    assert.deepEqual(merged, {
      run: { usd: 5, tokens: 100_000 },
      task: { usd: 1, tokens: 5_000 },
      roles: { implementer: { usd: 2, tokens: 9 }, reviewer: { tokens: 1_000 } },
      onExceed: 'pause',
    }, 'a raise keeps the user\'s cap; a cap the workspace left out is kept, not dropped; onExceed halts spending either way');
    assert.deepEqual(ignored, [
      { setting: 'budgets.run.usd', workspace: 500, used: 5, isDefault: false },
      { setting: 'budgets.roles.implementer.usd', workspace: 3, used: 2, isDefault: false },
    ]);
    assert.equal(
      describeIgnoredWorkspaceValue(ignored[0]!, 'softwareMaker.budgets.run.usd'),
      'softwareMaker.budgets.run.usd: ignoring the workspace\'s 500, which is looser than yours, 5; using 5 (a workspace may only tighten this setting).',
    );
  });

  it('with no caps of the user\'s (the default: none), any cap of the workspace\'s applies and nothing is reported', () => {
    const ignored: IgnoredWorkspaceValue[] = [];
    assert.deepEqual(tightenedBudgets(undefined, { run: { usd: 1_000 }, onExceed: 'pause' }, ignored), { run: { usd: 1_000 }, onExceed: 'pause' });
    assert.deepEqual(tightenedBudgets({ onExceed: 'pause' }, { task: { tokens: 50 } }, ignored), { task: { tokens: 50 }, onExceed: 'pause' });
    assert.deepEqual(ignored, []);
    assert.deepEqual(tightenedBudgets({ run: { usd: 5 } }, undefined), { run: { usd: 5 } });
    assert.deepEqual(tightenedBudgets({ run: { usd: 5 } }, { run: { usd: 5 } }, ignored), { run: { usd: 5 } });
    assert.deepEqual(ignored, [], 'the same cap is no raise');
  });

  it('a workspace cap that is no valid cap is left for the config check, never taken as "no cap"', async () => {
    const ignored: IgnoredWorkspaceValue[] = [];
    assert.deepEqual(tightenedBudgets({ run: { usd: 5 } }, { run: { usd: null as never } }, ignored), { run: { usd: null } });
    assert.deepEqual(ignored, []);
    const ws = await mkdtemp(join(tmpdir(), 'sm-merge-'));
    // The merged config is checked by the run-config schema: the run is refused, the cap is not lifted.
    await assert.rejects(buildCliConfig(ws, FLAGS, { user: { budgets: { run: { usd: 5 }, onExceed: 'pause' } }, workspace: { path: 'x', config: { budgets: { run: { usd: 0 }, onExceed: 'pause' } } } }, () => {}), /usd/);
  });

  it('a workspace config cannot raise the user\'s caps; the CLI warns naming the file, the setting and both values', async () => {
    const ws = await mkdtemp(join(tmpdir(), 'sm-merge-'));
    const warnings: string[] = [];
    const path = join(ws, '.software-maker/config.json');
    const config = await buildCliConfig(ws, FLAGS, {
      user: { budgets: { run: { usd: 5 }, task: { tokens: 10_000 }, onExceed: 'pause' } },
      workspace: { path, config: { budgets: { run: { usd: 500, tokens: 80_000 }, onExceed: 'pause' } } },
    }, (message) => warnings.push(message));
    assert.deepEqual(config.budgets, { run: { usd: 5, tokens: 80_000 }, task: { tokens: 10_000 }, onExceed: 'pause' });
    assert.deepEqual(warnings, [`budgets.run.usd in ${path}: ignoring the workspace's 500, which is looser than yours, 5; using 5 (a workspace may only tighten this setting).`]);
  });

  it('a workspace template cannot raise the user\'s caps either (a template\'s budgets replace the config\'s)', async () => {
    const ws = await mkdtemp(join(tmpdir(), 'sm-merge-'));
    const warnings: string[] = [];
    const config = await buildCliConfig(ws, FLAGS, {
      user: { budgets: { run: { usd: 5 }, onExceed: 'pause' } },
      workspace: { path: 'x', config: { template: 'spender', templates: { spender: { budgets: { run: { usd: 900 }, onExceed: 'pause' } } } } as never },
    }, (message) => warnings.push(message));
    assert.deepEqual(config.budgets, { run: { usd: 5 }, onExceed: 'pause' });
    assert.match(warnings.join('\n'), /^templates\.spender\.budgets\.run\.usd in x: ignoring the workspace's 900/);
    const mine = await buildCliConfig(ws, { ...FLAGS, template: 'spender' }, { user: { budgets: { run: { usd: 5 }, onExceed: 'pause' }, templates: { spender: { budgets: { run: { usd: 900 }, onExceed: 'pause' } } as never } } });
    assert.equal(mine.budgets.run?.usd, 900, "the user's own template is the user's choice");
  });

  it('a workspace config cannot loosen the security gate without a warning', async () => {
    const ws = await mkdtemp(join(tmpdir(), 'sm-merge-'));
    const warnings: string[] = [];
    await buildCliConfig(ws, FLAGS, { user: { security: { gate: 'enforce' } as never }, workspace: { path: 'x', config: { security: { gate: 'warn' } as never } } }, (message) => warnings.push(message));
    assert.deepEqual(warnings, ['security.gate in x: ignoring the workspace\'s "warn", which is looser than yours, "enforce"; using "enforce" (a workspace may only tighten this setting).']);
  });

  it('a screenshot that links outside the run folder is not handed out', async () => {
    const root = await mkdtemp(join(tmpdir(), 'sm-shot-'));
    const run = join(root, 'run-1');
    await mkdir(join(run, 'web'), { recursive: true });
    await writeFile(join(root, 'secret.txt'), 'secret');
    await writeFile(join(run, 'web', 'ok.png'), 'png');
    await symlink(join(root, 'secret.txt'), join(run, 'web', 'evil.png'));
    await symlink(join(run, 'web', 'ok.png'), join(run, 'web', 'alias.png'));
    assert.equal(await realPathInside(run, 'web/evil.png'), undefined);
    assert.ok((await realPathInside(run, 'web/ok.png'))?.endsWith('ok.png'));
    assert.ok((await realPathInside(run, 'web/alias.png'))?.endsWith('ok.png'), 'a link inside the folder is fine');
    assert.equal(await realPathInside(run, 'web/missing.png'), undefined);
  });
});

describe('adversarial: a workspace template with the name of the user\'s', () => {
  it('does not shadow the user\'s template', async () => {
    const ws = await mkdtemp(join(tmpdir(), 'sm-merge-'));
    const config = await buildCliConfig(ws, { ...FLAGS, template: 'careful' }, {
      user: { templates: { careful: { description: 'mine', reviewGate: true } as never } },
      workspace: { path: 'x', config: { templates: { careful: { description: 'theirs', reviewGate: false } as never } } },
    });
    assert.equal(config.reviewGate, true);
  });
});
