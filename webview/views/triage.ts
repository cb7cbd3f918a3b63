// Triage of a dead-lettered task in the details pane: Retry, Retry with another model, Edit (title,
// description, acceptance criteria), Skip (confirmed, naming the tasks skipped with it) and Mark done.
// It only says what the user decided (a `triage` event); the app sends it to the host.
import { html, LitElement, nothing, type TemplateResult } from 'lit';
import type { TriageDecision } from '../../src/shared/protocol';
import type { TaskState } from '../../src/shared/runState';

export type TriageEvent = CustomEvent<{ taskId: string; action: TriageDecision }>;

type Mode = 'idle' | 'confirm-skip' | 'confirm-done' | 'edit';

export class SmTriage extends LitElement {
  task?: TaskState;
  /** The run's configured model ids. */
  models: string[] = [];
  /** Tasks skipped along with this one. */
  dependents: string[] = [];
  /** The model the task's attempts used last (offered last for "another model"). */
  lastModel?: string;
  /** A decision is on its way to the host: the buttons wait. */
  busy = false;

  private mode: Mode = 'idle';
  private modeFor?: string;

  static override properties = {
    task: { attribute: false },
    models: { attribute: false },
    dependents: { attribute: false },
    lastModel: { attribute: false },
    busy: { type: Boolean },
  };

  protected override createRenderRoot(): HTMLElement {
    return this;
  }

  protected override render(): TemplateResult | typeof nothing {
    const task = this.task;
    if (!task) return nothing;
    if (this.modeFor !== task.id) {
      this.mode = 'idle';
      this.modeFor = task.id;
    }
    const dead = task.status === 'dead_letter';
    const editable = dead || task.status === 'pending' || task.status === 'ready';
    if (!editable) return nothing;
    const others = [...this.models.filter((id) => id !== this.lastModel), ...this.models.filter((id) => id === this.lastModel)];
    return html`<section class="triage" id="triage" data-task-id=${task.id}>
      ${dead
        ? html`<p class="triage-why"><span class="codicon codicon-warning" aria-hidden="true"></span> <strong>Needs triage.</strong> ${task.statusReason ?? ''}</p>
            <div class="triage-buttons">
              <vscode-button id="triage-retry" icon="debug-restart" ?disabled=${this.busy} @click=${() => this.decide({ kind: 'retry' })}>Retry</vscode-button>
              ${others.length > 1 || (others.length === 1 && others[0] !== this.lastModel)
                ? html`<span class="triage-model">
                    <select id="triage-model" aria-label="Model for the retry">
                      ${others.map((id) => html`<option value=${id}>${id}${id === this.lastModel ? ' (used so far)' : ''}</option>`)}
                    </select>
                    <vscode-button id="triage-retry-model" secondary icon="sparkle" ?disabled=${this.busy} @click=${() => this.retryWithModel()}>Retry with model</vscode-button>
                  </span>`
                : nothing}
              <vscode-button id="triage-edit" secondary icon="edit" ?disabled=${this.busy} @click=${() => this.setMode('edit')}>Edit…</vscode-button>
              <vscode-button id="triage-skip" secondary icon="debug-step-over" ?disabled=${this.busy} @click=${() => this.setMode('confirm-skip')}>Skip…</vscode-button>
              <vscode-button id="triage-done" secondary icon="check" ?disabled=${this.busy} @click=${() => this.setMode('confirm-done')}>Mark done…</vscode-button>
            </div>`
        : html`<div class="triage-buttons">
            <vscode-button id="triage-edit" secondary icon="edit" ?disabled=${this.busy} @click=${() => this.setMode('edit')}>Edit task…</vscode-button>
          </div>`}
      ${this.mode === 'confirm-skip' ? this.renderConfirm('skip') : nothing}
      ${this.mode === 'confirm-done' ? this.renderConfirm('done') : nothing}
      ${this.mode === 'edit' ? this.renderEdit(task) : nothing}
    </section>`;
  }

  private renderConfirm(what: 'skip' | 'done'): TemplateResult {
    const task = this.task!;
    const text =
      what === 'skip'
        ? `Skip ${task.id}? ${this.dependents.length ? `Tasks that depend on it are skipped too: ${this.dependents.join(', ')}.` : 'No other task depends on it.'} A run whose tests still fail at the end does not complete.`
        : `Mark ${task.id} done by hand? It is not tested or reviewed again, and the tasks after it start on the workspace as it is now.`;
    return html`<div class="triage-confirm" id="triage-confirm" role="alertdialog">
      <p>${text}</p>
      <vscode-button id="triage-confirm-yes" ?disabled=${this.busy} @click=${() => this.decide(what === 'skip' ? { kind: 'skip' } : { kind: 'takeOver' })}>${what === 'skip' ? 'Skip' : 'Mark done'}</vscode-button>
      <vscode-button secondary @click=${() => this.setMode('idle')}>Cancel</vscode-button>
    </div>`;
  }

  private renderEdit(task: TaskState): TemplateResult {
    return html`<form class="triage-edit" id="triage-edit-form" @submit=${(event: Event) => {
      event.preventDefault();
      this.submitEdit(event.target as HTMLFormElement);
    }}>
      <label>Title <input name="title" .value=${task.title} required /></label>
      <label>Description <textarea name="description" rows="4" .value=${task.description}></textarea></label>
      <label>Acceptance criteria (one per line) <textarea name="acceptance" rows="4" .value=${task.acceptance.join('\n')}></textarea></label>
      <div class="triage-buttons">
        <vscode-button id="triage-edit-save" ?disabled=${this.busy} @click=${(event: Event) => this.submitEdit((event.target as HTMLElement).closest('form')!)}>Save</vscode-button>
        <vscode-button secondary @click=${() => this.setMode('idle')}>Cancel</vscode-button>
      </div>
    </form>`;
  }

  private setMode(mode: Mode): void {
    this.mode = mode;
    this.requestUpdate();
  }

  private retryWithModel(): void {
    const model = (this.querySelector('#triage-model') as HTMLSelectElement | null)?.value;
    if (model) this.decide({ kind: 'retry', model });
  }

  private submitEdit(form: HTMLFormElement): void {
    const task = this.task!;
    const data = new FormData(form);
    const title = String(data.get('title') ?? '').trim();
    const description = String(data.get('description') ?? '').trim();
    const acceptance = String(data.get('acceptance') ?? '')
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean);
    const changes: { title?: string; description?: string; acceptance?: string[] } = {};
    if (title && title !== task.title) changes.title = title;
    if (description !== task.description.trim()) changes.description = description;
    if (acceptance.length && acceptance.join('\n') !== task.acceptance.join('\n')) changes.acceptance = acceptance;
    if (Object.keys(changes).length === 0) {
      this.setMode('idle');
      return;
    }
    this.decide({ kind: 'edit', changes });
  }

  private decide(action: TriageDecision): void {
    this.mode = 'idle';
    this.dispatchEvent(new CustomEvent('triage', { detail: { taskId: this.task!.id, action }, bubbles: true, composed: true }) as TriageEvent);
    this.requestUpdate();
  }
}

if (!customElements.get('sm-triage')) customElements.define('sm-triage', SmTriage);

declare global {
  interface HTMLElementTagNameMap {
    'sm-triage': SmTriage;
  }
}
