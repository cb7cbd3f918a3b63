// The app under development, for the web tester: its configured dev-server command is approved like
// any command (the policy's deny and allow lists, then the user), started in a process group of its
// own, waited for until its URL answers, and stopped (the whole group) when the flows are done.
import type { NewEvent } from '../../shared/events';
import type { BackgroundCommand, CommandRequest, CommandRunner } from '../ports';

export const DEV_SERVER_SETTING = 'webTester.devServerCommand';
export const URL_SETTING = 'webTester.url';

/** Why the web gate could not even start: a setting, a refusal, a server that never answered. */
export class WebTestSetupError extends Error {
  constructor(
    message: string,
    /** Stable part of the failure, for the signature that spots repeats. */
    readonly kind: string,
  ) {
    super(message);
    this.name = 'WebTestSetupError';
  }
}

/** What the approval path answered (core/commands: policy, then the approver). */
export type DevServerApproval = { approved: true; approvalId?: string } | { approved: false; reason: string };

export interface DevServerOptions {
  runner: CommandRunner | undefined;
  request: CommandRequest;
  url: string;
  readyTimeoutMs: number;
  approve(request: CommandRequest): Promise<DevServerApproval>;
  emit(event: NewEvent): void;
  newId(): string;
  signal: AbortSignal;
  /** Probes the URL once; resolves true when it answered with any HTTP status. */
  probe?: (url: string, signal: AbortSignal) => Promise<boolean>;
}

export interface RunningDevServer {
  stop(): Promise<void>;
}

/** Starts the dev server and resolves once its URL answers. Throws WebTestSetupError otherwise (the server is stopped). */
export async function startDevServer(options: DevServerOptions): Promise<RunningDevServer> {
  const { request } = options;
  if (!options.runner) throw new WebTestSetupError('This host cannot run commands, so the dev server cannot start.', 'no-runner');
  const approval = await options.approve(request);
  if (!approval.approved) throw new WebTestSetupError(`The dev server command "${request.command}" was not approved: ${approval.reason}`, 'not-approved');
  const commandId = options.newId();
  const background = await options.runner.start(request);
  options.emit({
    type: 'command.started',
    commandId,
    command: request.command,
    cwd: request.cwd,
    purpose: 'dev-server',
    role: request.role,
    taskId: request.taskId,
    approvalId: approval.approved ? approval.approvalId : undefined,
  });
  let finished = false;
  const stop = async (): Promise<void> => {
    if (finished) return;
    finished = true;
    await background.stop();
    const result = await background.exited;
    options.emit({ type: 'command.finished', commandId, ...result, taskId: request.taskId });
  };
  try {
    await waitForUrl(options, background);
  } catch (error) {
    await stop();
    throw error;
  }
  return { stop };
}

async function waitForUrl(options: DevServerOptions, background: BackgroundCommand): Promise<void> {
  const probe = options.probe ?? answers;
  const deadline = Date.now() + options.readyTimeoutMs;
  let exited = false;
  void background.exited.then(() => (exited = true));
  for (;;) {
    options.signal.throwIfAborted();
    if (exited) {
      const result = await background.exited;
      throw new WebTestSetupError(
        `The dev server "${options.request.command}" exited (code ${result.exitCode ?? result.signal ?? 'none'}) before ${options.url} answered. Its output ends:\n${tail(result.output)}`,
        'server-exited',
      );
    }
    if (await probe(options.url, options.signal)) return;
    if (Date.now() > deadline) {
      throw new WebTestSetupError(
        `${options.url} did not answer within ${Math.round(options.readyTimeoutMs / 1000)} s of starting "${options.request.command}" (check ${URL_SETTING} and webTester.readyTimeoutSeconds). The server's output ends:\n${tail(background.output())}`,
        'not-ready',
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function answers(url: string, signal: AbortSignal): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.any([signal, AbortSignal.timeout(2000)]), redirect: 'manual' });
    await response.body?.cancel();
    return true;
  } catch {
    return false;
  }
}

function tail(output: string): string {
  const lines = output.trimEnd().split('\n');
  return lines.slice(-15).join('\n') || '(no output)';
}
