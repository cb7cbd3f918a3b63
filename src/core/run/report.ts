// Markdown artifacts a human reads: the plan and the final report of a run.
import type { Plan } from '../../shared/model';
import type { RunState } from '../../shared/runState';
import { costText, securityGateText } from '../../shared/wording';

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
  lines.push('', `Model calls: ${usage.calls}; tokens in ${usage.inputTokens} (cached ${usage.cachedInputTokens}), out ${usage.outputTokens}; cost ${costText(usage)}.`);
  if (state.baselineTest) lines.push(`Tests before: ${state.baselineTest.passed} passed, ${state.baselineTest.failed} failed.`);
  const security = state.security?.rounds.at(-1);
  if (security) lines.push(`Security: ${securityGateText(security)} (security.md).`);
  for (const id of state.taskOrder) {
    const web = state.tasks[id]!.webResults;
    if (!web) continue;
    lines.push('', `Web flows of ${id} (attempt ${web.attempt}):`);
    for (const result of web.results) {
      lines.push(`- ${result.ok ? 'passed' : 'FAILED'}: ${escapeCell(result.flow)}${result.error ? ` — ${escapeCell(result.error)}` : ''}${result.screenshots.map((shot) => ` [${shot.name}](${shot.artifact})`).join('')}`);
    }
  }
  if (state.finalTest) lines.push(`Tests after: ${state.finalTest.passed} passed, ${state.finalTest.failed} failed${state.finalTest.ok ? '' : ` (${state.finalTest.problem ?? 'not ok'})`}.`);
  return lines.join('\n') + '\n';
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ').slice(0, 200);
}
