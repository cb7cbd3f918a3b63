// Usage, cost and budget figures as the Runs tree and the status bar show them. A model without a
// known price is "unknown cost", never $0: the USD total covers the priced calls only and says so.
// No vscode import (unit-tested in plain Node).
import { formatUsd } from '../../core/models/prices';
import type { Budgets, Cap, Role, Usage } from '../../shared/model';

/** "1,234" below 10k, "12.3k", "1.2M". */
export function formatTokens(tokens: number): string {
  if (tokens < 10_000) return tokens.toLocaleString('en-US');
  if (tokens < 1_000_000) return `${(tokens / 1000).toFixed(tokens < 100_000 ? 1 : 0)}k`;
  return `${(tokens / 1_000_000).toFixed(1)}M`;
}

/** The USD part of a usage: "$0.0123", "unknown cost", or "$0.0123 + unknown cost (2 calls)". */
export function costText(usage: Usage): string {
  const unpriced = usage.unpricedCalls ?? 0;
  if (unpriced === 0) return formatUsd(usage.usd);
  if (unpriced >= usage.calls) return 'unknown cost (no price for the model)';
  return `${formatUsd(usage.usd)} + unknown cost (${unpriced} call${unpriced === 1 ? '' : 's'} of a model without a price)`;
}

/** "3 model calls · 1,234 tokens · $0.0123" (tooltips). */
export function usageLine(usage: Usage): string {
  const tokens = usage.inputTokens + usage.outputTokens;
  const cached = usage.cachedInputTokens > 0 ? ` (${formatTokens(usage.cachedInputTokens)} cached)` : '';
  return `${usage.calls} model call${usage.calls === 1 ? '' : 's'} · ${formatTokens(tokens)} tokens${cached} · ${costText(usage)}`;
}

/** "12.3k tok · $0.012" for a tree description; undefined before the first call. */
export function compactUsage(usage: Usage): string | undefined {
  if (usage.calls === 0) return undefined;
  const unpriced = usage.unpricedCalls ?? 0;
  const cost = unpriced >= usage.calls ? 'cost unknown' : `${formatUsd(usage.usd)}${unpriced > 0 ? '+?' : ''}`;
  return `${formatTokens(usage.inputTokens + usage.outputTokens)} tok · ${cost}`;
}

/** The run's spending against its run cap, for the status bar text: "$0.42 / $5.00" or "12.3k / 100k tokens". */
export function runBudgetText(usage: Usage, budgets: Budgets | undefined): string | undefined {
  const cap = budgets?.run;
  if (cap?.usd !== undefined) return `${formatUsd(usage.usd)}${(usage.unpricedCalls ?? 0) > 0 ? '+?' : ''} / ${formatUsd(cap.usd)}`;
  if (cap?.tokens !== undefined) return `${formatTokens(usage.inputTokens + usage.outputTokens)} / ${formatTokens(cap.tokens)} tokens`;
  return undefined;
}

function capText(cap: Cap): string {
  return [cap.usd !== undefined ? formatUsd(cap.usd) : undefined, cap.tokens !== undefined ? `${formatTokens(cap.tokens)} tokens` : undefined].filter(Boolean).join(' and ');
}

/** Every cap of a run in words, for tooltips: "Budgets: run $5.00 · each task 200k tokens · reviewer $1.00 (pause when reached)". */
export function budgetsLine(budgets: Budgets | undefined): string | undefined {
  if (!budgets) return undefined;
  const parts: string[] = [];
  if (budgets.run && capText(budgets.run)) parts.push(`run ${capText(budgets.run)}`);
  if (budgets.task && capText(budgets.task)) parts.push(`each task ${capText(budgets.task)}`);
  for (const [role, cap] of Object.entries(budgets.roles ?? {}) as [Role, Cap][]) if (capText(cap)) parts.push(`${role} ${capText(cap)}`);
  if (parts.length === 0) return undefined;
  return `Budgets: ${parts.join(' · ')} (${budgets.onExceed === 'stop' ? 'stop' : 'pause'} when reached)`;
}
