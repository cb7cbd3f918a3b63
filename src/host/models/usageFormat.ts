// The status bar's spending figure. Every other amount, cost and budget wording is the shared one
// (src/shared/wording.ts): a model without a known price is "unknown cost", never $0.
// No vscode import (unit-tested in plain Node).
import type { Budgets, Usage } from '../../shared/model';
import { formatTokens, formatUsd } from '../../shared/wording';

/** The run's spending against its run cap, for the status bar text: "$0.42 / $5.00" or "12.3k / 100k tokens". */
export function runBudgetText(usage: Usage, budgets: Budgets | undefined): string | undefined {
  const cap = budgets?.run;
  if (cap?.usd !== undefined) return `${formatUsd(usage.usd)}${(usage.unpricedCalls ?? 0) > 0 ? '+?' : ''} / ${formatUsd(cap.usd)}`;
  if (cap?.tokens !== undefined) return `${formatTokens(usage.inputTokens + usage.outputTokens)} / ${formatTokens(cap.tokens)} tokens`;
  return undefined;
}
