// Workspace Trust, enforced where the work starts rather than in each command: the extension hands
// every command, the panel and the model features an engine whose methods that call models, run
// processes or change runs refuse in an untrusted workspace. A command added later cannot forget the
// check, and the command table (commands.ts) says for every contributed command why it needs trust
// or not (a unit test holds it to package.json). No vscode import: unit-tested in plain Node.
import type { EngineApi } from '../core';
import { COMMANDS, type CommandTrust } from './commands';
import { UserError } from '../shared/errors';

/** Engine methods that start model calls or processes, or write a run or the workspace. */
export const TRUST_GATED_METHODS = ['startRun', 'resumeRun', 'triageTask', 'replayStep', 'setBudgets', 'rollback', 'adoptRun', 'sendMessage'] as const satisfies readonly (keyof EngineApi)[];

/** Engine methods that only read, or act only on runs this window already drives (which needed trust to start). */
export const UNGATED_METHODS = [
  'onEvent',
  'listRuns',
  'getRun',
  'readEvents',
  'describeRunOrigin',
  'cancelRun',
  'approvePlan',
  'listCheckpoints',
  'checkpointFile',
  'activeRunIds',
  'activeRuns',
  'checkpoints',
  'dispose',
] as const;

export class WorkspaceNotTrustedError extends UserError {
  constructor() {
    super(
      'This workspace is not trusted. Software Maker applies edits, calls models and runs your tests, which needs a trusted workspace: ' +
        'trust the folder (command "Workspaces: Manage Workspace Trust") and try again. Past runs can still be viewed.',
    );
    this.name = 'WorkspaceNotTrustedError';
  }
}

/** `engine` with every TRUST_GATED_METHODS method refusing (rejecting, never calling it) while `isTrusted()` is false. */
export function trustGatedEngine<T extends EngineApi>(engine: T, isTrusted: () => boolean): T {
  const gated = new Set<PropertyKey>(TRUST_GATED_METHODS);
  return new Proxy(engine, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      if (!gated.has(property)) return value.bind(target);
      return (...args: unknown[]) => (isTrusted() ? (value as (...a: unknown[]) => unknown).apply(target, args) : Promise.reject(new WorkspaceNotTrustedError()));
    },
  });
}

/** Every contributed command, and why it needs Workspace Trust or not (written in commands.ts). */
export const COMMAND_TRUST: Readonly<Record<string, CommandTrust>> = Object.fromEntries(Object.values(COMMANDS).map((command) => [command.id, command.trust]));
