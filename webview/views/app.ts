// The panel: header (run picker, status, cost, run actions), error bar, chat column, plan DAG with
// task details, and the event log. Re-renders from the store; Lit batches a burst of events into
// one update per microtask, and the two heavy parts (DAG layout, log filtering) are memoized.
import { html, LitElement, nothing, type TemplateResult } from 'lit';
import { unsafeHTML } from 'lit/directives/unsafe-html.js';
import type { EngineEvent } from '../../src/shared/events';
import { isTerminalRun } from '../../src/shared/lifecycle';
import { dependentsOf, type RunState } from '../../src/shared/runState';
import type { PanelController } from '../controller';
import { costTooltip, roleCosts } from '../costs';
import { capOfBreach, suggestedCap, withCap } from '../../src/shared/budgets';
import { costText, describeBreach, usageText } from '../../src/shared/wording';
import { chatOfTask, extendChat, type ChatMessage } from '../eventText';
import { renderedMarkdownOrLater, renderMarkdown } from '../markdown';
import type { Store, ViewState } from '../store';
import { taskHistory, type HistoryEntry } from '../taskHistory';
import { taskDetails } from './taskDetails';
import type { TaskSelectEvent } from './planDag';
import type { TriageEvent } from './triage';
import { composerOptions, goalOptionsToSend, noticeBanners, pinButton, runHistory } from './runBar';
import type { GoalOptions, ImageInput } from '../../src/shared/protocol';
import { completeMention, endOfRunCard, mentionAt, mentionedIn, messageFoot, messageHead, pastedImages } from './conversation';
import { runDescription } from '../../src/shared/runList';
import { LazyTaskOptions } from './taskOptions';
import './planDag';
import './eventLog';

/**
 * Chat messages whose Markdown a render parses at once: the latest, which are on screen. Older ones
 * show their text until the panel is idle, unless the frame would show them: those are parsed
 * before it is painted (renderVisibleMarkdown), so what is on screen never changes under the user.
 * Parsing all 20 of a run's first frame was a sixth of it; cold, each message costs the first frame
 * 3-6 ms, and a full-height panel shows about 4 agent turns.
 */
const EAGER_MARKDOWN_MESSAGES = 4;
/**
 * Chat messages a run's (or a filter's) first frame draws: the latest, a screen or more of them (a
 * screen holds 4-20). Earlier ones are drawn as the user scrolls up to them, CHAT_WINDOW at a time;
 * drawing all of a long run's (800 for 10,000 events) took most of the panel's first render, and
 * drawing 50 still took a third of it.
 */
const FIRST_CHAT_WINDOW = 12;
const CHAT_WINDOW = 50;

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
  /** The composer's per-run choices (model, auto-approve) over the settings. */
  private goalOptions: GoalOptions = {};
  private historyQuery = '';
  private historyOpen = false;
  /** The draft's @-mentioned files and pasted images; the @-completion under the caret. */
  private draftFiles: string[] = [];
  private draftImages: ImageInput[] = [];
  private mention?: { start: number; query: string; files: string[]; index: number };
  /** After a run ended, the next goal carries its summary unless the user drops that. */
  private followUp = true;
  /** The chat follows what the agents say while the user has not scrolled up. */
  private chatAtBottom = true;
  /** The chat is drawn from the message of this seq on, for the run and filter of `chatStartKey`. */
  private chatStartSeq = 0;
  private chatStartKey?: string;
  private chatStartFor?: EngineEvent[];
  private earlierObserver?: IntersectionObserver;
  private observedEarlier?: Element;
  /** After earlier messages were drawn: the chat's distance from its end to keep, so the view stays put. */
  private keepFromEnd?: number;
  /** The chat shows one task's conversation (view state; kept per run so another run starts on "All"). */
  private chatTask?: { runId: string; taskId: string };

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
  private readonly chatFilterOptions = new LazyTaskOptions(this);
  private readonly resolveScreenshots = (runId: string, artifacts: string[]): Promise<Record<string, string>> =>
    this.controller?.screenshotUris(runId, artifacts) ?? Promise.resolve({});

  protected override updated(): void {
    const keep = this.keepFromEnd;
    this.keepFromEnd = undefined;
    this.observeEarlier();
    this.syncRunPicker();
    // The chat's height is read once the plan and the log have drawn what this render gave them
    // (their updates run after this one, still before the frame). Read here, it laid the page out
    // once for the read and again, with the plan and the log changed, for the frame.
    const children = [this.querySelector('sm-plan-dag'), this.querySelector('sm-event-log')].map((element) => element?.updateComplete);
    void Promise.all(children).then(() => {
      const chat = this.querySelector<HTMLElement>('.chat-scroll');
      if (chat && this.chatAtBottom) chat.scrollTop = chat.scrollHeight;
      // Earlier messages were drawn above: the one in view stays where it was.
      else if (chat && keep !== undefined) chat.scrollTop = chat.scrollHeight - keep;
      if (chat) this.renderVisibleMarkdown(chat);
    });
  }

  /**
   * Messages still shown as text that are in the chat's viewport get their Markdown now, before the
   * frame is painted (this runs in the frame's update, after its layout is known): the user never
   * sees text turn into Markdown, only messages off screen wait for idle time.
   */
  private renderVisibleMarkdown(chat: HTMLElement): void {
    const pending = chat.querySelectorAll<HTMLElement>('.markdown-pending');
    if (!pending.length) return;
    const view = chat.getBoundingClientRect();
    let rendered = false;
    // Newest first: the chat's end is what it usually shows, and above the viewport is where to stop.
    for (let i = pending.length - 1; i >= 0; i--) {
      const box = pending[i]!.getBoundingClientRect();
      if (box.bottom <= view.top) break;
      if (box.top >= view.bottom) continue;
      renderMarkdown(pending[i]!.textContent ?? '');
      rendered = true;
    }
    if (rendered) this.requestUpdate();
  }

  /** Messages before the drawn ones are drawn once the "earlier" line at the top comes near the chat's viewport. */
  private observeEarlier(): void {
    const sentinel = this.querySelector('.chat-earlier') ?? undefined;
    if (sentinel === this.observedEarlier) return;
    this.earlierObserver?.disconnect();
    this.observedEarlier = sentinel;
    if (!sentinel) return;
    this.earlierObserver = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) this.showEarlier();
    }, { root: this.querySelector('.chat-scroll'), rootMargin: '600px 0px 0px 0px' });
    this.earlierObserver.observe(sentinel);
  }

  /** The messages the chat draws: from `chatStartSeq` on, the last FIRST_CHAT_WINDOW when another run or filter is shown. */
  private drawnChat(messages: readonly ChatMessage[], key: string): { drawn: readonly ChatMessage[]; earlier: number } {
    if (key !== this.chatStartKey || this.chatStartFor !== this.chatFor) {
      this.chatStartKey = key;
      this.chatStartFor = this.chatFor;
      this.chatStartSeq = messages[Math.max(0, messages.length - FIRST_CHAT_WINDOW)]?.seq ?? 0;
    }
    const from = messages.findIndex((message) => message.seq >= this.chatStartSeq);
    return from <= 0 ? { drawn: messages, earlier: 0 } : { drawn: messages.slice(from), earlier: from };
  }

  private showEarlier(): void {
    const messages = chatOfTask(this.chat, this.store ? this.chatTaskOf(this.store.state) : undefined);
    const from = messages.findIndex((message) => message.seq >= this.chatStartSeq);
    if (from <= 0) return;
    const chat = this.querySelector<HTMLElement>('.chat-scroll');
    if (chat) this.keepFromEnd = chat.scrollHeight - chat.scrollTop;
    this.chatStartSeq = messages[Math.max(0, from - CHAT_WINDOW)]!.seq;
    // Observed afresh after the update: an observer tells only changes, and the line may still be near the top.
    this.observedEarlier = undefined;
    this.requestUpdate();
  }

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
    this.earlierObserver?.disconnect();
    this.observedEarlier = undefined;
  }

  /**
   * The picker names the run the content shows, whatever its options did meanwhile: options are
   * reused by position, so a new run listed first moves the selection with them.
   */
  private syncRunPicker(): void {
    const picker = this.querySelector<HTMLSelectElement>('#run-picker');
    const state = this.store?.state;
    const wanted = state?.openingRunId ?? state?.activeRunId;
    if (picker && wanted && picker.value !== wanted) picker.value = wanted;
  }

  protected override render(): TemplateResult {
    const store = this.store;
    if (!store) return html``;
    const state = store.state;
    const run = state.run;
    const selected = run && state.selectedTaskId ? run.tasks[state.selectedTaskId] : undefined;
    return html`<div class="app">
      ${this.renderHeader(state, store)}
      ${noticeBanners(state.notices, (id, action) => void this.controller?.actOnNotice(id, action))}
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
                      runId: run.id,
                      resolveScreenshots: this.resolveScreenshots,
                    },
                  )}
                </div>`
              : nothing}
          </div>
          <sm-event-log
            .events=${state.events}
            .olderEvents=${state.olderEvents}
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
    const picked = state.openingRunId ?? state.activeRunId ?? '';
    const active = run && !isTerminalRun(run.status);
    return html`<header class="header">
      <div class="header-row">
        <span class="codicon codicon-rocket brand" aria-hidden="true"></span>
        ${runs.length
          ? html`<select
              id="run-picker"
              class="run-picker sm-select"
              aria-label="Run"
              .value=${picked}
              @change=${(event: Event) => {
                const runId = (event.target as HTMLSelectElement).value;
                if (runId) void this.controller?.openRun(runId);
              }}
            >
              ${runs.map(
                (summary) =>
                  // A native list has no second line: the description (started, status, cost) follows the goal.
                  html`<option value=${summary.id} title=${summary.goal} ?selected=${summary.id === picked}>${clip(summary.goal, 70)} — ${runDescription(summary)}</option>`,
              )}
            </select>`
          : html`<span class="muted">No runs yet</span>`}
        ${pinButton(state.activeRunId, state.pinnedRunId, (runId) => void this.controller?.pin(runId))}
        ${run && state.runs.some((summary) => summary.id === run.id && summary.interrupted)
          ? html`<vscode-badge id="run-status" class="run-status" data-status="interrupted" title="Nothing drives this run any more (the window or process that ran it stopped). Resume it to go on: Software Maker: Resume Run.">
              <span class="codicon codicon-debug-disconnect"></span> interrupted · resumable
            </vscode-badge>`
          : run
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
    const breach = run.budgetBreach;
    if (breach) {
      const suggested = suggestedCap(breach);
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
                void this.withBusy(() => this.controller?.setBudgets(run.id, withCap(run.config.budgets, capOfBreach(breach), limit), true));
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

  /** The task whose conversation the chat shows, while it is still a task of the run shown. */
  private chatTaskOf(state: ViewState): string | undefined {
    const chosen = this.chatTask;
    return chosen && state.run && chosen.runId === state.run.id && state.run.tasks[chosen.taskId] ? chosen.taskId : undefined;
  }

  private showChatOf(state: ViewState, taskId: string | undefined): void {
    this.chatTask = taskId && state.run ? { runId: state.run.id, taskId } : undefined;
    this.chatAtBottom = true;
    this.requestUpdate();
  }

  /** "All tasks" or one task of the plan; with a task selected in the DAG, a shortcut to its conversation. */
  private renderChatFilter(state: ViewState, shown: string | undefined): TemplateResult | typeof nothing {
    const run = state.run;
    if (!run || run.taskOrder.length === 0) return nothing;
    const selected = state.selectedTaskId && run.tasks[state.selectedTaskId] && state.selectedTaskId !== shown ? state.selectedTaskId : undefined;
    return html`<div class="chat-filter" role="toolbar" aria-label="Chat filter">
      <span class="codicon codicon-filter" aria-hidden="true"></span>
      <select
        id="chat-filter"
        class="chat-filter-select"
        aria-label="Show the conversation of"
        title="Show every task's conversation, or one task's"
        .value=${shown ?? ''}
        @change=${(event: Event) => this.showChatOf(state, (event.target as HTMLSelectElement).value || undefined)}
        @focus=${this.chatFilterOptions.list}
        @pointerdown=${this.chatFilterOptions.list}
      >
        <option value="" ?selected=${!shown}>All tasks</option>
        ${this.chatFilterOptions.options(run.taskOrder, shown, (id) => `${id} · ${clip(run.tasks[id]?.title ?? '', 48)}`)}
      </select>
      ${selected
        ? html`<a href="#" id="chat-filter-selected" class="chat-filter-link" title="Show only the conversation of ${selected}" @click=${(event: Event) => { event.preventDefault(); this.showChatOf(state, selected); }}>only ${selected}</a>`
        : nothing}
      ${shown
        ? html`<a href="#" id="chat-filter-all" class="chat-filter-link" @click=${(event: Event) => { event.preventDefault(); this.showChatOf(state, undefined); }}>show all</a>`
        : nothing}
    </div>`;
  }

  private renderChat(state: ViewState): TemplateResult {
    const all = this.chatMessages(state);
    const shown = this.chatTaskOf(state);
    const { drawn: messages, earlier } = this.drawnChat(chatOfTask(all, shown), `${state.run?.id ?? ''}\u0000${shown ?? ''}`);
    return html`${this.renderChatFilter(state, shown)}<div class="chat-scroll" @scroll=${(event: Event) => {
        const el = event.target as HTMLElement;
        this.chatAtBottom = el.scrollTop + el.clientHeight >= el.scrollHeight - 24;
      }}>
        ${runHistory(
          this.store?.pickerRuns() ?? [],
          { activeRunId: state.activeRunId, query: this.historyQuery, open: this.historyOpen },
          {
            query: (text) => {
              this.historyQuery = text;
              this.requestUpdate();
            },
            open: (runId) => void this.controller?.openRun(runId),
            toggle: (open) => {
              this.historyOpen = open;
            },
          },
        )}
        ${messages.length === 0 && !state.run
          ? html`<div class="chat-empty muted">
              <p><span class="codicon codicon-sparkle"></span> Describe what you want built. A planner turns it into a plan of tasks; role agents carry them out, test-gated, with every edit reviewable.</p>
            </div>`
          : nothing}
        ${earlier
          ? html`<div class="chat-earlier muted"><a href="#" @click=${(event: Event) => { event.preventDefault(); this.showEarlier(); }}>${earlier} earlier message${earlier === 1 ? '' : 's'}</a></div>`
          : nothing}
        ${shown && messages.length === 0 ? html`<div class="chat-empty chat-filter-empty muted"><p>Nothing was said about ${shown} yet.</p></div>` : nothing}
        ${messages.map((message, index) => this.renderMessage(message, state.run, index >= messages.length - EAGER_MARKDOWN_MESSAGES))}
      </div>
      ${this.renderComposer(state)}`;
  }

  private renderMessage(message: ChatMessage, run: RunState | undefined, eager: boolean): TemplateResult {
    const summary = message.summary && run && isTerminalRun(run.status)
      ? endOfRunCard(run, { openDiff: (path) => void this.controller?.openFileDiff(run.id, path), openReport: () => void this.controller?.openReport(run.id) })
      : nothing;
    return html`<div class="message ${message.from} ${message.tone}" data-seq=${message.seq} data-step=${message.stepId ?? ''} data-task=${message.taskId ?? ''}>
      <span class="message-icon codicon ${message.from === 'user' ? 'codicon-account' : message.from === 'agent' ? 'codicon-comment-discussion' : message.tone === 'success' ? 'codicon-pass' : message.tone === 'error' ? 'codicon-error' : message.tone === 'warning' ? 'codicon-warning' : 'codicon-hubot'}" aria-hidden="true"></span>
      <div class="message-body markdown">${messageHead(message)}${message.markdown ? this.renderMarkdownBody(message.markdown, eager) : nothing}${messageFoot(message)}${summary}</div>
      ${message.taskId && run?.tasks[message.taskId]
        ? // A plain button, not a vscode-toolbar-button: the chat draws up to 50 of these, and each of those was two shadow roots with a copy of the page's stylesheet.
          html`<button type="button" class="message-task icon-button" aria-label="Show task ${message.taskId}" title="Show task ${message.taskId}" @click=${() => this.store?.selectTask(message.taskId)}><span class="codicon codicon-target" aria-hidden="true"></span></button>`
        : nothing}
    </div>`;
  }

  /** The latest messages (on screen) are rendered at once; older ones as plain text until the panel is idle. */
  private renderMarkdownBody(markdown: string, eager: boolean): unknown {
    const rendered = eager ? renderMarkdown(markdown) : renderedMarkdownOrLater(markdown, () => this.requestUpdate());
    return rendered === undefined ? html`<p class="markdown-pending">${markdown}</p>` : unsafeHTML(rendered);
  }

  /** What Send does: a new goal, a message to the run at work, or a follow-up of the run that ended. */
  private composerMode(state: ViewState): 'goal' | 'message' | 'followUp' {
    const run = state.run;
    if (run && !isTerminalRun(run.status)) return 'message';
    return run && this.followUp ? 'followUp' : 'goal';
  }

  /** The selected task, while it is still at work: a message goes to its agent. */
  private messageTarget(state: ViewState): string | undefined {
    const task = state.selectedTaskId ? state.run?.tasks[state.selectedTaskId] : undefined;
    return task && !['done', 'skipped', 'cancelled', 'dead_letter'].includes(task.status) ? task.id : undefined;
  }

  private renderComposer(state: ViewState): TemplateResult {
    const disabled = !state.canStartGoals || this.starting;
    const run = state.run;
    const mode = this.composerMode(state);
    const target = mode === 'message' ? this.messageTarget(state) : undefined;
    const placeholder = !state.canStartGoals
      ? 'Goals cannot start in this window.'
      : mode === 'message'
        ? `Message ${target ? `task ${target}` : 'the agents at work'}… (Enter sends, Shift+Enter for a new line, @ for a file)`
        : mode === 'followUp'
          ? 'Follow up on this run… (Enter starts, Shift+Enter for a new line, @ for a file)'
          : 'Describe a goal… (Enter starts, Shift+Enter for a new line, @ for a file)';
    const sendLabel = mode === 'message' ? 'Send' : mode === 'followUp' ? 'Follow up' : 'Start';
    return html`<form class="composer" @submit=${(event: Event) => {
      event.preventDefault();
      void this.submitGoal();
    }}>
      <textarea
        id="goal-input"
        class="goal-input"
        rows="3"
        placeholder=${placeholder}
        aria-label=${mode === 'message' ? 'Message' : 'Goal'}
        ?disabled=${!state.canStartGoals}
        .value=${this.goalDraft}
        @input=${(event: Event) => void this.onDraftInput(event.target as HTMLTextAreaElement)}
        @paste=${(event: ClipboardEvent) => void this.onPaste(event)}
        @keydown=${(event: KeyboardEvent) => this.onComposerKey(event)}
      ></textarea>
      ${this.mention?.files.length
        ? html`<ul id="mention-list" class="mention-list" role="listbox" aria-label="Files">
            ${this.mention.files.map(
              (file, index) => html`<li role="option" class="mention-option ${index === this.mention?.index ? 'selected' : ''}" aria-selected=${index === this.mention?.index ? 'true' : 'false'} data-path=${file} @mousedown=${(event: Event) => {
                event.preventDefault();
                this.pickMention(file);
              }}>${file}</li>`,
            )}
          </ul>`
        : nothing}
      ${this.draftFiles.length || this.draftImages.length || mode === 'followUp' || (run && mode === 'goal')
        ? html`<div class="composer-attachments">
            ${mode === 'followUp' ? html`<span class="chip" id="follow-up-chip" title="The new run's planner is told what this run did">Follows up this run <a href="#" aria-label="Start a fresh goal instead" @click=${(event: Event) => { event.preventDefault(); this.followUp = false; this.requestUpdate(); }}>×</a></span>` : nothing}
            ${run && mode === 'goal' && isTerminalRun(run.status) ? html`<a href="#" class="muted" id="follow-up-again" @click=${(event: Event) => { event.preventDefault(); this.followUp = true; this.requestUpdate(); }}>follow up on this run instead</a>` : nothing}
            ${this.draftFiles.map((file) => html`<span class="chip"><span class="codicon codicon-file" aria-hidden="true"></span>${file}</span>`)}
            ${this.draftImages.map((_image, index) => html`<span class="chip image-chip"><span class="codicon codicon-file-media" aria-hidden="true"></span>image ${index + 1} <a href="#" aria-label="Remove image ${index + 1}" @click=${(event: Event) => { event.preventDefault(); this.draftImages = this.draftImages.filter((_, i) => i !== index); this.requestUpdate(); }}>×</a></span>`)}
          </div>`
        : nothing}
      <div class="composer-row">
        ${state.canStartGoals ? nothing : html`<span class="cannot-start muted"><span class="codicon codicon-lock"></span> ${state.cannotStartReason ?? 'Goals cannot start in this window.'}</span>`}
        ${composerOptions(state.composer, this.goalOptions, (options) => {
          this.goalOptions = options;
          this.requestUpdate();
        }, !state.canStartGoals)}
        <span class="spacer"></span>
        ${run && mode === 'message'
          ? html`<vscode-button id="composer-stop" secondary icon="debug-stop" title="Stop the run (its unfinished tasks are cancelled)" @click=${() => void this.controller?.cancelRun(run.id)}>Stop</vscode-button>`
          : nothing}
        <vscode-button id="goal-start" icon=${mode === 'message' ? 'send' : 'play'} ?disabled=${disabled || !this.goalDraft.trim()} title=${state.canStartGoals ? `${sendLabel} (Enter)` : state.cannotStartReason ?? ''} @click=${() => void this.submitGoal()}>${sendLabel}</vscode-button>
      </div>
    </form>`;
  }

  private onComposerKey(event: KeyboardEvent): void {
    const mention = this.mention;
    if (mention?.files.length) {
      if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
        event.preventDefault();
        mention.index = (mention.index + (event.key === 'ArrowDown' ? 1 : mention.files.length - 1)) % mention.files.length;
        this.requestUpdate();
        return;
      }
      if (event.key === 'Enter' || event.key === 'Tab') {
        event.preventDefault();
        this.pickMention(mention.files[mention.index]!);
        return;
      }
      if (event.key === 'Escape') {
        event.preventDefault();
        this.mention = undefined;
        this.requestUpdate();
        return;
      }
    }
    // Enter sends (Ctrl/Cmd+Enter too); Shift+Enter is a new line; an IME composition is left alone.
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      void this.submitGoal();
    }
  }

  private async onDraftInput(input: HTMLTextAreaElement): Promise<void> {
    this.goalDraft = input.value;
    this.draftFiles = mentionedIn(this.goalDraft, this.draftFiles);
    const mention = mentionAt(input.value, input.selectionStart ?? input.value.length);
    if (!mention) this.mention = undefined;
    this.requestUpdate();
    if (!mention || !this.controller) return;
    const files = await this.controller.findFiles(mention.query);
    // The user typed on while the host answered: only the latest @word's answer counts.
    const still = mentionAt(input.value, input.selectionStart ?? input.value.length);
    if (still?.start !== mention.start || still.query !== mention.query) return;
    this.mention = { ...mention, files, index: 0 };
    this.requestUpdate();
  }

  private pickMention(path: string): void {
    const mention = this.mention;
    const input = this.querySelector<HTMLTextAreaElement>('#goal-input');
    if (!mention || !input) return;
    const { text, caret } = completeMention(this.goalDraft, mention, path);
    this.goalDraft = text;
    input.value = text;
    input.setSelectionRange(caret, caret);
    if (!this.draftFiles.includes(path)) this.draftFiles = [...this.draftFiles, path];
    this.mention = undefined;
    this.requestUpdate();
  }

  private async onPaste(event: ClipboardEvent): Promise<void> {
    const hasImage = Array.from(event.clipboardData?.items ?? []).some((item) => item.type.startsWith('image/'));
    if (!hasImage) return;
    event.preventDefault();
    const images = await pastedImages(event.clipboardData);
    if (!images.length) {
      this.store?.reportError('Only PNG, JPEG, GIF and WebP images can be pasted.');
      return;
    }
    this.draftImages = [...this.draftImages, ...images].slice(0, 4);
    this.requestUpdate();
  }

  private async submitGoal(): Promise<void> {
    const text = this.goalDraft.trim();
    const state = this.store?.state;
    if (!text || !state?.canStartGoals || this.starting || !this.controller) return;
    const mode = this.composerMode(state);
    const run = state.run;
    const attachments = { files: mentionedIn(this.goalDraft, this.draftFiles), images: this.draftImages };
    this.starting = true;
    this.requestUpdate();
    try {
      const sent =
        mode === 'message' && run
          ? await this.controller.sendMessage(run.id, text, { taskId: this.messageTarget(state), ...attachments })
          : await this.controller.startGoal(text, {
              ...goalOptionsToSend(state.composer, this.goalOptions),
              ...(attachments.files.length ? { files: attachments.files } : {}),
              ...(attachments.images.length ? { images: attachments.images } : {}),
              ...(mode === 'followUp' && run ? { followUpOf: run.id } : {}),
            });
      if (sent) {
        this.goalDraft = '';
        this.draftFiles = [];
        this.draftImages = [];
        this.mention = undefined;
        this.followUp = true;
      }
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
