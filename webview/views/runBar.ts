// The parts of the chat views about which run is shown and what the window asks of the user: the
// pin, the notice banners, the run history with its search, and the composer's per-run options
// (model, auto-approve). Templates only; the state lives in the store and the app element.
import { html, nothing, type TemplateResult } from 'lit';
import type { ComposerDefaults, GoalOptions, Notice } from '../../src/shared/protocol';
import { goalLabel, runDescription, searchRuns } from '../../src/shared/runList';
import type { RunSummary } from '../../src/shared/runState';

/** Pins the shown run (newly started runs then leave the view alone) or unpins it. */
export function pinButton(activeRunId: string | undefined, pinnedRunId: string | undefined, pin: (runId: string | undefined) => void): TemplateResult | typeof nothing {
  if (!activeRunId) return nothing;
  const pinned = pinnedRunId === activeRunId;
  return html`<vscode-toolbar-button
    id="pin-run"
    class="pin-run"
    icon=${pinned ? 'pinned' : 'pin'}
    aria-pressed=${pinned ? 'true' : 'false'}
    label=${pinned ? 'Unpin: follow new runs' : 'Pin this run'}
    title=${pinned ? 'Pinned: new runs do not take this view over. Click to follow new runs again.' : 'Pin this run: new runs then do not take this view over.'}
    @click=${() => pin(pinned ? undefined : activeRunId)}
  ></vscode-toolbar-button>`;
}

export function noticeBanners(notices: readonly Notice[], act: (id: string, action?: string) => void): TemplateResult | typeof nothing {
  if (notices.length === 0) return nothing;
  return html`<div class="notices" role="region" aria-label="Prompts">
    ${notices.map(
      (notice) => html`<div class="notice ${notice.tone}" data-notice-id=${notice.id} role="status">
        <span class="codicon codicon-${notice.tone === 'warning' ? 'warning' : 'info'}" aria-hidden="true"></span>
        <span class="notice-text">${notice.message}</span>
        <span class="notice-actions">
          ${notice.actions.map(
            (action, index) => html`<vscode-button class="notice-action" ?secondary=${index > 0} data-action=${action} @click=${() => act(notice.id, action)}>${action}</vscode-button>`,
          )}
          <vscode-toolbar-button class="notice-dismiss" icon="close" label="Dismiss" title="Dismiss" @click=${() => act(notice.id)}></vscode-toolbar-button>
        </span>
      </div>`,
    )}
  </div>`;
}

/** Every run of the workspace, newest first, with when it started, its status and cost; searchable. */
export function runHistory(
  runs: readonly RunSummary[],
  state: { activeRunId?: string; query: string; open: boolean },
  on: { query: (text: string) => void; open: (runId: string) => void; toggle: (open: boolean) => void },
): TemplateResult | typeof nothing {
  if (runs.length === 0) return nothing;
  const found = searchRuns(runs, state.query);
  return html`<details class="run-history" ?open=${state.open} @toggle=${(event: Event) => on.toggle((event.target as HTMLDetailsElement).open)}>
    <summary>History (${runs.length} run${runs.length === 1 ? '' : 's'})</summary>
    <input
      id="history-search"
      class="history-search"
      type="search"
      placeholder="Search goals, status, date…"
      aria-label="Search the run history"
      .value=${state.query}
      @input=${(event: Event) => on.query((event.target as HTMLInputElement).value)}
    />
    <ul class="history-list" aria-label="Runs">
      ${found.map(
        (run) => html`<li class="history-item ${run.id === state.activeRunId ? 'active' : ''}" data-run-id=${run.id}>
          <a href="#" class="goal-link" title=${run.goal} @click=${(event: Event) => {
            event.preventDefault();
            on.open(run.id);
          }}>${goalLabel(run.goal, 90)}</a>
          <span class="history-meta task-status" data-status=${run.status}>${runDescription(run)}</span>
        </li>`,
      )}
      ${found.length === 0 ? html`<li class="muted history-none">No run matches "${state.query}".</li>` : nothing}
    </ul>
  </details>`;
}

/** The composer's per-run choices; undefined fields fall back to the settings. */
export function composerOptions(defaults: ComposerDefaults, chosen: GoalOptions, change: (options: GoalOptions) => void, disabled: boolean): TemplateResult {
  const autoApprove = chosen.autoApprove ?? defaults.autoApprove;
  return html`<span class="composer-options">
    <label class="auto-approve" title="Apply this run's edits without showing them for review (edits that change what runs are still shown). Default: the softwareMaker.autoApprove setting.">
      <input id="auto-approve" type="checkbox" .checked=${autoApprove} ?disabled=${disabled} @change=${(event: Event) => change({ ...chosen, autoApprove: (event.target as HTMLInputElement).checked })} />
      Auto-approve
    </label>
    ${defaults.models.length > 0
      ? html`<select
          id="model-picker"
          class="model-picker"
          aria-label="Model"
          title="The model every role of this run uses. Default: the softwareMaker.roles setting."
          ?disabled=${disabled}
          .value=${chosen.model ?? ''}
          @change=${(event: Event) => {
            const value = (event.target as HTMLSelectElement).value;
            change({ ...chosen, model: value || undefined });
          }}
        >
          <option value="" ?selected=${!chosen.model}>Models from settings</option>
          ${defaults.models.map((id) => html`<option value=${id} ?selected=${chosen.model === id}>${id}</option>`)}
        </select>`
      : nothing}
  </span>`;
}

/** The options to send: only what differs from the settings, and only models that still exist. */
export function goalOptionsToSend(defaults: ComposerDefaults, chosen: GoalOptions): GoalOptions {
  const options: GoalOptions = {};
  if (chosen.model && defaults.models.includes(chosen.model)) options.model = chosen.model;
  if (chosen.autoApprove !== undefined && chosen.autoApprove !== defaults.autoApprove) options.autoApprove = chosen.autoApprove;
  return options;
}
