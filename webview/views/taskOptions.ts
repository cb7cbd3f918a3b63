// The options of a view's per-task <select> (the chat's and the event log's task filters). A run's
// first frame lists only the chosen one: a 200-task plan gave the two menus 400 options, closed and
// unseen, yet a tenth of that frame (creating them, then styling them with the browser's own parts
// of each). The rest are listed once the panel is first idle, or at once when the user reaches for
// a menu: on its focus or pointerdown, rendered in that event's microtask, before the menu opens or
// takes a key.
import { html, type ReactiveController, type ReactiveControllerHost, type TemplateResult } from 'lit';
import { whenIdle } from '../idle';

export class LazyTaskOptions implements ReactiveController {
  /** Whether the host's menu lists every task yet. */
  private listed = false;

  constructor(private readonly host: ReactiveControllerHost) {
    host.addController(this);
  }

  hostConnected(): void {
    if (!this.listed) whenIdle(this.list);
  }

  /** For the menu's focus and pointerdown. */
  readonly list = (): void => {
    if (this.listed) return;
    this.listed = true;
    this.host.requestUpdate();
  };

  /** An <option> per task (`label` its text), or only the chosen task's until they are listed. */
  options(taskIds: readonly string[], chosen: string | undefined, label: (taskId: string) => string): TemplateResult[] {
    const ids = this.listed ? taskIds : taskIds.filter((id) => id === chosen);
    return ids.map((id) => html`<option value=${id} ?selected=${id === chosen}>${label(id)}</option>`);
  }
}
