// The event log: a windowed list (fixed row height, only the visible rows are in the DOM) so a run
// with 50k events scrolls as smoothly as one with 50. Follows the newest event unless the user
// scrolled up; filters by task, by role (eventText.roleOf) and by event type. Inline styles are bound
// as the `.style` property (CSSOM), never as a style attribute, which the panel's CSP (no
// 'unsafe-inline') would refuse.
import { html, LitElement, nothing, type TemplateResult } from 'lit';
import type { EngineEvent, EventType } from '../../src/shared/events';
import { ROLES, type Role } from '../../src/shared/model';
import type { TaskState } from '../../src/shared/runState';
import { describeEvent } from '../../src/shared/wording';
import { EVENT_TYPES, extendFiltered, roleLookup, roleOf, taskIdOf, visibleRange, type EventFilter, type RoleLookup } from '../eventText';
import { LazyTaskOptions } from './taskOptions';

const ROW_HEIGHT = 22;
const ALL = '*';
const RUN_LEVEL = '__run__';

// What toLocaleTimeString(undefined, { hour12: false }) gives, with the formatter made once: that
// call builds a new one each time, the most of a row's cost.
const TIME = new Intl.DateTimeFormat(undefined, { hour12: false, hour: 'numeric', minute: 'numeric', second: 'numeric' });

function timeOf(at: string): string {
  const date = new Date(at);
  return Number.isNaN(date.getTime()) ? at : TIME.format(date);
}

function valueOf(event: Event): string {
  return (event.target as HTMLSelectElement).value;
}

export class SmEventLog extends LitElement {
  static override properties = {
    events: { attribute: false },
    olderEvents: { type: Number },
    revision: { type: Number },
    taskIds: { attribute: false },
    tasks: { attribute: false },
  };

  /** The active run's log; grows in place, replaced on run switch. */
  events: EngineEvent[] = [];
  /**
   * Events before `events` still to come (the store's olderEvents): unfiltered, they are rows that
   * say so, so the log has its full length and scroll position from the first frame.
   */
  olderEvents = 0;
  revision = 0;
  taskIds: string[] = [];
  /** The run's tasks, for the role of an event that only names its task. */
  tasks: Record<string, TaskState> = {};

  private taskFilter = ALL;
  private typeFilter = ALL;
  private roleFilter = ALL;
  private scrollOffset = 0;
  /**
   * The viewport's height, for which rows to draw. Until it is measured, the window's: never less
   * than the viewport's, so the first frame's rows fill it and measuring it redraws nothing.
   */
  private viewportHeight = window.innerHeight;
  private stickToBottom = true;
  private scrollQueued = false;
  private resizeObserver?: ResizeObserver;
  private readonly taskOptions = new LazyTaskOptions(this);

  // Incremental filter cache: valid for `cacheEvents` filtered with `cacheKey` up to `cacheLength`.
  private cacheEvents?: EngineEvent[];
  private cacheKey = '';
  private cacheLength = 0;
  private indexes: number[] = [];
  private roles: RoleLookup = roleLookup(() => this.tasks);

  protected override createRenderRoot(): HTMLElement {
    return this;
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.resizeObserver?.disconnect();
    this.resizeObserver = undefined;
  }

  protected override firstUpdated(): void {
    const viewport = this.viewport();
    if (!viewport) return;
    this.resizeObserver = new ResizeObserver(() => {
      const height = viewport.clientHeight;
      if (height === this.viewportHeight) return;
      // Rows drawn for a taller viewport cover a shorter one: only growing needs more of them.
      const grew = height > this.viewportHeight;
      this.viewportHeight = height;
      if (grew) this.requestUpdate();
    });
    this.resizeObserver.observe(viewport);
  }

  protected override updated(): void {
    if (!this.stickToBottom || this.scrollQueued) return;
    // The rows drawn are the last ones (render): the viewport is scrolled to them before this frame
    // is painted, else the frame shows the spacer's empty top and the rows come a frame later. After
    // the other views' updates (a microtask), so the one layout it takes is the one the chat's
    // height read takes anyway (app.ts), not one more.
    this.scrollQueued = true;
    queueMicrotask(() => {
      this.scrollQueued = false;
      const viewport = this.viewport();
      if (viewport && this.stickToBottom && viewport.scrollTop + viewport.clientHeight < viewport.scrollHeight) viewport.scrollTop = viewport.scrollHeight;
    });
  }

  private viewport(): HTMLElement | null {
    return this.querySelector<HTMLElement>('#event-log');
  }

  private filter(): EventFilter {
    return {
      taskId: this.taskFilter === ALL ? undefined : this.taskFilter === RUN_LEVEL ? '' : this.taskFilter,
      type: this.typeFilter === ALL ? undefined : (this.typeFilter as EventType),
      role: this.roleFilter === ALL ? undefined : (this.roleFilter as Role),
    };
  }

  private filtered(): number[] {
    const key = `${this.taskFilter}\u0000${this.typeFilter}\u0000${this.roleFilter}`;
    if (this.cacheEvents !== this.events || this.cacheKey !== key || this.events.length < this.cacheLength) {
      this.cacheEvents = this.events;
      this.cacheKey = key;
      this.cacheLength = 0;
      this.indexes = [];
      this.roles = roleLookup(() => this.tasks);
    }
    extendFiltered(this.indexes, this.events, this.cacheLength, this.filter(), this.roles);
    this.cacheLength = this.events.length;
    return this.indexes;
  }

  private onScroll(event: Event): void {
    const viewport = event.currentTarget as HTMLElement;
    const stick = viewport.scrollTop + viewport.clientHeight >= viewport.scrollHeight - ROW_HEIGHT;
    const unchanged = stick && this.stickToBottom;
    this.scrollOffset = viewport.scrollTop;
    this.stickToBottom = stick;
    // Scrolled to the newest while following it (updated() does that after every draw): the rows
    // drawn are the ones to show, and drawing them again cost the first frame a second layout.
    if (!unchanged) this.requestUpdate();
  }

  private jumpToLatest(): void {
    this.stickToBottom = true;
    this.requestUpdate();
  }

  private setTaskFilter(value: string): void {
    this.taskFilter = value || ALL;
    this.stickToBottom = true;
    this.requestUpdate();
  }

  private setTypeFilter(value: string): void {
    this.typeFilter = value || ALL;
    this.stickToBottom = true;
    this.requestUpdate();
  }

  private setRoleFilter(value: string): void {
    this.roleFilter = value || ALL;
    this.stickToBottom = true;
    this.requestUpdate();
  }

  private selectTask(taskId: string | undefined): void {
    if (taskId) this.dispatchEvent(new CustomEvent('task-select', { detail: { taskId }, bubbles: true }));
  }

  protected override render(): TemplateResult {
    const indexes = this.filtered();
    const filtering = this.taskFilter !== ALL || this.typeFilter !== ALL || this.roleFilter !== ALL;
    const coming = filtering ? 0 : this.olderEvents;
    const total = coming + indexes.length;
    const logLength = this.olderEvents + this.events.length;
    // Following the newest, the rows are the last ones, whatever the scroll position was when drawn.
    const offset = this.stickToBottom ? Math.max(0, total * ROW_HEIGHT - this.viewportHeight) : this.scrollOffset;
    const { start, end } = visibleRange(total, ROW_HEIGHT, offset, this.viewportHeight);
    const rows: TemplateResult[] = [];
    for (let i = start; i < end; i++) {
      if (i < coming) {
        rows.push(html`<div class="log-row log-coming muted" data-seq=${i + 1} role="row"><span class="log-seq">${i + 1}</span><span class="log-text">Loading…</span></div>`);
        continue;
      }
      const event = this.events[indexes[i - coming]];
      const taskId = taskIdOf(event);
      const level = event.type === 'log' ? event.level : event.type === 'task.status' && (event.status === 'failed' || event.status === 'dead_letter') ? 'error' : '';
      rows.push(html`<div
        class="log-row ${level}"
        data-seq=${event.seq}
        data-type=${event.type}
        data-role=${roleOf(event, this.roles) ?? ''}
        role="row"
        @click=${() => this.selectTask(taskId)}
      >
        <span class="log-seq">${event.seq}</span><span class="log-time">${timeOf(event.at)}</span><span class="log-type">${event.type}</span><span class="log-task">${taskId ?? ''}</span><span class="log-text">${describeEvent(event, { short: true }).text}</span>
      </div>`);
    }
    return html`<div class="log-toolbar">
        <span class="codicon codicon-list-flat"></span>
        <span class="log-title">Event log</span>
        <select id="log-filter-task" class="log-filter sm-select" aria-label="Filter by task" .value=${this.taskFilter} @change=${(e: Event) => this.setTaskFilter(valueOf(e))} @focus=${this.taskOptions.list} @pointerdown=${this.taskOptions.list}>
          <option value=${ALL} ?selected=${this.taskFilter === ALL}>All tasks</option>
          <option value=${RUN_LEVEL} ?selected=${this.taskFilter === RUN_LEVEL}>Run-level only</option>
          ${this.taskOptions.options(this.taskIds, this.taskFilter, (id) => id)}
        </select>
        <select id="log-filter-role" class="log-filter sm-select" aria-label="Filter by role" .value=${this.roleFilter} @change=${(e: Event) => this.setRoleFilter(valueOf(e))}>
          <option value=${ALL} ?selected=${this.roleFilter === ALL}>All roles</option>
          ${ROLES.map((role) => html`<option value=${role} ?selected=${this.roleFilter === role}>${role}</option>`)}
        </select>
        <select id="log-filter-type" class="log-filter sm-select" aria-label="Filter by event type" .value=${this.typeFilter} @change=${(e: Event) => this.setTypeFilter(valueOf(e))}>
          <option value=${ALL} ?selected=${this.typeFilter === ALL}>All types</option>
          ${EVENT_TYPES.map((type) => html`<option value=${type} ?selected=${this.typeFilter === type}>${type}</option>`)}
        </select>
        <span class="muted log-count"
          >${filtering ? `${total.toLocaleString()} of ${logLength.toLocaleString()}${this.olderEvents ? ` (the latest ${this.events.length.toLocaleString()} so far)` : ''}` : `${total.toLocaleString()} events`}</span
        >
        ${this.stickToBottom
          ? nothing
          : html`<vscode-button class="log-latest" secondary icon="arrow-down" @click=${() => this.jumpToLatest()}>Latest</vscode-button>`}
      </div>
      <div id="event-log" class="log-viewport" role="table" aria-rowcount=${total} tabindex="0" @scroll=${(e: Event) => this.onScroll(e)}>
        <div class="log-spacer" .style=${`height:${total * ROW_HEIGHT}px`}>
          <div class="log-rows" .style=${`transform:translateY(${start * ROW_HEIGHT}px)`}>${rows}</div>
        </div>
        ${total === 0 ? html`<div class="log-empty muted">${logLength ? 'No events match the filters.' : 'No events yet.'}</div>` : nothing}
      </div>`;
  }
}

if (!customElements.get('sm-event-log')) customElements.define('sm-event-log', SmEventLog);

declare global {
  interface HTMLElementTagNameMap {
    'sm-event-log': SmEventLog;
  }
}
