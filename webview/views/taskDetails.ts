// The selected task's details: what it is, how it went (its history: steps, failures, tests, triage),
// and what it may need: its diff, triage when it is dead-lettered, a replay of any of its steps.
import { html, nothing, type TemplateResult } from 'lit';
import type { TaskState } from '../../src/shared/runState';
import { usageText } from '../../src/shared/wording';
import type { HistoryEntry } from '../taskHistory';
import './triage';
import './webFlows';
import type { ScreenshotResolver } from './webFlows';

export interface TaskDetailsActions {
  openDiff(taskId: string): void;
  /** Replays a step; `model` undefined keeps the step's own. */
  replay(stepId: string, model: string | undefined): void;
  close(): void;
}

/** What the details show besides the task. */
export interface TaskDetailsContext {
  history: HistoryEntry[];
  /** The run's configured model ids. */
  models: string[];
  /** Tasks skipped along with this one. */
  dependents: string[];
  /** A triage decision or replay is in flight. */
  busy: boolean;
  /** The run shown, and where the web tester's screenshots come from (the host). */
  runId?: string;
  resolveScreenshots?: ScreenshotResolver;
}

function renderHistory(history: HistoryEntry[], models: string[], actions: TaskDetailsActions, busy: boolean): TemplateResult | typeof nothing {
  if (history.length === 0) return nothing;
  const replay = (event: Event, stepId: string): void => {
    const select = (event.target as HTMLElement).closest('.task-details')?.querySelector<HTMLSelectElement>('#replay-model');
    actions.replay(stepId, select?.value ? select.value : undefined);
  };
  return html`<h3>History</h3>
    ${models.length > 1
      ? html`<label class="replay-model muted">Replay with
          <select id="replay-model" aria-label="Model for replays">
            <option value="">the step's own model</option>
            ${models.map((id) => html`<option value=${id}>${id}</option>`)}
          </select></label
        >`
      : nothing}
    <ol class="history" id="task-history">
      ${history.map((entry) => {
        switch (entry.kind) {
          case 'step':
            return html`<li class="history-step" data-kind="step" data-step-id=${entry.stepId}>
              <span class="codicon ${entry.ok === undefined ? 'codicon-circle-large' : entry.ok ? 'codicon-pass' : 'codicon-error'}" aria-hidden="true"></span>
              <code>${entry.stepId}</code> ${entry.role} · attempt ${entry.attempt} · ${entry.model}${entry.replayOf ? html` · <em>replay of ${entry.replayOf}</em>` : nothing}
              ${entry.summary ? html`<div class="muted history-summary">${entry.summary}</div>` : nothing}
              <vscode-toolbar-button class="replay-step" icon="history" label="Replay ${entry.stepId}" title="Replay ${entry.stepId} (its edits are shown, never applied)" ?disabled=${busy || entry.ok === undefined} @click=${(event: Event) => replay(event, entry.stepId)}></vscode-toolbar-button>
            </li>`;
          case 'failure':
            return html`<li class="history-failure" data-kind="failure">
              <span class="codicon codicon-error" aria-hidden="true"></span> Failed: ${entry.reason}${entry.signature && entry.signature !== entry.reason ? html` <span class="muted" title="Failure signature">[${entry.signature}]</span>` : nothing}
            </li>`;
          case 'test':
            return html`<li class="history-test" data-kind="test">
              <span class="codicon ${entry.ok ? 'codicon-beaker' : 'codicon-beaker-stop'}" aria-hidden="true"></span> Tests ${entry.ok ? 'passed' : 'failed'}: ${entry.passed} passed, ${entry.failed} failed${entry.failing.length ? html` — <span class="muted">${entry.failing.join('; ')}</span>` : nothing}
            </li>`;
          case 'status':
            return html`<li class="history-status" data-kind="status" data-status=${entry.status}>
              <span class="codicon codicon-arrow-right" aria-hidden="true"></span> ${entry.status === 'ready' ? 'Retried' : entry.status === 'dead_letter' ? 'Dead-lettered' : entry.status}${entry.reason ? html`: ${entry.reason}` : nothing}
            </li>`;
          case 'edited':
            return html`<li class="history-edited" data-kind="edited">
              <span class="codicon codicon-edit" aria-hidden="true"></span> ${entry.fields.length ? `Edited ${entry.fields.join(', ')}` : 'Model pinned'}${entry.model ? ` · model ${entry.model}` : ''}
            </li>`;
        }
      })}
    </ol>`;
}

export function taskDetails(task: TaskState, actions: TaskDetailsActions, context: TaskDetailsContext = { history: [], models: [], dependents: [], busy: false }): TemplateResult {
  const lastModel = task.modelOverride ?? [...context.history].reverse().find((entry) => entry.kind === 'step')?.model;
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
    <sm-triage .task=${task} .models=${context.models} .dependents=${context.dependents} .lastModel=${lastModel} ?busy=${context.busy}></sm-triage>
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
    ${task.webFlows || task.webResults
      ? html`<sm-web-flows .runId=${context.runId ?? ''} .flows=${task.webFlows ?? []} .results=${task.webResults} .resolveScreenshots=${context.resolveScreenshots}></sm-web-flows>`
      : nothing}
    ${renderHistory(context.history, context.models, actions, context.busy)}
  </aside>`;
}
