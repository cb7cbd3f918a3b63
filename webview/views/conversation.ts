// The conversation parts of the chat column: what decorates a message (who speaks, its tool calls,
// its files, where it reached), the end-of-run summary, and the composer's helpers (@-mention
// completion, pasted images, Enter to send). The composer itself stays in app.ts.
import { html, nothing, type TemplateResult } from 'lit';
import { endOfRun, testCountsText } from '../../src/shared/endOfRun';
import type { ImageInput } from '../../src/shared/protocol';
import type { RunState } from '../../src/shared/runState';
import { usageText } from '../../src/shared/wording';
import type { ChatMessage } from '../eventText';

/** The speaker line above an agent's words, and the lines below any message (tools, files, notes). */
export function messageHead(message: ChatMessage): TemplateResult | typeof nothing {
  return message.speaker ? html`<div class="message-speaker">${message.speaker}</div>` : nothing;
}

export function messageFoot(message: ChatMessage): TemplateResult | typeof nothing {
  const tools = message.tools ?? [];
  if (!tools.length && !message.files?.length && !message.images && !message.note) return nothing;
  return html`<div class="message-foot">
    ${tools.length
      ? html`<ul class="message-tools" aria-label="Tool calls">
          ${tools.map((line) => html`<li><span class="codicon codicon-tools" aria-hidden="true"></span> <code>${line}</code></li>`)}
          ${message.moreTools ? html`<li class="muted">and ${message.moreTools} more tool call${message.moreTools === 1 ? '' : 's'} (see the event log)</li>` : nothing}
        </ul>`
      : nothing}
    ${message.files?.length || message.images
      ? html`<div class="message-attachments">
          ${(message.files ?? []).map((file) => html`<span class="chip"><span class="codicon codicon-file" aria-hidden="true"></span>${file}</span>`)}
          ${message.images ? html`<span class="chip"><span class="codicon codicon-file-media" aria-hidden="true"></span>${message.images} image${message.images === 1 ? '' : 's'}</span>` : nothing}
        </div>`
      : nothing}
    ${message.note ? html`<div class="message-note muted">${message.note}</div>` : nothing}
  </div>`;
}

export interface SummaryActions {
  openDiff(path: string): void;
  openReport(): void;
}

/** What the run did, under its last message: changed files (a click opens the diff), rejections, tests, cost, the report. */
export function endOfRunCard(run: RunState, actions: SummaryActions): TemplateResult {
  const summary = endOfRun(run);
  const before = summary.testsBefore;
  const after = summary.testsAfter;
  return html`<div id="run-summary" class="run-summary" role="region" aria-label="Run summary">
    <div class="summary-title"><span class="codicon codicon-checklist" aria-hidden="true"></span> Summary · ${summary.tasksDone} of ${summary.tasksTotal} tasks done</div>
    <div class="summary-section">
      <span class="summary-label">Changed</span>
      ${summary.changed.length
        ? html`<ul class="summary-files">
            ${summary.changed.map(
              (file) => html`<li>
                <a href="#" class="summary-file" data-path=${file.path} title=${summary.startCheckpoint ? `Open ${file.path} as a diff against the run's start` : 'No start checkpoint: the diff cannot be shown'} @click=${(event: Event) => {
                  event.preventDefault();
                  actions.openDiff(file.path);
                }}>${file.path}</a>
                <span class="muted">${file.kind}${file.from ? ` from ${file.from}` : ''}${file.partial ? ` · ${file.partial.accepted} of ${file.partial.total} hunks` : ''} · ${file.tasks.join(', ')}</span>
              </li>`,
            )}
          </ul>`
        : html`<span class="muted">no files</span>`}
    </div>
    ${summary.rejected.length
      ? html`<div class="summary-section">
          <span class="summary-label">Rejected</span>
          <ul class="summary-rejected">
            ${summary.rejected.map(
              (entry) => html`<li>${entry.hunks ? `${entry.hunks.rejected} of ${entry.hunks.total} hunks of ` : ''}<code>${entry.path}</code> <span class="muted">(${entry.taskId}${entry.by === 'auto' ? ', not reviewable' : ''})${entry.reason ? ` — ${entry.reason}` : ''}</span></li>`,
            )}
          </ul>
        </div>`
      : nothing}
    <div class="summary-section">
      <span class="summary-label">Tests</span>
      <span class="summary-tests">before: <span class=${before && !before.ok ? 'was-failing' : ''}>${testCountsText(before)}</span>${before && !before.ok ? html` <span class="muted">(failing before the run)</span>` : nothing} → after:
        <span class=${after ? (after.ok ? 'ok' : 'failed') : ''}>${testCountsText(after)}</span></span>
    </div>
    <div class="summary-section"><span class="summary-label">Cost</span> <span>${usageText(summary.usage)}</span></div>
    <div class="summary-section">
      <a href="#" id="open-report" @click=${(event: Event) => {
        event.preventDefault();
        actions.openReport();
      }}><span class="codicon codicon-book" aria-hidden="true"></span> report.md</a>
    </div>
  </div>`;
}

/** The `@word` being typed just before the caret, if any. */
export function mentionAt(text: string, caret: number): { start: number; query: string } | undefined {
  const match = /(^|\s)@([^\s@]*)$/.exec(text.slice(0, caret));
  if (!match) return undefined;
  return { start: caret - match[2]!.length - 1, query: match[2]! };
}

/** The text with the `@query` at `start` replaced by `@path ` (the caret goes after it). */
export function completeMention(text: string, mention: { start: number; query: string }, path: string): { text: string; caret: number } {
  const inserted = `@${path} `;
  const end = mention.start + 1 + mention.query.length;
  return { text: text.slice(0, mention.start) + inserted + text.slice(end), caret: mention.start + inserted.length };
}

/** Files still @-mentioned in the text (a mention the user deleted is dropped). */
export function mentionedIn(text: string, files: readonly string[]): string[] {
  return files.filter((file) => text.includes(`@${file}`));
}

const IMAGE_TYPES: readonly ImageInput['mediaType'][] = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'];

/** Pasted images as base64 (the host checks sizes again; the engine refuses models that cannot see them). */
export async function pastedImages(data: DataTransfer | null): Promise<ImageInput[]> {
  const images: ImageInput[] = [];
  for (const item of Array.from(data?.items ?? [])) {
    const mediaType = IMAGE_TYPES.find((type) => type === item.type);
    const file = mediaType ? item.getAsFile() : null;
    if (!mediaType || !file) continue;
    const bytes = new Uint8Array(await file.arrayBuffer());
    let binary = '';
    for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    images.push({ mediaType, data: btoa(binary) });
  }
  return images;
}
