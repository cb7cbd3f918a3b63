// What the user writes to a run while it works: a `user.message` event first, then delivered to the
// model calls that should hear it. A step whose prompt was built after the message has it in its
// prompt (prompts.ts userContext); a step already under way gets it at its next model call through
// the SDK's steering, and each delivery is logged (`user.delivered`). Images are stored beside the
// log (attachments/) and sent only to models whose spec says they take images.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Experimental_Steering, FilePart, TextPart, UserModelMessage } from 'ai';
import { isTerminalRun } from '../../shared/lifecycle';
import type { Role, RunConfig } from '../../shared/model';
import type { ImageInput } from '../../shared/protocol';
import type { RunState, UserMessage } from '../../shared/runState';
import { messagesFor, relevantFiles } from '../agents/prompts';
import type { Workspace } from '../ports';
import type { RunContext } from './context';
import { messageOf } from '../../shared/wording';

export const MAX_IMAGES = 4;
export const MAX_IMAGE_BYTES = 5 * 1024 * 1024;

const EXTENSIONS: Record<ImageInput['mediaType'], string> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/gif': 'gif', 'image/webp': 'webp' };
const MEDIA_TYPES = Object.fromEntries(Object.entries(EXTENSIONS).map(([type, ext]) => [ext, type])) as Record<string, ImageInput['mediaType']>;

/** A message for a run, as a host passes it in. */
export interface UserMessageInput {
  text: string;
  taskId?: string;
  files?: string[];
  images?: ImageInput[];
}

export class GuidanceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GuidanceError';
  }
}

/** The roles that hear a message for this task (none: the planner and every task role). */
export function rolesHearing(state: Pick<RunState, 'tasks'>, taskId: string | undefined): Role[] {
  if (taskId) return [...new Set<Role>([state.tasks[taskId]?.role ?? 'implementer', 'fixer', 'reviewer'])];
  return [...new Set<Role>(['planner', 'fixer', 'reviewer', ...Object.values(state.tasks).map((task) => task.role)])];
}

/**
 * Why images cannot go to these roles, or undefined when every model that may serve them takes
 * images (`images: true` on its spec): an image a model cannot see must not be dropped silently.
 */
export function imageRefusal(config: RunConfig, roles: readonly Role[]): string | undefined {
  const blind = new Set<string>();
  for (const role of roles) {
    for (const id of config.roles[role] ?? []) {
      const spec = config.models.find((model) => model.id === id);
      if (!spec?.images) blind.add(id);
    }
  }
  if (!blind.size) return undefined;
  return `Images cannot be sent: ${[...blind].map((id) => `"${id}"`).join(', ')} ${blind.size === 1 ? 'does' : 'do'} not take images (set "images": true on a model's spec if it does). Send the message without images, or describe what they show.`;
}

/** Checks images (count, size, type) and stores them beside the log; returns their artifact names. */
export async function storeImages(runDir: string, images: readonly ImageInput[], stamp: string): Promise<string[]> {
  if (images.length > MAX_IMAGES) throw new GuidanceError(`At most ${MAX_IMAGES} images go with one message; this one has ${images.length}.`);
  const names: string[] = [];
  await mkdir(join(runDir, 'attachments'), { recursive: true });
  for (const [index, image] of images.entries()) {
    const bytes = Buffer.from(image.data, 'base64');
    if (bytes.length === 0) throw new GuidanceError(`Image ${index + 1} is empty.`);
    if (bytes.length > MAX_IMAGE_BYTES) throw new GuidanceError(`Image ${index + 1} is ${(bytes.length / 1024 / 1024).toFixed(1)} MB; images up to ${MAX_IMAGE_BYTES / 1024 / 1024} MB can be sent.`);
    const name = join('attachments', `${stamp}-${index + 1}.${EXTENSIONS[image.mediaType]}`);
    await writeFile(join(runDir, name), bytes);
    names.push(name);
  }
  return names;
}

/** The stored images as model content parts. */
export async function imageParts(runDir: string, names: readonly string[]): Promise<FilePart[]> {
  const parts: FilePart[] = [];
  for (const name of names) {
    const mediaType = MEDIA_TYPES[name.split('.').pop() ?? ''];
    if (!mediaType || !/^attachments[\\/][^\\/]+$/.test(name)) continue;
    parts.push({ type: 'file', data: new Uint8Array(await readFile(join(runDir, name))), mediaType });
  }
  return parts;
}

/** Workspace files a message names: they must be files of the workspace. */
export async function checkMentionedFiles(workspace: Workspace, files: readonly string[]): Promise<string[]> {
  const checked: string[] = [];
  for (const file of new Set(files)) {
    const text = await workspace.readText(file).catch((error: unknown) => {
      throw new GuidanceError(`@${file} cannot be added: ${messageOf(error)}`);
    });
    if (text === undefined) throw new GuidanceError(`@${file} cannot be added: there is no such file in the workspace.`);
    checked.push(file);
  }
  return checked;
}

interface LiveStep {
  stepId: string;
  taskId?: string;
  steering: Experimental_Steering;
}

/** Routes a run's user messages to the steps under way, and logs each delivery. */
export class Guidance {
  private readonly live = new Map<string, LiveStep>();

  constructor(private readonly context: RunContext & { readonly runDir: string }) {}

  /**
   * A step starts: the messages its prompt already holds count as delivered to it, and later ones
   * for it are steered into its next model call until `close`.
   */
  open(stepId: string, taskId: string | undefined, steering: Experimental_Steering): void {
    for (const message of messagesFor(this.context.state, taskId)) {
      if (!message.deliveredTo.includes(stepId)) this.context.emit({ type: 'user.delivered', messageSeq: message.seq, stepId, taskId });
    }
    this.live.set(stepId, { stepId, taskId, steering });
  }

  close(stepId: string): void {
    this.live.delete(stepId);
  }

  /** Logs the message, then hands it to every step under way that should hear it. */
  async send(input: UserMessageInput): Promise<number> {
    const { state } = this.context;
    if (isTerminalRun(state.status)) throw new GuidanceError(`Run ${state.id} has ended (${state.status}); start a follow-up instead.`);
    const text = input.text.trim();
    if (!text) throw new GuidanceError('The message is empty.');
    const taskId = input.taskId;
    if (taskId !== undefined) {
      const task = Object.hasOwn(state.tasks, taskId) ? state.tasks[taskId] : undefined;
      if (!task) throw new GuidanceError(`Run ${state.id} has no task "${taskId}".`);
      if (task.status === 'done' || task.status === 'skipped' || task.status === 'cancelled') throw new GuidanceError(`Task ${taskId} is ${task.status}; write to the run instead, or to a task still at work.`);
    }
    const files = await checkMentionedFiles(this.context.ports.workspace, input.files ?? []);
    let images: string[] = [];
    if (input.images?.length) {
      const refusal = imageRefusal(state.config, rolesHearing(state, taskId));
      if (refusal) throw new GuidanceError(refusal);
      images = await storeImages(this.context.runDir, input.images, `m${state.lastSeq + 1}`);
    }
    const event = this.context.emit({ type: 'user.message', text, ...(taskId ? { taskId } : {}), ...(files.length ? { files } : {}), ...(images.length ? { images } : {}) });
    const message = state.userMessages.find((entry) => entry.seq === event.seq);
    const steps = [...this.live.values()].filter((step) => taskId === undefined || step.taskId === taskId);
    if (message && steps.length) {
      const content: (TextPart | FilePart)[] = [{ type: 'text', text: await steeringText(this.context.ports.workspace, message) }];
      content.push(...(await imageParts(this.context.runDir, message.images)));
      // Steered before this returns: a step boundary after the send sees the message.
      for (const step of steps) if (this.live.has(step.stepId)) void this.deliver(step, message, { role: 'user', content });
    }
    return event.seq;
  }

  private async deliver(step: LiveStep, message: UserMessage, userMessage: UserModelMessage): Promise<void> {
    const outcome = await step.steering.steer(userMessage);
    // Not delivered (the turn ended first): the step's task hears it in its next turn's prompt.
    if (outcome.type !== 'delivered' || !this.live.has(step.stepId) || isTerminalRun(this.context.state.status)) return;
    this.context.emit({ type: 'user.delivered', messageSeq: message.seq, stepId: step.stepId, taskId: step.taskId });
  }
}

/** A message as the model reads it in the middle of its turn. */
async function steeringText(workspace: Workspace, message: UserMessage): Promise<string> {
  const lines = ['A message from the user while you work (it takes precedence over the plan where they conflict):', message.text];
  const files = await relevantFiles(workspace, message.files);
  if (files.length) lines.push('', 'Files the user pointed at:', ...files);
  return lines.join('\n');
}
