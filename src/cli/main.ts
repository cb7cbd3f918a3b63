// software-maker: the engine headless, for terminals and CI.
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConcurrentRunError, defaultRunsDir, Engine, TrustRecords, UnknownRunError, userStateDir } from '../core';
import { isUserError } from '../shared/errors';
import type { TriageDecision } from '../shared/protocol';
import { formatEvent, formatRunDetail, formatRunList } from './format';
import { buildCliConfig, cliStorageDir, raisedBudgets, readCliConfigFiles, UsageError, type CliConfigFiles } from './options';
import { budgetPauseOf, suggestedCap } from '../shared/budgets';
import { runTestCommand } from './testCommand';
import { askYesNo, closeSharedTerminal, createCliPorts, openSharedTerminal } from './ports';
import { steerFromLines } from './steering';
import { listed, requireTrustedWorkspaceConfig, WorkspaceConfigNotTrustedError } from './trust';
import { redactWrites } from './redactedOutput';
import { exitQuietlyWhenReaderCloses } from './brokenPipe';
import { messageOf } from '../shared/wording';

const HELP = `software-maker — an agent team for your workspace, headless.

Usage:
  software-maker run "<goal>" --workspace DIR [--model SPEC] [--yes] [options]
  software-maker resume <run-id> --workspace DIR [--yes] [--max-usd N] [--max-tokens N]
  software-maker retry <run-id> <task-id> [--model ID] --workspace DIR [--yes]   retry a dead-lettered task
  software-maker skip <run-id> <task-id> --workspace DIR [--yes]                 skip it (and what depends on it)
  software-maker done <run-id> <task-id> --workspace DIR [--yes]                 mark it done after fixing it by hand
  software-maker replay <run-id> <step-id> [--model ID] --workspace DIR          run one step again from its record
  software-maker adopt <run-id> --workspace DIR [--yes]                          drive a run not created on this machine
  software-maker checkpoints --workspace DIR                                     list checkpoints
  software-maker rollback <checkpoint-id> --workspace DIR                        restore the workspace to one
  software-maker status [<run-id>] [--workspace DIR] [--json]
  software-maker logs <run-id> [--workspace DIR] [--json]
  software-maker test [--workspace DIR] [--json] [--near PATH]... [--test-command CMD]

Models (--model, repeatable per role with ROLE=SPEC):
  scripted:PATH                 replay a recorded transcript (tests, demos)
  openai:MODEL                  OpenAI (key from OPENAI_API_KEY)
  anthropic:MODEL               Anthropic (key from ANTHROPIC_API_KEY)
  ollama:MODEL                  local Ollama (http://127.0.0.1:11434/v1); also lmstudio:, vllm:, llamacpp:
  deepseek:MODEL                DeepSeek (DEEPSEEK_API_KEY); also groq: (GROQ_API_KEY), openrouter: (OPENROUTER_API_KEY)
  openai-compatible:MODEL@URL   any OpenAI-compatible endpoint; key from --api-key-env
  ID                            a model id from the config file
  Several --model values without ROLE= form a fallback chain, in order.

Options:
  --workspace DIR       the folder to work in (default: current folder)
  --config FILE         your JSON with models, roles and run settings, instead of the user config
                        ($XDG_CONFIG_HOME/software-maker/config.json) and the workspace's
                        DIR/.software-maker/config.json
  --trust-workspace-config   use what the workspace's config names (endpoints, key variables,
                        transcripts, test command, auto-approval) without asking; remembered until
                        the file changes. Without it, that is asked in a terminal and refused without one
  --allow-concurrent-run     start even though another run of the workspace is in progress
  --yes                 apply every proposed edit without asking, except edits that change what runs
                        (package scripts, git hooks, editor tasks…): those are asked about in a
                        terminal, and rejected back to the agent without one
  --allow-command-changes   let --yes and auto-approve rules apply those too
  --concurrency N       tasks at once (default 3)
  --max-fix-attempts N  fix attempts per task before dead-letter (default 2)
  --test-command CMD    how to run the tests (default: detected; "none" runs without a test gate)
  --no-review-gate      skip the reviewer after tests pass
  --api-key-env NAME    environment variable with the API key of an openai-compatible model
  --runs-dir DIR        where runs are stored (default: DIR/.software-maker/runs)
  --max-usd N           hard cap in USD for the whole run (checked before every model call);
                        with resume: raises the cap that paused the run
  --max-tokens N        hard cap in tokens for the whole run; with resume: as --max-usd
  --on-budget pause|stop   what a breached cap does (default pause: raise it and resume)
  --git-mode            work on a branch of its own and commit per task (asks before leaving a dirty tree)
  --no-checkpoints      take no checkpoints (by default one before each task's edits land)
  --security-gate MODE  off, warn or enforce: scan the run's changes for secrets and audit the
                        dependencies after the tasks; enforce sends findings back to a security task
  --security-severity L low, moderate, high (default) or critical: what enforce sends back
  --template NAME       start with a team template: solo, careful, fast, or one of "templates" in the
                        config file (its values go over the config and under these flags; the run
                        keeps them, whatever the template says later)
  --no-rules-files      leave AGENTS.md, CLAUDE.md and .github/copilot-instructions.md out of the prompts
  --mcp-allow S/T       an MCP tool call that runs without asking (server/tool, * for any; repeatable);
                        MCP servers are configured under "mcp" in the config file
  --allow-command P     run: a command agents may run without asking, matched on the first words of
                        the parsed command ("npm test" allows "npm test -- -g x"; compound commands
                        with ; && | > $(…) are never matched by a prefix); repeatable. Every other
                        command an agent proposes is shown verbatim and asked about in a terminal,
                        and refused without one. --yes never approves commands; a deploy ("deploy"
                        in the config file) always asks you to type "deploy", and never runs without
                        a terminal
  --quiet, -q           run: leave out what the agents say and the tools they call (shown by default,
                        one short line each)
  --steer               run: read messages for the run from stdin even when it is not a terminal (in
                        a terminal that is the default): a line typed while the run works goes to the
                        task at work (the planner when none is; "@t2 …" picks task t2), as the VS Code
                        chat's messages do. Answers to the questions asked are never taken as messages
  --json                machine-readable output (status, logs, test; run: its events as JSON lines)
  --near PATH           test: run the tests of the package nearest to PATH (repeatable; monorepos)
`;

/** The commands, in the order HELP's usage lists them: that list is the only one. */
const COMMANDS = [...HELP.matchAll(/^ {2}software-maker (\w+)/gm)].map((match) => match[1]!);

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      workspace: { type: 'string', short: 'w' },
      model: { type: 'string', short: 'm', multiple: true },
      config: { type: 'string' },
      yes: { type: 'boolean', short: 'y' },
      'allow-command-changes': { type: 'boolean' },
      'trust-workspace-config': { type: 'boolean' },
      'allow-concurrent-run': { type: 'boolean' },
      concurrency: { type: 'string' },
      'max-fix-attempts': { type: 'string' },
      'test-command': { type: 'string' },
      'no-review-gate': { type: 'boolean' },
      'api-key-env': { type: 'string' },
      'runs-dir': { type: 'string' },
      json: { type: 'boolean' },
      quiet: { type: 'boolean', short: 'q' },
      steer: { type: 'boolean' },
      near: { type: 'string', multiple: true },
      'max-usd': { type: 'string' },
      'max-tokens': { type: 'string' },
      'on-budget': { type: 'string' },
      'git-mode': { type: 'boolean' },
      'no-checkpoints': { type: 'boolean' },
      'security-gate': { type: 'string' },
      'security-severity': { type: 'string' },
      template: { type: 'string' },
      'no-rules-files': { type: 'boolean' },
      'mcp-allow': { type: 'string', multiple: true },
      'allow-command': { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    process.stdout.write(HELP);
    return command || values.help ? 0 : 2;
  }
  const workspace = resolve(values.workspace ?? process.cwd());
  const info = await stat(workspace).catch(() => undefined);
  if (!info?.isDirectory()) throw new UsageError(`The workspace ${workspace} does not exist or is not a folder. Pass an existing folder with --workspace.`);
  const runsDir = values['runs-dir'] ? resolve(values['runs-dir']) : defaultRunsDir(workspace);
  const interactive = process.stdin.isTTY === true && !values.yes;
  const ports = await createCliPorts(workspace, { interactive, terminal: process.stdin.isTTY === true });
  const storageDir = cliStorageDir(workspace);
  const engine = new Engine({ ports, runsDir, storageDir, recordsDir: userStateDir(), warn: (message) => process.stderr.write(`warning: ${message}\n`) });
  /** What a workspace config may use, once the user accepted it (asked in a terminal, or the flag). */
  const trustedConfigFiles = async (only?: (files: CliConfigFiles) => boolean) => {
    const files = await readCliConfigFiles(workspace, values.config);
    if (only && !only(files)) return files;
    await requireTrustedWorkspaceConfig(files, {
      workspace,
      records: new TrustRecords(storageDir),
      accept: values['trust-workspace-config'] ?? false,
      ask: process.stdin.isTTY === true ? askYesNo : undefined,
    });
    return files;
  };
  const resumeCommand = (runId: string, extra = ''): string =>
    `software-maker resume ${runId} --workspace ${workspace}${values['runs-dir'] ? ` --runs-dir ${runsDir}` : ''}${extra}${values.yes ? ' --yes' : ''}`;

  switch (command) {
    case 'run':
    case 'resume':
    case 'retry':
    case 'skip':
    case 'done': {
      const target = rest.join(' ').trim();
      if (!target) throw new UsageError(command === 'run' ? 'Say what to do: software-maker run "<goal>".' : `Which run? software-maker ${command} <run-id>${command === 'resume' ? '' : ' <task-id>'}.`);
      if (!values.yes && !interactive) {
        throw new UsageError('Proposed edits need approval, but there is no terminal to ask in. Pass --yes to apply them without asking.');
      }
      engine.onEvent((_runId, event) => {
        const line = values.json ? JSON.stringify(event) : formatEvent(event, { agentActivity: !values.quiet });
        if (line) process.stdout.write(line + '\n');
      });
      // Human lines go where they do not break --json's JSON lines.
      const say = (line: string): void => void (values.json ? process.stderr : process.stdout).write(`${line}\n`);
      // Opened before anything is asked (trust, a concurrent run), so every question uses the one readline.
      const terminal = process.stdin.isTTY === true || values.steer ? openSharedTerminal(process.stdin, process.stdout) : undefined;
      let handle;
      if (command === 'run') {
        const config = await buildCliConfig(workspace, {
          models: values.model ?? [],
          configFile: values.config,
          yes: values.yes ?? false,
          allowCommandChanges: values['allow-command-changes'] ?? false,
          concurrency: values.concurrency,
          maxFixAttempts: values['max-fix-attempts'],
          testCommand: values['test-command'],
          noReviewGate: values['no-review-gate'] ?? false,
          apiKeyEnv: values['api-key-env'],
          maxUsd: values['max-usd'],
          maxTokens: values['max-tokens'],
          onBudget: values['on-budget'],
          gitMode: values['git-mode'] ?? false,
          noCheckpoints: values['no-checkpoints'] ?? false,
          securityGate: values['security-gate'],
          securitySeverity: values['security-severity'],
          template: values.template,
          noRulesFiles: values['no-rules-files'] ?? false,
          mcpAllow: values['mcp-allow'],
          allowCommand: values['allow-command'],
        }, await trustedConfigFiles());
        try {
          handle = await engine.startRun(target, config, { allowConcurrent: values['allow-concurrent-run'] ?? false });
        } catch (error) {
          if (error instanceof ConcurrentRunError) {
            throw new UsageError(`${error.message} ${interactive ? '' : 'There is no terminal to ask in (or --yes was given): '}pass --allow-concurrent-run to start it anyway.`);
          }
          throw error;
        }
      } else if (command === 'resume') {
        const state = await engine.getRun(target);
        if (!state) throw new UnknownRunError(target);
        // Raising the caps is what a budget pause asks for: it is logged (run.budgetsChanged) before the run goes on.
        const budgets = raisedBudgets(state.config.budgets, budgetPauseOf(state), { maxUsd: values['max-usd'], maxTokens: values['max-tokens'] });
        if (budgets) await engine.setBudgets(target, budgets);
        handle = await engine.resumeRun(target);
      } else {
        const [runId, taskId] = rest;
        if (!runId || !taskId) throw new UsageError(`Which task? software-maker ${command} <run-id> <task-id>.`);
        const action: TriageDecision = command === 'retry' ? { kind: 'retry', model: values.model?.[0] } : command === 'skip' ? { kind: 'skip' } : { kind: 'takeOver' };
        handle = await engine.triageTask(runId, taskId, action);
      }
      let interrupted = false;
      const onSigint = (): void => {
        if (interrupted) process.exit(130);
        interrupted = true;
        process.stderr.write('\nCancelling the run (Ctrl-C again to quit at once)…\n');
        void engine.cancelRun(handle.runId, 'cancelled from the terminal');
      };
      process.on('SIGINT', onSigint);
      // In a terminal, readline takes Ctrl-C from the keyboard itself.
      terminal?.on('SIGINT', onSigint);
      const stopSteering = terminal ? steerFromLines(terminal, engine, handle.runId, say) : undefined;
      if (terminal) say('Type a message and press Enter to steer the run ("@<task> message" for one task).');
      const final = await handle.finished;
      stopSteering?.();
      closeSharedTerminal();
      process.off('SIGINT', onSigint);
      // With --json, stdout carries only the events.
      const summary = values.json ? process.stderr : process.stdout;
      summary.write(`\nRun ${final.id}: ${final.status}${final.statusReason ? ` — ${final.statusReason}` : ''}\n`);
      if (final.status === 'paused') {
        const dead = final.taskOrder.filter((id) => final.tasks[id]!.status === 'dead_letter');
        for (const id of dead) {
          summary.write(
            `Task ${id} needs a decision: software-maker retry ${final.id} ${id} [--model ID] | skip ${final.id} ${id} | done ${final.id} ${id} (after fixing it by hand)\n`,
          );
        }
        const breach = dead.length ? undefined : budgetPauseOf(final);
        if (breach && !Number.isFinite(breach.estimate)) {
          summary.write(`The next call's model has no known price, so no USD cap admits it: add "prices" to the model in your config, then: ${resumeCommand(final.id)}\n`);
        } else if (breach) {
          const flag = breach.metric === 'usd' ? '--max-usd' : '--max-tokens';
          summary.write(`Raise the ${breach.scope === 'run' ? 'run' : `${breach.scope} ${breach.key}`} cap and continue with: ${resumeCommand(final.id, ` ${flag} ${suggestedCap(breach)}`)}\n`);
        } else if (!dead.length) summary.write(`Continue with: ${resumeCommand(final.id)}\n`);
      } else {
        summary.write(`Report: ${resolve(runsDir, final.id, 'report.md')}\n`);
      }
      return final.status === 'completed' ? 0 : 1;
    }
    case 'status': {
      const runId = rest[0];
      if (runId) {
        const state = await engine.getRun(runId);
        if (!state) throw new UnknownRunError(runId);
        process.stdout.write(values.json ? JSON.stringify(state, null, 2) + '\n' : formatRunDetail(state));
      } else {
        const runs = await engine.listRuns();
        process.stdout.write(values.json ? JSON.stringify(runs, null, 2) + '\n' : formatRunList(runs));
      }
      return 0;
    }
    case 'replay': {
      const [runId, stepId] = rest;
      if (!runId || !stepId) throw new UsageError('Which step? software-maker replay <run-id> <step-id> [--model ID] (step ids like t1:implement@v1 are in software-maker logs).');
      const result = await engine.replayStep(runId, stepId, { model: values.model?.[0] });
      process.stdout.write(`${stepId} replayed as ${result.replayId} with ${result.record.model}: ${result.ok ? 'ok' : 'failed'} — ${result.summary}\n`);
      process.stdout.write(`Record: ${resolve(runsDir, runId, result.artifact)}\n`);
      for (const edit of result.record.edits ?? []) process.stdout.write(`\nProposed (not applied):\n${edit.diff}\n`);
      if (result.record.diffFromOriginal) process.stdout.write(`\nOutput compared with ${stepId}:\n${result.record.diffFromOriginal}\n`);
      return result.ok ? 0 : 1;
    }
    case 'adopt': {
      const runId = rest[0];
      if (!runId) throw new UsageError('Which run? software-maker adopt <run-id> (see software-maker status).');
      const origin = await engine.describeRunOrigin(runId);
      if (origin.own) {
        process.stdout.write(`Run ${runId} is already this machine's (created or adopted here); nothing to adopt.\n`);
        return 0;
      }
      const uses = `Run ${runId} was not created on this machine. Driving it would use:\n${listed(origin.uses.length ? origin.uses : ['nothing that needs trust'])}`;
      if (!values.yes) {
        if (process.stdin.isTTY !== true) throw new UsageError(`${uses}\nThere is no terminal to ask whether you trust it. If you do, pass --yes: software-maker adopt ${runId} --workspace ${workspace} --yes`);
        if (!(await askYesNo('Adopt it, so resume, retry, skip, done, replay and budget changes drive it with exactly this?', uses))) {
          throw new UsageError(`Run ${runId} was not adopted; it stays read-only here.`);
        }
      } else process.stdout.write(`${uses}\n`);
      await engine.adoptRun(runId, origin.digest);
      process.stdout.write(`Adopted run ${runId}: it is driven here with the configuration above.\n`);
      return 0;
    }
    case 'checkpoints': {
      const checkpoints = await engine.listCheckpoints();
      if (values.json) process.stdout.write(JSON.stringify(checkpoints, null, 2) + '\n');
      else if (!checkpoints.length) process.stdout.write('No checkpoints yet: runs take one before each task\'s edits land.\n');
      else for (const checkpoint of [...checkpoints].reverse()) process.stdout.write(`${checkpoint.id}  ${checkpoint.createdAt}  ${checkpoint.runId}  ${checkpoint.label}\n`);
      return 0;
    }
    case 'rollback': {
      const checkpointId = rest[0];
      if (!checkpointId) throw new UsageError('Which checkpoint? software-maker rollback <checkpoint-id> (see software-maker checkpoints).');
      const report = await engine.rollback(checkpointId);
      process.stdout.write(`Restored ${report.restored.length} file(s) to "${report.checkpoint.label}"; removed ${report.deleted.length} file(s) created since${report.deleted.length ? `: ${report.deleted.join(', ')}` : ''}.\n`);
      process.stdout.write(`To undo this rollback: software-maker rollback ${report.safety.id}\n`);
      return 0;
    }
    case 'logs': {
      const runId = rest[0];
      if (!runId) throw new UsageError('Which run? software-maker logs <run-id> (see software-maker status).');
      const events = await engine.readEvents(runId);
      if (events.length === 0) throw new UnknownRunError(runId);
      for (const event of events) {
        const line = values.json ? JSON.stringify(event) : formatEvent(event, { verbose: true });
        if (line) process.stdout.write(line + '\n');
      }
      return 0;
    }
    case 'test':
      // Exit 0 when the tests pass, 1 when they fail; a usage error (nothing detected) exits 2.
      return runTestCommand({
        workspace,
        json: values.json ?? false,
        near: [...(values.near ?? []), ...rest],
        // Only a test command the workspace config names needs trust here (it is what would run).
        testCommand: values['test-command'] ?? configuredTestCommand(await trustedConfigFiles((files) => files.workspace?.config.testCommand !== undefined)),
      });
    default:
      throw new UsageError(`Unknown command "${command}". Commands: ${COMMANDS.join(', ')} (software-maker --help).`);
  }
}

redactWrites(process.stdout);
redactWrites(process.stderr);
exitQuietlyWhenReaderCloses(process.stdout);
exitQuietlyWhenReaderCloses(process.stderr);
/** testCommand of the config files (the user's, and the workspace's once trusted); "" means detect. */
function configuredTestCommand(files: CliConfigFiles): string | undefined {
  const value = files.workspace?.config.testCommand ?? files.user.testCommand;
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

main(process.argv.slice(2)).then(
  (code) => {
    closeSharedTerminal();
    process.exitCode = code;
  },
  (error: unknown) => {
    closeSharedTerminal();
    // A user's mistake or a refusal reads as its message; anything else is a bug, with a stack on request.
    const known = isUserError(error);
    const message = messageOf(error);
    process.stderr.write(`software-maker: ${message}\n`);
    if (!known && error instanceof Error && process.env.SOFTWARE_MAKER_DEBUG) process.stderr.write(`${error.stack}\n`);
    process.exitCode = error instanceof UsageError || error instanceof WorkspaceConfigNotTrustedError ? 2 : 1;
  },
);
