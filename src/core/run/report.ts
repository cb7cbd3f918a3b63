// Markdown artifacts a human reads: the plan and the final report of a run.
import type { Plan } from '../../shared/model';
import type { RunState } from '../../shared/runState';

export function renderPlan(plan: Plan): string {
  const lines = ['# Plan', '', plan.summary, ''];
  for (const task of plan.tasks) {
    lines.push(`## ${task.id}: ${task.title}`, '', `Role: ${task.role}`);
    if (task.dependsOn.length) lines.push(`Depends on: ${task.dependsOn.join(', ')}`);
    if (task.files.length) lines.push(`Files: ${task.files.join(', ')}`);
    lines.push('', task.description, '', 'Acceptance:', ...task.acceptance.map((criterion) => `- [ ] ${criterion}`), '');
  }
  return lines.join('\n');
}

export function renderReport(state: RunState): string {
  const lines = [
    `# Run ${state.id}`,
    '',
    `Goal: ${state.goal}`,
    '',
    `Status: **${state.status}**${state.statusReason ? ` (${state.statusReason})` : ''}`,
    `Started ${state.createdAt}, last change ${state.updatedAt}.`,
    '',
    '| Task | Role | Status | Attempts | Note |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const id of state.taskOrder) {
    const task = state.tasks[id]!;
    lines.push(`| ${task.id}: ${escapeCell(task.title)} | ${task.role} | ${task.status} | ${task.attempts} | ${escapeCell(task.statusReason ?? '')} |`);
  }
  const usage = state.usage;
  lines.push('', `Model calls: ${usage.calls}; tokens in ${usage.inputTokens} (cached ${usage.cachedInputTokens}), out ${usage.outputTokens}; cost $${usage.usd.toFixed(4)}.`);
  if (state.baselineTest) lines.push(`Tests before: ${state.baselineTest.passed} passed, ${state.baselineTest.failed} failed.`);
  if (state.finalTest) lines.push(`Tests after: ${state.finalTest.passed} passed, ${state.finalTest.failed} failed${state.finalTest.ok ? '' : ` (${state.finalTest.problem ?? 'not ok'})`}.`);
  return lines.join('\n') + '\n';
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ').slice(0, 200);
}
