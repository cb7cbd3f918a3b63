import { strict as assert } from 'node:assert';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Engine } from '../../src/core/engine';
import type { EngineApi } from '../../src/core/engineApi';
import { COMMAND_TRUST, TRUST_GATED_METHODS, trustGatedEngine, UNGATED_METHODS, WorkspaceNotTrustedError } from '../../src/host/trustGate';
import { REPO } from './helpers';

describe('Workspace Trust in VS Code (host/trustGate.ts)', () => {
  it('classifies every contributed command, and only those', async () => {
    const manifest = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { contributes: { commands: { command: string }[] } };
    const contributed = manifest.contributes.commands.map((entry) => entry.command).sort();
    assert.deepEqual(Object.keys(COMMAND_TRUST).sort(), contributed);
  });

  it('classifies every engine method as gated or not, so a new one cannot slip past the gate', () => {
    const methods = Object.getOwnPropertyNames(Engine.prototype).filter((name) => name !== 'constructor' && typeof Reflect.get(Engine.prototype, name) === 'function');
    // Private helpers are methods at runtime too: they are never reached through the proxy by a host.
    const publicMethods = methods.filter((name) => !PRIVATE_ENGINE_METHODS.has(name));
    assert.deepEqual(publicMethods.filter((name) => !(TRUST_GATED_METHODS as readonly string[]).includes(name) && !(UNGATED_METHODS as readonly string[]).includes(name)), []);
  });

  it('in an untrusted workspace every method that calls models, runs processes or changes a run refuses without reaching the engine', async () => {
    const reached: string[] = [];
    const inner = new Proxy({} as EngineApi, {
      get: (_target, property) => (...args: unknown[]) => {
        reached.push(String(property));
        return property === 'activeRunIds' ? [] : Promise.resolve(args);
      },
    });
    let trusted = false;
    const gated = trustGatedEngine(inner, () => trusted);
    for (const method of TRUST_GATED_METHODS) {
      const call = Reflect.get(gated, method) as (...args: unknown[]) => Promise<unknown>;
      await assert.rejects(call('run-1', 't1', {}), WorkspaceNotTrustedError, method);
    }
    assert.deepEqual(reached, [], 'the engine was never called');
    await gated.listRuns();
    assert.deepEqual(gated.activeRunIds(), []);
    assert.deepEqual(reached, ['listRuns', 'activeRunIds'], 'reading goes through');
    trusted = true;
    await gated.resumeRun('run-1');
    assert.equal(reached.at(-1), 'resumeRun', 'trusted: it goes through');
  });
});

/** Engine methods TypeScript keeps private (only the engine calls them). */
const PRIVATE_ENGINE_METHODS = new Set(['withRunLog', 'openRunLog', 'openRunFromSnapshot', 'underRunLock', 'loadRunLog', 'isOwn', 'requireOwn', 'runDir', 'track', 'publish', 'followUpSummary', 'summarizeStored']);
