// Budget pauses read from a run's log: which cap stopped the run, what the notification says, and the
// run's budgets with that cap raised. No vscode import (unit-tested in plain Node).
import { formatUsd } from '../../core/models/prices';
import type { EngineEvent } from '../../shared/events';
import type { Budgets, Cap, Role } from '../../shared/model';
import { formatTokens } from './usageFormat';

export type BudgetBreach = Extract<EngineEvent, { type: 'budget.exceeded' }>;

/** The cap a user can raise: which scope, which metric (the breach names them; without one the user picks). */
export interface CapChoice {
  scope: 'run' | 'task' | 'role';
  /** The role, for role caps. */
  role?: Role;
  metric: 'usd' | 'tokens';
}

/**
 * The breach that paused the run, when its latest pause came from the budget gate (a budget.exceeded
 * right before the run.status paused); undefined when the run is not paused on a budget.
 */
export function findBudgetPause(events: readonly EngineEvent[]): BudgetBreach | undefined {
  let pending: BudgetBreach | undefined;
  let paused: BudgetBreach | undefined;
  for (const event of events) {
    if (event.type === 'budget.exceeded') pending = event;
    else if (event.type === 'run.status') {
      paused = event.status === 'paused' ? pending : undefined;
      pending = undefined;
    }
  }
  return paused;
}

export function amountText(metric: 'usd' | 'tokens', value: number): string {
  return metric === 'usd' ? formatUsd(value) : `${formatTokens(Math.round(value))} tokens`;
}

function scopeText(breach: Pick<BudgetBreach, 'scope' | 'key'>): string {
  return breach.scope === 'run' ? "the run's" : breach.scope === 'task' ? `task ${breach.key}'s (the per-task)` : `the ${breach.key} role's`;
}

/**
 * A USD cap met a model without a price: the gate cannot bound the call's cost (its estimate is NaN),
 * so raising the cap does not help; removing the USD cap (or pricing the model, for new runs) does.
 */
export function isUnpricedBreach(breach: BudgetBreach): boolean {
  return breach.metric === 'usd' && !Number.isFinite(breach.estimate);
}

/** "Budget reached: the run's USD cap of $5.00 is used up ($4.98 spent; the next implementer call may need up to $0.05). …" */
export function budgetPauseMessage(breach: BudgetBreach): string {
  if (isUnpricedBreach(breach)) {
    return (
      `Budget reached: the next ${breach.role} call goes to a model without a price, so ${scopeText(breach)} USD cap of ${amountText('usd', breach.limit)} cannot be guaranteed ` +
      `(${amountText('usd', breach.used)} used). The run is paused: remove the USD cap to go on (a token cap still applies), or stop the run. ` +
      'For new runs, give the model "prices" in softwareMaker.models.'
    );
  }
  const metric = breach.metric === 'usd' ? 'USD' : 'token';
  return (
    `Budget reached: ${scopeText(breach)} ${metric} cap of ${amountText(breach.metric, breach.limit)} would be crossed ` +
    `(${amountText(breach.metric, breach.used)} used; the next ${breach.role} call may need up to ${amountText(breach.metric, breach.estimate)}). ` +
    'The run is paused: raise the cap to go on, or stop the run.'
  );
}

/** The cap a breach is about. */
export function capOfBreach(breach: BudgetBreach): CapChoice {
  return breach.scope === 'role' ? { scope: 'role', role: breach.key as Role, metric: breach.metric } : { scope: breach.scope, metric: breach.metric };
}

/** The current value of a cap, if set. */
export function capValue(budgets: Budgets, choice: CapChoice): number | undefined {
  const cap = choice.scope === 'role' ? budgets.roles?.[choice.role!] : budgets[choice.scope];
  return cap?.[choice.metric];
}

/** A suggestion for the new cap: enough for the refused call and as much again as was used, rounded up. */
export function suggestedCap(breach: BudgetBreach): number {
  if (!Number.isFinite(breach.estimate)) return breach.limit * 2;
  const wanted = Math.max(breach.limit * 2, breach.used + breach.estimate * 2);
  if (breach.metric === 'tokens') return Math.ceil(wanted / 1000) * 1000;
  return wanted < 1 ? Math.ceil(wanted * 100) / 100 : Math.ceil(wanted);
}

/** The budgets with one cap set to `value` (a copy; the other caps stay). */
export function withCap(budgets: Budgets, choice: CapChoice, value: number): Budgets {
  const next: Budgets = structuredClone(budgets);
  const cap: Cap = choice.scope === 'role' ? { ...(next.roles?.[choice.role!] ?? {}) } : { ...(next[choice.scope] ?? {}) };
  cap[choice.metric] = choice.metric === 'tokens' ? Math.round(value) : value;
  if (choice.scope === 'role') next.roles = { ...(next.roles ?? {}), [choice.role!]: cap };
  else next[choice.scope] = cap;
  return next;
}

/** The budgets without one cap (a copy); an empty cap object is dropped. */
export function withoutCap(budgets: Budgets, choice: CapChoice): Budgets {
  const next: Budgets = structuredClone(budgets);
  const strip = (cap: Cap | undefined): Cap | undefined => {
    if (!cap) return undefined;
    const rest = { ...cap };
    delete rest[choice.metric];
    return Object.keys(rest).length > 0 ? rest : undefined;
  };
  if (choice.scope === 'role') {
    const roles = { ...(next.roles ?? {}) };
    const cap = strip(roles[choice.role!]);
    if (cap) roles[choice.role!] = cap;
    else delete roles[choice.role!];
    next.roles = Object.keys(roles).length > 0 ? roles : undefined;
    if (!next.roles) delete next.roles;
  } else {
    const cap = strip(next[choice.scope]);
    if (cap) next[choice.scope] = cap;
    else delete next[choice.scope];
  }
  return next;
}

/**
 * Checks a typed cap: a positive number above the amount used (for a breach), else a message that
 * says what to type. Undefined when it is acceptable.
 */
export function checkCapInput(text: string, metric: 'usd' | 'tokens', breach: BudgetBreach | undefined): string | undefined {
  const value = Number(text.trim().replace(/^\$/, '').replace(/_/g, ''));
  if (!text.trim() || !Number.isFinite(value) || value <= 0) return metric === 'usd' ? 'Type an amount in USD, e.g. 10 or 2.50.' : 'Type a number of tokens, e.g. 500000.';
  if (metric === 'tokens' && !Number.isInteger(value)) return 'Tokens are a whole number.';
  if (breach && value <= breach.used) return `The cap must be above what is already used (${amountText(metric, breach.used)}).`;
  return undefined;
}

export function parseCap(text: string): number {
  return Number(text.trim().replace(/^\$/, '').replace(/_/g, ''));
}
