// Plan schema and graph validation. A plan that is not a DAG of known roles with existing
// dependencies never reaches the scheduler; the errors name the task so the planner can repair it.
import { z } from 'zod';
import { TASK_ROLES, type Plan } from '../../shared/model';
import { isReservedKey } from '../../shared/runState';

export const planTaskSchema = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9_.-]{1,40}$/, 'task ids are 1-40 letters, digits, "_", "-" or "."'),
    title: z.string().min(1).max(200),
    description: z.string().min(1).max(10_000),
    role: z.string().describe(`one of: ${TASK_ROLES.join(', ')}`),
    dependsOn: z.array(z.string()).default([]),
    acceptance: z.array(z.string().min(1)).min(1, 'give at least one acceptance criterion'),
    files: z.array(z.string().min(1)).default([]).describe('workspace-relative paths or globs this task may change'),
  })
  .strict();

export const planSchema = z
  .object({
    summary: z.string().min(1).max(5000),
    tasks: z.array(planTaskSchema).min(1, 'a plan needs at least one task').max(50),
  })
  .strict();

/** Checks what the schema cannot: unique, unreserved ids, known roles, existing dependencies, no cycles. */
export function validatePlanGraph(plan: z.infer<typeof planSchema>): string[] {
  const errors: string[] = [];
  const ids = new Set<string>();
  for (const task of plan.tasks) {
    if (isReservedKey(task.id)) errors.push(`Task "${task.id}": the id "${task.id}" is reserved (every JavaScript object has it); give the task another id, such as t1.`);
    if (ids.has(task.id)) errors.push(`Task "${task.id}" appears twice; task ids must be unique.`);
    ids.add(task.id);
    if (!(TASK_ROLES as readonly string[]).includes(task.role)) {
      errors.push(`Task "${task.id}" has unknown role "${task.role}"; use one of ${TASK_ROLES.join(', ')}.`);
    }
  }
  for (const task of plan.tasks) {
    for (const dep of task.dependsOn) {
      if (dep === task.id) errors.push(`Task "${task.id}" depends on itself.`);
      else if (!ids.has(dep)) errors.push(`Task "${task.id}" depends on "${dep}", which is not in the plan.`);
    }
  }
  const cycle = findCycle(plan.tasks);
  if (cycle) errors.push(`Tasks form a dependency cycle: ${cycle.join(' -> ')}.`);
  return errors;
}

function findCycle(tasks: { id: string; dependsOn: string[] }[]): string[] | undefined {
  const deps = new Map(tasks.map((task) => [task.id, task.dependsOn]));
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const visit = (id: string): string[] | undefined => {
    if (state.get(id) === 'done' || !deps.has(id)) return undefined;
    if (state.get(id) === 'visiting') return [...path.slice(path.indexOf(id)), id];
    state.set(id, 'visiting');
    path.push(id);
    for (const dep of deps.get(id) ?? []) {
      if (dep === id) continue;
      const found = visit(dep);
      if (found) return found;
    }
    path.pop();
    state.set(id, 'done');
    return undefined;
  };
  for (const task of tasks) {
    const found = visit(task.id);
    if (found) return found;
  }
  return undefined;
}

export type PlanCheck = { ok: true; plan: Plan } | { ok: false; errors: string[] };

/** Full check of untrusted planner output. */
export function checkPlan(input: unknown): PlanCheck {
  const parsed = planSchema.safeParse(input);
  if (!parsed.success) {
    return {
      ok: false,
      errors: parsed.error.issues.map((issue) => {
        const where = describePath(input, issue.path);
        return `${where}: ${issue.message}`;
      }),
    };
  }
  const errors = validatePlanGraph(parsed.data);
  if (errors.length) return { ok: false, errors };
  return { ok: true, plan: parsed.data as Plan };
}

function describePath(input: unknown, path: PropertyKey[]): string {
  if (path[0] === 'tasks' && typeof path[1] === 'number') {
    const tasks = (input as { tasks?: { id?: unknown }[] } | undefined)?.tasks;
    const id = tasks?.[path[1]]?.id;
    const label = typeof id === 'string' ? `Task "${id}"` : `Task #${path[1] + 1}`;
    return path.length > 2 ? `${label} field ${path.slice(2).join('.')}` : label;
  }
  return path.length ? `Plan field ${path.join('.')}` : 'Plan';
}
