// Typed reading of the `softwareMaker.*` settings. The settings UI validates them against the JSON
// schema in package.json; resolveRunConfig (core/config) validates them again before a run starts,
// so this module only maps names and units and never decides whether a value is acceptable.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ModelSpec, RoleModels, RunConfig } from '../shared/model';
import { budgetsFromSetting, timeoutsFromSetting } from './models/runLimits';

/** The settings section; every key below is `softwareMaker.<key>`. */
export const SETTINGS_SECTION = 'softwareMaker';

/** What the host reads from the settings. */
export interface HostSettings {
  /** The run-config part: merged over DEFAULT_RUN_CONFIG by resolveRunConfig. */
  run: Partial<RunConfig>;
  /** `softwareMaker.runsDirectory`; undefined means `<workspace>/.software-maker/runs`. */
  runsDirectory?: string;
}

/** What readSettings needs of a configuration: a vscode.WorkspaceConfiguration, or one scope of it. */
export interface SettingsReader {
  get<T>(key: string): T | undefined;
  /** Absent on a one-scope view: user-only settings then read as unset. */
  inspect?<T>(key: string): { globalValue?: T } | undefined;
}

export function readSettings(configuration: SettingsReader = vscode.workspace.getConfiguration(SETTINGS_SECTION)): HostSettings {
  const testCommand = stringSetting(configuration, 'testCommand');
  const testTask = stringSetting(configuration, 'testTask')?.trim();
  const testTimeoutSeconds = numberSetting(configuration, 'testTimeoutSeconds');
  const run: Partial<RunConfig> = {
    // Cast only: resolveRunConfig checks every field with zod and names the one that is wrong.
    models: arraySetting(configuration, 'models') as ModelSpec[] | undefined,
    roles: objectSetting(configuration, 'roles') as RoleModels | undefined,
    concurrency: numberSetting(configuration, 'concurrency'),
    maxFixAttempts: numberSetting(configuration, 'maxFixAttempts'),
    autoApprove: booleanSetting(configuration, 'autoApprove'),
    requirePlanApproval: booleanSetting(configuration, 'requirePlanApproval'),
    // "" is the documented "detect the test command" value.
    testCommand: testCommand?.trim() ? testCommand.trim() : undefined,
    // A tasks.json label (softwareMaker.testTask); "" means none.
    testTaskLabel: testTask ? testTask : undefined,
    testTimeoutMs: testTimeoutSeconds === undefined ? undefined : Math.round(testTimeoutSeconds * 1000),
    reviewGate: booleanSetting(configuration, 'reviewGate'),
    // Which proposals skip the review (roles and/or workspace globs); the engine applies them. Cast only, as above.
    autoApproveRules: autoApproveRulesSetting(configuration),
    // Only from user settings (application scope in package.json): a repository cannot switch it on.
    autoApproveCommandChanges: applicationBoolean(configuration, 'autoApproveCommandChanges'),
    checkpoints: booleanSetting(configuration, 'checkpoints'),
    gitMode: booleanSetting(configuration, 'gitMode'),
    // Caps, per-call timeouts (seconds in settings, ms in the config) and the loop detector.
    budgets: budgetsFromSetting(configuration.get<unknown>('budgets')),
    timeouts: timeoutsFromSetting(configuration.get<unknown>('timeouts')),
    loopThreshold: numberSetting(configuration, 'loopThreshold'),
  };
  const runsDirectory = stringSetting(configuration, 'runsDirectory')?.trim();
  return { run, runsDirectory: runsDirectory ? runsDirectory : undefined };
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

function stringSetting(configuration: SettingsReader, key: string): string | undefined {
  const value = configuration.get<unknown>(key);
  return typeof value === 'string' ? value : undefined;
}

function numberSetting(configuration: SettingsReader, key: string): number | undefined {
  const value = configuration.get<unknown>(key);
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function booleanSetting(configuration: SettingsReader, key: string): boolean | undefined {
  const value = configuration.get<unknown>(key);
  return typeof value === 'boolean' ? value : undefined;
}

/** A setting a workspace must not decide: only the user's (global) value counts. */
function applicationBoolean(configuration: SettingsReader, key: string): boolean | undefined {
  const value = configuration.inspect?.<unknown>(key)?.globalValue;
  return typeof value === 'boolean' ? value : undefined;
}

function arraySetting(configuration: SettingsReader, key: string): unknown[] | undefined {
  const value = configuration.get<unknown>(key);
  return Array.isArray(value) ? value : undefined;
}

function objectSetting(configuration: SettingsReader, key: string): Record<string, unknown> | undefined {
  const value = configuration.get<unknown>(key);
  return isRecord(value) ? value : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `softwareMaker.autoApproveRules`: undefined (no rules) when unset or when it names no role and no glob. */
function autoApproveRulesSetting(configuration: SettingsReader): RunConfig['autoApproveRules'] {
  const value = objectSetting(configuration, 'autoApproveRules');
  if (!value) return undefined;
  const roles = Array.isArray(value.roles) && value.roles.length > 0 ? value.roles : undefined;
  const globs = Array.isArray(value.globs) && value.globs.length > 0 ? value.globs : undefined;
  if (!roles && !globs) return undefined;
  // Other keys are passed on so resolveRunConfig (strict) names them instead of ignoring a typo.
  return { ...value, roles, globs } as RunConfig['autoApproveRules'];
}
