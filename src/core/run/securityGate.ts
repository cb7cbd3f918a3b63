// The security gate of a run, after its tasks and before the final tests: the lines the run's edits
// added are scanned for secrets and the package manager's audit runs (through the host's
// CommandRunner: the gate is the engine's own, not a model's proposal, so it asks no approval; the
// runner gives it childEnvironment(), and no run exists in an untrusted workspace). In enforce mode,
// findings at or above the threshold become a security task added to the plan (task.added); the
// driver runs it and the gate again, at most `maxRounds` times. The result is security.md/.json.
import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PlanTask } from '../../shared/model';
import { atOrAbove, SEVERITIES, type AuditFinding, type AuditOutcome, type SecurityFinding, type Severity } from '../../shared/security';
import { messageOf } from '../../shared/wording';
import { parseAuditOutput, planAudit, shellQuote } from '../security/audit';
import { renderSecurityJson, renderSecurityReport } from '../security/report';
import { scanChanges, type ChangedFile } from '../security/secretScan';
import type { StepContext } from './context';
import { readProposal } from './landing';

/** Findings one security.scanned event records at most. */
const MAX_RECORDED_FINDINGS = 200;

/** Runs the gate once. True when it added a security task (the driver runs the tasks, then the gate again). */
export async function runSecurityGate(context: StepContext): Promise<boolean> {
  const { state } = context;
  const config = state.config.security;
  if (config.gate === 'off') return false;
  const round = (state.security?.rounds.at(-1)?.round ?? 0) + 1;
  const files = await changedFiles(context);
  const secrets = scanChanges(files);
  const { outcome, findings: dependencies } = config.audit ? await audit(context) : { outcome: { status: 'skipped', reason: 'security.audit is off' } as AuditOutcome, findings: [] };
  const all: SecurityFinding[] = [...secrets, ...dependencies].sort((a, b) => SEVERITIES.indexOf(b.severity) - SEVERITIES.indexOf(a.severity));
  const threshold: Severity = config.severity;
  const blocking = all.filter((finding) => atOrAbove(finding.severity, threshold));
  // A generated bundle can hold thousands of random-looking strings: the event keeps the most severe.
  const findings = all.slice(0, MAX_RECORDED_FINDINGS);
  const omitted = all.length - findings.length;
  context.emit({ type: 'security.scanned', round, mode: config.gate, threshold, files: files.length, findings, audit: outcome, blocking: blocking.length, ...(omitted ? { omitted } : {}) });
  await context.writeArtifact('security.md', renderSecurityReport(state));
  await context.writeArtifact('security.json', renderSecurityJson(state));
  if (config.gate !== 'enforce' || blocking.length === 0) return false;
  const added = state.security?.fixTasks.length ?? 0;
  if (added >= config.maxRounds) return false;
  const task = securityTask(state.taskOrder, blocking.slice(0, MAX_RECORDED_FINDINGS), threshold, added + 1);
  context.emit({ type: 'task.added', task, by: 'security-gate', reason: `${blocking.length} finding${blocking.length === 1 ? '' : 's'} at or above ${threshold}` });
  return true;
}

/** The reason a run in enforce mode cannot complete: findings at or above the threshold remain. Undefined when none do. */
export function securityBlocker(context: Pick<StepContext, 'state'>): string | undefined {
  const { security, config } = context.state;
  const last = security?.rounds.at(-1);
  if (config.security.gate !== 'enforce' || !last || last.blocking === 0) return undefined;
  const rounds = security?.fixTasks.length ?? 0;
  return `the security gate still finds ${last.blocking} issue${last.blocking === 1 ? '' : 's'} at or above ${last.threshold} after ${rounds} security task${rounds === 1 ? '' : 's'} (see security.md)`;
}

/**
 * What the run's edits changed: every file an applied proposal wrote, against its text before the
 * run's first edit of it (a rename's source text for a renamed file), and as it is now.
 */
async function changedFiles(context: StepContext): Promise<ChangedFile[]> {
  const before = new Map<string, string>();
  for (const proposal of Object.values(context.state.proposals)) {
    if (proposal.status !== 'applied') continue;
    const artifact = await readProposal(context.runDir, proposal.id).catch(() => undefined);
    for (const file of artifact?.files ?? []) {
      if (!proposal.accepted.includes(file.path) || before.has(file.path)) continue;
      before.set(file.path, file.kind === 'rename' ? (before.get(file.from) ?? file.before) : file.before);
    }
  }
  const files: ChangedFile[] = [];
  for (const [path, text] of before) {
    let after: string | undefined;
    try {
      after = await context.ports.workspace.readText(path);
    } catch {
      continue; // binary or oversized now: nothing a line scan can read
    }
    if (after !== undefined && after !== text) files.push({ path, before: text, after });
  }
  return files;
}

async function audit(context: StepContext): Promise<{ outcome: AuditOutcome; findings: AuditFinding[] }> {
  const { ports, state, signal } = context;
  const config = state.config.security;
  const plan = await planAudit(ports.workspace.root, config.auditRegistry);
  if (!plan) return { outcome: { status: 'skipped', reason: 'no lockfile (package-lock.json, npm-shrinkwrap.json, pnpm-lock.yaml, yarn.lock) at the workspace root' }, findings: [] };
  const failed = (reason: string): { outcome: AuditOutcome; findings: AuditFinding[] } => ({ outcome: { status: 'failed', manager: plan.manager, command: plan.command, reason }, findings: [] });
  const runner = ports.commandRunner;
  if (!runner) return failed('this host cannot run commands');
  // The JSON can be far larger than the bounded output a command keeps: it goes to a file of its own.
  const outFile = join(tmpdir(), `software-maker-audit-${randomBytes(6).toString('hex')}.json`);
  const command = `${plan.command} > ${shellQuote(outFile)}`;
  const commandId = `audit-${state.lastSeq + 1}`;
  context.emit({ type: 'command.started', commandId, command: plan.command, cwd: '', purpose: 'audit', role: 'security' });
  try {
    const result = await runner.run({ command, cwd: '', reason: 'the security gate audits the dependencies', role: 'security', timeoutMs: config.auditTimeoutMs, purpose: 'audit' }, signal);
    signal.throwIfAborted();
    context.emit({ type: 'command.finished', commandId, exitCode: result.exitCode, signal: result.signal, timedOut: result.timedOut, durationMs: result.durationMs, output: result.output, truncated: result.truncated });
    if (result.timedOut) return failed(`it ran out of time (${Math.round(config.auditTimeoutMs / 1000)} s)`);
    const stdout = await readFile(outFile, 'utf8').catch(() => '');
    const parsed = parseAuditOutput(plan.manager, stdout);
    if (!parsed.ok) {
      const stderr = result.output.trim().split('\n').find((line) => /error|ERR!|not found|ENOENT/i.test(line));
      return failed(`${parsed.reason}${stderr ? ` (${stderr.trim().slice(0, 200)})` : ''}; exit ${result.exitCode ?? 'none'}`);
    }
    return { outcome: { status: 'ok', manager: plan.manager, command: plan.command, counts: parsed.counts }, findings: parsed.findings };
  } catch (error) {
    if (signal.aborted) throw error;
    return failed(`it could not start: ${messageOf(error)}`);
  } finally {
    await rm(outFile, { force: true });
  }
}

/** The fix task: the findings (masked) as its description, their files as its scope. */
function securityTask(existing: readonly string[], findings: readonly SecurityFinding[], threshold: Severity, round: number): PlanTask {
  let id = `sec${round}`;
  for (let n = 2; existing.includes(id); n++) id = `sec${round}-${n}`;
  const secrets = findings.filter((finding) => finding.kind === 'secret');
  const dependencies = findings.filter((finding) => finding.kind === 'dependency');
  const lines = [
    `The security gate found ${findings.length} issue${findings.length === 1 ? '' : 's'} at or above ${threshold} in this run's changes. Fix each one; the gate runs again afterwards.`,
  ];
  if (secrets.length) {
    lines.push('', 'Secrets in lines this run added (values masked). Remove each secret from the code: read it from the environment or a secret store instead, and never write the value anywhere else:');
    for (const finding of secrets) lines.push(`- ${finding.path}:${finding.line}: ${finding.title} (${finding.severity}) ${finding.masked}`);
  }
  if (dependencies.length) {
    lines.push('', 'Vulnerable dependencies (from the package manager\'s audit). Upgrade each to a fixed version in package.json and its lockfile, or replace it:');
    for (const finding of dependencies) {
      const fix = typeof finding.fixAvailable === 'string' ? `fixed in ${finding.fixAvailable}` : finding.fixAvailable ? 'a fix is available' : 'no fix available';
      lines.push(`- ${finding.package}${finding.range ? ` ${finding.range}` : ''} (${finding.severity}): ${finding.titles.join('; ')}; ${fix}`);
    }
  }
  const files = [...new Set([...secrets.map((finding) => finding.path), ...(dependencies.length ? ['package.json', 'package-lock.json', 'npm-shrinkwrap.json', 'pnpm-lock.yaml', 'yarn.lock'] : [])])];
  return {
    id,
    title: `Fix ${findings.length} security finding${findings.length === 1 ? '' : 's'} (round ${round})`,
    description: lines.join('\n'),
    role: 'security',
    dependsOn: [],
    acceptance: [`The security gate finds nothing at or above ${threshold} in the run's changes.`],
    files,
  };
}
