// What a task's proposal goes through after its turn: the review of the edits and their landing,
// the test gate (related tests, judged against the baseline) and the reviewer's gate. Each either
// moves the task on or fails it with a reason and a signature the fixer and the loop check read.
import type { z } from 'zod';
import type { TaskStatus } from '../../shared/model';
import { USER_REJECTED } from '../../shared/wording';
import type { RunState, TaskState } from '../../shared/runState';
import { reviewPrompt } from '../agents/prompts';
import { reviewOutputSchema } from '../agents/roles';
import { buildTools } from '../agents/tools';
import { toWrite } from '../edits/editSet';
import { sha256, unifiedDiff } from '../edits/hunks';
import { applySelectedHunks } from '../edits/review';
import type { FileWrite } from '../ports';
import { failureSignature, judgeTaskGate } from '../testing/gate';
import type { AgentSteps } from './agentStep';
import type { StepContext } from './context';
import { appliedFiles, readProposal, type EditLanding } from './landing';
import type { RunTests } from './tests';
import { webGate } from './webGate';

export async function reviewAndApply(context: StepContext, landing: EditLanding, task: TaskState): Promise<void> {
  const { state } = context;
  const pending = Object.values(state.proposals).filter((entry) => entry.taskId === task.id && entry.status !== 'applied').at(-1);
  if (!pending) {
    context.fail(task.id, 'the proposal to review is missing from the log', 'error:missing proposal');
    return;
  }
  const artifact = await readProposal(context.runDir, pending.id);
  if (pending.status === 'pending') await landing.decide(task, artifact);
  const proposal = state.proposals[pending.id]!;
  if (proposal.accepted.length === 0) {
    const who = proposal.decidedBy === 'auto' ? 'the edit was not applied' : 'the user rejected the edit';
    context.fail(task.id, `${who}${proposal.reason ? `: ${proposal.reason}` : ''}`, `${proposal.decidedBy === 'auto' ? 'rejected' : USER_REJECTED}:${proposal.reason ?? ''}`);
    return;
  }
  const writes = artifact.files
    .filter((file) => proposal.accepted.includes(file.path))
    .map((file): FileWrite => {
      const write = toWrite(file);
      const hunks = proposal.partial?.[file.path];
      if (!hunks || write.kind !== 'modify') return write;
      const newText = applySelectedHunks(file.before, file.after, new Set(hunks.accepted));
      return { ...write, newText, newHash: sha256(newText) };
    });
  // The snapshot and the write hold the workspace still: no test run reads a half-saved file, no
  // snapshot a half-written tree. One whole-file write cannot be seen half done, so other tasks'
  // tests may go on meanwhile; several files (a rename is two) wait until no test runs.
  const touched = writes.flatMap((write) => (write.kind === 'rename' ? [write.from, write.path] : [write.path]));
  const gate = touched.length === 1 && context.ports.applier.atomicFiles ? context.landing : context.exclusive;
  const { outcomes, rebased } = await gate(async () => {
    await landing.checkpointBeforeWrite(`before ${task.id} (attempt ${task.attempts}): ${task.title}`, task.id, touched);
    return landing.applyWithRebase(writes, new Map(artifact.files.map((file) => [file.path, file.before])));
  });
  const conflicts = outcomes.filter((outcome) => outcome.status === 'conflict');
  const written = outcomes.filter((outcome) => outcome.status !== 'conflict');
  if (written.length) {
    context.emit({
      type: 'edit.applied',
      proposalId: proposal.id,
      taskId: task.id,
      files: written.map((outcome) => ({ path: outcome.path, hash: outcome.hash })),
      alreadyApplied: written.filter((outcome) => outcome.status === 'already-applied').map((outcome) => outcome.path),
    });
    context.sync();
  }
  for (const path of rebased) context.info(`${path} had changed on disk since the proposal; the accepted hunks still matched and were applied on top of the change.`, 'info', task.id);
  if (conflicts.length) {
    const detail = conflicts.map((outcome) => `${outcome.path} (${outcome.detail})`).join(', ');
    context.fail(task.id, `the file changed since the proposal or could not be written, so it was not overwritten: ${detail}`, `conflict:${detail}`);
    return;
  }
  if (proposal.decidedBy === 'auto' && proposal.rejected.length) {
    // Files nobody could review were held back: the agent hears why on its next attempt.
    context.fail(task.id, `${proposal.rejected.join(', ')} not applied: ${proposal.reason ?? 'it needs a review'}`, `rejected:${proposal.reason ?? ''}`);
    return;
  }
  const partial = Object.entries(proposal.partial ?? {});
  if (proposal.decidedBy === 'user' && proposal.reason?.trim() && (proposal.rejected.length || partial.length)) {
    // What was accepted stays applied; the reason for the rest goes back to the agent (and later the reviewer).
    const what = [...proposal.rejected, ...partial.map(([path, hunks]) => `${hunks.total - hunks.accepted.length} of ${hunks.total} hunks of ${path}`)].join(', ');
    // The editor's reasons already name their file ("README.md: …"); then they say it all.
    const named = proposal.rejected.every((path) => proposal.reason!.includes(path)) && partial.every(([path]) => proposal.reason!.includes(path));
    context.fail(task.id, named ? `the user rejected part of the edit — ${proposal.reason}` : `the user rejected ${what}: ${proposal.reason}`, `${USER_REJECTED}:${proposal.reason}`);
    return;
  }
  const note = [
    ...partial.map(([path, hunks]) => `${path}: ${hunks.accepted.length} of ${hunks.total} hunks accepted`),
    ...(proposal.rejected.length ? [`rejected: ${proposal.rejected.join(', ')}`] : []),
  ].join('; ');
  context.setTask(task.id, 'testing', note || undefined);
}

/**
 * The task's test gate: the tests related to the files it changed first (in the package nearest to
 * them), judged against the baseline. The whole suite runs at the end of the run (finishRun).
 */
export async function testGate(context: StepContext, testing: RunTests, landing: EditLanding, task: TaskState): Promise<void> {
  const { state } = context;
  const next: TaskStatus = state.config.reviewGate ? 'reviewing' : 'done';
  const webTask = task.role === 'web_tester';
  const changed = appliedFiles(state, task.id);
  const notes: string[] = [];
  if (!testing.detected) notes.push('no test gate (tests are off)');
  // A web tester task that changed no file has no tests of its own: its flows are its gate.
  else if (!(webTask && changed.length === 0)) {
    const { tests, only } = await testing.forChanges(changed);
    const report = await testing.run('task', task.id, tests, only);
    const verdict = judgeTaskGate(report, state.baselineTest);
    if (!verdict.pass) {
      context.fail(task.id, `tests: ${verdict.reason}`, `tests:${failureSignature(report)}`);
      return;
    }
    notes.push(`tests${only.length ? ` (${only.length} related file${only.length === 1 ? '' : 's'})` : ''}: ${verdict.reason}`);
  }
  if (webTask) {
    const verdict = await webGate(context, task);
    if (!verdict.pass) {
      context.fail(task.id, `web flows: ${verdict.reason}`, verdict.signature);
      return;
    }
    notes.push(verdict.reason);
  }
  context.setTask(task.id, next, notes.join('; '));
  if (next === 'done') await landing.commitTask(task);
}

export async function reviewGate(context: StepContext, steps: AgentSteps, landing: EditLanding, task: TaskState): Promise<void> {
  const { state, ports } = context;
  const stepId = steps.stepIdFor('reviewer', task.id, `${task.id}:review@v${task.attempts}`);
  const prompt = reviewPrompt(state, task, await appliedDiff(context.runDir, state, task.id));
  const tools = buildTools({ workspace: ports.workspace, maxOutputChars: await steps.toolOutputLimitFor('reviewer') }, reviewOutputSchema);
  const step = await steps.agentStep({ role: 'reviewer', stepId, taskId: task.id, attempt: task.attempts, prompt, tools });
  if (!step.ok) {
    context.fail(task.id, `review could not run: ${step.message}`, step.signature);
    return;
  }
  const verdict = step.output as z.infer<typeof reviewOutputSchema>;
  context.emit({ type: 'review.finished', taskId: task.id, verdict });
  context.emit({ type: 'step.finished', stepId, taskId: task.id, role: 'reviewer', ok: true, summary: verdict.summary });
  if (verdict.approved) {
    context.setTask(task.id, 'done', `review: ${verdict.summary}`);
    await landing.commitTask(task);
  } else context.fail(task.id, `review asked for changes: ${verdict.issues.join('; ') || verdict.summary}`, `review:${verdict.issues.join('; ')}`);
}

/** Unified diff of what the task's accepted proposals changed. */
async function appliedDiff(runDir: string, state: RunState, taskId: string): Promise<string> {
  const parts: string[] = [];
  for (const proposal of Object.values(state.proposals)) {
    if (proposal.taskId !== taskId || proposal.status !== 'applied') continue;
    const artifact = await readProposal(runDir, proposal.id);
    for (const file of artifact.files) {
      if (proposal.accepted.includes(file.path)) parts.push(unifiedDiff(file.path, file.before, file.after));
    }
  }
  return parts.join('\n');
}
