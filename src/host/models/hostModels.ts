// The Engine's `hostModels`: finds the VS Code chat model a `vscode-lm` spec asks for and wraps it
// in the ai SDK adapter. Selecting a model asks the user nothing; the consent dialog comes with the
// first request (see vscodeLmModel.ts), which only runs the user started send.
import type { LanguageModelV4 } from '@ai-sdk/provider';
import type * as vscode from 'vscode';
import { ModelConfigError } from '../../core';
import type { VscodeLmModelSpec } from '../../shared/model';
import { VscodeLmChatModel, type VscodeLmApi } from './vscodeLmModel';

/** `vscode.lm`, as far as model selection goes (a stub in tests). */
export type LmNamespace = Pick<typeof vscode.lm, 'selectChatModels'>;

/** The selector a spec stands for: `model` is the chat model's id. */
export function selectorOf(spec: VscodeLmModelSpec): vscode.LanguageModelChatSelector {
  const selector: vscode.LanguageModelChatSelector = {};
  if (spec.vendor) selector.vendor = spec.vendor;
  if (spec.family) selector.family = spec.family;
  if (spec.model) selector.id = spec.model;
  return selector;
}

/** "vendor/family (id)" for every chat model VS Code has, for messages and pickers. */
export function listChatModels(models: readonly vscode.LanguageModelChat[]): string {
  return models.map((model) => `${model.vendor}/${model.family} (id "${model.id}", ${model.name})`).join('; ');
}

/**
 * The chat model a spec selects (the first when several match). Throws a ModelConfigError that
 * lists the chat models VS Code has when none matches.
 */
export async function selectChatModel(lm: LmNamespace, spec: VscodeLmModelSpec): Promise<vscode.LanguageModelChat> {
  const selector = selectorOf(spec);
  const [chosen] = await lm.selectChatModels(selector);
  if (chosen) return chosen;
  const wanted = Object.entries(selector).map(([key, value]) => `${key} "${value}"`).join(', ') || 'any chat model';
  const all = await lm.selectChatModels();
  const available =
    all.length > 0
      ? `VS Code has: ${listChatModels(all)}. Set "vendor", "family" or "model" (the id) of "${spec.id}" in softwareMaker.models to one of them, or run "Software Maker: Configure Models".`
      : 'VS Code has no chat models at all: install and sign in to a chat model extension (e.g. GitHub Copilot Chat), then try again.';
  throw new ModelConfigError(`Model "${spec.id}" asks VS Code for a chat model with ${wanted}, and none matches. ${available}`);
}

/** The EngineOptions.hostModels function over `vscode.lm`. */
export function createHostModels(api: VscodeLmApi, lm: LmNamespace): (spec: VscodeLmModelSpec) => Promise<LanguageModelV4> {
  return async (spec) => new VscodeLmChatModel(api, await selectChatModel(lm, spec));
}
