// Every command the extension contributes, written once. Registration (extension.ts and the
// feature modules), the places that name a command (tree items, the status bar, CodeLenses) and the
// Workspace Trust classification (trustGate.ts) take their ids from here. A unit test holds
// package.json's commands, menus, keybindings and welcome links to this table, both ways; the host
// suite checks that exactly these are registered. No vscode import: unit-tested in plain Node.

/**
 * Why a command needs Workspace Trust (`engine`: it works through the trust-gated engine; `guard`:
 * it checks trust itself, not going through the engine) or not (`none`, with the reason).
 */
export interface CommandTrust {
  needs: 'engine' | 'guard' | 'none';
  why: string;
}

export interface CommandSpec {
  id: `softwareMaker.${string}`;
  /** As package.json contributes it (the palette shows it). */
  title: string;
  trust: CommandTrust;
}

const REVIEW_TRUST: CommandTrust = { needs: 'none', why: 'decides a review a run of this window waits on; such a run needed trust to start' };
const RESUMES_TRUST: CommandTrust = { needs: 'engine', why: 'resumes the run' };

export const COMMANDS = {
  newGoal: { id: 'softwareMaker.newGoal', title: 'Software Maker: New Goal', trust: { needs: 'engine', why: 'starts a run (and asks first when the workspace settings name endpoints or commands)' } },
  newGoalFromTemplate: { id: 'softwareMaker.newGoalFromTemplate', title: 'Software Maker: New Goal from Template…', trust: { needs: 'engine', why: 'starts a run with a team template' } },
  openPanel: { id: 'softwareMaker.openPanel', title: 'Software Maker: Open Panel', trust: { needs: 'engine', why: 'the panel starts goals, triages, replays and changes budgets through the engine' } },
  acceptEdit: { id: 'softwareMaker.acceptEdit', title: 'Software Maker: Accept Proposed Edit', trust: REVIEW_TRUST },
  rejectEdit: { id: 'softwareMaker.rejectEdit', title: 'Software Maker: Reject Proposed Edit', trust: REVIEW_TRUST },
  acceptAllEdits: { id: 'softwareMaker.acceptAllEdits', title: 'Software Maker: Accept All Edits of Task', trust: REVIEW_TRUST },
  acceptHunk: { id: 'softwareMaker.acceptHunk', title: 'Software Maker: Accept Hunk', trust: REVIEW_TRUST },
  rejectHunk: { id: 'softwareMaker.rejectHunk', title: 'Software Maker: Reject Hunk', trust: REVIEW_TRUST },
  cancelRun: { id: 'softwareMaker.cancelRun', title: 'Software Maker: Cancel Run', trust: { needs: 'none', why: 'only stops a run this window drives' } },
  resumeRun: { id: 'softwareMaker.resumeRun', title: 'Software Maker: Resume Run', trust: { needs: 'engine', why: 'drives a run' } },
  adoptRun: { id: 'softwareMaker.adoptRun', title: 'Software Maker: Adopt Run…', trust: { needs: 'engine', why: 'makes a foreign run drivable' } },
  showTask: { id: 'softwareMaker.showTask', title: 'Software Maker: Show Task', trust: { needs: 'none', why: 'opens the panel on a task (reading)' } },
  refreshRuns: { id: 'softwareMaker.refreshRuns', title: 'Software Maker: Refresh Runs', trust: { needs: 'none', why: 'reads the logs' } },
  openWalkthrough: { id: 'softwareMaker.openWalkthrough', title: 'Software Maker: Open the Walkthrough', trust: { needs: 'none', why: 'opens the getting-started page' } },
  setApiKey: { id: 'softwareMaker.setApiKey', title: 'Software Maker: Set API Key', trust: { needs: 'none', why: 'stores a key in SecretStorage; nothing is sent' } },
  retryTask: { id: 'softwareMaker.retryTask', title: 'Software Maker: Retry Task', trust: RESUMES_TRUST },
  retryTaskWithModel: { id: 'softwareMaker.retryTaskWithModel', title: 'Software Maker: Retry Task with Another Model…', trust: RESUMES_TRUST },
  skipTask: { id: 'softwareMaker.skipTask', title: 'Software Maker: Skip Task', trust: RESUMES_TRUST },
  editTask: { id: 'softwareMaker.editTask', title: 'Software Maker: Edit Task…', trust: { needs: 'engine', why: 'changes and resumes the run' } },
  markTaskDone: { id: 'softwareMaker.markTaskDone', title: 'Software Maker: Mark Task Done', trust: RESUMES_TRUST },
  replayStep: { id: 'softwareMaker.replayStep', title: 'Software Maker: Replay Step…', trust: { needs: 'engine', why: 'calls a model' } },
  configureModels: { id: 'softwareMaker.configureModels', title: 'Software Maker: Configure Models', trust: { needs: 'none', why: 'writes settings; its "Test a model connection" item is the guarded command below' } },
  testModelConnection: { id: 'softwareMaker.testModelConnection', title: 'Software Maker: Test Model Connection', trust: { needs: 'guard', why: 'calls a model with its key, without the engine' } },
  raiseBudget: { id: 'softwareMaker.raiseBudget', title: 'Software Maker: Raise Budget and Resume', trust: { needs: 'engine', why: 'changes the budgets and resumes the run' } },
  rollBack: { id: 'softwareMaker.rollBack', title: 'Software Maker: Roll Back…', trust: { needs: 'engine', why: 'rewrites workspace files' } },
} as const satisfies Record<string, CommandSpec>;

export type CommandName = keyof typeof COMMANDS;

/** The id of every command, in the table's order. */
export const COMMAND_IDS: readonly string[] = Object.values(COMMANDS).map((command) => command.id);
