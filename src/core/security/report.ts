// The security gate's artifacts: security.md for people, security.json for tools. Both are rendered
// from the folded state (every gate round and the tasks it added), so a resumed run writes the same.
import type { RunState, SecurityGateRound } from '../../shared/runState';
import { SEVERITIES } from '../../shared/security';
import { auditOutcomeText, securityFindingText, securityGateText } from '../../shared/wording';

export function renderSecurityReport(state: RunState): string {
  const rounds = state.security?.rounds ?? [];
  const lines = [`# Security gate of run ${state.id}`, ''];
  const last = rounds.at(-1);
  if (!last) return [...lines, 'The gate has not run.', ''].join('\n');
  lines.push(`Now: ${securityGateText(last)}`, '', `Mode: ${last.mode}; threshold: ${last.threshold}. Only the lines the run added are scanned; values are masked, and the fingerprint tells findings apart without revealing them.`, '');
  const fixTasks = state.security?.fixTasks ?? [];
  if (fixTasks.length) lines.push(`Security tasks added: ${fixTasks.map((id) => `${id} (${state.tasks[id]?.status ?? 'unknown'})`).join(', ')}.`, '');
  for (const round of [...rounds].reverse()) lines.push(...renderRound(round));
  return lines.join('\n');
}

function renderRound(round: SecurityGateRound): string[] {
  const lines = [`## Round ${round.round} (${round.at})`, '', `${round.files} changed file${round.files === 1 ? '' : 's'} scanned; ${round.blocking} finding${round.blocking === 1 ? '' : 's'} at or above ${round.threshold}.`, '', '### Secrets', ''];
  const secrets = sortBySeverity(round.findings.filter((finding) => finding.kind === 'secret'));
  const dependencies = sortBySeverity(round.findings.filter((finding) => finding.kind === 'dependency'));
  if (secrets.length === 0) lines.push('None in the lines the run added.', '');
  else {
    lines.push('| Severity | What | Where | Masked | Fingerprint |', '| --- | --- | --- | --- | --- |');
    for (const finding of secrets) lines.push(`| ${finding.severity} | ${finding.title}${finding.note ? ` (${finding.note})` : ''} | ${finding.path}:${finding.line} | \`${finding.masked}\` | ${finding.fingerprint} |`);
    lines.push('');
  }
  lines.push('### Dependencies', '', `${auditOutcomeText(round.audit)}.`, '');
  if (round.audit.status !== 'skipped') lines.push(`Command: \`${round.audit.command}\``, '');
  for (const finding of dependencies) lines.push(`- ${securityFindingText(finding)}${finding.urls.length ? ` — ${finding.urls.join(', ')}` : ''}`);
  if (dependencies.length) lines.push('');
  if (round.omitted) lines.push(`${round.omitted} less severe finding${round.omitted === 1 ? ' was' : 's were'} not recorded (only the first 200 are kept).`, '');
  return lines;
}

export function renderSecurityJson(state: RunState): string {
  return JSON.stringify({ runId: state.id, rounds: state.security?.rounds ?? [], fixTasks: state.security?.fixTasks ?? [] }, null, 2) + '\n';
}

function sortBySeverity<T extends { severity: (typeof SEVERITIES)[number] }>(findings: readonly T[]): T[] {
  return [...findings].sort((a, b) => SEVERITIES.indexOf(b.severity) - SEVERITIES.indexOf(a.severity));
}
