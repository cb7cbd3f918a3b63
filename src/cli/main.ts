// software-maker: the engine headless, for terminals and CI.
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../core/config';
import { CheckpointError } from '../core/checkpoints/shadowGit';
import { Engine, RollbackRefusedError, UnknownRunError } from '../core/engine';
import { ReplayError } from '../core/run/replay';
import { TriageError, type TriageAction } from '../core/run/triage';
import { ModelConfigError } from '../core/models/registry';
import { TranscriptError } from '../core/models/scripted';
import { defaultRunsDir } from '../core/runsDir';
import { formatEvent, formatRunDetail, formatRunList } from './format';
import { buildCliConfig, cliStorageDir, UsageError } from './options';
import { runTestCommand } from './testCommand';
import { createCliPorts } from './ports';

const HELP = `software-maker — an agent team for your workspace, headless.

Usage:
  software-maker run "<goal>" --workspace DIR [--model SPEC] [--yes] [options]
  software-maker resume <run-id> --workspace DIR [--yes]
  software-maker retry <run-id> <task-id> [--model ID] --workspace DIR [--yes]   retry a dead-lettered task
  software-maker skip <run-id> <task-id> --workspace DIR [--yes]                 skip it (and what depends on it)
  software-maker done <run-id> <task-id> --workspace DIR [--yes]                 mark it done after fixing it by hand
  software-maker replay <run-id> <step-id> [--model ID] --workspace DIR          run one step again from its record
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
  --config FILE         JSON with models, roles and run settings (default: DIR/.software-maker/config.json)
  --yes                 apply every proposed edit without asking
  --concurrency N       tasks at once (default 3)
  --max-fix-attempts N  fix attempts per task before dead-letter (default 2)
  --test-command CMD    how to run the tests (default: detected; "none" runs without a test gate)
  --no-review-gate      skip the reviewer after tests pass
  --api-key-env NAME    environment variable with the API key of an openai-compatible model
  --runs-dir DIR        where runs are stored (default: DIR/.software-maker/runs)
  --max-usd N           hard cap in USD for the whole run (checked before every model call)
  --max-tokens N        hard cap in tokens for the whole run
  --on-budget pause|stop   what a breached cap does (default pause: raise it and resume)
  --git-mode            work on a branch of its own and commit per task (asks before leaving a dirty tree)
  --no-checkpoints      take no checkpoints (by default one before each task's edits land)
  --json                machine-readable output (status, logs, test)
  --near PATH           test: run the tests of the package nearest to PATH (repeatable; monorepos)
`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      workspace: { type: 'string', short: 'w' },
      model: { type: 'string', short: 'm', multiple: true },
      config: { type: 'string' },
      yes: { type: 'boolean', short: 'y' },
      concurrency: { type: 'string' },
      'max-fix-attempts': { type: 'string' },
      'test-command': { type: 'string' },
      'no-review-gate': { type: 'boolean' },
      'api-key-env': { type: 'string' },
      'runs-dir': { type: 'string' },
      json: { type: 'boolean' },
      near: { type: 'string', multiple: true },
      'max-usd': { type: 'string' },
      'max-tokens': { type: 'string' },
      'on-budget': { type: 'string' },
      'git-mode': { type: 'boolean' },
      'no-checkpoints': { type: 'boolean' },
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
  const ports = await createCliPorts(workspace, { interactive });
  const engine = new Engine({ ports, runsDir, storageDir: cliStorageDir(workspace), warn: (message) => process.stderr.write(`warning: ${message}\n`) });

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
        const line = formatEvent(event);
        if (line) process.stdout.write(line + '\n');
      });
      let handle;
      if (command === 'run') {
        const config = await buildCliConfig(workspace, {
          models: values.model ?? [],
          configFile: values.config,
          yes: values.yes ?? false,
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
        });
        handle = await engine.startRun(target, config);
      } else if (command === 'resume') {
        handle = await engine.resumeRun(target);
      } else {
        const [runId, taskId] = rest;
        if (!runId || !taskId) throw new UsageError(`Which task? software-maker ${command} <run-id> <task-id>.`);
        const action: TriageAction = command === 'retry' ? { kind: 'retry', model: values.model?.[0] } : command === 'skip' ? { kind: 'skip' } : { kind: 'takeOver' };
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
      const final = await handle.finished;
      process.off('SIGINT', onSigint);
      process.stdout.write(`\nRun ${final.id}: ${final.status}${final.statusReason ? ` — ${final.statusReason}` : ''}\n`);
      if (final.status === 'paused') {
        const dead = final.taskOrder.filter((id) => final.tasks[id]!.status === 'dead_letter');
        for (const id of dead) {
          process.stdout.write(
            `Task ${id} needs a decision: software-maker retry ${final.id} ${id} [--model ID] | skip ${final.id} ${id} | done ${final.id} ${id} (after fixing it by hand)\n`,
          );
        }
        if (!dead.length) process.stdout.write(`Continue with: software-maker resume ${final.id}\n`);
      } else {
        process.stdout.write(`Report: ${resolve(runsDir, final.id, 'report.md')}\n`);
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
      return runTestCommand({ workspace, json: values.json ?? false, near: [...(values.near ?? []), ...rest], testCommand: values['test-command'] });
    default:
      throw new UsageError(`Unknown command "${command}". Commands: run, resume, status, logs, test (software-maker --help).`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const known = error instanceof UsageError || error instanceof ConfigError || error instanceof UnknownRunError || error instanceof TranscriptError || error instanceof ModelConfigError || error instanceof TriageError || error instanceof ReplayError || error instanceof RollbackRefusedError || error instanceof CheckpointError;
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`software-maker: ${message}\n`);
    if (!known && error instanceof Error && process.env.SOFTWARE_MAKER_DEBUG) process.stderr.write(`${error.stack}\n`);
    process.exitCode = error instanceof UsageError ? 2 : 1;
  },
);
