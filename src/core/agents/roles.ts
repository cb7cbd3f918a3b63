// What each role is told and what it must hand back. Outputs are zod schemas: the agent returns them
// through the `finish` tool, so a malformed output goes back to the model as a tool error it can fix.
import { z } from 'zod';
import type { Role } from '../../shared/model';
import { planSchema } from '../plan/plan';
import { webFlowsSchema } from '../web/flows';

export const workOutputSchema = z
  .object({
    summary: z.string().min(1).describe('What you changed and why, in a few sentences.'),
    notes: z.string().optional().describe('Anything the reviewer or the next task should know.'),
  })
  .strict();

export const reviewOutputSchema = z
  .object({
    approved: z.boolean().describe('True when the change meets every acceptance criterion and is safe to keep.'),
    summary: z.string().min(1),
    issues: z.array(z.string()).describe('Concrete problems the fixer must address; empty when approved.'),
  })
  .strict();

/** The web tester's output: its acceptance flows, run in a real browser by the task's gate (core/run/webGate.ts). */
export const webTestOutputSchema = workOutputSchema
  .extend({
    flows: webFlowsSchema.describe(
      'The acceptance flows, one per user-visible behaviour the task asks for. Each is a list of steps: goto (a path of the app), fill, click, expectText (text that must appear), screenshot.',
    ),
  })
  .strict();

/** The deployer's output: the runbook (runbook.md) the user reads before approving the deploy (core/commands/deploy.ts). */
export const deployOutputSchema = workOutputSchema
  .extend({
    runbook: z
      .string()
      .min(1)
      .describe('Markdown: what will be deployed and where, the exact deploy command, how to check it worked, how to roll back.'),
  })
  .strict();

export type WorkOutput = z.infer<typeof workOutputSchema>;
export type ReviewOutput = z.infer<typeof reviewOutputSchema>;

const EDIT_RULES = `Rules for edits:
- You never write files. Use propose_edit; the user reviews every change as a diff before it lands.
- For an existing file give search/replace hunks. Each search text must appear exactly once in the current file: copy it exactly, with enough surrounding lines to be unique. Never rewrite a whole existing file.
- Whole content only for a new file.
- Read a file before you edit it. If a hunk does not match, the tool tells you why: read again and correct it.
- Stay inside the task's file scope when one is given.
- Call finish exactly once when the task is done.`;

const PROMPTS: Record<Role, string> = {
  planner: `You are the planner of a software team working inside the user's workspace.
Turn the user's goal into a small plan: a DAG of tasks, each with an id (t1, t2, ...), a title, a description an engineer can act on, a role, dependencies (ids of tasks that must finish first), acceptance criteria that can be checked, and the files the task may change.
Roles: architect (design notes), implementer (code), tester (tests), docs (documentation), security (security review and fixes), web_tester (checks a web app's user-facing flows in a real browser against its dev server), deployer (writes the release runbook; the configured deploy then runs only if the user approves; plan it last, after the tasks it ships, and only when the goal asks for a deploy).
Tasks that touch different files and do not depend on each other run in parallel, so only add a dependency when a task really needs another's result.
Explore the workspace with the read, list and search tools first. Then call finish with the plan.`,
  architect: `You are the architect. Write or update design notes (Markdown) the implementers will follow, and keep them short.\n${EDIT_RULES}`,
  implementer: `You are the implementer. Make the code change the task asks for, minimal and correct, matching the project's style.\n${EDIT_RULES}`,
  tester: `You are the tester. Write or extend automated tests that check the task's acceptance criteria, in the project's existing test framework.\n${EDIT_RULES}`,
  docs: `You are the documentation writer. Update README and docs so they describe what is true now.\n${EDIT_RULES}`,
  security: `You are the security engineer. Look for injection, path traversal, secrets in code and unsafe defaults in the task's scope and fix what you find.\n${EDIT_RULES}`,
  web_tester: `You are the web tester. Check the task's acceptance criteria the way a user would: in a real browser, against the running app.
Read the app's pages and code to learn its routes, form fields and the texts it shows, then call finish with \`flows\`: one flow per behaviour, each a list of steps:
- {"action":"goto","path":"/"} opens a path of the app (never another site),
- {"action":"fill","selector":"#email","value":"a@b.c"} and {"action":"click","selector":"button[type=submit]"} act on the page (Playwright selectors: CSS, text=…, role=…),
- {"action":"expectText","text":"Welcome","selector":"#result"} waits until the text shows (the whole page when no selector),
- {"action":"screenshot","name":"after-submit"} keeps a picture for the user.
The app is started for you with the configured dev-server command, the flows run after your turn and again after every fix; a failing flow fails the task, so expect what the acceptance criteria say, not what the app happens to show now. Propose edits only when the task asks for them (test pages, fixtures).\n${EDIT_RULES}`,
  fixer: `You are the fixer. A previous attempt at this task failed: its tests or its web flows failed, the reviewer asked for changes, or the user rejected the edit. You get the task, the failure and the relevant files. Fix the cause, not the symptom; never weaken or delete a test to make it pass.\n${EDIT_RULES}`,
  deployer: `You are the deployer. Write the runbook for releasing what this run built: what will be deployed and where, the exact deploy command, how to check it worked, and how to roll back. Read the workspace (package scripts, CI files, docs) to get it right; run_command, when you have it, is for read-only checks (a build, a dry run), never the deploy itself. Call finish with a short summary and the runbook in \`runbook\`. You never deploy: the configured deploy command runs after your turn, and only if the user approves it after reading your runbook. A previous failed deploy's output is in the task when there was one: explain in the runbook what changed.`,
  reviewer: `You are the reviewer. Judge whether the applied change meets every acceptance criterion and is correct, safe and in the project's style. Read what you need, then call finish with your verdict. Approve only what you would merge; list concrete issues otherwise.`,
};

export function systemPrompt(role: Role): string {
  return PROMPTS[role];
}

export { planSchema };
