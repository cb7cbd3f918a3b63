// What a host object registers (listeners, views, commands, emitters) and releases when it goes:
// one holder instead of a hand-written loop in each class. No vscode import (a vscode.Disposable is
// anything with dispose()): unit-tested in plain Node.

export interface DisposableLike {
  dispose(): unknown;
}

export class DisposableStore implements DisposableLike {
  private readonly items: DisposableLike[] = [];
  private disposed = false;

  /** Holds `items` until dispose(); once the store is disposed, disposes them at once (nothing leaks). */
  add(...items: DisposableLike[]): void {
    for (const item of items) {
      if (this.disposed) item.dispose();
      else this.items.push(item);
    }
  }

  /**
   * Disposes everything once, the last added first (what came later may use what came before: a tree
   * view its emitter). One that throws does not keep the rest alive; its error is rethrown after (several as one AggregateError).
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const errors: unknown[] = [];
    while (this.items.length) {
      try {
        this.items.pop()?.dispose();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, `${errors.length} disposables failed to dispose`);
  }
}
