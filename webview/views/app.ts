// The panel: header (run picker, status, cost, run actions), error bar, chat column, plan DAG with
// task details, and the event log. Re-renders from the store; Lit batches a burst of events into
// one update per microtask, and the two heavy parts (DAG layout, log filtering) are memoized.
import { html, LitElement, nothing, type TemplateResult } from 'lit';
import { unsafeHTML } from 'lit/directives/unsafe-html.js';
import type { EngineEvent } from '../../src/shared/events';
import { isTerminalRun } from '../../src/shared/lifecycle';
import type { RunState } from '../../src/shared/runState';
import type { PanelController } from '../controller';
import { costText, costTooltip, describeBreach, raisedBudgets, roleCosts, suggestedLimit, usageText } from '../costs';
import { extendChat, type ChatMessage } from '../eventText';
import { renderMarkdown } from '../markdown';
import type { Store, ViewState } from '../store';
import { dependentsOf, taskHistory, type HistoryEntry } from '../taskHistory';
import { taskDetails } from './taskDetails';
import type { TaskSelectEvent } from './planDag';
import type { TriageEvent } from './triage';
import './planDag';
import './eventLog';

function clip(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

const STATUS_ICONS: Record<string, string> = {
  queued: 'clock',
  planning: 'loading',
  'awaiting-approval': 'question',
  running: 'loading',
  paused: 'debug-pause',
  completed: 'pass-filled',
  failed: 'error',
  cancelled: 'circle-slash',
  stopped_budget: 'warning',
};

export class SmApp extends LitElement {
  store?: Store;
  controller?: PanelController;

  private unsubscribe?: () => void;
  private goalDraft = '';
  private starting = false;

  // Chat messages derived incrementally from the active run's log (it only ever grows).
  private chatFor?: EngineEvent[];
  private chatLength = 0;
  private chat: ChatMessage[] = [];
  // The selected task's history, recomputed when the log grows or the selection changes.
  private historyKey = '';
  private history: HistoryEntry[] = [];
  /** A triage decision, budget change or replay is on its way to the host. */
  private busy = false;
  private costOpen = false;

  protected override createRenderRoot(): HTMLElement {
    return this;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.unsubscribe = this.store?.subscribe(() => this.requestUpdate());
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.unsubscribe?.();
  }

  protected override render(): TemplateResult {
    const store = this.store;
    if (!store) return html``;
    const state = store.state;
    const run = state.run;
    const selected = run && state.selectedTaskId ? run.tasks[state.selectedTaskId] : undefined;
    return html`<div class="app">
      ${this.renderHeader(state, store)}
      ${this.renderErrors(state)}
      <main class="body">
        <section class="chat-column" aria-label="Conversation">${this.renderChat(state)}</section>
        <section class="work-column">
          <div class="plan-area ${selected ? 'with-details' : ''}">
            <sm-plan-dag
              .run=${run}
              .revision=${state.revision}
              .selectedTaskId=${state.selectedTaskId}
              @task-select=${(event: TaskSelectEvent) => store.selectTask(event.detail.taskId)}
            ></sm-plan-dag>
            ${selected && run
              ? html`<div class="details-host" @triage=${(event: TriageEvent) => void this.triage(run.id, event.detail.taskId, event.detail.action)}>
                  ${taskDetails(
                    selected,
                    {
                      openDiff: (taskId) => void this.controller?.openDiff(run.id, taskId),
                      replay: (stepId, model) => void this.withBusy(() => this.controller?.replayStep(run.id, stepId, model)),
                      close: () => store.selectTask(undefined),
                    },
                    {
                      history: this.taskHistory(state, selected.id),
                      models: run.config.models.map((model) => model.id),
                      dependents: dependentsOf(run.tasks, run.taskOrder, selected.id),
                      busy: this.busy,
                    },
                  )}
                </div>`
              : nothing}
          </div>
          <sm-event-log
            .events=${state.events}
            .revision=${state.revision}
            .taskIds=${run?.taskOrder ?? []}
            .tasks=${run?.tasks ?? {}}
            @task-select=${(event: TaskSelectEvent) => store.selectTask(event.detail.taskId)}
          ></sm-event-log>
        </section>
      </main>
    </div>`;
  }

  private renderHeader(state: ViewState, store: Store): TemplateResult {
    const run = state.run;
    const runs = store.pickerRuns();
    const active = run && !isTerminalRun(run.status);
    return html`<header class="header">
      <div class="header-row">
        <span class="codicon codicon-rocket brand" aria-hidden="true"></span>
        ${runs.length
          ? html`<vscode-single-select
              id="run-picker"
              class="run-picker"
              aria-label="Run"
              .value=${state.openingRunId ?? state.activeRunId ?? ''}
              @change=${(event: Event) => {
                const runId = (event.target as HTMLElement & { value: string }).value;
                if (runId) void this.controller?.openRun(runId);
              }}
            >
              ${runs.map(
                (summary) =>
                  html`<vscode-option value=${summary.id} description=${`${summary.status} · ${summary.tasksDone}/${summary.tasksTotal} tasks`}
                    >${clip(summary.goal, 70)}</vscode-option
                  >`,
              )}
            </vscode-single-select>`
          : html`<span class="muted">No runs yet</span>`}
        ${run
          ? html`<vscode-badge id="run-status" class="run-status" data-status=${run.status} title=${run.statusReason ?? run.status}>
              <span class="codicon codicon-${STATUS_ICONS[run.status] ?? 'circle'} ${run.status === 'running' || run.status === 'planning' ? 'codicon-modifier-spin' : ''}"></span>
              ${run.status}
            </vscode-badge>`
          : nothing}
        ${state.openingRunId ? html`<vscode-progress-ring class="opening" aria-label="Opening run"></vscode-progress-ring>` : nothing}
        <span class="spacer"></span>
        ${run ? this.renderCostMeter(run) : nothing}
        ${run?.status === 'awaiting-approval'
          ? html`<vscode-button id="approve-plan" icon="check" @click=${() => void this.controller?.approvePlan(run.id)}>Approve plan</vscode-button>`
          : nothing}
        ${run && active
          ? html`<vscode-button id="cancel-run" secondary icon="debug-stop" @click=${() => void this.controller?.cancelRun(run.id)}>Cancel</vscode-button>`
          : nothing}
      </div>
      ${run ? html`<div class="goal-line" title=${run.goal}><span class="muted">Goal:</span> ${clip(run.goal, 300)}${run.statusReason && run.status !== 'paused' ? html` <span class="muted">— ${run.statusReason}</span>` : nothing}</div>` : nothing}
      ${run && (run.status === 'paused' || run.status === 'stopped_budget') ? this.renderPaused(run, state, store) : nothing}
      ${state.needsResync ? html`<div class="resync muted"><span class="codicon codicon-sync codicon-modifier-spin"></span> Catching up with the run's log…</div>` : nothing}
    </header>`;
  }

  /** Calls, tokens and cost; a click opens the per-role totals. */
  private renderCostMeter(run: RunState): TemplateResult {
    const roles = roleCosts(run.usageByRole);
    return html`<span class="cost-wrap">
      <button
        id="cost-meter"
        class="cost-meter ${run.usage.unpricedCalls ? 'unpriced' : ''}"
        title=${costTooltip(run.usage, run.usageByRole)}
        aria-expanded=${this.costOpen ? 'true' : 'false'}
        @click=${() => {
          this.costOpen = !this.costOpen;
          this.requestUpdate();
        }}
      >
        <span class="codicon codicon-credit-card" aria-hidden="true"></span>${usageText(run.usage)}
      </button>
      ${this.costOpen
        ? html`<div id="cost-popover" class="cost-popover" role="dialog" aria-label="Cost by role">
            <table>
              <tr><th>Role</th><th>Calls</th><th>Tokens in / out</th><th>Cost</th></tr>
              ${roles.map(
                (cost) => html`<tr data-role=${cost.role}>
                  <td>${cost.role}</td><td>${cost.usage.calls}</td><td>${cost.usage.inputTokens} / ${cost.usage.outputTokens}</td><td>${costText(cost.usage)}</td>
                </tr>`,
              )}
              <tr class="total"><td>run</td><td>${run.usage.calls}</td><td>${run.usage.inputTokens} / ${run.usage.outputTokens}</td><td>${costText(run.usage)}</td></tr>
            </table>
            ${run.usage.unpricedCalls
              ? html`<p class="muted">${run.usage.unpricedCalls} call(s) used a model without a known price: "unknown cost" means the dollar figure leaves them out.</p>`
              : nothing}
          </div>`
        : nothing}
    </span>`;
  }

  /** Why a run is paused (or stopped by its budget), and what gets it going again. */
  private renderPaused(run: RunState, state: ViewState, store: Store): TemplateResult {
    const breach = state.budgetBreach;
    if (breach) {
      const suggested = suggestedLimit(breach);
      return html`<div id="run-paused" class="run-paused budget" data-reason="budget" role="status">
        <span class="codicon codicon-warning" aria-hidden="true"></span>
        <span class="paused-text"><strong>${run.status === 'paused' ? 'Paused by its budget.' : 'Stopped by its budget.'}</strong> ${describeBreach(breach)}</span>
        ${run.status === 'paused'
          ? html`<label class="raise">New ${breach.metric === 'usd' ? 'cap ($)' : 'cap (tokens)'}
                <input id="budget-limit" type="number" min="0" step=${breach.metric === 'usd' ? '0.01' : '1000'} .value=${String(suggested)} />
              </label>
              <vscode-button id="raise-budget" icon="arrow-up" ?disabled=${this.busy} @click=${(event: Event) => {
                const input = (event.target as HTMLElement).closest('.run-paused')?.querySelector<HTMLInputElement>('#budget-limit');
                const limit = Number(input?.value);
                if (!Number.isFinite(limit) || limit <= breach.limit) {
                  store.reportError(`The new cap must be a number above the old one (${breach.limit}).`);
                  return;
                }
                void this.withBusy(() => this.controller?.setBudgets(run.id, raisedBudgets(run.config.budgets, breach, limit), true));
              }}>Raise budget and resume</vscode-button>`
          : nothing}
      </div>`;
    }
    const dead = run.taskOrder.filter((id) => run.tasks[id]?.status === 'dead_letter');
    return html`<div id="run-paused" class="run-paused" data-reason=${dead.length ? 'triage' : 'other'} role="status">
      <span class="codicon codicon-debug-pause" aria-hidden="true"></span>
      <span class="paused-text"><strong>Paused:</strong> ${run.statusReason ?? 'waiting to be resumed.'}</span>
      ${dead.map(
        (id) => html`<vscode-button class="triage-task" secondary icon="target" data-task-id=${id} @click=${() => store.selectTask(id)}>Triage ${id}</vscode-button>`,
      )}
    </div>`;
  }

  private taskHistory(state: ViewState, taskId: string): HistoryEntry[] {
    const key = `${state.activeRunId}:${taskId}:${state.events.length}`;
    if (key !== this.historyKey) {
      this.historyKey = key;
      this.history = taskHistory(state.events, taskId);
    }
    return this.history;
  }

  private async triage(runId: string, taskId: string, action: Parameters<PanelController['triage']>[2]): Promise<void> {
    await this.withBusy(() => this.controller?.triage(runId, taskId, action));
  }

  private async withBusy(work: () => Promise<unknown> | undefined): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    this.requestUpdate();
    try {
      await work();
    } finally {
      this.busy = false;
      this.requestUpdate();
    }
  }

  private renderErrors(state: ViewState): TemplateResult | typeof nothing {
    if (!state.errors.length) return nothing;
    return html`<div class="error-bar" role="alert">
      ${state.errors.map(
        (error) => html`<div class="error-item">
          <span class="codicon codicon-error" aria-hidden="true"></span>
          <span class="error-text">${error.message}</span>
          <vscode-toolbar-button icon="close" label="Dismiss" title="Dismiss" @click=${() => this.store?.dismissError(error.id)}></vscode-toolbar-button>
        </div>`,
      )}
    </div>`;
  }

  private chatMessages(state: ViewState): ChatMessage[] {
    if (this.chatFor !== state.events || state.events.length < this.chatLength) {
      this.chatFor = state.events;
      this.chatLength = 0;
      this.chat = [];
    }
    const run = state.run;
    const title = (taskId: string): string | undefined => run?.tasks[taskId]?.title;
    const context = { autoApprove: run?.config.autoApprove };
    for (let i = this.chatLength; i < state.events.length; i++) extendChat(this.chat, state.events[i]!, title, context);
    this.chatLength = state.events.length;
    return this.chat;
  }

  private renderChat(state: ViewState): TemplateResult {
    const others = (this.store?.pickerRuns() ?? []).filter((summary) => summary.id !== state.activeRunId);
    const messages = this.chatMessages(state);
    return html`<div class="chat-scroll">
        ${others.length
          ? html`<details class="other-goals">
              <summary>${others.length} other goal${others.length === 1 ? '' : 's'}</summary>
              <ul>
                ${others.map(
                  (summary) => html`<li>
                    <a href="#" class="goal-link" data-run-id=${summary.id} @click=${(event: Event) => {
                      event.preventDefault();
                      void this.controller?.openRun(summary.id);
                    }}>${clip(summary.goal, 120)}</a>
                    <span class="task-status" data-status=${summary.status}>${summary.status}</span>
                  </li>`,
                )}
              </ul>
            </details>`
          : nothing}
        ${messages.length === 0 && !state.run
          ? html`<div class="chat-empty muted">
              <p><span class="codicon codicon-sparkle"></span> Describe what you want built. A planner turns it into a plan of tasks; role agents carry them out, test-gated, with every edit reviewable.</p>
            </div>`
          : nothing}
        ${messages.map((message) => this.renderMessage(message, state.run))}
      </div>
      ${this.renderComposer(state)}`;
  }

  private renderMessage(message: ChatMessage, run: RunState | undefined): TemplateResult {
    return html`<div class="message ${message.from} ${message.tone}" data-seq=${message.seq}>
      <span class="message-icon codicon ${message.from === 'user' ? 'codicon-account' : message.tone === 'success' ? 'codicon-pass' : message.tone === 'error' ? 'codicon-error' : message.tone === 'warning' ? 'codicon-warning' : 'codicon-hubot'}" aria-hidden="true"></span>
      <div class="message-body markdown">${unsafeHTML(renderMarkdown(message.markdown))}</div>
      ${message.taskId && run?.tasks[message.taskId]
        ? html`<vscode-toolbar-button class="message-task" icon="target" label="Show task ${message.taskId}" title="Show task ${message.taskId}" @click=${() => this.store?.selectTask(message.taskId)}></vscode-toolbar-button>`
        : nothing}
    </div>`;
  }

  private renderComposer(state: ViewState): TemplateResult {
    const disabled = !state.canStartGoals || this.starting;
    return html`<form class="composer" @submit=${(event: Event) => {
      event.preventDefault();
      void this.submitGoal();
    }}>
      <textarea
        id="goal-input"
        class="goal-input"
        rows="3"
        placeholder=${state.canStartGoals ? 'Describe a goal… (Ctrl+Enter to start)' : 'Goals cannot start in this window.'}
        aria-label="Goal"
        ?disabled=${!state.canStartGoals}
        .value=${this.goalDraft}
        @input=${(event: Event) => {
          this.goalDraft = (event.target as HTMLTextAreaElement).value;
          this.requestUpdate();
        }}
        @keydown=${(event: KeyboardEvent) => {
          if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
            event.preventDefault();
            void this.submitGoal();
          }
        }}
      ></textarea>
      <div class="composer-row">
        ${state.canStartGoals ? nothing : html`<span class="cannot-start muted"><span class="codicon codicon-lock"></span> ${state.cannotStartReason ?? 'Goals cannot start in this window.'}</span>`}
        <span class="spacer"></span>
        <vscode-button id="goal-start" icon="play" ?disabled=${disabled || !this.goalDraft.trim()} title=${state.canStartGoals ? 'Start (Ctrl+Enter)' : state.cannotStartReason ?? ''} @click=${() => void this.submitGoal()}>Start</vscode-button>
      </div>
    </form>`;
  }

  private async submitGoal(): Promise<void> {
    const goal = this.goalDraft.trim();
    const state = this.store?.state;
    if (!goal || !state?.canStartGoals || this.starting || !this.controller) return;
    this.starting = true;
    this.requestUpdate();
    try {
      if (await this.controller.startGoal(goal)) this.goalDraft = '';
    } finally {
      this.starting = false;
      this.requestUpdate();
    }
  }
}

if (!customElements.get('sm-app')) customElements.define('sm-app', SmApp);

declare global {
  interface HTMLElementTagNameMap {
    'sm-app': SmApp;
  }
}
