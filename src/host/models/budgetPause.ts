// The "Budget reached" notification of a budget-paused run and the check of a typed cap. Which breach
// paused the run is the fold's (RunState.budgetBreach); the cap arithmetic is src/shared/budgets.ts
// and the wording src/shared/wording.ts. No vscode import (unit-tested in plain Node).
import type { BudgetBreach } from '../../shared/model';
import { isUnpricedBreach } from '../../shared/budgets';
import { amountText, describeBreach } from '../../shared/wording';

/** "Budget reached: The cost cap of the run ($5.00) would be exceeded: … The run is paused: raise the cap to go on, or stop the run." */
export function budgetPauseMessage(breach: BudgetBreach): string {
  if (isUnpricedBreach(breach)) {
    return (
      `Budget reached: ${describeBreach(breach)} The run is paused: remove the USD cap to go on (a token cap still applies), or stop the run. ` +
      'For new runs, give the model "prices" in softwareMaker.models.'
    );
  }
  return `Budget reached: ${describeBreach(breach)} The run is paused: raise the cap to go on, or stop the run.`;
}

/**
 * Checks a typed cap: a positive number above the amount used (for a breach), else a message that
 * says what to type. Undefined when it is acceptable.
 */
export function checkCapInput(text: string, metric: 'usd' | 'tokens', breach: BudgetBreach | undefined): string | undefined {
  const value = parseCap(text);
  if (!text.trim() || !Number.isFinite(value) || value <= 0) return metric === 'usd' ? 'Type an amount in USD, e.g. 10 or 2.50.' : 'Type a number of tokens, e.g. 500000.';
  if (metric === 'tokens' && !Number.isInteger(value)) return 'Tokens are a whole number.';
  if (breach && value <= breach.used) return `The cap must be above what is already used (${amountText(metric, breach.used)}).`;
  return undefined;
}

export function parseCap(text: string): number {
  return Number(text.trim().replace(/^\$/, '').replace(/_/g, ''));
}
