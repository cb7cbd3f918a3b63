// The selected task's details: what it is, how it went, and the one action it may need (its diff).
import { html, nothing, type TemplateResult } from 'lit';
import type { TaskState } from '../../src/shared/runState';
import type { Usage } from '../../src/shared/model';

export interface TaskDetailsActions {
  openDiff(taskId: string): void;
  close(): void;
}

export function formatTokens(count: number): string {
  if (count < 1000) return String(count);
  if (count < 1_000_000) return `${(count / 1000).toFixed(count < 10_000 ? 1 : 0)}k`;
  return `${(count / 1_000_000).toFixed(1)}M`;
}

export function formatUsd(usd: number): string {
  return `$${usd < 1 ? usd.toFixed(4) : usd.toFixed(2)}`;
}

export function usageText(usage: Usage): string {
  return `${usage.calls} call${usage.calls === 1 ? '' : 's'} · ${formatTokens(usage.inputTokens)} in / ${formatTokens(usage.outputTokens)} out · ${formatUsd(usage.usd)}`;
}

export function taskDetails(task: TaskState, actions: TaskDetailsActions): TemplateResult {
  const test = task.lastTest;
  const review = task.review;
  return html`<aside id="task-details" class="task-details" aria-label="Task ${task.id}" data-task-id=${task.id}>
    <div class="details-head">
      <span class="status-dot" data-status=${task.status}></span>
      <h2 class="details-title">${task.id} · ${task.title}</h2>
      <vscode-toolbar-button icon="close" label="Close details" title="Close details" @click=${() => actions.close()}></vscode-toolbar-button>
    </div>
    <dl class="details-grid">
      <dt>Role</dt><dd data-field="role">${task.role}</dd>
      <dt>Status</dt><dd><span class="task-status" data-status=${task.status}>${task.status}</span>${task.statusReason ? html` — ${task.statusReason}` : nothing}</dd>
      <dt>Attempts</dt><dd data-field="attempts">${task.attempts}</dd>
      ${task.dependsOn.length ? html`<dt>After</dt><dd>${task.dependsOn.join(', ')}</dd>` : nothing}
      <dt>Usage</dt><dd>${usageText(task.usage)}</dd>
    </dl>
    ${task.status === 'awaiting-review'
      ? html`<vscode-button id="open-diff" icon="diff" @click=${() => actions.openDiff(task.id)}>Open diff</vscode-button>`
      : nothing}
    ${task.description ? html`<p class="details-description">${task.description}</p>` : nothing}
    <h3>Acceptance criteria</h3>
    <ul class="checklist" data-field="acceptance">
      ${task.acceptance.map(
        (criterion) =>
          html`<li>
            <span class="codicon ${task.status === 'done' ? 'codicon-pass-filled' : 'codicon-circle-large'}" aria-hidden="true"></span>
            <span>${criterion}</span>
          </li>`,
      )}
    </ul>
    ${task.files.length
      ? html`<h3>File scope</h3>
          <ul class="file-list">
            ${task.files.map((file) => html`<li><span class="codicon codicon-file" aria-hidden="true"></span><code>${file}</code></li>`)}
          </ul>`
      : nothing}
    ${test
      ? html`<h3>Last tests</h3>
          <p class="test-summary ${test.ok ? 'ok' : 'failed'}">
            <span class="codicon ${test.ok ? 'codicon-pass' : 'codicon-error'}" aria-hidden="true"></span>
            ${test.passed} passed, ${test.failed} failed, ${test.skipped} skipped${test.timedOut ? ', timed out' : ''} · exit ${test.exitCode ?? '—'} ·
            ${(test.durationMs / 1000).toFixed(1)} s
          </p>
          ${test.problem ? html`<p class="muted">${test.problem}</p>` : nothing}
          ${test.failures.length
            ? html`<ul class="failure-list">
                ${test.failures.map(
                  (failure) =>
                    html`<li><strong>${failure.name}</strong>${failure.location ? html` <span class="muted">${failure.location}</span>` : nothing}<div class="muted">${failure.message}</div></li>`,
                )}
              </ul>`
            : nothing}`
      : nothing}
    ${review
      ? html`<h3>Review</h3>
          <p class="review ${review.approved ? 'ok' : 'failed'}">
            <span class="codicon ${review.approved ? 'codicon-check' : 'codicon-request-changes'}" aria-hidden="true"></span>
            ${review.approved ? 'Approved' : 'Changes requested'}: ${review.summary}
          </p>
          ${review.issues.length ? html`<ul>${review.issues.map((issue) => html`<li>${issue}</li>`)}</ul>` : nothing}`
      : nothing}
  </aside>`;
}
