// The model layer's commands and notifications in VS Code:
// - "Configure Models": add a model (provider or preset, model name, base URL, key name, price) and
//   assign role chains, written to the softwareMaker.models / .roles settings;
// - "Test Model Connection": one tiny call through the runs' own createLanguageModel path;
// - "Raise Budget and Resume", and the "Budget reached" notification of a budget-paused run;
// - fallbacks, breaker changes, budget breaches and calls in the output channel.
// API keys only ever go to SecretStorage (secrets.ts); nothing here writes one to settings or output.
import * as vscode from 'vscode';
import { formatUsd, modelSpecSchema, PRESET_DEFAULTS, priceFor, type EngineApi, type ProviderContext } from '../../core';
import { ROLES, type BudgetBreach, type Budgets, type ModelSpec, type OpenAICompatiblePreset, type Role, type RoleModels } from '../../shared/model';
import { truncate } from '../runsTree';
import { createSecretLookup, promptAndStoreKey } from '../secrets';
import { SETTINGS_SECTION } from '../settings';
import { budgetPauseMessage, checkCapInput, parseCap } from './budgetPause';
import { budgetPauseOf, capOfBreach, capValue, isUnpricedBreach, suggestedCap, withCap, withoutCap, type CapChoice } from '../../shared/budgets';
import { apiKeyNameOf, endpointOf, testConnection, type ConnectionResult } from './connectionTest';
import { logModelEvent } from './modelLog';
import { COMMANDS } from '../commands';
import { WorkspaceNotTrustedError } from '../trustGate';
import type { NoticeBoard } from '../notices';

/** The id of the banner that asks for a model's missing key; it goes once the key is stored. */
export function apiKeyNoticeId(keyName: string): string {
  return `api-key:${keyName}`;
}
import { amountText, messageOf } from '../../shared/wording';

export interface ModelFeaturesOptions {
  context: vscode.ExtensionContext;
  engine: EngineApi;
  output: vscode.LogOutputChannel;
  workspaceRoot: string;
  hostModels: ProviderContext['hostModels'];
  /** Resumes a run and follows it (the host's resume, which calls engine.resumeRun). */
  resume(runId: string): Promise<void>;
  /**
   * Resolves when the workspace-scoped settings (which came with the repository) name nothing
   * untrusted or the user trusted them; throws otherwise. A connection test sends a key too.
   */
  confirmWorkspaceSettings(): Promise<void>;
  /** Keeps "Set API Key" reachable (a chat-view banner) after the notification is gone. */
  notices?: NoticeBoard;
}

const TITLE = 'Software Maker: Configure Models';

interface ProviderChoice extends vscode.QuickPickItem {
  provider: 'openai' | 'anthropic' | 'openai-compatible' | 'vscode-lm';
  preset?: OpenAICompatiblePreset;
  /** Example model name for the input box. */
  example?: string;
}

const PROVIDER_CHOICES: ProviderChoice[] = [
  { label: 'OpenAI', detail: 'api.openai.com, needs an API key', provider: 'openai', example: 'gpt-5.4-mini' },
  { label: 'Anthropic', detail: 'api.anthropic.com, needs an API key', provider: 'anthropic', example: 'claude-sonnet-4-5' },
  { label: 'Ollama', description: 'local', detail: `${PRESET_DEFAULTS.ollama.baseURL}, no key, free`, provider: 'openai-compatible', preset: 'ollama', example: 'qwen2.5-coder:14b' },
  { label: 'LM Studio', description: 'local', detail: `${PRESET_DEFAULTS.lmstudio.baseURL}, no key, free`, provider: 'openai-compatible', preset: 'lmstudio', example: 'qwen2.5-coder-14b-instruct' },
  { label: 'vLLM', description: 'local', detail: `${PRESET_DEFAULTS.vllm.baseURL}, no key, free`, provider: 'openai-compatible', preset: 'vllm', example: 'Qwen/Qwen2.5-Coder-14B-Instruct' },
  { label: 'llama.cpp server', description: 'local', detail: `${PRESET_DEFAULTS.llamacpp.baseURL}, no key, free`, provider: 'openai-compatible', preset: 'llamacpp', example: 'default' },
  { label: 'DeepSeek', detail: `${PRESET_DEFAULTS.deepseek.baseURL}, key ${PRESET_DEFAULTS.deepseek.apiKeyName}`, provider: 'openai-compatible', preset: 'deepseek', example: 'deepseek-chat' },
  { label: 'Groq', detail: `${PRESET_DEFAULTS.groq.baseURL}, key ${PRESET_DEFAULTS.groq.apiKeyName}`, provider: 'openai-compatible', preset: 'groq', example: 'openai/gpt-oss-120b' },
  { label: 'OpenRouter', detail: `${PRESET_DEFAULTS.openrouter.baseURL}, key ${PRESET_DEFAULTS.openrouter.apiKeyName}`, provider: 'openai-compatible', preset: 'openrouter', example: 'anthropic/claude-sonnet-4.5' },
  { label: 'Other OpenAI-compatible endpoint', detail: 'any server that speaks /v1/chat/completions; you give the base URL', provider: 'openai-compatible', example: 'my-model' },
  { label: 'VS Code chat model', detail: 'GitHub Copilot or another chat model VS Code already has; VS Code asks you once to allow it', provider: 'vscode-lm' },
];

/** Which settings file a write goes to: where the user keeps `softwareMaker.models` already, else the user settings. */
function configTarget(key: string): vscode.ConfigurationTarget {
  const inspected = vscode.workspace.getConfiguration(SETTINGS_SECTION).inspect(key);
  if (inspected?.workspaceFolderValue !== undefined) return vscode.ConfigurationTarget.WorkspaceFolder;
  if (inspected?.workspaceValue !== undefined) return vscode.ConfigurationTarget.Workspace;
  return vscode.ConfigurationTarget.Global;
}

/** The configured model entries as written (not validated: any may be malformed). */
export function rawModels(): unknown[] {
  const value = vscode.workspace.getConfiguration(SETTINGS_SECTION).get<unknown>('models');
  return Array.isArray(value) ? value : [];
}

function rawRoles(): RoleModels {
  const value = vscode.workspace.getConfiguration(SETTINGS_SECTION).get<unknown>('roles');
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as RoleModels) : {};
}

/** Appends a model spec to `softwareMaker.models` (a spec has a key NAME at most, never a key). */
export async function addModelSetting(spec: ModelSpec): Promise<vscode.ConfigurationTarget> {
  const checked = modelSpecSchema.safeParse(spec);
  if (!checked.success) throw new Error(`The new model is not valid: ${checked.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
  const target = configTarget('models');
  const models = rawModels().filter((model) => !(typeof model === 'object' && model !== null && (model as { id?: unknown }).id === spec.id));
  await vscode.workspace.getConfiguration(SETTINGS_SECTION).update('models', [...models, spec], target);
  return target;
}

/** Sets the chains of some roles in `softwareMaker.roles`, keeping the others. */
export async function setRoleChains(chains: RoleModels): Promise<void> {
  const target = configTarget('roles');
  await vscode.workspace.getConfiguration(SETTINGS_SECTION).update('roles', { ...rawRoles(), ...chains }, target);
}

function targetName(target: vscode.ConfigurationTarget): string {
  return target === vscode.ConfigurationTarget.Global ? 'user settings' : target === vscode.ConfigurationTarget.Workspace ? 'workspace settings' : 'folder settings';
}

function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9.-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'model';
}

export class ModelFeatures {
  private readonly secret: (name: string) => Promise<string | undefined>;

  constructor(private readonly options: ModelFeaturesOptions) {
    this.secret = createSecretLookup(options.context.secrets);
  }

  /** Registers the commands and the output logging; the caller disposes what it returns. */
  register(): vscode.Disposable[] {
    const { engine, output } = this.options;
    return [
      vscode.commands.registerCommand(COMMANDS.configureModels.id, () => this.configureModels()),
      vscode.commands.registerCommand(COMMANDS.testModelConnection.id, (id?: unknown) => this.testModelConnection(typeof id === 'string' ? id : undefined)),
      vscode.commands.registerCommand(COMMANDS.raiseBudget.id, (arg?: unknown) => this.raiseBudget(runIdOf(arg))),
      { dispose: engine.onEvent((runId, event) => logModelEvent(output, runId, event)) },
    ];
  }

  // ---- budgets ------------------------------------------------------------------------------

  /**
   * For a run that just paused: when the budget paused it, shows "Budget reached: … Raise Budget… /
   * Stop" and returns true (the caller shows nothing else); false for any other pause.
   */
  async onRunPaused(runId: string): Promise<boolean> {
    let breach: BudgetBreach | undefined;
    try {
      const state = await this.options.engine.getRun(runId);
      if (state) breach = budgetPauseOf(state);
    } catch {
      return false;
    }
    if (!breach) return false;
    const go = isUnpricedBreach(breach) ? 'Remove USD Cap and Resume' : 'Raise Budget…';
    const choice = await vscode.window.showWarningMessage(`Software Maker: ${budgetPauseMessage(breach)}`, go, 'Stop');
    if (choice === go) await this.raise(runId, breach);
    else if (choice === 'Stop') await this.stopPausedRun(runId);
    return true;
  }

  private async raiseBudget(runId?: string): Promise<void> {
    const { engine } = this.options;
    const chosen = runId ?? (await this.pickPausedRun());
    if (!chosen) return;
    const state = await engine.getRun(chosen);
    if (!state) {
      void vscode.window.showErrorMessage(`Software Maker: there is no run "${chosen}". Refresh the Runs view.`);
      return;
    }
    if (state.status !== 'paused') {
      void vscode.window.showInformationMessage(
        `Software Maker: the run is ${state.status}, not paused, so there is no budget to raise for it. Caps of new runs are in the softwareMaker.budgets setting.`,
      );
      return;
    }
    await this.raise(chosen, budgetPauseOf(state));
  }

  private async pickPausedRun(): Promise<string | undefined> {
    const driven = new Set(this.options.engine.activeRunIds());
    const runs = (await this.options.engine.listRuns()).filter((run) => run.status === 'paused' && !driven.has(run.id));
    if (runs.length === 0) {
      void vscode.window.showInformationMessage('Software Maker: no run is paused, so there is no budget to raise. Caps of new runs are in the softwareMaker.budgets setting.');
      return undefined;
    }
    const picked = await vscode.window.showQuickPick(
      runs.map((run) => ({ label: truncate(run.goal.replace(/\s+/g, ' '), 80), description: run.statusReason ? truncate(run.statusReason, 80) : 'paused', detail: run.id, runId: run.id })),
      { title: 'Software Maker: Raise Budget and Resume', placeHolder: 'Which paused run?' },
    );
    return picked?.runId;
  }

  /** Asks for the new cap (the breached one, or one the user picks), sets it and resumes the run. */
  private async raise(runId: string, breach: BudgetBreach | undefined): Promise<void> {
    const state = await this.options.engine.getRun(runId);
    if (!state) return;
    const budgets: Budgets = state.config.budgets;
    const choice: CapChoice | undefined = breach ? capOfBreach(breach) : await pickCap(budgets);
    if (!choice) return;
    if (breach && isUnpricedBreach(breach)) {
      // No USD cap can admit a call of unknown cost: the only way on is without that cap.
      const confirm = await vscode.window.showWarningMessage(
        `Software Maker: ${budgetPauseMessage(breach)}`,
        { modal: true, detail: 'Removing the USD cap lets the run spend without a USD limit on this model; token caps still apply.' },
        'Remove USD Cap and Resume',
      );
      if (!confirm) return;
      await this.applyBudgets(runId, withoutCap(budgets, choice), `USD cap removed (the model has no price)`);
      return;
    }
    const current = capValue(budgets, choice);
    const scope = choice.scope === 'run' ? 'the run' : choice.scope === 'task' ? 'each task' : `the ${choice.role} role`;
    const unit = choice.metric === 'usd' ? 'USD' : 'tokens';
    const typed = await vscode.window.showInputBox({
      title: `Software Maker: new ${unit} cap for ${scope}`,
      prompt: breach
        ? `The cap is ${amountText(breach.metric, breach.limit)}; ${amountText(breach.metric, breach.used)} is used and the next call may need up to ${amountText(breach.metric, breach.estimate)}. The run resumes with the new cap.`
        : `${current !== undefined ? `The cap is ${amountText(choice.metric, current)}.` : 'There is no cap of this kind yet.'} The run resumes with the new cap.`,
      value: String(breach ? suggestedCap(breach) : (current ?? '')),
      ignoreFocusOut: true,
      validateInput: (text) => checkCapInput(text, choice.metric, breach),
    });
    if (typed === undefined) return;
    await this.applyBudgets(runId, withCap(budgets, choice, parseCap(typed)), `${unit} cap for ${scope} set to ${amountText(choice.metric, parseCap(typed))}`);
  }

  private async applyBudgets(runId: string, budgets: Budgets, what: string): Promise<void> {
    try {
      await this.options.engine.setBudgets(runId, budgets);
    } catch (error) {
      void vscode.window.showErrorMessage(`Software Maker could not change the budget of run ${runId}: ${messageOf(error)}`);
      return;
    }
    this.options.output.info(`[${runId}] ${what}; resuming.`);
    await this.options.resume(runId);
  }

  /** A paused run has no driver: it is resumed and cancelled at once, so its log records the stop. */
  private async stopPausedRun(runId: string): Promise<void> {
    const { engine } = this.options;
    try {
      await engine.resumeRun(runId);
      await engine.cancelRun(runId, 'Stopped by the user when its budget was reached.');
      void vscode.window.showInformationMessage('Software Maker: the run is stopped. Its edits so far stay in place; the report is in the run folder.');
    } catch (error) {
      void vscode.window.showErrorMessage(`Software Maker could not stop run ${runId}: ${messageOf(error)}`);
    }
  }

  // ---- configure models ---------------------------------------------------------------------

  private async configureModels(): Promise<void> {
    const count = rawModels().length;
    type Action = vscode.QuickPickItem & { action: 'add' | 'roles' | 'test' | 'key' | 'settings' };
    const items: Action[] = [
      { label: '$(add) Add a model…', detail: 'OpenAI, Anthropic, Ollama and other OpenAI-compatible servers, or a VS Code chat model such as Copilot', action: 'add' },
      { label: '$(list-ordered) Assign models to roles…', detail: 'Which model each role uses first, and its fallbacks', action: 'roles' },
      { label: '$(plug) Test a model connection…', detail: 'One small call to a configured model', action: 'test' },
      { label: '$(key) Set an API key…', detail: 'Stored in the OS keychain (SecretStorage), never in settings', action: 'key' },
      { label: '$(settings) Open the model settings', detail: 'softwareMaker.models, .roles, .budgets and .timeouts', action: 'settings' },
    ];
    const picked = await vscode.window.showQuickPick(items, { title: TITLE, placeHolder: count === 0 ? 'No model is configured yet: add one' : `${count} model${count === 1 ? '' : 's'} configured` });
    switch (picked?.action) {
      case 'add':
        return this.addModel();
      case 'roles':
        return this.assignRoles();
      case 'test':
        return this.testModelConnection();
      case 'key':
        await vscode.commands.executeCommand(COMMANDS.setApiKey.id);
        return;
      case 'settings':
        await vscode.commands.executeCommand('workbench.action.openSettings', `${SETTINGS_SECTION}.models`);
        return;
      default:
        return;
    }
  }

  private async addModel(): Promise<void> {
    const choice = await vscode.window.showQuickPick(PROVIDER_CHOICES, { title: `${TITLE}: provider`, placeHolder: 'Where does the model run?', matchOnDetail: true });
    if (!choice) return;
    const spec = choice.provider === 'vscode-lm' ? await this.vscodeLmSpec() : await askEndpointSpec(choice);
    if (!spec) return;
    const id = await askModelId(spec);
    if (!id) return;
    spec.id = id;
    let target: vscode.ConfigurationTarget;
    try {
      target = await addModelSetting(spec);
    } catch (error) {
      void vscode.window.showErrorMessage(`Software Maker could not save the model: ${messageOf(error)}`);
      return;
    }
    const keyName = apiKeyNameOf(spec);
    const keyMissing = keyName ? !(await this.secret(keyName)) : false;
    const actions = [...(keyMissing ? ['Set API Key'] : []), 'Test Connection', 'Assign to Roles'];
    const first = rawModels().length === 1;
    const message =
      `Software Maker: model "${id}" is saved in your ${targetName(target)}.` +
      (keyMissing ? ` It needs the API key "${keyName}", which is not stored yet: set it before a run.` : '') +
      (first ? ' It is the only model, so every role uses it.' : ' Assign it to roles to use it.');
    if (keyMissing && keyName) {
      this.options.notices?.set({
        id: apiKeyNoticeId(keyName),
        tone: 'warning',
        message: `Model "${id}" needs the API key "${keyName}", which is not stored yet.`,
        actions: [
          {
            label: 'Set API Key',
            run: async () => {
              if (!(await promptAndStoreKey(this.options.context.secrets, keyName))) return false;
              // Not awaited: a failed test waits on its own notification's answer, and the banner goes once the key is stored.
              void this.testModelConnection(id);
              return true;
            },
          },
        ],
      });
    }
    const next = await vscode.window.showInformationMessage(message, ...actions);
    if (next === 'Set API Key' && keyName) {
      if (await promptAndStoreKey(this.options.context.secrets, keyName)) await this.testModelConnection(id);
    } else if (next === 'Test Connection') await this.testModelConnection(id);
    else if (next === 'Assign to Roles') await this.assignRoles(id);
  }

  private async vscodeLmSpec(): Promise<ModelSpec | undefined> {
    const chats = await vscode.lm.selectChatModels();
    if (chats.length === 0) {
      void vscode.window.showWarningMessage(
        'Software Maker: VS Code has no chat models. Install and sign in to a chat model extension (for example GitHub Copilot Chat), then run Configure Models again.',
      );
      return undefined;
    }
    const picked = await vscode.window.showQuickPick(
      chats.map((chat) => ({ label: chat.name, description: `${chat.vendor}/${chat.family}`, detail: `id ${chat.id} · up to ${chat.maxInputTokens.toLocaleString('en-US')} input tokens`, chat })),
      { title: `${TITLE}: VS Code chat model`, placeHolder: `Which chat model? (${chats.length} available)` },
    );
    if (!picked) return undefined;
    // vendor + family rather than the id: the id changes with every model version, the family does not.
    return { id: '', provider: 'vscode-lm', vendor: picked.chat.vendor, family: picked.chat.family, contextWindow: picked.chat.maxInputTokens };
  }

  private async assignRoles(modelId?: string): Promise<void> {
    const ids = rawModels().flatMap((model) => (typeof model === 'object' && model !== null && typeof (model as { id?: unknown }).id === 'string' ? [(model as { id: string }).id] : []));
    if (ids.length === 0) {
      void vscode.window.showInformationMessage('Software Maker: no model is configured yet. Add one first ("Add a model…").');
      return;
    }
    const roles = rawRoles();
    const pickedRoles = await vscode.window.showQuickPick(
      ROLES.map((role) => ({ label: role, description: roles[role]?.join(' → ') ?? `default: ${ids[0]}`, role, picked: modelId === undefined ? false : !roles[role] })),
      { title: `${TITLE}: roles`, placeHolder: 'Which roles get a new model chain?', canPickMany: true },
    );
    if (!pickedRoles?.length) return;
    const chain: string[] = [];
    for (;;) {
      const left = ids.filter((id) => !chain.includes(id));
      if (left.length === 0) break;
      const done = { label: '$(check) Done', id: '' };
      const items = [...(chain.length > 0 ? [done] : []), ...left.map((id) => ({ label: id, description: id === modelId ? 'just added' : undefined, id }))];
      const picked = await vscode.window.showQuickPick(items, {
        title: `${TITLE}: chain for ${pickedRoles.map((item) => item.role).join(', ')}`,
        placeHolder: chain.length === 0 ? 'The model these roles use first' : `So far: ${chain.join(' → ')}. A fallback for when it is down, or Done`,
      });
      if (!picked) return;
      if (!picked.id) break;
      chain.push(picked.id);
    }
    const chains = Object.fromEntries(pickedRoles.map((item) => [item.role, [...chain]])) as Partial<Record<Role, string[]>>;
    await setRoleChains(chains);
    void vscode.window.showInformationMessage(`Software Maker: ${pickedRoles.map((item) => item.role).join(', ')} now use ${chain.join(' → ')}.`);
  }

  // ---- test connection ----------------------------------------------------------------------

  /** The "Test Model Connection" command: `modelId` skips the picker. */
  async testModelConnection(modelId?: string): Promise<void> {
    // A model call with a key, outside the engine (whose trust gate the other commands go through).
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showErrorMessage(`Software Maker: ${new WorkspaceNotTrustedError().message}`);
      return;
    }
    const entries = rawModels().map((raw) => ({ raw, parsed: modelSpecSchema.safeParse(raw) }));
    if (entries.length === 0) {
      const choice = await vscode.window.showInformationMessage('Software Maker: no model is configured yet, so there is nothing to test.', 'Configure Models');
      if (choice) await this.configureModels();
      return;
    }
    let spec: ModelSpec | undefined;
    const wanted = modelId ? entries.find((entry) => entry.parsed.success && entry.parsed.data.id === modelId) : undefined;
    if (wanted?.parsed.success) spec = wanted.parsed.data as ModelSpec;
    else {
      const picked = await vscode.window.showQuickPick(
        entries.map((entry, index) => {
          if (!entry.parsed.success) {
            const issue = entry.parsed.error.issues[0];
            return { label: `$(error) entry ${index + 1}`, description: 'invalid', detail: `${issue?.path.join('.') || 'entry'}: ${issue?.message}. Fix it in the settings.`, spec: undefined };
          }
          const parsed = entry.parsed.data as ModelSpec;
          return { label: parsed.id, description: `${parsed.provider}${'model' in parsed && parsed.model ? ` · ${parsed.model}` : ''}`, detail: endpointOf(parsed), spec: parsed };
        }),
        { title: 'Software Maker: Test Model Connection', placeHolder: 'Which model? (one small call, a few tokens)' },
      );
      if (!picked) return;
      if (!picked.spec) {
        await vscode.commands.executeCommand('workbench.action.openSettings', `${SETTINGS_SECTION}.models`);
        return;
      }
      spec = picked.spec;
    }
    const chosen = spec;
    try {
      await this.options.confirmWorkspaceSettings();
    } catch (error) {
      void vscode.window.showErrorMessage(`Software Maker: ${(error as Error).message}`);
      return;
    }
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Software Maker: testing model "${chosen.id}"…`, cancellable: true },
      async (_progress, token) => {
        const controller = new AbortController();
        const cancel = token.onCancellationRequested(() => controller.abort());
        try {
          return await testConnection(chosen, { workspaceRoot: this.options.workspaceRoot, secret: this.secret, hostModels: this.options.hostModels }, { signal: controller.signal });
        } finally {
          cancel.dispose();
        }
      },
    );
    await this.showConnectionResult(chosen, result);
  }

  private async showConnectionResult(spec: ModelSpec, result: ConnectionResult): Promise<void> {
    const { output } = this.options;
    if (result.ok) {
      const price = priceFor(spec);
      const tokens = `${result.inputTokens} in / ${result.outputTokens} out tokens${result.estimatedUsage ? ' (estimated)' : ''}`;
      const cost = price ? `prices $${price.inputPerMTok}/$${price.outputPerMTok} per million tokens` : 'no price known: costs show as "unknown cost" (add "prices" to the model to count them)';
      const message = `Model "${spec.id}" answered in ${(result.latencyMs / 1000).toFixed(1)} s${result.answeredBy ? ` (${result.answeredBy} via ${result.provider})` : ` (${result.provider})`}: "${result.text || '(empty answer)'}". ${tokens}; ${cost}.`;
      output.info(`Connection test: ${message}`);
      void vscode.window.showInformationMessage(`Software Maker: ${message}`);
      return;
    }
    output.warn(`Connection test of "${spec.id}" failed: ${result.message}`);
    const action = result.action === 'setApiKey' ? 'Set API Key' : result.action === 'configureModels' ? 'Configure Models' : result.action === 'openSettings' ? 'Open Settings' : undefined;
    const choice = await vscode.window.showErrorMessage(`Software Maker: ${result.message}`, ...(action ? [action] : []), 'Test Again');
    const keyName = apiKeyNameOf(spec);
    if (choice === 'Set API Key' && keyName) {
      if (await promptAndStoreKey(this.options.context.secrets, keyName)) await this.testModelConnection(spec.id);
    } else if (choice === 'Configure Models') await this.configureModels();
    else if (choice === 'Open Settings') await vscode.commands.executeCommand('workbench.action.openSettings', `${SETTINGS_SECTION}.models`);
    else if (choice === 'Test Again') await this.testModelConnection(spec.id);
  }
}

/** Model name, base URL, key name and price of an endpoint model (id filled in later). */
async function askEndpointSpec(choice: ProviderChoice): Promise<ModelSpec | undefined> {
  const model = await vscode.window.showInputBox({
    title: `${TITLE}: ${choice.label} model`,
    prompt: `The model name the ${choice.label} endpoint expects`,
    placeHolder: choice.example ? `e.g. ${choice.example}` : undefined,
    ignoreFocusOut: true,
    validateInput: (text) => (text.trim() ? undefined : 'Type the model name, as the provider lists it.'),
  });
  if (!model?.trim()) return undefined;
  let baseURL: string | undefined;
  if (choice.provider === 'openai-compatible' && !choice.preset) {
    baseURL = (
      await vscode.window.showInputBox({
        title: `${TITLE}: base URL`,
        prompt: 'The endpoint\'s base URL, up to and including /v1',
        placeHolder: 'e.g. http://localhost:8000/v1',
        ignoreFocusOut: true,
        validateInput: (text) => (/^https?:\/\/\S+$/.test(text.trim()) ? undefined : 'Type an http:// or https:// URL.'),
      })
    )?.trim();
    if (!baseURL) return undefined;
  }
  const defaultKey =
    choice.provider === 'openai' ? 'OPENAI_API_KEY' : choice.provider === 'anthropic' ? 'ANTHROPIC_API_KEY' : choice.preset ? PRESET_DEFAULTS[choice.preset].apiKeyName : undefined;
  const local = choice.preset !== undefined && PRESET_DEFAULTS[choice.preset].apiKeyName === undefined;
  let apiKeyName: string | undefined = defaultKey;
  if (!local) {
    const typed = await vscode.window.showInputBox({
      title: `${TITLE}: API key name`,
      prompt: defaultKey
        ? 'The NAME the key is stored under (not the key itself: you type the key next, into the OS keychain). Keep the default unless you use several keys.'
        : 'The NAME the key is stored under (not the key itself). Leave empty when the server needs no key.',
      value: defaultKey ?? '',
      ignoreFocusOut: true,
      validateInput: (text) => (text.trim() === '' || /^[A-Za-z0-9_.-]+$/.test(text.trim()) ? undefined : 'Letters, digits, _ . - only: a name such as MY_PROVIDER_KEY, not the key.'),
    });
    if (typed === undefined) return undefined;
    apiKeyName = typed.trim() || (defaultKey && choice.provider !== 'openai-compatible' ? defaultKey : undefined);
  }
  const spec: ModelSpec =
    choice.provider === 'openai'
      ? { id: '', provider: 'openai', model: model.trim(), ...(apiKeyName ? { apiKeyName } : {}) }
      : choice.provider === 'anthropic'
        ? { id: '', provider: 'anthropic', model: model.trim(), ...(apiKeyName ? { apiKeyName } : {}) }
        : { id: '', provider: 'openai-compatible', model: model.trim(), ...(choice.preset ? { preset: choice.preset } : {}), ...(baseURL ? { baseURL } : {}), ...(apiKeyName ? { apiKeyName } : {}) };
  if (!priceFor(spec)) {
    const price = await vscode.window.showInputBox({
      title: `${TITLE}: price (optional)`,
      prompt: `Software Maker has no price for "${model.trim()}". Type USD per million tokens as input/output (e.g. 0.5/1.5) so costs and USD budgets count it, or leave empty: its cost then shows as "unknown cost".`,
      ignoreFocusOut: true,
      validateInput: (text) => (text.trim() === '' || /^\s*\d+(\.\d+)?\s*\/\s*\d+(\.\d+)?\s*$/.test(text) ? undefined : 'Two numbers, input/output, e.g. 0.5/1.5; or empty.'),
    });
    if (price === undefined) return undefined;
    const match = /^\s*(\d+(?:\.\d+)?)\s*\/\s*(\d+(?:\.\d+)?)\s*$/.exec(price);
    if (match) spec.prices = { inputPerMTok: Number(match[1]), outputPerMTok: Number(match[2]) };
  }
  return spec;
}

async function askModelId(spec: ModelSpec): Promise<string | undefined> {
  const taken = new Set(rawModels().flatMap((model) => (typeof model === 'object' && model !== null && typeof (model as { id?: unknown }).id === 'string' ? [(model as { id: string }).id] : [])));
  const base = slug(spec.provider === 'vscode-lm' ? `${spec.vendor}-${spec.family}` : 'model' in spec && spec.model ? spec.model : spec.provider);
  let suggestion = base;
  for (let n = 2; taken.has(suggestion); n++) suggestion = `${base}-${n}`;
  const id = await vscode.window.showInputBox({
    title: `${TITLE}: model id`,
    prompt: 'A short id for this model: softwareMaker.roles refers to it. An existing id is replaced.',
    value: suggestion,
    ignoreFocusOut: true,
    validateInput: (text) => (/^\S+$/.test(text.trim()) ? undefined : 'One word, no spaces, e.g. "fast" or "local-coder".'),
  });
  return id?.trim() || undefined;
}

async function pickCap(budgets: Budgets): Promise<CapChoice | undefined> {
  const option = (label: string, choice: CapChoice): vscode.QuickPickItem & { choice: CapChoice } => {
    const value = capValue(budgets, choice);
    return { label, description: value !== undefined ? `now ${choice.metric === 'usd' ? formatUsd(value) : `${value} tokens`}` : 'no cap', choice };
  };
  const picked = await vscode.window.showQuickPick(
    [
      option('Run: USD', { scope: 'run', metric: 'usd' }),
      option('Run: tokens', { scope: 'run', metric: 'tokens' }),
      option('Each task: USD', { scope: 'task', metric: 'usd' }),
      option('Each task: tokens', { scope: 'task', metric: 'tokens' }),
    ],
    { title: 'Software Maker: Raise Budget and Resume', placeHolder: 'The log names no budget breach for this pause. Which cap to change?' },
  );
  return picked?.choice;
}

/** A run id from a command argument: the id itself or a Runs view node. */
function runIdOf(arg: unknown): string | undefined {
  if (typeof arg === 'string' && arg) return arg;
  if (typeof arg === 'object' && arg !== null && typeof (arg as { runId?: unknown }).runId === 'string') return (arg as { runId: string }).runId;
  return undefined;
}

