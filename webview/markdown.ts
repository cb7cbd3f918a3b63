// Markdown -> safe HTML for model output, which is untrusted: raw HTML in the source is shown as
// text (never parsed), and DOMPurify cleans the result anyway in case the Markdown itself is abused.
import DOMPurify from 'dompurify';
import { Marked } from 'marked';
import { whenIdle } from './idle';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char] ?? char);
}

const marked = new Marked({
  async: false,
  gfm: true,
  breaks: false,
  renderer: {
    // Raw HTML blocks and inline tags become visible text.
    html({ text }) {
      return escapeHtml(text);
    },
  },
});

const PURIFY = {
  USE_PROFILES: { html: true },
  // style would be refused by the CSP anyway; forms and media have no business in a chat message.
  FORBID_TAGS: ['style', 'form', 'input', 'button', 'textarea', 'select', 'iframe', 'object', 'embed', 'video', 'audio', 'img', 'svg', 'math'],
  FORBID_ATTR: ['style', 'class', 'id'],
  ALLOW_DATA_ATTR: false,
};

let configured = false;

/**
 * DOMPurify's default instance (nothing else in the webview uses it), with PURIFY set once: given
 * with each call, it was parsed again for every message, and a second instance cost the first
 * frame a few ms to make.
 */
function sanitize(html: string): string {
  if (!configured) {
    DOMPurify.setConfig(PURIFY);
    configured = true;
  }
  return DOMPurify.sanitize(html);
}

const cache = new Map<string, string>();
/** Markdown waiting to be rendered when the panel is idle, with who to tell. */
const pending = new Map<string, Set<() => void>>();
let draining = false;

/**
 * The sanitized HTML of `markdown` if it is rendered already; otherwise undefined, and it is
 * rendered when the panel is idle, a few messages per slice, and `ready` is called then. So a long
 * chat's first frame parses only the messages it must (the latest), never all of them.
 */
export function renderedMarkdownOrLater(markdown: string, ready: () => void): string | undefined {
  const hit = cache.get(markdown);
  if (hit !== undefined) return hit;
  const waiting = pending.get(markdown) ?? new Set();
  waiting.add(ready);
  pending.set(markdown, waiting);
  if (!draining) {
    draining = true;
    whenIdle(drain);
  }
  return undefined;
}

/** Renders what waits, about 8 ms at a time, telling each caller once per batch. */
function drain(): void {
  const started = performance.now();
  const notify = new Set<() => void>();
  for (const [markdown, waiting] of pending) {
    renderMarkdown(markdown);
    pending.delete(markdown);
    for (const ready of waiting) notify.add(ready);
    if (performance.now() - started > 8) break;
  }
  for (const ready of notify) ready();
  if (pending.size) whenIdle(drain);
  else draining = false;
}

/** Sanitized HTML for a Markdown string (memoized: the chat re-renders often, messages never change). */
export function renderMarkdown(markdown: string): string {
  const hit = cache.get(markdown);
  if (hit !== undefined) return hit;
  const html = marked.parse(markdown, { async: false });
  const clean = sanitize(html);
  if (cache.size > 2000) cache.clear();
  cache.set(markdown, clean);
  return clean;
}
