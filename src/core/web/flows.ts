// Web acceptance flows: what the web tester writes (checked here with zod, so a malformed flow goes
// back to the model as a tool error) and how a flow runs on a BrowserPage. A flow is data, not code:
// it runs the same way on every attempt of the task, stays inside the app's origin, and its failure
// names the step, so the fixer gets a signature like a failing test's.
import { z } from 'zod';
import type { WebFlow, WebFlowResult, WebFlowStep } from '../../shared/model';
import type { BrowserPage, BrowserSession } from '../ports';
import { messageOf } from '../../shared/wording';

const selector = z.string().min(1).max(500).describe('A Playwright selector, e.g. "#email", "text=Send", "button[type=submit]".');

const stepSchema = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('goto'), path: z.string().min(1).max(2000).describe('Path relative to the app URL, e.g. "/" or "/signup?x=1".') }),
  z.strictObject({ action: z.literal('fill'), selector, value: z.string().max(10_000) }),
  z.strictObject({ action: z.literal('click'), selector }),
  z.strictObject({
    action: z.literal('expectText'),
    text: z.string().min(1).max(2000).describe('Text that must become visible.'),
    selector: selector.optional().describe('Where the text must appear; the whole page when absent.'),
  }),
  z.strictObject({
    action: z.literal('screenshot'),
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,59}$/, 'letters, digits, - and _ (up to 60)')
      .describe('A short name for the screenshot, e.g. "after-submit".'),
  }),
]);

export const webFlowSchema = z.strictObject({
  name: z.string().min(1).max(120).describe('What the flow checks, e.g. "signup shows a welcome".'),
  steps: z.array(stepSchema).min(1).max(50),
});

export const webFlowsSchema = z
  .array(webFlowSchema)
  .min(1)
  .max(20)
  .refine((flows) => new Set(flows.map((flow) => flow.name)).size === flows.length, { message: 'Each flow needs a name of its own.' });

// The schema and the shared types describe the same thing.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const _flowsMatch: Same<z.output<typeof webFlowSchema>, WebFlow> = true;
void _flowsMatch;

/** How long one step may wait for the page. */
export const STEP_TIMEOUT_MS = 10_000;

export interface FlowRunOptions {
  /** The app's URL; `goto` paths resolve against it and may not leave its origin. */
  baseUrl: string;
  /** Stores one PNG and returns its artifact name. */
  saveScreenshot(flowIndex: number, name: string, png: Uint8Array): Promise<string>;
  signal: AbortSignal;
  /** Each flow's result as soon as it is known. */
  onResult?: (result: WebFlowResult) => void;
  now?: () => number;
}

/** Runs every flow in a fresh page of `session`; a failing flow does not stop the next one. */
export async function runFlows(session: BrowserSession, flows: readonly WebFlow[], options: FlowRunOptions): Promise<WebFlowResult[]> {
  const results: WebFlowResult[] = [];
  for (const [index, flow] of flows.entries()) {
    options.signal.throwIfAborted();
    const result = await runFlow(await session.newPage(), flow, index, options);
    options.onResult?.(result);
    results.push(result);
  }
  return results;
}

async function runFlow(page: BrowserPage, flow: WebFlow, index: number, options: FlowRunOptions): Promise<WebFlowResult> {
  const now = options.now ?? Date.now;
  const started = now();
  const screenshots: WebFlowResult['screenshots'] = [];
  const shoot = async (name: string): Promise<void> => {
    screenshots.push({ name, artifact: await options.saveScreenshot(index, name, await page.screenshot()) });
  };
  for (const [stepIndex, step] of flow.steps.entries()) {
    options.signal.throwIfAborted();
    try {
      await runStep(page, step, options.baseUrl, shoot);
    } catch (error) {
      options.signal.throwIfAborted();
      const reason = await explainFailure(page, step, error);
      // The page as it was when the step failed: what the fixer and the user most need to see.
      await shoot('failure').catch(() => undefined);
      return { flow: flow.name, ok: false, failedStep: stepIndex, error: `step ${stepIndex + 1} (${describeStep(step)}): ${reason}`, screenshots, durationMs: now() - started };
    }
  }
  if (!screenshots.length) await shoot('end');
  return { flow: flow.name, ok: true, screenshots, durationMs: now() - started };
}

async function runStep(page: BrowserPage, step: WebFlowStep, baseUrl: string, shoot: (name: string) => Promise<void>): Promise<void> {
  switch (step.action) {
    case 'goto':
      return page.goto(urlWithin(baseUrl, step.path), STEP_TIMEOUT_MS);
    case 'fill':
      return page.fill(step.selector, step.value, STEP_TIMEOUT_MS);
    case 'click':
      return page.click(step.selector, STEP_TIMEOUT_MS);
    case 'expectText':
      return page.waitForText(step.text, step.selector, STEP_TIMEOUT_MS);
    case 'screenshot':
      return shoot(step.name);
  }
}

/** `path` resolved against the app's URL; another origin is refused (a flow tests this app only). */
export function urlWithin(baseUrl: string, path: string): string {
  const base = new URL(baseUrl);
  const target = new URL(path, base);
  if (target.origin !== base.origin) throw new Error(`${path} leaves the app's origin ${base.origin}; flows may only visit the app under test`);
  return target.href;
}

export function describeStep(step: WebFlowStep): string {
  switch (step.action) {
    case 'goto':
      return `goto ${step.path}`;
    case 'fill':
      return `fill ${step.selector}`;
    case 'click':
      return `click ${step.selector}`;
    case 'expectText':
      return `expect "${step.text}"${step.selector ? ` in ${step.selector}` : ''}`;
    case 'screenshot':
      return `screenshot ${step.name}`;
  }
}

/** The error, and for a text that never showed, what the element said instead. */
async function explainFailure(page: BrowserPage, step: WebFlowStep, error: unknown): Promise<string> {
  const message = firstLine(messageOf(error));
  if (step.action !== 'expectText') return message;
  const actual = await page.readText(step.selector).catch(() => '');
  const where = step.selector ?? 'the page';
  if (actual) return `"${step.text}" did not appear in ${where}; it reads "${clip(actual)}"`;
  const body = step.selector ? await page.readText(undefined).catch(() => '') : '';
  return `"${step.text}" did not appear: ${where} is empty or missing${body ? `; the page reads "${clip(body)}"` : ''}`;
}

function clip(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 300 ? `${flat.slice(0, 300)}…` : flat;
}

function firstLine(text: string): string {
  return (text.split('\n').find((line) => line.trim()) ?? text).trim().slice(0, 500);
}

/** The failure signature of a web gate: the flows that failed and where, stable across attempts. */
export function webFailureSignature(results: readonly WebFlowResult[]): string {
  return results
    .filter((result) => !result.ok)
    .map((result) => `${result.flow}#${result.failedStep ?? '?'}`)
    .sort()
    .join('|');
}
