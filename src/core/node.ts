// The engine's ports implemented on Node (the CLI and the benchmark use them as they are), and the
// pieces a host needs to implement them itself the same way (the VS Code host's applier, workspace
// and test runner): path confinement, content hashes, process groups.
export { NodeWorkspace } from './workspace/nodeWorkspace';
export { resolveInWorkspace } from './workspace/paths';
export { NodeEditApplier, nearestExisting } from './edits/nodeApplier';
export { sha256 } from './edits/hunks';
export { NodeTestRunner } from './testing/nodeTestRunner';
export { startInProcessGroup, type GroupedCommand } from './processGroup';
export { NodeCommandRunner, type NodeCommandRunnerOptions } from './commands/nodeCommandRunner';
export { CommandProcess, CommandStartError, checkCommandFolder, MAX_KEPT_OUTPUT, type CommandProcessOptions } from './commands/process';
export { resolveCommandFolder } from './commands/agentCommand';
export { PlaywrightBrowser } from './web/playwrightBrowser';
export { BrowserNotFoundError, BROWSER_PATH_SETTING, resolveBrowserExecutable } from './web/browserPath';
export { readLog } from './log/eventLog';
export { readRunState, writeRunSnapshot, type FoldedRun } from './log/snapshot';
