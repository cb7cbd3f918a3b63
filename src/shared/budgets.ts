// Budget caps as the hosts change them after a breach: which cap a breach is about, the cap to
// suggest, and the budgets with one cap set or removed. The breach that paused a run is the fold's
// (RunState.budgetBreach); these are the pure helpers the VS Code host, the panel and the CLI share.
import type { BudgetBreach, Budgets, Cap, Role } from './model';
import type { RunState } from './runState';

/** One cap: which scope, which metric (and the role, for role caps). */
export interface CapChoice {
  scope: 'run' | 'task' | 'role';
  /** The role, for role caps. */
  role?: Role;
  metric: 'usd' | 'tokens';
}

/**
 * A USD cap met a model without a price: the gate cannot bound the call's cost (its estimate is NaN),
 * so raising the cap does not help; removing the USD cap (or pricing the model, for new runs) does.
 */
export function isUnpricedBreach(breach: BudgetBreach): boolean {
  return breach.metric === 'usd' && !Number.isFinite(breach.estimate);
}

/** The breach a run is paused by (the fold's), or undefined when it is not paused by its budget. */
export function budgetPauseOf(state: Pick<RunState, 'status' | 'budgetBreach'>): RunState['budgetBreach'] {
  return state.status === 'paused' ? state.budgetBreach : undefined;
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

/**
 * A cap that admits the refused call with room to spare: double the old one, or what was used plus
 * twice the call's worst case if that is more; rounded up to 1,000 tokens, to the cent below $1 and
 * to the dollar above. A call of unknown cost has no worst case: double the cap.
 */
export function suggestedCap(breach: BudgetBreach): number {
  if (!Number.isFinite(breach.estimate)) return breach.limit * 2;
  const wanted = Math.max(breach.limit * 2, breach.used + breach.estimate * 2);
  if (breach.metric === 'tokens') return Math.ceil(wanted / 1000) * 1000;
  return wanted < 1 ? Math.ceil(wanted * 100) / 100 : Math.ceil(wanted);
}

/** The budgets with one cap set to `value` (a copy; the other caps stay). Tokens are whole: a fraction rounds up. */
export function withCap(budgets: Budgets, choice: CapChoice, value: number): Budgets {
  const next: Budgets = structuredClone(budgets);
  const cap: Cap = choice.scope === 'role' ? { ...(next.roles?.[choice.role!] ?? {}) } : { ...(next[choice.scope] ?? {}) };
  cap[choice.metric] = choice.metric === 'tokens' ? Math.ceil(value) : value;
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
    if (Object.keys(roles).length > 0) next.roles = roles;
    else delete next.roles;
  } else {
    const cap = strip(next[choice.scope]);
    if (cap) next[choice.scope] = cap;
    else delete next[choice.scope];
  }
  return next;
}
