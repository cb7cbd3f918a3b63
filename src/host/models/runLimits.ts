// The budget, timeout and loop settings (`softwareMaker.budgets`, `.timeouts`, `.loopThreshold`)
// mapped to RunConfig fields: names and units only (seconds → ms). Whether a value is acceptable is
// decided by the JSON schema in package.json (the Settings UI) and by resolveRunConfig's zod check,
// which names the field that is wrong. No vscode import: the unit tests map plain objects.
import { DEFAULT_RUN_CONFIG } from '../../core/config';
import type { Budgets, RunConfig } from '../../shared/model';

/** `softwareMaker.budgets` → RunConfig.budgets; undefined when the setting is absent or not an object. */
export function budgetsFromSetting(value: unknown): Budgets | undefined {
  if (!isRecord(value)) return undefined;
  const budgets: Record<string, unknown> = { ...value };
  // The default action when only caps are set; an explicit value passes through (zod checks it).
  budgets.onExceed ??= DEFAULT_RUN_CONFIG.budgets.onExceed;
  // Empty caps ({} from a half-edited setting) mean "no cap", not an error.
  for (const scope of ['run', 'task'] as const) if (isRecord(budgets[scope]) && Object.keys(budgets[scope]).length === 0) delete budgets[scope];
  if (isRecord(budgets.roles)) {
    const roles = Object.fromEntries(Object.entries(budgets.roles).filter(([, cap]) => !(isRecord(cap) && Object.keys(cap).length === 0)));
    if (Object.keys(roles).length === 0) delete budgets.roles;
    else budgets.roles = roles;
  }
  return budgets as unknown as Budgets;
}

/** `softwareMaker.timeouts` ({firstTokenSeconds, totalSeconds}) → RunConfig.timeouts in ms, the defaults filling a missing half. */
export function timeoutsFromSetting(value: unknown): RunConfig['timeouts'] | undefined {
  if (!isRecord(value)) return undefined;
  const seconds = (key: string): number | undefined => (typeof value[key] === 'number' && Number.isFinite(value[key]) ? Math.round(value[key] * 1000) : undefined);
  const firstTokenMs = seconds('firstTokenSeconds');
  const totalMs = seconds('totalSeconds');
  if (firstTokenMs === undefined && totalMs === undefined) return undefined;
  return { firstTokenMs: firstTokenMs ?? DEFAULT_RUN_CONFIG.timeouts.firstTokenMs, totalMs: totalMs ?? DEFAULT_RUN_CONFIG.timeouts.totalMs };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
