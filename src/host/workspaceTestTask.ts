// The tasks.json label override (softwareMaker.testTask): the workspace's own task, found with
// vscode.tasks.fetchTasks(), turned back into the command line it runs. Software Maker runs that
// command line in its own pseudoterminal task, because a task VS Code runs itself gives its exit code
// (onDidEndTaskProcess) but never its output, and the output is what the gate parses.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { childEnvironment } from '../core';

/** A workspace task that cannot be run for the test gate; the message says what to change. */
export class TestTaskError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TestTaskError';
  }
}

/** What the pseudoterminal runs in place of the task. */
export interface ResolvedTestTask {
  /** The task's label. */
  label: string;
  /** One shell command line (a process task's arguments are quoted for the shell). */
  commandLine: string;
  cwd: string;
  /** The task's own environment additions. */
  env?: Record<string, string>;
  kind: 'shell' | 'process';
}

const IS_WINDOWS = process.platform === 'win32';

/** Quotes one argument for the shell the pseudoterminal uses (sh on POSIX, cmd on Windows). */
export function quoteArg(value: string, quoting?: vscode.ShellQuoting): string {
  if (quoting === vscode.ShellQuoting.Escape) return value.replace(/([\s"'\\$`])/g, '\\$1');
  if (quoting === vscode.ShellQuoting.Weak) return `"${value.replace(/(["\\$`])/g, '\\$1')}"`;
  if (quoting === undefined && /^[\w@%+=:,./-]+$/.test(value)) return value;
  if (IS_WINDOWS) return `"${value.replace(/"/g, '""')}"`;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

function part(value: string | vscode.ShellQuotedString): string {
  return typeof value === 'string' ? quoteArg(value) : quoteArg(value.value, value.quoting);
}

/**
 * Replaces the variables a tasks.json command commonly uses. Anything else (`${input:…}`,
 * `${command:…}`, `${file}`) needs the editor's variable resolver, which extensions cannot call.
 */
export function resolveVariables(text: string, folder: string, label: string): string {
  const resolved = text.replace(/\$\{([^}]+)\}/g, (match, name: string) => {
    if (name === 'workspaceFolder' || name === 'workspaceRoot') return folder;
    if (name === 'workspaceFolderBasename') return path.basename(folder);
    if (name === 'pathSeparator' || name === '/') return path.sep;
    if (name === 'cwd') return folder;
    // A provider key resolves to nothing: the task's command line and env must not carry it in.
    if (name.startsWith('env:')) return childEnvironment()[name.slice(4)] ?? '';
    if (name.startsWith('workspaceFolder:')) {
      const named = vscode.workspace.workspaceFolders?.find((candidate) => candidate.name === name.slice('workspaceFolder:'.length));
      if (named) return named.uri.fsPath;
    }
    return match;
  });
  const left = /\$\{[^}]+\}/.exec(resolved);
  if (left) {
    throw new TestTaskError(
      `The task "${label}" uses ${left[0]}, which Software Maker cannot resolve outside the editor's own task runner. ` +
        'Write the value out in tasks.json, or set softwareMaker.testCommand instead of softwareMaker.testTask.',
    );
  }
  return resolved;
}

function folderOf(task: vscode.Task, fallback: string): string {
  const scope = task.scope;
  if (scope && typeof scope === 'object' && 'uri' in scope) return scope.uri.fsPath;
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? fallback;
}

function resolveEnv(env: Record<string, string> | undefined, folder: string, label: string): Record<string, string> | undefined {
  if (!env) return undefined;
  return Object.fromEntries(Object.entries(env).map(([key, value]) => [key, resolveVariables(value, folder, label)]));
}

/** Turns a fetched task into the command line it would run. Throws TestTaskError when it cannot. */
export function commandOfTask(task: vscode.Task, fallbackCwd: string): ResolvedTestTask {
  const label = task.name;
  const folder = folderOf(task, fallbackCwd);
  const execution = task.execution;
  if (execution instanceof vscode.ShellExecution) {
    const raw = execution.commandLine ?? [execution.command, ...(execution.args ?? [])].filter((p) => p !== undefined).map(part).join(' ');
    if (!raw.trim()) throw new TestTaskError(`The task "${label}" has no command. Give it one in tasks.json.`);
    const options = execution.options;
    return {
      label,
      kind: 'shell',
      commandLine: resolveVariables(raw, folder, label),
      cwd: path.resolve(folder, resolveVariables(options?.cwd ?? folder, folder, label)),
      env: resolveEnv(options?.env, folder, label),
    };
  }
  if (execution instanceof vscode.ProcessExecution) {
    const commandLine = [execution.process, ...execution.args].map((arg) => quoteArg(resolveVariables(arg, folder, label))).join(' ');
    const options = execution.options;
    return {
      label,
      kind: 'process',
      commandLine,
      cwd: path.resolve(folder, resolveVariables(options?.cwd ?? folder, folder, label)),
      env: resolveEnv(options?.env, folder, label),
    };
  }
  if (execution instanceof vscode.CustomExecution) {
    throw new TestTaskError(
      `The task "${label}" (from ${task.source}) is a custom-execution task: an extension runs it with its own code, so Software Maker cannot capture its output and exit code for the test gate. ` +
        'Point softwareMaker.testTask at a "shell" or "process" task in tasks.json, or set softwareMaker.testCommand instead.',
    );
  }
  throw new TestTaskError(`The task "${label}" (from ${task.source}) has no command VS Code could resolve. Point softwareMaker.testTask at a "shell" or "process" task in tasks.json.`);
}

/**
 * Finds the task labelled `label` (tasks.json tasks first, then those of task providers) and resolves
 * its command line. Throws TestTaskError naming the labels that exist when there is no such task.
 */
export async function resolveTestTask(label: string, fallbackCwd: string): Promise<ResolvedTestTask> {
  const tasks = await vscode.tasks.fetchTasks();
  const named = tasks.filter((task) => task.name === label);
  // tasks.json tasks have source "Workspace"; a provider's task of the same name comes second.
  const task = named.find((candidate) => candidate.source === 'Workspace') ?? named[0];
  if (!task) {
    const labels = [...new Set(tasks.map((candidate) => candidate.name))].slice(0, 20);
    throw new TestTaskError(
      `No task labelled "${label}" was found (softwareMaker.testTask). ${labels.length ? `Tasks in this workspace: ${labels.map((name) => `"${name}"`).join(', ')}.` : 'This workspace has no tasks.'} ` +
        'Fix the label, or clear the setting to use softwareMaker.testCommand or detection.',
    );
  }
  return commandOfTask(task, fallbackCwd);
}
