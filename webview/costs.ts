// The cost meter's figures: per-role totals and the tooltip. The amounts' wording is the shared one
// (src/shared/wording.ts: "unknown cost" is never $0). Pure (no DOM) so it is tested in Node.
import type { Role, Usage } from '../src/shared/model';
import { ROLES } from '../src/shared/model';
import { usageText } from '../src/shared/wording';

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
