// The live plan DAG: an SVG of the plan's tasks laid out by dagre, coloured by status (colours are
// theme variables in webview.css, keyed on data-status). Clicking a node selects the task.
// Sizes go through the `.style` property (CSSOM): the CSP refuses style attributes.
import { html, LitElement, nothing, svg, type PropertyValues, type TemplateResult } from 'lit';
import type { Plan } from '../../src/shared/model';
import type { RunState, TaskState } from '../../src/shared/runState';
import { DAGRE_MAX_TASKS, edgePath, layoutDag, quickLayout, type DagLayout } from '../dagLayout';
import { whenIdle } from '../idle';

/** Fired by a node click or Enter/Space; `detail.taskId` is the task. */
export type TaskSelectEvent = CustomEvent<{ taskId: string }>;

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export class SmPlanDag extends LitElement {
  static override properties = {
    run: { attribute: false },
    revision: { type: Number },
    selectedTaskId: { attribute: false },
  };

  run?: RunState;
  revision = 0;
  selectedTaskId?: string;

  private layoutFor?: Plan;
  private layout?: DagLayout;

  // Light DOM: the page stylesheet (theme colours) applies, and tests find #plan-dag directly.
  protected override createRenderRoot(): HTMLElement {
    return this;
  }

  protected override willUpdate(_changed: PropertyValues): void {
    const plan = this.run?.plan;
    // The plan object only changes on plan.accepted; statuses change far more often and need no layout.
    if (plan !== this.layoutFor) {
      this.layoutFor = plan;
      // dagre takes longer than a frame on a large plan: the first paint gets the linear layout, and
      // dagre's replaces it when the panel is idle (unless the plan changed again meanwhile). Beyond
      // DAGRE_MAX_TASKS dagre would hold the panel for a second or more even then (measured: 0.6-3 s
      // for 200 tasks), so a large plan keeps the linear layout.
      this.layout = plan ? quickLayout(plan.tasks) : undefined;
      if (plan && plan.tasks.length <= DAGRE_MAX_TASKS) {
        whenIdle(() => {
          if (this.layoutFor !== plan) return;
          this.layout = layoutDag(plan.tasks);
          this.requestUpdate();
        });
      }
    }
  }

  protected override render(): TemplateResult {
    const run = this.run;
    const layout = this.layout;
    if (!run || !layout || layout.nodes.length === 0) {
      const message = !run ? 'No run yet. Describe a goal to start one.' : run.status === 'planning' || run.status === 'queued' ? 'Planning…' : 'This run has no plan.';
      return html`<div id="plan-dag" class="plan-dag empty"><span class="muted">${message}</span></div>`;
    }
    return html`<div id="plan-dag" class="plan-dag">
      <svg
        class="dag-svg"
        .style=${`max-width:${layout.width}px;min-width:${Math.round(layout.width * 0.8)}px`}
        viewBox="0 0 ${layout.width} ${layout.height}"
        role="group"
        aria-label="Plan of ${run.taskOrder.length} tasks"
      >
        <defs>
          <marker id="dag-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path class="dag-arrow" d="M0,0 L10,5 L0,10 z"></path>
          </marker>
        </defs>
        ${layout.edges.map(
          (edge) =>
            svg`<path class="dag-edge" data-from=${edge.from} data-to=${edge.to} data-status=${run.tasks[edge.from]?.status ?? 'pending'} d=${edgePath(edge.points)} marker-end="url(#dag-arrow)"></path>`,
        )}
        ${layout.nodes.map((node) => {
          const task = run.tasks[node.id];
          return task ? this.renderNode(task, node.x, node.y, node.width, node.height) : nothing;
        })}
      </svg>
    </div>`;
  }

  private renderNode(task: TaskState, x: number, y: number, width: number, height: number): TemplateResult {
    const selected = task.id === this.selectedTaskId;
    const status = task.status.replace('_', ' ');
    const attempts = task.attempts > 1 ? ` · attempt ${task.attempts}` : '';
    return svg`<g
      class="dag-node${selected ? ' selected' : ''}"
      data-task-id=${task.id}
      data-status=${task.status}
      transform="translate(${x},${y})"
      tabindex="0"
      role="button"
      aria-pressed=${selected ? 'true' : 'false'}
      aria-label="${task.id} ${task.title}: ${status}"
      @click=${() => this.select(task.id)}
      @keydown=${(event: KeyboardEvent) => {
        if (event.key === 'Enter' || event.key === ' ') {
          event.preventDefault();
          this.select(task.id);
        }
      }}
    >
      <title>${task.id} · ${task.title} — ${status}${task.statusReason ? `: ${task.statusReason}` : ''}</title>
      <rect class="dag-node-box" width=${width} height=${height} rx="6" ry="6"></rect>
      <rect class="dag-node-stripe" width="4" height=${height - 12} x="5" y="6" rx="2" ry="2"></rect>
      <text class="dag-node-label" x="16" y="19">${clip(`${task.id} · ${task.title}`, Math.floor((width - 20) / 7))}</text>
      <text class="dag-node-status" x="16" y="36">${status}${attempts} · ${task.role}</text>
    </g>`;
  }

  private select(taskId: string): void {
    this.dispatchEvent(new CustomEvent('task-select', { detail: { taskId }, bubbles: true }));
  }
}

if (!customElements.get('sm-plan-dag')) customElements.define('sm-plan-dag', SmPlanDag);

declare global {
  interface HTMLElementTagNameMap {
    'sm-plan-dag': SmPlanDag;
  }
}
