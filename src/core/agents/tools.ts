// The tools agents call. Each is a thin adapter over a port; every call and result is logged.
import { tool, zodSchema, type Schema, type ToolSet } from 'ai';
import { z } from 'zod';
import type { TestReport } from '../../shared/model';
import type { EditSet } from '../edits/editSet';
import type { Workspace } from '../ports';

/** Tool output the model gets back is capped so one big file cannot flood its context. */
export const MAX_TOOL_OUTPUT_CHARS = 60_000;

export function truncateForModel(text: string, max = MAX_TOOL_OUTPUT_CHARS): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}\n[truncated: ${text.length - max} more characters not shown]`;
}

/**
 * The most a tool result may hold for a model with this context window: a quarter of the window, at
 * about four characters a token, so one file cannot crowd out the task and the conversation.
 */
export function toolOutputLimit(contextWindowTokens: number | undefined): number {
  if (!contextWindowTokens) return MAX_TOOL_OUTPUT_CHARS;
  return Math.max(2_000, Math.min(MAX_TOOL_OUTPUT_CHARS, Math.floor(contextWindowTokens * 4 * 0.25)));
}

export interface ToolContext {
  workspace: Workspace;
  /** Cap on each tool result (see toolOutputLimit); longer results are cut and say so. */
  maxOutputChars?: number;
  /** Present for roles that may propose edits. */
  edits?: EditSet;
  /** Present for roles that may run the tests. */
  runTests?: () => Promise<TestReport>;
  /** Present for roles the command policy lets propose shell commands (core/commands/agentCommand.ts). */
  runCommand?: (input: { command: string; reason: string; cwd?: string; timeoutSeconds?: number }) => Promise<string>;
}

const hunkSchema = z.object({
  search: z.string().min(1).describe('Exact text currently in the file, unique in it.'),
  replace: z.string().describe('Text to put in its place.'),
});

// Tool input schemas are built once: the SDK converts each to JSON Schema on first use and the
// wrapper caches it, so no model call pays for the conversion again.
const readFileInput = zodSchema(z.object({ path: z.string().min(1) }));
const listFilesInput = zodSchema(z.object({ dir: z.string().default('') }));
const searchTextInput = zodSchema(z.object({ query: z.string().min(1) }));
const runTestsInput = zodSchema(z.object({}));
const proposeEditInput = zodSchema(
  z
    .object({
      path: z.string().min(1),
      hunks: z.array(hunkSchema).min(1).optional(),
      content: z.string().optional(),
    })
    .refine((input) => (input.hunks === undefined) !== (input.content === undefined), {
      message: 'Give either hunks (existing file) or content (new file), not both and not neither.',
    }),
);
const deleteFileInput = zodSchema(z.object({ path: z.string().min(1) }));
const renameFileInput = zodSchema(z.object({ from: z.string().min(1), to: z.string().min(1) }));
const runCommandInput = zodSchema(
  z.object({
    command: z.string().min(1).describe('The exact shell command, as it would be typed in a terminal, e.g. "npm install" or "npm run build".'),
    reason: z.string().min(1).describe('Why the task needs it, in one sentence: the user reads it before approving.'),
    cwd: z.string().optional().describe('Folder to run it in, relative to the workspace root; default the root.'),
    timeoutSeconds: z.number().positive().optional().describe('Time limit in seconds (at most the configured one).'),
  }),
);
const finishInputs = new WeakMap<z.ZodType, Schema<unknown>>();

function finishInput<O extends z.ZodType>(outputSchema: O): Schema<z.infer<O>> {
  let schema = finishInputs.get(outputSchema);
  if (!schema) {
    schema = zodSchema(outputSchema) as Schema<unknown>;
    finishInputs.set(outputSchema, schema);
  }
  return schema as Schema<z.infer<O>>;
}

/**
 * A test report as a model reads it. Parsed failures (name, location, message) are what a fixer
 * needs; the raw output tail is added only when the parser found no failure to explain the result
 * (a crash, a compile error), so retries stay small.
 */
export function summarizeReport(report: TestReport): string {
  const head = report.ok
    ? `Tests passed: ${report.passed} passed, ${report.skipped} skipped.`
    : `Tests did not pass: ${report.failed} failed, ${report.passed} passed${report.problem ? ` (${report.problem})` : ''}.`;
  const failures = report.failures
    .slice(0, 20)
    .map((failure) => `- ${failure.name}${failure.location ? ` (${failure.location})` : ''}: ${clipMessage(failure.message)}`)
    .join('\n');
  const more = report.failures.length > 20 ? `(and ${report.failures.length - 20} more failing tests)` : '';
  const tail = report.ok || report.failures.length ? '' : `Output (last 3000 characters):\n${report.outputTail.slice(-3000)}`;
  return [head, failures, more, tail].filter(Boolean).join('\n');
}

function clipMessage(message: string): string {
  const flat = message.trim();
  return flat.length > 400 ? `${flat.slice(0, 400)}…` : flat;
}

/** Tools for exploring the workspace, proposing edits and running tests, plus `finish` with the role's output schema. */
export function buildTools<O extends z.ZodType>(context: ToolContext, outputSchema: O, validateOutput?: (output: z.infer<O>) => string[]): ToolSet {
  const tools: ToolSet = {
    read_file: tool({
      description: 'Read a text file of the workspace (path relative to the workspace root).',
      inputSchema: readFileInput,
      execute: async ({ path }) => {
        const text = await context.workspace.readText(path);
        if (text === undefined) throw new Error(`${path} does not exist. Use list_files to see what is there.`);
        return truncateForModel(text, context.maxOutputChars);
      },
    }),
    list_files: tool({
      description: 'List files under a folder of the workspace, recursively ("" or "." for the root).',
      inputSchema: listFilesInput,
      execute: async ({ dir }) => {
        const files = await context.workspace.listFiles(dir === '.' ? '' : dir, 500);
        return files.length ? truncateForModel(files.join('\n'), context.maxOutputChars) : '(no files)';
      },
    }),
    search_text: tool({
      description: 'Find lines containing a text (case-sensitive) across the workspace.',
      inputSchema: searchTextInput,
      execute: async ({ query }) => {
        const hits = await context.workspace.searchText(query, 100);
        return hits.length ? truncateForModel(hits.map((hit) => `${hit.path}:${hit.line}: ${hit.text}`).join('\n'), context.maxOutputChars) : 'No matches.';
      },
    }),
    finish: tool({
      description: 'Finish your turn with your result. Call it exactly once, last.',
      inputSchema: finishInput(outputSchema),
      execute: async (output: z.infer<O>) => {
        const problems = validateOutput?.(output) ?? [];
        if (problems.length) throw new Error(`Your result was not accepted:\n- ${problems.join('\n- ')}\nCorrect it and call finish again.`);
        return 'Accepted.';
      },
    }),
  };
  const edits = context.edits;
  if (edits) {
    tools.propose_edit = tool({
      description:
        'Propose a change to one file. Existing file: give hunks (search/replace, each search unique in the file). New file: give its whole content. The user reviews it as a diff before it is applied.',
      inputSchema: proposeEditInput,
      execute: async (input) => {
        const request = input.hunks ? { path: input.path, hunks: input.hunks } : { path: input.path, content: input.content ?? '' };
        const { file, notes } = await edits.stage(request);
        const note = notes.length ? ` Notes: ${notes.join(' ')}` : '';
        const what = file.kind === 'create' ? 'new file' : file.kind === 'rename' ? `rename of ${file.from} to` : 'change to';
        return `Staged ${what} ${file.path} for review.${note}`;
      },
    });
    tools.delete_file = tool({
      description:
        'Propose deleting one file of the workspace. The user reviews the deletion before it happens; it is refused if the file changes in the meantime.',
      inputSchema: deleteFileInput,
      execute: async ({ path }) => {
        const { file, notes } = await edits.stageDelete(path);
        const note = notes.length ? ` Notes: ${notes.join(' ')}` : '';
        return file ? `Staged deletion of ${file.path} for review.${note}` : `Nothing to delete.${note}`;
      },
    });
    tools.rename_file = tool({
      description:
        'Propose moving a file to a new path (folders are created as needed). The target must not exist. Changes proposed for the file in this turn move with it; later propose_edit calls use the new path.',
      inputSchema: renameFileInput,
      execute: async ({ from, to }) => {
        const { file, notes } = await edits.stageRename(from, to);
        const note = notes.length ? ` Notes: ${notes.join(' ')}` : '';
        const source = file.kind === 'rename' ? file.from : from;
        return `Staged ${file.kind === 'rename' ? `rename of ${source} to ${file.path}` : `${file.kind === 'create' ? 'new file' : 'change to'} ${file.path}`} for review.${note}`;
      },
    });
  }
  const runCommand = context.runCommand;
  if (runCommand) {
    tools.run_command = tool({
      description:
        'Run a shell command in the workspace (install, build, lint, a script): the user sees the command and your reason and approves or denies it, unless a rule decides. You get its exit code and output (long output: head and tail). One program per call is approved most easily; a denied command is not run, so do not retry it.',
      inputSchema: runCommandInput,
      execute: async (input) => truncateForModel(await runCommand(input), context.maxOutputChars),
    });
  }
  const runTests = context.runTests;
  if (runTests) {
    tools.run_tests = tool({
      description: 'Run the workspace tests as the files are on disk now (your proposed edits are not applied until reviewed).',
      inputSchema: runTestsInput,
      execute: async () => truncateForModel(summarizeReport(await runTests()), context.maxOutputChars),
    });
  }
  return tools;
}
