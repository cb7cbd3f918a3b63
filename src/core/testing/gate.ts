// Whether a test report lets a task through. Failures that were already there before the run (the
// baseline) are not blamed on the task; anything new, a crash or a timeout is.
import type { TestReport } from '../../shared/model';

export interface GateVerdict {
  pass: boolean;
  reason: string;
}

export function judgeTaskGate(report: TestReport, baseline: TestReport | undefined): GateVerdict {
  if (report.ok) return { pass: true, reason: `${report.passed} passed` };
  if (report.timedOut) return { pass: false, reason: report.problem ?? 'the tests timed out' };
  if (!baseline || baseline.ok) return { pass: false, reason: describeFailure(report) };
  if (report.failed === 0) return { pass: false, reason: describeFailure(report) };
  const before = new Set(baseline.failures.map((failure) => failure.name));
  const fresh = report.failures.filter((failure) => !before.has(failure.name));
  const namesKnown = report.failures.length > 0 && report.failures.length >= report.failed;
  if (namesKnown && fresh.length === 0 && report.failed <= baseline.failed) {
    return { pass: true, reason: `only failures that were there before the run remain: ${report.failures.map((f) => f.name).join(', ')}` };
  }
  if (fresh.length) return { pass: false, reason: `new failing tests: ${fresh.map((failure) => failure.name).join(', ')}` };
  return { pass: false, reason: describeFailure(report) };
}

export function describeFailure(report: TestReport): string {
  if (report.ok) return 'tests passed';
  const names = report.failures.slice(0, 5).map((failure) => failure.name);
  const more = report.failures.length > 5 ? ` and ${report.failures.length - 5} more` : '';
  if (names.length) return `${report.failed} failing: ${names.join(', ')}${more}`;
  return report.problem ?? `tests failed (exit code ${report.exitCode})`;
}

/** Identifies a test failure across attempts: the failing test names, or the problem when none are known. */
export function failureSignature(report: TestReport): string {
  const names = report.failures.map((failure) => failure.name).sort();
  return names.length ? names.join('|') : (report.problem ?? `exit ${report.exitCode}`);
}
