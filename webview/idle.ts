// Work that must not hold up a frame (dagre's layout, Markdown of older messages): run after the
// next paint, when the browser is idle. Outside a browser (tests), soon.

/** Runs `work` once the browser is idle (at the latest after `timeoutMs`). */
export function whenIdle(work: () => void, timeoutMs = 200): void {
  const idle = (globalThis as { requestIdleCallback?: (callback: () => void, options?: { timeout: number }) => number }).requestIdleCallback;
  if (idle) idle(work, { timeout: timeoutMs });
  else setTimeout(work, 0);
}

/** Runs `work` before the next frame is painted (once per frame however often it is asked, by the caller). */
export function nextFrame(work: () => void): void {
  const frame = (globalThis as { requestAnimationFrame?: (callback: () => void) => number }).requestAnimationFrame;
  if (frame) frame(work);
  else setTimeout(work, 16);
}
