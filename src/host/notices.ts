// Prompts that must stay reachable after their notification is gone (turn on diff CodeLens, set a
// model's key, resume an interrupted run, a goal waiting for a model): the chat views show them as
// banners until acted on or dismissed. No vscode import: unit-tested in plain Node.
import type { Notice } from '../shared/protocol';

export interface NoticeAction {
  label: string;
  /** Resolves false to keep the notice (the action did not settle it). */
  run: () => Promise<boolean | void> | boolean | void;
}

export interface HostNotice {
  id: string;
  message: string;
  tone?: Notice['tone'];
  actions: NoticeAction[];
}

export class NoticeBoard {
  private readonly notices = new Map<string, HostNotice>();
  private readonly listeners = new Set<() => void>();

  /** Adds a notice, or replaces the one with its id (an updated prompt is one banner, not two). */
  set(notice: HostNotice): void {
    this.notices.set(notice.id, notice);
    this.changed();
  }

  remove(id: string): void {
    if (this.notices.delete(id)) this.changed();
  }

  has(id: string): boolean {
    return this.notices.has(id);
  }

  list(): Notice[] {
    return [...this.notices.values()].map(({ id, message, tone, actions }) => ({ id, message, tone: tone ?? 'info', actions: actions.map((action) => action.label) }));
  }

  /**
   * Runs the action labelled `label` of a notice (none: dismisses it). The notice goes unless the
   * action resolves false. Resolves false when there is no such notice or action.
   */
  async act(id: string, label: string | undefined): Promise<boolean> {
    const notice = this.notices.get(id);
    if (!notice) return false;
    if (label === undefined) {
      this.remove(id);
      return true;
    }
    const action = notice.actions.find((candidate) => candidate.label === label);
    if (!action) return false;
    // Removed first, so an action that sets the notice again (still waiting) keeps its new version.
    this.notices.delete(id);
    let keep = false;
    try {
      keep = (await action.run()) === false;
    } finally {
      if (keep && !this.notices.has(id)) this.notices.set(id, notice);
      this.changed();
    }
    return true;
  }

  onDidChange(listener: () => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  private changed(): void {
    for (const listener of [...this.listeners]) listener();
  }
}
