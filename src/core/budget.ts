// Hard budgets. Before every model call (every attempt on every model of a chain) the worst case of
// the call (its estimated prompt plus the output limit the router sends with it) is added to what
// the run, the task and the role have spent, plus what calls already in flight may still spend; if
// any cap would be crossed, the call does not happen. Spent amounts come from the folded event log;
// only the in-flight reservations live here, because they are not facts yet, and each is held until
// its call's cost is in the log. So a cap is never exceeded by more than the difference between a
// call's estimate and its cost.
import type { BudgetBreach, Budgets, Cap, Role, Usage } from '../shared/model';

export type { BudgetBreach } from '../shared/model';
import type { RunState } from '../shared/runState';
import { isUnpricedBreach } from '../shared/budgets';
import { describeBreach } from '../shared/wording';

export interface CallCost {
  /** Prompt tokens (estimated) + the output-token limit. */
  tokens: number;
  /** Undefined when the model has no known price. */
  usd: number | undefined;
}

export interface Spender {
  role: Role;
  taskId?: string;
}

export class BudgetExceededError extends Error {
  constructor(
    readonly breach: BudgetBreach,
    readonly spender: Spender,
  ) {
    // The wording every surface shows (shared/wording.ts), and what to do about a model without a price.
    super(`${describeBreach({ ...breach, role: spender.role })}${isUnpricedBreach(breach) ? ' Set prices for the model or remove the USD cap.' : ''}`);
    this.name = 'BudgetExceededError';
  }
}

interface Reservation extends Spender {
  id: number;
  cost: CallCost;
}

function spentTokens(usage: Usage | undefined): number {
  return usage ? usage.inputTokens + usage.outputTokens : 0;
}

/** The first cap the call would cross, checking run, then task, then role caps. */
export function findBreach(state: RunState, budgets: Budgets, spender: Spender, cost: CallCost, inFlight: readonly Reservation[] = []): BudgetBreach | undefined {
  const scopes: { scope: BudgetBreach['scope']; key: string; cap: Cap | undefined; usage: Usage | undefined; mine: (r: Reservation) => boolean }[] = [
    { scope: 'run', key: state.id, cap: budgets.run, usage: state.usage, mine: () => true },
  ];
  if (spender.taskId) {
    const taskId = spender.taskId;
    scopes.push({ scope: 'task', key: taskId, cap: budgets.task, usage: state.tasks[taskId]?.usage, mine: (r) => r.taskId === taskId });
  }
  scopes.push({ scope: 'role', key: spender.role, cap: budgets.roles?.[spender.role], usage: state.usageByRole[spender.role], mine: (r) => r.role === spender.role });
  for (const { scope, key, cap, usage, mine } of scopes) {
    if (!cap) continue;
    const reserved = inFlight.filter(mine);
    if (cap.usd !== undefined) {
      const used = (usage?.usd ?? 0) + reserved.reduce((sum, r) => sum + (r.cost.usd ?? 0), 0);
      if (cost.usd === undefined) return { scope, key, metric: 'usd', limit: cap.usd, used, estimate: Number.NaN };
      if (used + cost.usd > cap.usd) return { scope, key, metric: 'usd', limit: cap.usd, used, estimate: cost.usd };
    }
    if (cap.tokens !== undefined) {
      const used = spentTokens(usage) + reserved.reduce((sum, r) => sum + r.cost.tokens, 0);
      if (used + cost.tokens > cap.tokens) return { scope, key, metric: 'tokens', limit: cap.tokens, used, estimate: cost.tokens };
    }
  }
  return undefined;
}

/** Admits or refuses calls for one run, holding the worst case of calls in flight. */
export class BudgetGate {
  private readonly inFlight: Reservation[] = [];
  private nextId = 1;

  constructor(private readonly state: () => RunState) {}

  /** Reserves the call's worst case, or throws BudgetExceededError. Release with the returned id. */
  admit(spender: Spender, cost: CallCost): number {
    const current = this.state();
    const breach = findBreach(current, current.config.budgets, spender, cost, this.inFlight);
    if (breach) throw new BudgetExceededError(breach, spender);
    const id = this.nextId++;
    this.inFlight.push({ id, ...spender, cost });
    return id;
  }

  /** The call ended (its real cost is in the log now, or it failed). */
  release(id: number): void {
    const index = this.inFlight.findIndex((reservation) => reservation.id === id);
    if (index !== -1) this.inFlight.splice(index, 1);
  }
}
