// A web tester task's browser gate: the app is started with the configured dev-server command (the
// command approval decides first), the task's acceptance flows run in a headless browser, each flow's
// result is an event and its screenshots PNG artifacts, and the dev server's process group is stopped.
// A failing flow fails the task like a failing test: the fixer gets the flows, steps and reasons.
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { WebFlowResult } from '../../shared/model';
import type { TaskState } from '../../shared/runState';
import { approveAction } from '../commands/approval';
import { commandPolicyOf } from '../commands/policy';
import type { BrowserSession, CommandRequest } from '../ports';
import { startDevServer, URL_SETTING, WebTestSetupError, type DevServerApproval, type RunningDevServer } from '../web/devServer';
import { runFlows, webFailureSignature } from '../web/flows';
import type { StepContext } from './context';
import { messageOf } from '../../shared/wording';

/** The longest a dev server may live: every flow's every step at its time limit, and then some. */
const DEV_SERVER_LIFETIME_MS = 60 * 60_000;

export type WebGateVerdict = { pass: true; reason: string } | { pass: false; reason: string; signature: string };

export async function webGate(context: StepContext, task: TaskState): Promise<WebGateVerdict> {
  const flows = task.webFlows ?? [];
  if (!flows.length) return { pass: false, reason: 'the web tester wrote no acceptance flows', signature: 'web:no flows' };
  const web = context.state.config.webTester ?? { readyTimeoutMs: 60_000 };
  const browser = context.ports.browser;
  if (!browser) return { pass: false, reason: 'this host has no browser for the web tester', signature: 'web:no browser' };
  if (!web.url) return { pass: false, reason: `no app URL to test: set ${URL_SETTING}`, signature: 'web:no url' };
  let server: RunningDevServer | undefined;
  let session: BrowserSession | undefined;
  try {
    if (web.devServerCommand) {
      server = await startDevServer({
        runner: context.ports.commandRunner,
        request: {
          command: web.devServerCommand,
          cwd: '',
          reason: `Start the app so the web tester can check "${task.title}" at ${web.url}.`,
          role: 'web_tester',
          taskId: task.id,
          // A safety net only: the gate stops the server when the flows are done.
          timeoutMs: Math.max(context.state.config.commands?.timeoutMs ?? 0, DEV_SERVER_LIFETIME_MS),
          purpose: 'dev-server',
        },
        url: web.url,
        readyTimeoutMs: web.readyTimeoutMs,
        approve: (request) => approveDevServer(context, request),
        emit: (event) => void context.emit(event),
        newId: () => `c-${randomUUID().slice(0, 8)}`,
        signal: context.signal,
      });
    }
    session = await browser.launch({ executablePath: web.browserPath, allowedOrigin: web.url });
    const attempt = task.attempts;
    // A task id of dots only would read as a path step.
    const folder = /^\.+$/.test(task.id) ? `_${task.id}` : task.id;
    const results = await runFlows(session, flows, {
      baseUrl: web.url,
      signal: context.signal,
      saveScreenshot: (flowIndex, name, png) => saveScreenshot(context, task.id, `artifacts/webtest/${folder}/a${attempt}-f${flowIndex + 1}-${name}.png`, png),
      onResult: (result) => void context.emit({ type: 'webtest.flow', taskId: task.id, attempt, result }),
    });
    return verdictOf(results);
  } catch (error) {
    context.signal.throwIfAborted();
    const message = messageOf(error);
    const kind = error instanceof WebTestSetupError ? error.kind : error instanceof Error ? error.name : 'error';
    return { pass: false, reason: `the web flows could not run: ${message}`, signature: `web:setup:${kind}` };
  } finally {
    await session?.close().catch(() => undefined);
    await server?.stop().catch((error: unknown) => context.info(`The dev server did not stop cleanly: ${String(error)}`, 'warn', task.id));
  }
}

function verdictOf(results: readonly WebFlowResult[]): WebGateVerdict {
  const failed = results.filter((result) => !result.ok);
  if (!failed.length) return { pass: true, reason: `${results.length} web flow${results.length === 1 ? '' : 's'} passed` };
  const reasons = failed.map((result) => `flow "${result.flow}" failed at ${result.error ?? 'an unknown step'}`);
  return { pass: false, reason: `${failed.length} of ${results.length} web flows failed: ${reasons.join('; ')}`, signature: `web:${webFailureSignature(results)}` };
}

/** PNGs are binary: written as they are (no key redaction applies to pixels), then logged like any artifact. */
async function saveScreenshot(context: StepContext, taskId: string, name: string, png: Uint8Array): Promise<string> {
  const path = join(context.runDir, name);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, png);
  context.emit({ type: 'artifact.written', name, taskId });
  return name;
}

/**
 * The dev server goes through the command approval like run_command (approveAction: the deny list,
 * the allow list, then the user; nobody to ask is a no). Unless commands.roles names web_tester, the
 * role is asked about rather than never: the command is the user's own setting, not a model's proposal.
 */
async function approveDevServer(context: StepContext, request: CommandRequest): Promise<DevServerApproval> {
  const policy = commandPolicyOf(context.state.config);
  const rolePolicy = context.state.config.commands?.roles?.web_tester ?? 'ask';
  const decision = await approveAction(
    { emit: (event) => context.emit(event), approver: context.ports.approver, policy: { ...policy, roles: { ...policy.roles, web_tester: rolePolicy } }, signal: context.signal },
    { subject: { kind: 'command', command: request.command, cwd: request.cwd, reason: request.reason }, role: request.role, taskId: request.taskId },
  );
  if (decision.approved) return { approved: true, approvalId: decision.approvalId };
  return { approved: false, reason: `${decision.by === 'user' ? 'the user said no' : `refused by ${decision.rule ?? 'policy'}`}${decision.reason ? ` (${decision.reason})` : ''}` };
}
