// How costs, budgets, errors and events read to a person: one wording for the panel, the terminal
// and the Output channel, which differ only by the options they pass. A call of a model without a
// price is "unknown cost", never $0: the USD figures cover the priced calls only and say so. Pure
// (no DOM, no Node), so the webview uses it too.
import type { EngineEvent, EngineEventOf } from './events';
import type { ApprovalSubject, BudgetBreach, Budgets, Cap, Role, Usage } from './model';
import { SEVERITIES, type AuditOutcome, type SecurityFinding } from './security';

/** The message of anything thrown. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// ---- amounts ------------------------------------------------------------------------------------

/** "$0.0123"; "$0.00045" under a cent; "$12.50" from a dollar on; "unknown cost" without a price. */
export function formatUsd(usd: number | undefined): string {
  if (usd === undefined || !Number.isFinite(usd)) return 'unknown cost';
  return `$${usd < 0.01 && usd > 0 ? usd.toPrecision(2) : usd.toFixed(usd < 1 ? 4 : 2)}`;
}

/** "1,234" below 10k, "12.3k", "123k", "1.2M". */
export function formatTokens(tokens: number): string {
  if (tokens < 10_000) return tokens.toLocaleString('en-US');
  if (tokens < 1_000_000) return `${(tokens / 1000).toFixed(tokens < 100_000 ? 1 : 0)}k`;
  return `${(tokens / 1_000_000).toFixed(1)}M`;
}

/** An amount of a cap's metric: "$5.00", "12.3k tokens"; a worst case that cannot be known says so. */
export function amountText(metric: 'usd' | 'tokens', value: number): string {
  if (!Number.isFinite(value)) return 'an unknown amount (the model has no price)';
  return metric === 'usd' ? formatUsd(value) : `${formatTokens(Math.round(value))} tokens`;
}

export interface CostTextOptions {
  /** Say why the cost is unknown (tooltips): "(no price for the model)", "(2 calls of a model without a price)". */
  explain?: boolean;
}

/** The USD part of a usage: "$0.0123"; "$0.0123 + unknown cost" when some calls had no price; "unknown cost" when all had none. */
export function costText(usage: Usage, options: CostTextOptions = {}): string {
  const unpriced = usage.unpricedCalls ?? 0;
  if (unpriced === 0) return formatUsd(usage.usd);
  if (unpriced >= usage.calls) return options.explain ? 'unknown cost (no price for the model)' : 'unknown cost';
  return `${formatUsd(usage.usd)} + unknown cost${options.explain ? ` (${unpriced} call${unpriced === 1 ? '' : 's'} of a model without a price)` : ''}`;
}

export interface UsageTextOptions extends CostTextOptions {
  /** `total`: "3 model calls · 1,234 tokens (200 cached) · …"; `inOut` (default): "3 calls · 1,234 in / 340 out · …". */
  tokens?: 'total' | 'inOut';
}

/** Calls, tokens and cost of a usage in one line. */
export function usageText(usage: Usage, options: UsageTextOptions = {}): string {
  const calls = (noun: string): string => `${usage.calls} ${noun}${usage.calls === 1 ? '' : 's'}`;
  if (options.tokens === 'total') {
    const cached = usage.cachedInputTokens > 0 ? ` (${formatTokens(usage.cachedInputTokens)} cached)` : '';
    return `${calls('model call')} · ${formatTokens(usage.inputTokens + usage.outputTokens)} tokens${cached} · ${costText(usage, options)}`;
  }
  return `${calls('call')} · ${formatTokens(usage.inputTokens)} in / ${formatTokens(usage.outputTokens)} out · ${costText(usage, options)}`;
}

/** "12.3k tok · $0.012" for a narrow place (a tree item); "+?" marks calls of unknown cost. Undefined before the first call. */
export function compactUsage(usage: Usage): string | undefined {
  if (usage.calls === 0) return undefined;
  const unpriced = usage.unpricedCalls ?? 0;
  const cost = unpriced >= usage.calls ? 'unknown cost' : `${formatUsd(usage.usd)}${unpriced > 0 ? '+?' : ''}`;
  return `${formatTokens(usage.inputTokens + usage.outputTokens)} tok · ${cost}`;
}

/** The cost of one llm.call event. */
export function callCostText(call: Pick<EngineEventOf<'llm.call'>, 'usd' | 'priced'>): string {
  return call.priced === false ? 'unknown cost' : formatUsd(call.usd);
}

// ---- budgets ------------------------------------------------------------------------------------

function capText(cap: Cap): string {
  return [cap.usd !== undefined ? formatUsd(cap.usd) : undefined, cap.tokens !== undefined ? `${formatTokens(cap.tokens)} tokens` : undefined].filter(Boolean).join(' and ');
}

/** Every cap in words: "run $5.00 · each task 200k tokens · reviewer $1.00 (pause when reached)"; "no caps". */
export function budgetsText(budgets: Budgets): string {
  const parts: string[] = [];
  if (budgets.run && capText(budgets.run)) parts.push(`run ${capText(budgets.run)}`);
  if (budgets.task && capText(budgets.task)) parts.push(`each task ${capText(budgets.task)}`);
  for (const [role, cap] of Object.entries(budgets.roles ?? {}) as [Role, Cap][]) if (capText(cap)) parts.push(`${role} ${capText(cap)}`);
  if (parts.length === 0) return 'no caps';
  return `${parts.join(' · ')} (${budgets.onExceed === 'stop' ? 'stop' : 'pause'} when reached)`;
}

/** Whose cap it is: "the run", "task t1", "the reviewer role". */
export function capOwnerText(breach: Pick<BudgetBreach, 'scope' | 'key'>): string {
  return breach.scope === 'run' ? 'the run' : breach.scope === 'task' ? `task ${breach.key}` : `the ${breach.key} role`;
}

/**
 * What a breach was, in a sentence: "The cost cap of the run ($5.00) would be exceeded: $4.98 used,
 * the next implementer call may take up to $0.0500." A call of unknown cost under a USD cap says
 * that no amount could be promised. Surfaces add what the user can do about it.
 */
export function describeBreach(breach: BudgetBreach & { role?: Role }): string {
  const cap = `${breach.metric === 'usd' ? 'cost' : 'token'} cap of ${capOwnerText(breach)} (${amountText(breach.metric, breach.limit)})`;
  const call = `the next ${breach.role ? `${breach.role} ` : ''}call`;
  if (breach.metric === 'usd' && !Number.isFinite(breach.estimate)) {
    return `The ${cap} cannot be kept: ${call} goes to a model without a price, so its cost is unknown (${amountText('usd', breach.used)} used).`;
  }
  return `The ${cap} would be exceeded: ${amountText(breach.metric, breach.used)} used, ${call} may take up to ${amountText(breach.metric, breach.estimate)}.`;
}

/** Signature prefix (task.status failed) of the user's rejection: it is a request to the agent, not a failure. */
export const USER_REJECTED = 'rejected-by-user';

/** A task.status event that sends the task back because the user rejected (part of) its edit. */
export function isUserRejection(event: { status: string; signature?: string }): boolean {
  return event.status === 'failed' && (event.signature?.startsWith(`${USER_REJECTED}:`) ?? false);
}

/**
 * The baseline in words: its failures were there before the run changed anything, and are not
 * blamed on tasks ("3 passed, 2 failed — failing before any change, not blamed on tasks").
 */
export function baselineText(report: { passed: number; failed: number; ok: boolean; problem?: string }): string {
  const counts = `${report.passed} passed, ${report.failed} failed`;
  if (report.ok) return `${counts} — all pass before any change`;
  return `${counts}${report.problem ? ` (${report.problem})` : ''} — already failing before any change; not blamed on tasks`;
}

// ---- security -----------------------------------------------------------------------------------

/** One finding in a line: "high · AWS access key id in src/config.ts:3: AKIA…LE (20 chars)"; "high · tiny-template <1.2.5: Prototype pollution (fix: tiny-template@1.2.5)". */
export function securityFindingText(finding: SecurityFinding): string {
  if (finding.kind === 'secret') return `${finding.severity} · ${finding.title} in ${finding.path}:${finding.line}: ${finding.masked}${finding.note ? ` (${finding.note})` : ''}`;
  const fix = finding.fixAvailable === false ? 'no fix available' : finding.fixAvailable === true ? 'fix available' : `fix: ${finding.fixAvailable}`;
  return `${finding.severity} · ${finding.package}${finding.range ? ` ${finding.range}` : ''}: ${finding.titles.join('; ') || 'vulnerable'} (${fix})`;
}

/** How the dependency audit went; a failed audit says so, never "no findings". */
export function auditOutcomeText(audit: AuditOutcome): string {
  switch (audit.status) {
    case 'ok': {
      const counts = SEVERITIES.filter((severity) => audit.counts[severity]).map((severity) => `${audit.counts[severity]} ${severity}`);
      return `${audit.manager} audit: ${counts.length ? counts.join(', ') : 'no known vulnerabilities'}`;
    }
    case 'skipped':
      return `audit skipped: ${audit.reason}`;
    case 'failed':
      return `${audit.manager} audit could not run: ${audit.reason}`;
  }
}

/** "security gate (round 1): 3 findings, 1 at or above high · npm audit: 1 high". */
export function securityGateText(gate: Pick<EngineEventOf<'security.scanned'>, 'round' | 'mode' | 'threshold' | 'files' | 'findings' | 'audit' | 'blocking' | 'omitted'>): string {
  const found = gate.findings.length + (gate.omitted ?? 0);
  const summary = found
    ? `${found} finding${found === 1 ? '' : 's'}, ${gate.blocking} at or above ${gate.threshold}${gate.blocking && gate.mode === 'warn' ? ' (warn only)' : ''}`
    : `no findings in ${gate.files} changed file${gate.files === 1 ? '' : 's'}`;
  return `security gate (round ${gate.round}): ${summary} · ${auditOutcomeText(gate.audit)}`;
}

// ---- events -------------------------------------------------------------------------------------

/** How much a person following a run wants an event: `debug` lines are for verbose views only. */
export type EventLevel = 'debug' | 'info' | 'warn' | 'error';

export interface EventLine {
  level: EventLevel;
  text: string;
}

export interface EventTextOptions {
  /** Name the event's task first ("t1 done"), for a view without a task column (terminal, Output channel). */
  withTask?: boolean;
  /** One short line: whitespace flattened and long texts clipped (the panel's log rows). Else the whole text, a plan with a line per task. */
  short?: boolean;
}

function flat(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

function firstLine(text: string, max: number): string {
  const first = text.trim().split('\n')[0] ?? '';
  return first.length > max ? `${first.slice(0, max - 1)}…` : first;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

// Characters that change how a line reads without showing themselves: controls (a terminal acts on
// escapes and carriage returns), bidirectional overrides and zero-width characters.
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

/** Text as it must be approved: every invisible or control character written as an escape (a newline as a backslash and n). */
export function visibleControls(text: string): string {
  return text.replace(INVISIBLE, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** What an approval is about, the command verbatim: "run `npm test` in packages/a — why: …". */
export function approvalSubjectText(subject: ApprovalSubject, options: { short?: boolean } = {}): string {
  const clip = (text: string, max: number): string => (options.short ? flat(text, max) : text);
  switch (subject.kind) {
    case 'command':
      return `run \`${subject.command}\`${subject.cwd ? ` in ${subject.cwd}` : ''} — why: ${clip(subject.reason, 120)}`;
    case 'mcp':
      return `call ${subject.server}/${subject.tool}(${clip(subject.input, 120)})${subject.reason ? ` — why: ${clip(subject.reason, 120)}` : ''}`;
    case 'deploy':
      return `deploy with \`${subject.command}\``;
  }
}

/**
 * The line an event reads as, and how much it matters. Every event type has one: the switch is
 * exhaustive, so a new event type does not compile until it is worded here.
 */
export function describeEvent(event: EngineEvent, options: EventTextOptions = {}): EventLine {
  // Free text (goals, reasons, summaries) is clipped only in short lines; tool payloads always are.
  const free = (text: string, max = 160): string => (options.short ? flat(text, max) : text);
  const task = (taskId: string | undefined): string => (options.withTask && taskId ? `${taskId} ` : '');
  const line = (level: EventLevel, text: string): EventLine => ({ level, text });
  switch (event.type) {
    case 'run.created':
      return line('info', `run ${event.runId} created: ${free(event.goal)}`);
    case 'run.status': {
      const level = event.status === 'failed' ? 'error' : event.status === 'stopped_budget' ? 'warn' : 'info';
      return line(level, `run ${event.status}${event.reason ? ` — ${free(event.reason, 100)}` : ''}`);
    }
    case 'plan.accepted': {
      const { tasks, summary } = event.plan;
      const head = `plan accepted (${tasks.length} task${tasks.length === 1 ? '' : 's'}${event.repairs ? `, ${event.repairs} repair${event.repairs === 1 ? '' : 's'}` : ''}): ${free(summary, 120)}`;
      if (options.short) return line('info', head);
      const rows = tasks.map((t) => `  ${t.id} [${t.role}] ${t.title}${t.dependsOn.length ? ` (after ${t.dependsOn.join(', ')})` : ''}`);
      return line('info', [head, ...rows].join('\n'));
    }
    case 'plan.rejected':
      return line('warn', `plan rejected (attempt ${event.attempt}): ${free(event.errors.join('; '))}`);
    case 'task.status': {
      if (isUserRejection(event)) return line('info', `${task(event.taskId)}sent back to the agent${event.reason ? ` — ${free(event.reason, 100)}` : ''}`);
      const level = event.status === 'failed' || event.status === 'dead_letter' ? 'warn' : 'info';
      return line(level, `${task(event.taskId)}${event.status}${event.reason ? ` — ${free(event.reason, 100)}` : ''}`);
    }
    case 'task.updated': {
      const { model, ...definition } = event.changes;
      const fields = Object.keys(definition);
      return line('info', `${task(event.taskId)}edited: ${[...fields, ...(model !== undefined ? [`model → ${model}`] : [])].join(', ') || 'nothing'}`);
    }
    // Step ids name their task (t1:implement@v2): no task prefix.
    case 'step.started':
      return line('debug', `${event.role} step ${event.stepId} started (attempt ${event.attempt}, ${event.model}${event.replayOf ? `, replay of ${event.replayOf}` : ''})`);
    case 'step.finished':
      return line(event.ok ? 'debug' : 'warn', `${event.role} step ${event.stepId} ${event.ok ? 'finished' : 'failed'}: ${free(event.summary, 120)}`);
    case 'llm.call': {
      const who = `${task(event.taskId)}${event.role} ${event.model} (${event.provider})${event.fallbackFrom ? ` (fallback from "${event.fallbackFrom}")` : ''}`;
      if (event.outcome === 'ok') return line('debug', `${who}: ${event.inputTokens} in / ${event.outputTokens} out tokens, ${callCostText(event)}, ${seconds(event.latencyMs)}`);
      if (event.outcome === 'aborted') return line('debug', `${who} call aborted after ${seconds(event.latencyMs)}`);
      return line('warn', `${who} failed after ${seconds(event.latencyMs)}: ${event.error ? free(event.error, 120) : 'unknown error'}`);
    }
    case 'model.fallback':
      return line('warn', `${task(event.taskId)}${event.role}: model "${event.from}" failed (${free(event.reason, 100)}); falling over to "${event.to}".`);
    case 'breaker.changed':
      return event.state === 'open'
        ? line('warn', `circuit breaker for ${event.key} opened: ${free(event.reason, 100)}. Calls skip it${event.until ? ` until ${new Date(event.until).toLocaleTimeString()}` : ''}, then one call tries it again.`)
        : line('info', `circuit breaker for ${event.key} closed: ${free(event.reason, 100)}.`);
    case 'budget.exceeded':
      return line('warn', `budget reached: ${describeBreach(event)} The run ${event.action === 'stop' ? 'stops' : 'pauses'}.`);
    case 'run.budgetsChanged':
      return line('info', `budgets changed: ${budgetsText(event.budgets)}`);
    case 'loop.detected':
      return line('warn', `${task(event.taskId)}loop stopped (${event.kind}, ${event.count} times): ${free(event.detail, 120)}`);
    case 'tool.call':
      return line('debug', `${task(event.taskId)}${event.tool}(${flat(event.input, 120)})`);
    case 'tool.result':
      // A failed tool call is what the agent reacts to next: worth a line outside verbose views.
      return line(event.ok ? 'debug' : 'info', `${task(event.taskId)}${event.tool} ${event.ok ? 'ok' : 'failed'}: ${firstLine(event.output, 160)}`);
    case 'edit.proposed':
      return line('info', `${task(event.taskId)}proposes: ${free(event.files.map((file) => `${file.path} (+${file.added} -${file.removed})`).join(', '))}`);
    case 'edit.decided': {
      const accepted = event.accepted.length ? `accepted: ${event.accepted.join(', ')}` : 'rejected';
      const rejected = event.accepted.length && event.rejected.length ? `; rejected: ${event.rejected.join(', ')}` : '';
      return line('info', `${task(event.taskId)}edit ${free(accepted + rejected)} (by ${event.by})`);
    }
    case 'edit.applied':
      return line('info', `${task(event.taskId)}applied ${free(event.files.map((file) => file.path).join(', '))}`);
    // The scope in parentheses names the task: no task prefix.
    case 'test.started':
      return line('debug', `tests (${event.taskId ?? event.phase}) started: ${free(event.command, 120)}`);
    case 'test.finished': {
      const r = event.report;
      if (event.phase === 'baseline') return line('info', `baseline tests (before any change): ${baselineText(r)}`);
      return line('info', `tests (${event.taskId ?? event.phase}): ${r.passed} passed, ${r.failed} failed${r.skipped ? `, ${r.skipped} skipped` : ''}${r.timedOut ? ', timed out' : ''}${r.problem ? ` — ${free(r.problem, 100)}` : ''}`);
    }
    case 'review.finished':
      return line('info', `${task(event.taskId)}review ${event.verdict.approved ? 'approved' : 'requested changes'}: ${free(event.verdict.summary, 120)}`);
    case 'artifact.written':
      return line('debug', `${task(event.taskId)}artifact ${event.name}`);
    case 'checkpoint.created':
      return line('debug', `${task(event.taskId)}checkpoint ${event.checkpointId}: ${free(event.label, 100)}`);
    case 'checkpoint.restored':
      return line('info', `rolled back to ${event.checkpointId}: ${event.restored.length} files restored, ${event.deleted.length} removed`);
    case 'git.branch':
      return line('info', `working on branch ${event.branch} (from ${event.base})`);
    case 'git.committed':
      return line('info', `${task(event.taskId)}committed ${event.sha.slice(0, 8)}: ${free(event.message, 100)}`);
    case 'step.replayed':
      return line('info', `replayed ${event.stepId} with ${event.model}: ${event.artifact} (${event.ok ? 'ok' : 'failed'}) — ${free(event.summary, 120)}`);
    case 'webtest.planned':
      return line('info', `${task(event.taskId)}web flows: ${free(event.flows.map((flow) => `"${flow.name}" (${flow.steps.length} step${flow.steps.length === 1 ? '' : 's'})`).join(', '))}`);
    case 'webtest.flow': {
      const r = event.result;
      const shots = r.screenshots.length ? ` [${r.screenshots.length} screenshot${r.screenshots.length === 1 ? '' : 's'}]` : '';
      return r.ok
        ? line('info', `${task(event.taskId)}web flow "${free(r.flow, 80)}" passed${shots}`)
        : line('warn', `${task(event.taskId)}web flow "${free(r.flow, 80)}" failed: ${free(r.error ?? 'unknown', 160)}${shots}`);
    }
    case 'agent.text':
      return line('debug', `${task(event.taskId)}${event.role} says: ${free(event.text, 160)}${event.truncated ? ` [${event.truncated} more characters not kept]` : ''}`);
    case 'user.message':
      return line('info', `${task(event.taskId)}you wrote: ${free(event.text, 160)}${event.files?.length ? ` (files: ${event.files.join(', ')})` : ''}${event.images?.length ? ` (${event.images.length} image${event.images.length === 1 ? '' : 's'})` : ''}`);
    case 'user.delivered':
      return line('debug', `your message (event ${event.messageSeq}) reached ${event.stepId}`);
    case 'approval.requested':
      return line('info', `${task(event.taskId)}${event.role} asks to ${approvalSubjectText(event.subject, { short: options.short })}`);
    case 'approval.decided':
      return line(
        event.approved ? 'info' : 'warn',
        `${task(event.taskId)}${event.approved ? 'approved' : 'denied'} ${event.by === 'rule' ? `by rule${event.rule ? ` ${event.rule}` : ''}` : 'by you'}${event.reason ? ` — ${free(event.reason, 120)}` : ''}`,
      );
    case 'command.started':
      return line('info', `${task(event.taskId)}$ ${free(event.command, 160)}${event.cwd ? ` (in ${event.cwd})` : ''}`);
    case 'command.finished': {
      const how = event.timedOut ? 'timed out' : event.exitCode === null ? `stopped${event.signal ? ` (${event.signal})` : ''}` : `exit ${event.exitCode}`;
      const head = `${task(event.taskId)}command ${how} after ${seconds(event.durationMs)}${event.truncated ? ' (output cut to head and tail)' : ''}`;
      const output = event.output.trim();
      if (options.short) return line(event.exitCode === 0 ? 'info' : 'warn', output ? `${head}: ${firstLine(output, 120)}` : head);
      return line(event.exitCode === 0 ? 'info' : 'warn', output ? `${head}\n${output}` : head);
    }
    case 'mcp.server':
      return event.status === 'connected'
        ? line('info', `MCP server ${event.server} (${event.transport}) connected: ${event.tools?.length ? `${event.tools.length} tool${event.tools.length === 1 ? '' : 's'} (${free(event.tools.join(', '), 160)})` : 'no tools offered'}${event.error ? `; ${free(event.error, 160)}` : ''}`)
        : line('warn', `MCP server ${event.server} (${event.transport}) unavailable, the run goes on without it: ${free(event.error ?? 'unknown error', 240)}`);
    case 'rules.loaded':
      return line(
        'info',
        `rules files used (${event.limit.toLocaleString('en-US')} characters at most): ${event.files
          .map((file) => (file.skipped ? `${file.path} skipped (${free(file.skipped, 80)})` : `${file.path} ${file.chars.toLocaleString('en-US')} chars${file.included < file.chars ? `, ${file.included.toLocaleString('en-US')} included (truncated)` : ''}`))
          .join('; ')}`,
      );
    case 'security.scanned': {
      const head = securityGateText(event);
      const level = event.blocking > 0 ? (event.mode === 'enforce' ? 'error' : 'warn') : event.findings.length || event.audit.status === 'failed' ? 'warn' : 'info';
      if (options.short) return line(level, head);
      return line(level, [head, ...event.findings.map((finding) => `  ${securityFindingText(finding)}`)].join('\n'));
    }
    case 'task.added':
      return line('info', `task ${event.task.id} [${event.task.role}] added by the ${event.by}: ${free(event.task.title, 120)}`);
    case 'log':
      return line(event.level, `${task(event.taskId)}${event.level === 'info' ? '' : `${event.level}: `}${free(event.message)}`);
    default: {
      // Unreachable for the events this build knows; a newer log's event still reads as something.
      const unknown: never = event;
      return line('info', `${String((unknown as { type?: unknown }).type)} event`);
    }
  }
}
