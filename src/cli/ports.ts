// The CLI's implementation of the engine's ports: the file system, child processes and the terminal.
import { createInterface } from 'node:readline/promises';
import { NodeEditApplier } from '../core/edits/nodeApplier';
import { unifiedDiff } from '../core/edits/hunks';
import type { EditReviewer, HostPorts, ReviewDecision, ReviewRequest } from '../core/ports';
import { systemClock } from '../core/ports';
import { NodeTestRunner } from '../core/testing/nodeTestRunner';
import { NodeWorkspace } from '../core/workspace/nodeWorkspace';

/** Shows each proposed file as a unified diff and asks y/n; one question at a time across parallel tasks. */
class TerminalReviewer implements EditReviewer {
  private queue: Promise<unknown> = Promise.resolve();

  review(request: ReviewRequest, signal: AbortSignal): Promise<ReviewDecision> {
    const next = this.queue.then(() => this.ask(request, signal));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async ask(request: ReviewRequest, signal: AbortSignal): Promise<ReviewDecision> {
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    try {
      const accepted: string[] = [];
      const reasons: string[] = [];
      process.stdout.write(`\nTask ${request.taskId} (${request.taskTitle}) proposes ${request.files.length} file change(s):\n`);
      for (const file of request.files) {
        process.stdout.write(`\n${unifiedDiff(file.path, file.before, file.after)}\n`);
        const answer = (await rl.question(`Apply ${file.kind === 'create' ? 'new file ' : ''}${file.path}? [y/n] `, { signal })).trim().toLowerCase();
        if (answer === 'y' || answer === 'yes') {
          accepted.push(file.path);
        } else {
          const reason = (await rl.question('Why (optional, goes back to the agent)? ', { signal })).trim();
          if (reason) reasons.push(`${file.path}: ${reason}`);
        }
      }
      return { accepted, reason: reasons.join('; ') || undefined };
    } finally {
      rl.close();
    }
  }
}

/** With --yes the engine auto-approves and never asks; this reviewer only guards against a bug. */
const refusingReviewer: EditReviewer = {
  review: () => Promise.reject(new Error('Edits need approval but there is no terminal; run with --yes.')),
};

export async function createCliPorts(workspaceDir: string, options: { interactive: boolean }): Promise<HostPorts> {
  const workspace = await NodeWorkspace.open(workspaceDir);
  return {
    workspace,
    applier: new NodeEditApplier(workspace.root),
    reviewer: options.interactive ? new TerminalReviewer() : refusingReviewer,
    testRunner: new NodeTestRunner(),
    clock: systemClock,
    secret: async (name) => process.env[name],
    // Without a terminal nobody can answer, and the safe answer is no (e.g. no branch switch over a dirty tree).
    confirm: options.interactive ? askYesNo : async () => false,
  };
}

async function askYesNo(question: string, detail: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const answer = (await rl.question(`\n${detail}\n${question} [y/N] `)).trim().toLowerCase();
    return answer === 'y' || answer === 'yes';
  } finally {
    rl.close();
  }
}
