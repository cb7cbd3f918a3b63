// How a run's tests run: detection (or the configured command or tasks.json task), the workspace gate
// (task gates together, whole suites alone: two whole suites in one folder would trip over each
// other), related tests first, reporters.
import type { TestPhase } from '../../shared/events';
import type { TestReport } from '../../shared/model';
import { detectTestCommand, type DetectedTestCommand, type TestCommandOverride } from '../testing/detect';
import { parseTestOutput } from '../testing/parse';
import { relatedTests } from '../testing/related';
import { runDetectedTests } from '../testing/runTests';
import type { RunContext } from './context';

export class RunTests {
  /** How this run's tests run; undefined when tests are off. */
  detected: DetectedTestCommand | undefined;

  constructor(private readonly context: RunContext) {}

  /** The tests for a task's changed files: the package nearest to them, and the related test files. */
  async forChanges(changed: string[]): Promise<{ tests: DetectedTestCommand; only: string[] }> {
    const root = this.context.ports.workspace.root;
    const base = this.detected!;
    const tests = this.override() === undefined && changed.length ? ((await detectTestCommand(root, { near: changed })) ?? base) : base;
    const only = this.context.state.config.relatedTestsFirst && !tests.taskLabel && changed.length ? await relatedTests(root, changed, tests.framework) : [];
    return { tests, only };
  }

  async resolve(): Promise<void> {
    const { testCommand, testTaskLabel } = this.context.state.config;
    if (testCommand === 'none' && !testTaskLabel) {
      if (this.context.state.lastSeq <= 2) this.context.info('Tests are switched off for this run (testCommand "none"): no task is test-gated.', 'warn');
      return;
    }
    const detected = await detectTestCommand(this.context.ports.workspace.root, { override: this.override() });
    if (!detected) {
      throw new Error('No test command found for this workspace, so no task could be test-gated. Set one (softwareMaker.testCommand, or --test-command in the CLI), or "none" to run without tests.');
    }
    this.detected = detected;
    if (this.context.state.status === 'queued') this.context.info(`Tests: ${describeTests(detected)} (${detected.reason}).`);
  }

  override(): string | TestCommandOverride | undefined {
    const { testCommand, testTaskLabel } = this.context.state.config;
    if (testTaskLabel) return { kind: 'taskLabel', label: testTaskLabel };
    return testCommand;
  }

  /**
   * One test run, logged. A task's gate shares the workspace with other tasks' gates (their file
   * scopes are disjoint) but never overlaps a landing; the baseline and final suites, and the user's
   * own tasks.json task (the editor runs one instance of a task at a time), run alone.
   */
  run(phase: TestPhase, taskId?: string, tests = this.detected!, only: string[] = []): Promise<TestReport> {
    const gate = phase === 'task' && tests.taskLabel === undefined ? this.context.shared : this.context.exclusive;
    return gate(async () => {
      this.context.emit({ type: 'test.started', phase, taskId, command: describeTests(tests), related: only.length ? only : undefined });
      const report = await this.exec(tests, taskId ?? phase, only);
      this.context.emit({ type: 'test.finished', phase, taskId, report });
      return report;
    });
  }

  /** For the agents' run_tests tool: not a gate, so not a test event (the tool result is logged). The whole suite: alone. */
  quietly(): Promise<TestReport> {
    const tests = this.detected;
    if (!tests) return Promise.reject(new Error('Tests are switched off for this run.'));
    return this.context.exclusive(() => this.exec(tests, 'agent', []));
  }

  private async exec(tests: DetectedTestCommand, label: string, only: string[]): Promise<TestReport> {
    const signal = this.context.signal;
    const timeoutMs = this.context.state.config.testTimeoutMs;
    const baseline = label === 'baseline';
    const title = baseline ? 'Software Maker: baseline tests (before any change)' : `Software Maker: tests (${label})`;
    if (tests.taskLabel !== undefined) {
      // The editor runs the user's own task; its output is parsed like any other.
      const result = await this.context.ports.testRunner.run({ command: tests.command, cwd: tests.cwd, timeoutMs, label: title, taskLabel: tests.taskLabel, ...(baseline ? { baseline } : {}) }, signal);
      signal.throwIfAborted();
      return parseTestOutput({ command: describeTests(tests), exitCode: result.exitCode, output: result.output, timedOut: result.timedOut, durationMs: result.durationMs, framework: tests.framework });
    }
    const { report } = await runDetectedTests(this.context.ports.testRunner, tests, { timeoutMs, signal, label: title, baseline, only: only.length ? only : undefined, root: this.context.ports.workspace.root });
    signal.throwIfAborted();
    return report;
  }
}

export function describeTests(tests: DetectedTestCommand): string {
  return tests.taskLabel !== undefined ? `the task "${tests.taskLabel}"` : tests.command;
}
