// The CLI's implementation of the engine's ports: the file system, child processes and the terminal.
import { createInterface, type Interface } from 'node:readline/promises';
import { systemClock, unifiedDiff, type ApprovalDecision, type ApprovalRequest, type Approver, type EditReviewer, type HostPorts, type ReviewDecision, type ReviewRequest } from '../core';
import { visibleControls as verbatim } from '../shared/wording';
import { NodeCommandRunner, NodeEditApplier, NodeTestRunner, NodeWorkspace, PlaywrightBrowser } from '../core/node';

/**
 * Shows each proposed file as a unified diff and asks y/n; one question at a time across parallel
 * tasks. A file that changes what will be executed gets a warning block with the reasons before its
 * diff, and only a typed "yes" applies it.
 */
export class TerminalReviewer implements EditReviewer {

  constructor(
    private readonly input: NodeJS.ReadableStream = process.stdin,
    private readonly output: NodeJS.WritableStream = process.stdout,
  ) {}

  review(request: ReviewRequest, signal: AbortSignal): Promise<ReviewDecision> {
    return oneQuestionAtATime(() => this.ask(request, signal));
  }

  private async ask(request: ReviewRequest, signal: AbortSignal): Promise<ReviewDecision> {
    const { rl, release } = questionsOn(this.input, this.output);
    try {
      const accepted: string[] = [];
      const reasons: string[] = [];
      this.output.write(`\nTask ${request.taskId} (${request.taskTitle}) proposes ${request.files.length} file change(s):\n`);
      for (const file of request.files) {
        const risks = file.changesWhatRuns ?? [];
        if (risks.length) this.output.write(`\n${commandWarning(file.path, risks)}`);
        this.output.write(`\n${unifiedDiff(file.path, file.before, file.after)}\n`);
        let yes: boolean;
        if (risks.length) {
          const answer = await rl.question(`${file.path} CHANGES WHAT RUNS. Type "yes" to apply it anyway (anything else rejects it): `, { signal });
          yes = answer.trim().toLowerCase() === 'yes';
        } else {
          const answer = (await rl.question(`Apply ${file.kind === 'create' ? 'new file ' : ''}${file.path}? [y/n] `, { signal })).trim().toLowerCase();
          yes = answer === 'y' || answer === 'yes';
        }
        if (yes) {
          accepted.push(file.path);
        } else {
          const reason = (await rl.question('Why (optional, goes back to the agent)? ', { signal })).trim();
          if (reason) reasons.push(`${file.path}: ${reason}`);
        }
      }
      return { accepted, reason: reasons.join('; ') || undefined };
    } finally {
      release();
    }
  }
}

/**
 * The terminal's one readline while a run takes steering lines (steering.ts): every question is asked
 * on it, and readline hands the line that answers a pending question to that question only, never
 * to its 'line' listeners, so an answer is never taken as steering. Two readlines on one stream
 * would both read each line.
 */
let sharedTerminal: { input: NodeJS.ReadableStream; rl: Interface } | undefined;

/** Opens the shared readline on `input` (until closeSharedTerminal: questions get their own again). */
export function openSharedTerminal(input: NodeJS.ReadableStream, output: NodeJS.WritableStream): Interface {
  if (sharedTerminal) throw new Error('The terminal is already shared.');
  const rl = createInterface({ input, output });
  const shared = { input, rl };
  sharedTerminal = shared;
  // Closed early (Ctrl-D): later questions open their own readline instead of failing on a closed one.
  rl.once('close', () => {
    if (sharedTerminal === shared) sharedTerminal = undefined;
  });
  return rl;
}

/** An open readline keeps the process alive: closed when the command ends, however it ends. */
export function closeSharedTerminal(): void {
  sharedTerminal?.rl.close();
  sharedTerminal = undefined;
}

function questionsOn(input: NodeJS.ReadableStream, output: NodeJS.WritableStream): { rl: Interface; release: () => void } {
  if (sharedTerminal?.input === input) return { rl: sharedTerminal.rl, release: () => undefined };
  const rl = createInterface({ input, output });
  return { rl, release: () => rl.close() };
}

// Reviews and approvals share the terminal: one question at a time, across parallel tasks.
let terminalQueue: Promise<unknown> = Promise.resolve();
function oneQuestionAtATime<T>(ask: () => Promise<T>): Promise<T> {
  const next = terminalQueue.then(ask);
  terminalQueue = next.catch(() => undefined);
  return next;
}

/**
 * Asks about a command, an MCP call or a deploy: the command verbatim (control characters shown as
 * escapes, so nothing can hide in it), its folder and the agent's reason. y/n for a command; a deploy
 * needs the word "deploy" typed. --yes never answers these.
 */
export class TerminalApprover implements Approver {
  constructor(
    private readonly input: NodeJS.ReadableStream = process.stdin,
    private readonly output: NodeJS.WritableStream = process.stdout,
  ) {}

  approve(request: ApprovalRequest, signal: AbortSignal): Promise<ApprovalDecision> {
    return oneQuestionAtATime(() => this.ask(request, signal));
  }

  private async ask(request: ApprovalRequest, signal: AbortSignal): Promise<ApprovalDecision> {
    const { rl, release } = questionsOn(this.input, this.output);
    try {
      const { subject } = request;
      const who = `${request.taskId ? `Task ${request.taskId} ` : ''}(${request.role})`;
      const lines: string[] = [''];
      let question: string;
      let yes: (answer: string) => boolean = (answer) => answer === 'y' || answer === 'yes';
      if (subject.kind === 'command') {
        lines.push(`${who} wants to run a command:`, '', `    ${verbatim(subject.command)}`, '', `  in:  ${subject.cwd ? verbatim(subject.cwd) : '(workspace root)'}`, `  why: ${verbatim(subject.reason)}`);
        question = 'Run it? [y/n] ';
      } else if (subject.kind === 'mcp') {
        lines.push(`${who} wants to call the MCP tool ${verbatim(subject.server)}/${verbatim(subject.tool)} with:`, '', `    ${verbatim(subject.input)}`);
        if (subject.reason) lines.push('', `  why: ${verbatim(subject.reason)}`);
        question = 'Call it? [y/n] ';
      } else {
        lines.push(`${who} is ready to DEPLOY. The runbook:`, '', ...subject.runbook.split('\n').map((line) => `  | ${verbatim(line)}`), '', 'The deploy command:', '', `    ${verbatim(subject.command)}`);
        question = 'Type "deploy" to run it (anything else does not deploy): ';
        yes = (answer) => answer === 'deploy';
      }
      this.output.write(`${lines.join('\n')}\n`);
      const answer = (await rl.question(question, { signal })).trim().toLowerCase();
      if (yes(answer)) return { approved: true, by: 'user' };
      const reason = (await rl.question('Why not (optional, goes back to the agent)? ', { signal })).trim();
      return reason ? { approved: false, by: 'user', reason } : { approved: false, by: 'user' };
    } finally {
      release();
    }
  }
}

/** The block printed before the diff of a file that changes what will be executed. */
export function commandWarning(path: string, reasons: readonly string[]): string {
  const rule = '!'.repeat(72);
  return [
    rule,
    `!! WARNING: accepting ${path} changes what will be executed on this machine:`,
    ...reasons.map((reason) => `!!   - ${reason}`),
    '!! The test gate runs right after the edit lands. Read the diff below before you answer.',
    rule,
    '',
  ].join('\n');
}

/**
 * `interactive`: a terminal and no --yes, so questions are asked (git mode's branch switch).
 * `terminal`: stdin is a terminal, so what auto-approval does not cover (edits that change what
 * runs) is reviewed even under --yes; without one, it is rejected back to the agent.
 */
export async function createCliPorts(workspaceDir: string, options: { interactive: boolean; terminal: boolean }): Promise<HostPorts> {
  const workspace = await NodeWorkspace.open(workspaceDir);
  const applier = new NodeEditApplier(workspace.root);
  // A process killed while writing an edit left its temp file in .software-maker/tmp: gone at start.
  await applier.removeStaleTempFiles();
  return {
    workspace,
    applier,
    reviewer: options.terminal ? new TerminalReviewer() : undefined,
    testRunner: new NodeTestRunner(),
    // Commands (run_command, dev servers, audits, deploys) run only once approved (core/commands).
    commandRunner: new NodeCommandRunner(workspace.root),
    // Without a terminal nobody can approve: only what an allow rule (--allow-command) names runs; a deploy never.
    approver: options.terminal ? new TerminalApprover() : undefined,
    // playwright-core loads only when a web tester task launches it.
    browser: new PlaywrightBrowser(),
    clock: systemClock,
    secret: async (name) => process.env[name],
    // Without a terminal nobody can answer, and the safe answer is no (e.g. no branch switch over a dirty tree).
    confirm: options.interactive ? askYesNo : async () => false,
  };
}

/** A y/N question on the terminal after `detail`; anything but y/yes is no. */
export async function askYesNo(question: string, detail: string): Promise<boolean> {
  const { rl, release } = questionsOn(process.stdin, process.stdout);
  try {
    const answer = (await rl.question(`\n${detail}\n${question} [y/N] `)).trim().toLowerCase();
    return answer === 'y' || answer === 'yes';
  } finally {
    release();
  }
}
