// Human-readable lines for the terminal.
import type { EngineEvent } from '../shared/events';
import type { RunState, RunSummary } from '../shared/runState';

export function formatEvent(event: EngineEvent, options: { verbose?: boolean } = {}): string | undefined {
  const time = event.at.slice(11, 19);
  const line = (text: string): string => `${time} ${text}`;
  switch (event.type) {
    case 'run.created':
      return line(`run ${event.runId}: ${event.goal}`);
    case 'run.status':
      return line(`run ${event.status}${event.reason ? ` — ${event.reason}` : ''}`);
    case 'plan.accepted':
      return line(`plan: ${event.plan.summary}\n${event.plan.tasks.map((task) => `         ${task.id} [${task.role}] ${task.title}${task.dependsOn.length ? ` (after ${task.dependsOn.join(', ')})` : ''}`).join('\n')}`);
    case 'plan.rejected':
      return line(`plan rejected (attempt ${event.attempt}): ${event.errors.join('; ')}`);
    case 'task.status':
      return line(`${event.taskId} ${event.status}${event.reason ? ` — ${event.reason}` : ''}`);
    case 'step.started':
      return options.verbose ? line(`${event.stepId} started (${event.role}, ${event.model})`) : undefined;
    case 'step.finished':
      return options.verbose || !event.ok ? line(`${event.stepId} ${event.ok ? 'finished' : 'failed'}: ${event.summary}`) : undefined;
    case 'llm.call':
      return options.verbose ? line(`  model ${event.model} (${event.role}): ${event.inputTokens} in / ${event.outputTokens} out, ${event.latencyMs} ms, ${event.outcome}${event.error ? `: ${event.error}` : ''}`) : undefined;
    case 'tool.call':
      return options.verbose ? line(`  ${event.tool} ${event.input}`) : undefined;
    case 'tool.result':
      return options.verbose || !event.ok ? line(`  ${event.tool} ${event.ok ? '→' : 'failed:'} ${firstLine(event.output)}`) : undefined;
    case 'edit.proposed':
      return line(`${event.taskId} proposes: ${event.files.map((file) => `${file.path} (+${file.added} -${file.removed})`).join(', ')}`);
    case 'edit.decided':
      return line(`${event.taskId} edit ${event.accepted.length ? `accepted: ${event.accepted.join(', ')}` : 'rejected'}${event.rejected.length && event.accepted.length ? `; rejected: ${event.rejected.join(', ')}` : ''} (${event.by})`);
    case 'edit.applied':
      return line(`${event.taskId} applied ${event.files.map((file) => file.path).join(', ')}`);
    case 'test.started':
      return options.verbose ? line(`tests (${event.taskId ?? event.phase}): ${event.command}`) : undefined;
    case 'test.finished': {
      const report = event.report;
      return line(`tests (${event.taskId ?? event.phase}): ${report.passed} passed, ${report.failed} failed${report.problem ? ` — ${report.problem}` : ''}`);
    }
    case 'review.finished':
      return line(`${event.taskId} review: ${event.verdict.approved ? 'approved' : 'changes requested'} — ${event.verdict.summary}`);
    case 'artifact.written':
      return options.verbose ? line(`artifact ${event.name}`) : undefined;
    case 'task.updated':
      return line(`${event.taskId} edited: ${Object.keys(event.changes).join(', ')}`);
    case 'model.fallback':
      return line(`${event.taskId ?? event.role}: model ${event.from} failed (${event.reason}); trying ${event.to}`);
    case 'breaker.changed':
      return line(`provider ${event.key} ${event.state === 'open' ? `skipped until ${event.until ?? 'later'}` : 'back in use'}: ${event.reason}`);
    case 'budget.exceeded':
      return line(`budget: the ${event.scope} ${event.metric} cap (${event.limit}) would be exceeded by the next ${event.role} call; run ${event.action === 'pause' ? 'paused' : 'stopped'}`);
    case 'run.budgetsChanged':
      return line('budgets changed');
    case 'loop.detected':
      return line(`${event.taskId ?? 'run'} stopped a loop: ${event.detail} (${event.count} times)`);
    case 'checkpoint.created':
      return options.verbose ? line(`checkpoint ${event.checkpointId}: ${event.label}`) : undefined;
    case 'checkpoint.restored':
      return line(`rolled back to ${event.checkpointId}: ${event.restored.length} files restored, ${event.deleted.length} removed`);
    case 'git.branch':
      return line(`working on branch ${event.branch} (from ${event.base})`);
    case 'git.committed':
      return line(`${event.taskId} committed ${event.sha.slice(0, 8)}`);
    case 'step.replayed':
      return line(`replayed ${event.stepId} with ${event.model}: ${event.artifact} (${event.ok ? 'ok' : 'failed'}) — ${event.summary}`);
    case 'log':
      return event.level === 'info' && !options.verbose ? line(event.message) : line(`${event.level}: ${event.message}`);
  }
}

function firstLine(text: string): string {
  const first = text.split('\n')[0] ?? '';
  return first.length > 160 ? `${first.slice(0, 160)}…` : first;
}

export function formatRunList(runs: RunSummary[]): string {
  if (runs.length === 0) return 'No runs yet. Start one with: software-maker run "<goal>"\n';
  return runs
    .map((run) => `${run.id}  ${run.status.padEnd(17)} ${run.tasksDone}/${run.tasksTotal} tasks  ${run.usage.calls} calls  ${truncate(run.goal, 60)}`)
    .join('\n') + '\n';
}

export function formatRunDetail(state: RunState): string {
  const lines = [`Run ${state.id}: ${state.status}${state.statusReason ? ` — ${state.statusReason}` : ''}`, `Goal: ${state.goal}`, ''];
  for (const id of state.taskOrder) {
    const task = state.tasks[id]!;
    lines.push(`  ${task.id.padEnd(6)} ${task.status.padEnd(15)} ${task.role.padEnd(11)} ${task.title}${task.attempts > 1 ? ` (${task.attempts} attempts)` : ''}`);
  }
  lines.push('', `Model calls: ${state.usage.calls}, tokens ${state.usage.inputTokens} in / ${state.usage.outputTokens} out, $${state.usage.usd.toFixed(4)}`);
  return lines.join('\n') + '\n';
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
