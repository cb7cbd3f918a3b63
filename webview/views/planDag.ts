// The live plan DAG: an SVG of the plan's tasks (a large plan's nodes in tiles), laid out in ranks or
// by dagre, coloured by status (colours are theme variables in webview.css, keyed on data-status).
// Clicking a node selects the task.
// Sizes go through the `.style` property (CSSOM): the CSP refuses style attributes.
import { html, LitElement, nothing, svg, type PropertyValues, type TemplateResult } from 'lit';
import type { Plan } from '../../src/shared/model';
import type { RunState, TaskState } from '../../src/shared/runState';
import { DAGRE_MAX_TASKS, edgePath, layoutDag, quickLayout, tilesOf, type DagLayout, type DagNode, type DagTile } from '../dagLayout';
import { whenIdle } from '../idle';

/** Fired by a node click or Enter/Space; `detail.taskId` is the task. */
export type TaskSelectEvent = CustomEvent<{ taskId: string }>;

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** A node's status stripe (4 wide, rounded ends, 6 in from the node's corner) as path data. */
function stripePath(x: number, y: number, height: number): string {
  return `M${x + 5},${y + 8}a2,2 0 0 1 4,0v${height - 16}a2,2 0 0 1 -4,0z`;
}

/**
 * Plans larger than this draw their nodes in tiles: columns of the plan, each its own SVG in a box
 * with `content-visibility: auto`, so the browser styles, lays out and paints only the tiles in or
 * near the pane's view (every node stays in the page: its tooltip, its label for assistive technology,
 * find-in-page). Drawn whole, a 200-node plan's nodes were most of the panel's first layout and paint.
 */
const TILED_FROM = 60;

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
  /** The layout's tiles when it has over TILED_FROM nodes. */
  private tiles?: DagTile[];

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
      this.useLayout(plan ? quickLayout(plan.tasks) : undefined);
      if (plan && plan.tasks.length <= DAGRE_MAX_TASKS) {
        whenIdle(() => {
          if (this.layoutFor !== plan) return;
          this.useLayout(layoutDag(plan.tasks));
          this.requestUpdate();
        });
      }
    }
  }

  private useLayout(layout: DagLayout | undefined): void {
    this.layout = layout;
    this.tiles = layout && layout.nodes.length > TILED_FROM ? tilesOf(layout) : undefined;
  }

  protected override render(): TemplateResult {
    const run = this.run;
    const layout = this.layout;
    if (!run || !layout || layout.nodes.length === 0) {
      const message = !run ? 'No run yet. Describe a goal to start one.' : run.status === 'planning' || run.status === 'queued' ? 'Planning…' : 'This run has no plan.';
      return html`<div id="plan-dag" class="plan-dag empty"><span class="muted">${message}</span></div>`;
    }
    // The stripes of running tasks pulse. They are drawn in a second SVG over the plan, one path for
    // all of them, and the pulse is that SVG's opacity: one animated element, where an animation on
    // each stripe (200 in a large plan) was 200 elements to restyle and repaint every frame, and
    // the costliest part of the nodes in the first frame's layout.
    const pulsing = layout.nodes.filter((node) => run.tasks[node.id]?.status === 'running');
    const viewBox = `0 0 ${layout.width} ${layout.height}`;
    const nodesOf = (nodes: DagNode[]) =>
      nodes.map((node) => {
        const task = run.tasks[node.id];
        return task ? this.renderNode(task, node.x, node.y, node.width, node.height) : nothing;
      });
    const tiles = this.tiles;
    const size = `max-width:${layout.width}px;min-width:${Math.round(layout.width * 0.8)}px;aspect-ratio:${layout.width} / ${layout.height}`;
    return html`<div id="plan-dag" class="plan-dag">
      <div class="dag-canvas" .style=${size} role="group" aria-label="Plan of ${run.taskOrder.length} tasks" @click=${this.onNodeEvent} @keydown=${this.onNodeEvent}>
        <svg class="dag-svg" viewBox=${viewBox}>
          <defs>
            <marker id="dag-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
              <path class="dag-arrow" d="M0,0 L10,5 L0,10 z"></path>
            </marker>
          </defs>
          ${layout.edges.map(
            (edge) =>
              svg`<path class="dag-edge" data-from=${edge.from} data-to=${edge.to} data-status=${run.tasks[edge.from]?.status ?? 'pending'} d=${edgePath(edge.points)} marker-end="url(#dag-arrow)"></path>`,
          )}
          ${tiles ? nothing : nodesOf(layout.nodes)}
        </svg>
        ${tiles?.map(
          (tile) =>
            html`<div class="dag-tile" .style=${`left:${(100 * tile.left) / layout.width}%;width:${(100 * (tile.right - tile.left)) / layout.width}%`}>
              <svg class="dag-tile-svg" viewBox="${tile.left} 0 ${tile.right - tile.left} ${layout.height}">${nodesOf(tile.nodes)}</svg>
            </div>`,
        ) ?? nothing}
        ${pulsing.length
          ? html`<svg class="dag-pulse" viewBox=${viewBox} aria-hidden="true" focusable="false">
              <path class="dag-pulse-stripes" d=${pulsing.map((node) => stripePath(node.x, node.y, node.height)).join('')}></path>
            </svg>`
          : nothing}
      </div>
    </div>`;
  }

  private renderNode(task: TaskState, x: number, y: number, width: number, height: number): TemplateResult {
    const selected = task.id === this.selectedTaskId;
    const status = task.status.replace('_', ' ');
    const attempts = task.attempts > 1 ? ` · attempt ${task.attempts}` : '';
    // Children placed at x, y rather than a translate() per node: 200 transforms were 200 paint
    // property nodes for the first frame to build. Each text is one binding, and clicks and keys
    // are the canvas's (onNodeEvent): a large plan's first frame commits every node's bindings.
    return svg`<g
      class=${selected ? 'dag-node selected' : 'dag-node'}
      data-task-id=${task.id}
      data-status=${task.status}
      tabindex="0"
      role="button"
      aria-pressed=${selected ? 'true' : 'false'}
      aria-label=${`${task.id} ${task.title}: ${status}`}
    >
      <title>${`${task.id} · ${task.title} — ${status}${task.statusReason ? `: ${task.statusReason}` : ''}`}</title>
      <rect class="dag-node-box" x=${x} y=${y} width=${width} height=${height} rx="6" ry="6"></rect>
      ${task.status === 'running' ? nothing : svg`<rect class="dag-node-stripe" width="4" height=${height - 12} x=${x + 5} y=${y + 6} rx="2" ry="2"></rect>`}
      <text class="dag-node-label" x=${x + 16} y=${y + 19}>${clip(`${task.id} · ${task.title}`, Math.floor((width - 20) / 7))}</text>
      <text class="dag-node-status" x=${x + 16} y=${y + 36}>${`${status}${attempts} · ${task.role}`}</text>
    </g>`;
  }

  /** A click on a node, or Enter or Space on the focused one, selects its task. */
  private readonly onNodeEvent = (event: Event): void => {
    if (event instanceof KeyboardEvent && event.key !== 'Enter' && event.key !== ' ') return;
    const node = event.target instanceof Element ? event.target.closest<SVGGElement>('g.dag-node') : null;
    const taskId = node?.dataset.taskId;
    if (!taskId) return;
    if (event instanceof KeyboardEvent) event.preventDefault();
    this.select(taskId);
  };

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
