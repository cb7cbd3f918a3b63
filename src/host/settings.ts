// Reading the `softwareMaker.*` settings. Which settings there are, their types and how they map
// onto a run config is src/shared/settingsSchema.ts (package.json's schema is generated from it);
// resolveRunConfig (core/config) validates the mapped values before a run starts, so this module
// never decides whether a value is acceptable.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { describeIgnoredWorkspaceValue, tightenedBudgets, tightenedSecurity, tightenedTemplateBudgets, type IgnoredWorkspaceValue } from '../core';
import type { RunConfig } from '../shared/model';
import { budgetsFromSetting, readSettingValues, runConfigFromSettings, SETTINGS_SECTION } from '../shared/settingsSchema';

export { SETTINGS_SECTION };

/** What the host reads from the settings. */
export interface HostSettings {
  /** The run-config part: merged over DEFAULT_RUN_CONFIG by resolveRunConfig. */
  run: Partial<RunConfig>;
  /** `softwareMaker.runsDirectory`; undefined means `<workspace>/.software-maker/runs`. */
  runsDirectory?: string;
  /** `softwareMaker.templates`, unchecked (availableTemplates checks them when one is used). */
  templates?: unknown;
  /** `softwareMaker.template`: the template new goals start with; undefined: none. */
  template?: string;
  /** Workspace values left out because they would loosen the user's, as warnings (warnIgnoredWorkspaceSettings shows them). */
  ignored: string[];
}

/** What readSettings needs of a configuration: a vscode.WorkspaceConfiguration, or one scope of it. */
export interface SettingsReader {
  get<T>(key: string): T | undefined;
  /** Absent on a one-scope view: user-only settings then read as unset. */
  inspect?<T>(key: string): { globalValue?: T; workspaceValue?: T; workspaceFolderValue?: T } | undefined;
}

export function readSettings(configuration: SettingsReader = vscode.workspace.getConfiguration(SETTINGS_SECTION)): HostSettings {
  const values = readSettingValues((key, scope) =>
    // A user-only setting (application scope): a workspace cannot set it, so only the user's value counts.
    scope === 'application' ? configuration.inspect?.<unknown>(key)?.globalValue : configuration.get<unknown>(key),
  );
  // A deny list needs no trust, so the workspace's may only add to the user's, never replace it.
  const denyScopes = configuration.inspect?.<unknown>('commands.deny');
  if (denyScopes) {
    const deny = [denyScopes.globalValue, denyScopes.workspaceValue, denyScopes.workspaceFolderValue].flatMap((list) => (Array.isArray(list) ? list.filter((entry): entry is string => typeof entry === 'string') : []));
    if (deny.length) values['commands.deny'] = [...new Set(deny)];
  }
  const ignored: IgnoredWorkspaceValue[] = [];
  // The workspace may tighten the security gate, never loosen it: the user's value (or the default) is the floor.
  const securityKeys = ['security.gate', 'security.severity', 'security.audit'] as const;
  const securityScopes = securityKeys.map((key) => configuration.inspect?.<unknown>(key));
  if (securityScopes.every(Boolean)) {
    const scoped = (pick: (scope: { globalValue?: unknown; workspaceValue?: unknown; workspaceFolderValue?: unknown }) => unknown) =>
      runConfigFromSettings(Object.fromEntries(securityKeys.map((key, index) => [key, pick(securityScopes[index]!)]))).security;
    const tightened = tightenedSecurity(scoped((scope) => scope.globalValue), scoped((scope) => scope.workspaceFolderValue ?? scope.workspaceValue) ?? {}, ignored);
    for (const [index, key] of securityKeys.entries()) values[key] = tightened?.[(['gate', 'severity', 'audit'] as const)[index]!];
  }
  // Nor raise the user's caps. VS Code merges an object setting field by field (a folder's over the
  // workspace's over the user's), so the merged value holds the workspace's caps where it set any.
  const budgetScopes = configuration.inspect?.<unknown>('budgets');
  const userBudgets = budgetsFromSetting(budgetScopes?.globalValue);
  if (budgetScopes && (budgetScopes.workspaceValue !== undefined || budgetScopes.workspaceFolderValue !== undefined)) {
    values.budgets = tightenedBudgets(userBudgets, budgetsFromSetting(values.budgets), ignored);
  }
  // A workspace template never shadows the user's of the same name (VS Code merges objects workspace-first).
  const templateScopes = configuration.inspect?.<unknown>('templates');
  if (templateScopes && isRecord(values.templates)) {
    const own = isRecord(templateScopes.globalValue) ? templateScopes.globalValue : {};
    // A template's budgets replace the settings' whole, so a workspace template's only tighten the user's caps too.
    const theirs = Object.entries(values.templates).filter(([name]) => !Object.hasOwn(own, name));
    values.templates = { ...Object.fromEntries(theirs.map(([name, template]) => [name, tightenedTemplateBudgets(name, template, userBudgets, ignored)])), ...own };
  }
  const runsDirectory = typeof values.runsDirectory === 'string' ? values.runsDirectory.trim() : '';
  const template = typeof values.template === 'string' ? values.template.trim() : '';
  return {
    run: runConfigFromSettings(values),
    runsDirectory: runsDirectory ? runsDirectory : undefined,
    templates: values.templates,
    template: template || undefined,
    ignored: ignored.map((item) => describeIgnoredWorkspaceValue(item, `${SETTINGS_SECTION}.${item.setting}`)),
  };
}

const warned = new Set<string>();

/** Each ignored workspace value once per window (settings are read on every goal and settings change). */
export function warnIgnoredWorkspaceSettings(settings: Pick<HostSettings, 'ignored'>, show: (message: string) => void = (message) => void vscode.window.showWarningMessage(`Software Maker: ${message}`)): void {
  for (const message of settings.ignored) {
    if (warned.has(message)) continue;
    warned.add(message);
    show(message);
  }
}

/**
 * The settings as only the workspace sets them (.vscode/settings.json, a .code-workspace file, a
 * folder's settings), without the user's: what came with the repository. A folder value wins over
 * the workspace's, as in VS Code.
 */
export function workspaceScopedSettings(configuration: vscode.WorkspaceConfiguration = vscode.workspace.getConfiguration(SETTINGS_SECTION)): HostSettings {
  return readSettings({
    get: <T>(key: string): T | undefined => {
      const scopes = configuration.inspect<T>(key);
      return scopes?.workspaceFolderValue ?? scopes?.workspaceValue;
    },
  });
}

/** The runs folder: the setting (relative paths are relative to the workspace) or the given default. */
export function resolveRunsDirectory(settings: HostSettings, workspaceRoot: string, fallback: string): string {
  return settings.runsDirectory ? path.resolve(workspaceRoot, settings.runsDirectory) : fallback;
}

/** The model ids that name a secret, for the "Set API Key" picker. */
export function apiKeyNames(settings: HostSettings): string[] {
  const names = new Set<string>();
  // Read as unknown: the settings are not validated yet, so any entry may be malformed.
  const models: readonly unknown[] = settings.run.models ?? [];
  for (const model of models) {
    if (isRecord(model) && typeof model.apiKeyName === 'string' && model.apiKeyName) names.add(model.apiKeyName);
  }
  return [...names].sort();
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
