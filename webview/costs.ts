// The cost meter's figures: the run's usage, per-role totals, whether some calls had no known price,
// and the budget a "Raise budget" asks for. Pure (no DOM) so it is tested in Node.
import type { EngineEventOf } from '../src/shared/events';
import type { Budgets, Cap, Role, Usage } from '../src/shared/model';
import { ROLES } from '../src/shared/model';

export function formatTokens(count: number): string {
  if (count < 1000) return String(count);
  if (count < 1_000_000) return `${(count / 1000).toFixed(count < 10_000 ? 1 : 0)}k`;
  return `${(count / 1_000_000).toFixed(1)}M`;
}

export function formatUsd(usd: number): string {
  return `$${usd < 1 ? usd.toFixed(4) : usd.toFixed(2)}`;
}

/** "$0.0123", "$0.0123 + unknown cost" when some calls were of unpriced models, "unknown cost" when all were. */
export function costText(usage: Usage): string {
  const unpriced = usage.unpricedCalls ?? 0;
  if (unpriced === 0) return formatUsd(usage.usd);
  if (unpriced >= usage.calls) return 'unknown cost';
  return `${formatUsd(usage.usd)} + unknown cost`;
}

export function usageText(usage: Usage): string {
  return `${usage.calls} call${usage.calls === 1 ? '' : 's'} · ${formatTokens(usage.inputTokens)} in / ${formatTokens(usage.outputTokens)} out · ${costText(usage)}`;
}

export interface RoleCost {
  role: Role;
  usage: Usage;
  text: string;
}

/** Per-role totals in the roles' usual order, only roles that made calls. */
export function roleCosts(usageByRole: Partial<Record<Role, Usage>>): RoleCost[] {
  return ROLES.flatMap((role) => {
    const usage = usageByRole[role];
    return usage && usage.calls > 0 ? [{ role, usage, text: usageText(usage) }] : [];
  });
}

/** A tooltip: the run's total, one line per role, and what "unknown cost" means. */
export function costTooltip(total: Usage, usageByRole: Partial<Record<Role, Usage>>): string {
  const lines = [`This run: ${usageText(total)}`, ...roleCosts(usageByRole).map((cost) => `${cost.role}: ${cost.text}`)];
  if (total.unpricedCalls) {
    lines.push(`${total.unpricedCalls} call${total.unpricedCalls === 1 ? '' : 's'} used a model without a known price: the dollar figure leaves them out.`);
  }
  return lines.join('\n');
}

export type BudgetBreach = EngineEventOf<'budget.exceeded'>;

/** What the breach was, in a sentence. */
export function describeBreach(breach: BudgetBreach): string {
  const amount = (value: number): string => (breach.metric === 'usd' ? formatUsd(value) : `${formatTokens(value)} tokens`);
  const whose = breach.scope === 'run' ? 'the run' : breach.scope === 'task' ? `task ${breach.key}` : `the ${breach.key} role`;
  return `The ${breach.metric === 'usd' ? 'cost' : 'token'} cap of ${whose} (${amount(breach.limit)}) would be exceeded: ${amount(breach.used)} used, the next ${breach.role} call may take up to ${amount(breach.estimate)}.`;
}

/** A cap that lets the refused call through with room to spare: at least double the old one. */
export function suggestedLimit(breach: BudgetBreach): number {
  const needed = breach.used + 2 * breach.estimate;
  const value = Math.max(breach.limit * 2, needed);
  return breach.metric === 'usd' ? Math.ceil(value * 100) / 100 : Math.ceil(value);
}

/** The run's budgets with the breached cap set to `limit` (other caps unchanged). */
export function raisedBudgets(budgets: Budgets, breach: BudgetBreach, limit: number): Budgets {
  const raise = (cap: Cap | undefined): Cap => ({ ...cap, [breach.metric]: breach.metric === 'tokens' ? Math.ceil(limit) : limit });
  const next: Budgets = { ...budgets };
  if (breach.scope === 'run') next.run = raise(budgets.run);
  else if (breach.scope === 'task') next.task = raise(budgets.task);
  else next.roles = { ...budgets.roles, [breach.key]: raise(budgets.roles?.[breach.key as Role]) };
  return next;
}
