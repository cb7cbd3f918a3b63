import { strict as assert } from 'node:assert';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { COMMAND_IDS, COMMANDS } from '../../src/host/commands';
import { REPO } from './helpers';

interface Manifest {
  contributes: {
    commands: { command: string; title: string }[];
    menus: Record<string, { command?: string; submenu?: string }[]>;
    keybindings: { command: string }[];
    viewsWelcome: { contents: string }[];
  };
}

describe('the command table (host/commands.ts) and package.json', () => {
  let manifest: Manifest;
  before(async () => {
    manifest = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as Manifest;
  });

  it('package.json contributes every command of the table, and only those', () => {
    const contributed = manifest.contributes.commands.map((entry) => entry.command);
    assert.deepEqual(COMMAND_IDS.filter((id) => !contributed.includes(id)), [], 'in the table, not contributed');
    assert.deepEqual(contributed.filter((id) => !COMMAND_IDS.includes(id)), [], 'contributed, not in the table');
    assert.equal(new Set(contributed).size, contributed.length, 'each command is contributed once');
  });

  it('each contributed command has the title the table gives it', () => {
    const titles = Object.fromEntries(manifest.contributes.commands.map((entry) => [entry.command, entry.title]));
    for (const command of Object.values(COMMANDS)) assert.equal(titles[command.id], command.title, command.id);
  });

  it('menus, keybindings and welcome links name only commands of the table', () => {
    const named = [
      ...Object.values(manifest.contributes.menus).flatMap((items) => items.flatMap((item) => (item.command ? [item.command] : []))),
      ...manifest.contributes.keybindings.map((binding) => binding.command),
      ...manifest.contributes.viewsWelcome.flatMap((welcome) => [...welcome.contents.matchAll(/\(command:(softwareMaker\.[\w.]+)/g)].map((match) => match[1])),
    ];
    assert.ok(named.length > 0, 'package.json names commands in its menus');
    const ours = named.filter((id) => id.startsWith('softwareMaker.'));
    assert.deepEqual([...new Set(ours.filter((id) => !COMMAND_IDS.includes(id)))], [], 'named, not in the table');
    // Commands of VS Code itself (vscode.openFolder, workbench.trust.manage) are the only others.
    assert.deepEqual(named.filter((id) => !id.startsWith('softwareMaker.') && !/^(vscode|workbench)\./.test(id)), []);
  });

  it('the walkthrough and the welcome views point a new user at Configure Models, with commands of the table', async () => {
    const raw = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { contributes: { walkthroughs: { steps: { description: string; media: { markdown?: string } }[] }[]; viewsWelcome: { contents: string }[] } };
    const steps = raw.contributes.walkthroughs.flatMap((walkthrough) => walkthrough.steps);
    const linked = steps.flatMap((step) => [...step.description.matchAll(/\(command:(softwareMaker\.[\w.]+)/g)].map((match) => match[1]));
    assert.ok(linked.includes(COMMANDS.configureModels.id), 'a walkthrough step links Configure Models');
    assert.deepEqual(linked.filter((id) => !COMMAND_IDS.includes(id)), []);
    for (const step of steps) if (step.media.markdown) await readFile(join(REPO, step.media.markdown), 'utf8');
    assert.ok(raw.contributes.viewsWelcome.some((welcome) => welcome.contents.includes(`(command:${COMMANDS.configureModels.id})`)), 'a welcome view offers Configure Models');
  });

  it('every command id of the table is its own (softwareMaker.<name>, one entry each)', () => {
    assert.equal(new Set(COMMAND_IDS).size, COMMAND_IDS.length);
    for (const [name, command] of Object.entries(COMMANDS)) assert.equal(command.id, `softwareMaker.${name}`);
  });
});
