// Work that must not hold up a frame (dagre's layout, Markdown of older messages): run after the
// next paint, when the browser is idle. Outside a browser (tests), soon.

/** Runs `work` once the browser is idle (at the latest after `timeoutMs`). */
export function whenIdle(work: () => void, timeoutMs = 200): void {
  const idle = (globalThis as { requestIdleCallback?: (callback: () => void, options?: { timeout: number }) => number }).requestIdleCallback;
  if (idle) idle(work, { timeout: timeoutMs });
  else setTimeout(work, 0);
}

