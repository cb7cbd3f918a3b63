// Workspace Trust, enforced where the work starts rather than in each command: the extension hands
// every command, the panel and the model features an engine whose methods that call models, run
// processes or change runs refuse in an untrusted workspace. A command added later cannot forget the
// check, and the table below says for every contributed command why it needs trust or not (a unit
// test holds it to package.json). No vscode import: unit-tested in plain Node.
import type { EngineApi } from '../core/engineApi';

/** Engine methods that start model calls or processes, or write a run or the workspace. */
export const TRUST_GATED_METHODS = ['startRun', 'resumeRun', 'triageTask', 'replayStep', 'setBudgets', 'rollback', 'adoptRun'] as const satisfies readonly (keyof EngineApi)[];

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
  'activeRunIds',
  'activeRuns',
  'checkpoints',
  'dispose',
] as const;

export class WorkspaceNotTrustedError extends Error {
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

/**
 * Every contributed command, and why it needs Workspace Trust (`engine`: through the gated engine;
 * `guard`: checks trust itself, it does not go through the engine) or not (`none`, with the reason).
 */
export const COMMAND_TRUST: Readonly<Record<string, { needs: 'engine' | 'guard' | 'none'; why: string }>> = {
  'softwareMaker.newGoal': { needs: 'engine', why: 'starts a run (and asks first when the workspace settings name endpoints or commands)' },
  'softwareMaker.openPanel': { needs: 'engine', why: 'the panel starts goals, triages, replays and changes budgets through the engine' },
  'softwareMaker.acceptEdit': { needs: 'none', why: 'decides a review a run of this window waits on; such a run needed trust to start' },
  'softwareMaker.rejectEdit': { needs: 'none', why: 'as acceptEdit' },
  'softwareMaker.acceptAllEdits': { needs: 'none', why: 'as acceptEdit' },
  'softwareMaker.acceptHunk': { needs: 'none', why: 'as acceptEdit' },
  'softwareMaker.rejectHunk': { needs: 'none', why: 'as acceptEdit' },
  'softwareMaker.cancelRun': { needs: 'none', why: 'only stops a run this window drives' },
  'softwareMaker.resumeRun': { needs: 'engine', why: 'drives a run' },
  'softwareMaker.adoptRun': { needs: 'engine', why: 'makes a foreign run drivable' },
  'softwareMaker.showTask': { needs: 'none', why: 'opens the panel on a task (reading)' },
  'softwareMaker.refreshRuns': { needs: 'none', why: 'reads the logs' },
  'softwareMaker.setApiKey': { needs: 'none', why: 'stores a key in SecretStorage; nothing is sent' },
  'softwareMaker.retryTask': { needs: 'engine', why: 'resumes the run' },
  'softwareMaker.retryTaskWithModel': { needs: 'engine', why: 'resumes the run' },
  'softwareMaker.skipTask': { needs: 'engine', why: 'resumes the run' },
  'softwareMaker.editTask': { needs: 'engine', why: 'changes and resumes the run' },
  'softwareMaker.markTaskDone': { needs: 'engine', why: 'resumes the run' },
  'softwareMaker.replayStep': { needs: 'engine', why: 'calls a model' },
  'softwareMaker.configureModels': { needs: 'none', why: 'writes settings; its "Test a model connection" item is the guarded command below' },
  'softwareMaker.testModelConnection': { needs: 'guard', why: 'calls a model with its key, without the engine' },
  'softwareMaker.raiseBudget': { needs: 'engine', why: 'changes the budgets and resumes the run' },
  'softwareMaker.rollBack': { needs: 'engine', why: 'rewrites workspace files' },
};
