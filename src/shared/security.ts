// What the security gate found, as events, the report and the panel carry it. A secret finding never
// holds the secret: only a masked preview (a few characters at each end) and a fingerprint.

export const SEVERITIES = ['info', 'low', 'moderate', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** True when `severity` is at or above `threshold`. */
export function atOrAbove(severity: Severity, threshold: Severity): boolean {
  return SEVERITIES.indexOf(severity) >= SEVERITIES.indexOf(threshold);
}

export interface SecretFinding {
  kind: 'secret';
  /** The rule that matched: "aws-access-key", "github-token", …, "high-entropy". */
  rule: string;
  /** What the rule means, for people: "AWS access key id". */
  title: string;
  severity: Severity;
  path: string;
  line: number;
  /** The matched text masked: "AKIA…MPLE (20 chars)". Never the secret itself. */
  masked: string;
  /** First 12 hex digits of the value's sha256: tells two findings apart without revealing either. */
  fingerprint: string;
  /** Why the severity was lowered (a test fixture), when it was. */
  note?: string;
}

export interface AuditFinding {
  kind: 'dependency';
  /** The vulnerable package. */
  package: string;
  severity: Severity;
  /** Advisory titles (a package can have several), or "depends on a vulnerable X" for a transitive one. */
  titles: string[];
  urls: string[];
  /** The installed versions that are affected, as the package manager says ("1.2.0", "<1.2.5"). */
  range?: string;
  /** True, false, or the version that fixes it. */
  fixAvailable: boolean | string;
  direct?: boolean;
}

export type SecurityFinding = SecretFinding | AuditFinding;

/** How the package manager's audit went. `failed`/`unavailable` are never "no findings". */
export type AuditOutcome =
  | { status: 'ok'; manager: string; command: string; counts: Partial<Record<Severity, number>> }
  | { status: 'skipped'; reason: string }
  | { status: 'failed'; manager: string; command: string; reason: string };
