// The package manager's own audit of the workspace's dependencies: which manager (by lockfile), the
// command, and its JSON read into findings. npm 7+ (`auditReportVersion: 2`), npm 6 and pnpm (the
// `advisories` shape), yarn 1 and yarn 2+ (one JSON object a line). An audit that could not ask its
// registry (offline, an error page) is a failure with its reason, never "no findings".
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import type { AuditFinding, Severity } from '../../shared/security';
import { SEVERITIES } from '../../shared/security';

export type PackageManager = 'npm' | 'pnpm' | 'yarn' | 'yarn-berry';

export interface AuditPlan {
  manager: PackageManager;
  lockfile: string;
  /** The command line, without where its output goes. */
  command: string;
}

export type ParsedAudit = { ok: true; findings: AuditFinding[]; counts: Partial<Record<Severity, number>> } | { ok: false; reason: string };

const LOCKFILES: readonly { file: string; manager: PackageManager | 'yarn?' }[] = [
  { file: 'package-lock.json', manager: 'npm' },
  { file: 'npm-shrinkwrap.json', manager: 'npm' },
  { file: 'pnpm-lock.yaml', manager: 'pnpm' },
  { file: 'yarn.lock', manager: 'yarn?' },
];

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** Single quotes for a POSIX shell: the registry URL is passed as one word whatever it holds. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The audit for the workspace at `root`, from its lockfile; undefined when it has none. */
export async function planAudit(root: string, registry?: string): Promise<AuditPlan | undefined> {
  for (const { file, manager: guess } of LOCKFILES) {
    if (!(await exists(join(root, file)))) continue;
    const manager: PackageManager = guess === 'yarn?' ? ((await exists(join(root, '.yarnrc.yml'))) ? 'yarn-berry' : 'yarn') : guess;
    const base = { npm: 'npm audit --json', pnpm: 'pnpm audit --json', yarn: 'yarn audit --json', 'yarn-berry': 'yarn npm audit --json --recursive' }[manager];
    // yarn 2+ has no registry flag (its npmRegistryServer setting is read from .yarnrc.yml).
    const registryFlag = registry && manager !== 'yarn-berry' ? ` --registry ${shellQuote(registry)}` : '';
    return { manager, lockfile: file, command: `${base}${registryFlag}` };
  }
  return undefined;
}

function severityOf(value: unknown): Severity {
  const text = String(value ?? '').toLowerCase();
  if (text === 'medium') return 'moderate';
  return (SEVERITIES as readonly string[]).includes(text) ? (text as Severity) : 'high';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function countsOf(findings: readonly AuditFinding[]): Partial<Record<Severity, number>> {
  const counts: Partial<Record<Severity, number>> = {};
  for (const finding of findings) counts[finding.severity] = (counts[finding.severity] ?? 0) + 1;
  return counts;
}

/** Why a JSON audit result is an error: npm's `{ error: {code, summary} }`, or its `{ message }` for a failed request. */
function errorOf(json: Record<string, unknown>): string | undefined {
  const error = isRecord(json.error) ? json.error : undefined;
  const parts = [typeof json.message === 'string' ? json.message : undefined, error && typeof error.code === 'string' ? error.code : undefined, error && typeof error.summary === 'string' && error.summary ? error.summary : undefined];
  const reason = parts.filter(Boolean).join(': ');
  return reason || (error ? 'the audit reported an error' : undefined);
}

/** npm 7+ (`auditReportVersion: 2`). */
function fromNpmV2(json: Record<string, unknown>): AuditFinding[] {
  const vulnerabilities = isRecord(json.vulnerabilities) ? json.vulnerabilities : {};
  return Object.entries(vulnerabilities).flatMap(([name, raw]): AuditFinding[] => {
    if (!isRecord(raw)) return [];
    const via = Array.isArray(raw.via) ? raw.via : [];
    const titles = via.map((entry) => (isRecord(entry) ? String(entry.title ?? entry.name ?? '') : `depends on a vulnerable ${String(entry)}`)).filter(Boolean);
    const urls = via.flatMap((entry) => (isRecord(entry) && typeof entry.url === 'string' ? [entry.url] : []));
    const fix = raw.fixAvailable;
    const fixAvailable = isRecord(fix) ? `${String(fix.name)}@${String(fix.version)}${fix.isSemVerMajor ? ' (semver-major)' : ''}` : fix === true;
    return [{ kind: 'dependency', package: String(raw.name ?? name), severity: severityOf(raw.severity), titles: [...new Set(titles)], urls: [...new Set(urls)], range: typeof raw.range === 'string' ? raw.range : undefined, fixAvailable, direct: raw.isDirect === true }];
  });
}

/** npm 6 and pnpm: `advisories` by id. */
function fromAdvisories(json: Record<string, unknown>): AuditFinding[] {
  const advisories = isRecord(json.advisories) ? json.advisories : {};
  const byPackage = new Map<string, AuditFinding>();
  for (const raw of Object.values(advisories)) {
    if (!isRecord(raw)) continue;
    const name = String(raw.module_name ?? 'unknown');
    const patched = typeof raw.patched_versions === 'string' && raw.patched_versions !== '<0.0.0' ? raw.patched_versions : undefined;
    mergeFinding(byPackage, { kind: 'dependency', package: name, severity: severityOf(raw.severity), titles: [String(raw.title ?? 'advisory')], urls: typeof raw.url === 'string' ? [raw.url] : [], range: typeof raw.vulnerable_versions === 'string' ? raw.vulnerable_versions : undefined, fixAvailable: patched ?? false });
  }
  return [...byPackage.values()];
}

function mergeFinding(into: Map<string, AuditFinding>, finding: AuditFinding): void {
  const known = into.get(finding.package);
  if (!known) {
    into.set(finding.package, finding);
    return;
  }
  if (SEVERITIES.indexOf(finding.severity) > SEVERITIES.indexOf(known.severity)) known.severity = finding.severity;
  known.titles = [...new Set([...known.titles, ...finding.titles])];
  known.urls = [...new Set([...known.urls, ...finding.urls])];
  if (known.fixAvailable === false) known.fixAvailable = finding.fixAvailable;
}

/** yarn 1 (`{"type":"auditAdvisory"}` lines) and yarn 2+ (`{"value":name,"children":{…}}` lines). */
function fromLines(lines: readonly Record<string, unknown>[]): ParsedAudit {
  const byPackage = new Map<string, AuditFinding>();
  for (const line of lines) {
    if (line.type === 'error') return { ok: false, reason: String(line.data ?? 'yarn audit failed') };
    const advisory = line.type === 'auditAdvisory' && isRecord(line.data) && isRecord(line.data.advisory) ? line.data.advisory : undefined;
    if (advisory) {
      const patched = typeof advisory.patched_versions === 'string' && advisory.patched_versions !== '<0.0.0' ? advisory.patched_versions : undefined;
      mergeFinding(byPackage, { kind: 'dependency', package: String(advisory.module_name), severity: severityOf(advisory.severity), titles: [String(advisory.title ?? 'advisory')], urls: typeof advisory.url === 'string' ? [advisory.url] : [], range: typeof advisory.vulnerable_versions === 'string' ? advisory.vulnerable_versions : undefined, fixAvailable: patched ?? false });
    } else if (typeof line.value === 'string' && isRecord(line.children)) {
      const c = line.children;
      mergeFinding(byPackage, { kind: 'dependency', package: line.value, severity: severityOf(c.Severity), titles: [String(c.Issue ?? 'advisory')], urls: typeof c.URL === 'string' ? [c.URL] : [], range: typeof c['Vulnerable Versions'] === 'string' ? c['Vulnerable Versions'] : undefined, fixAvailable: false });
    }
  }
  const findings = [...byPackage.values()];
  return { ok: true, findings, counts: countsOf(findings) };
}

/** Reads what an audit printed on stdout. */
export function parseAuditOutput(manager: PackageManager, stdout: string): ParsedAudit {
  const text = stdout.trim();
  if (!text) return { ok: false, reason: 'the audit printed nothing' };
  if (manager === 'yarn' || manager === 'yarn-berry') {
    const lines: Record<string, unknown>[] = [];
    for (const raw of text.split('\n')) {
      if (!raw.trim()) continue;
      try {
        const parsed: unknown = JSON.parse(raw);
        if (isRecord(parsed)) lines.push(parsed);
      } catch {
        return { ok: false, reason: `the audit printed something that is not JSON: ${raw.slice(0, 160)}` };
      }
    }
    return fromLines(lines);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, reason: `the audit printed something that is not JSON: ${text.slice(0, 160)}` };
  }
  if (!isRecord(json)) return { ok: false, reason: 'the audit printed JSON of an unknown shape' };
  if (isRecord(json.vulnerabilities)) {
    const findings = fromNpmV2(json);
    return { ok: true, findings, counts: countsOf(findings) };
  }
  if (isRecord(json.advisories)) {
    const findings = fromAdvisories(json);
    return { ok: true, findings, counts: countsOf(findings) };
  }
  return { ok: false, reason: errorOf(json) ?? 'the audit printed JSON of an unknown shape' };
}
