// Markdown -> safe HTML for model output, which is untrusted: raw HTML in the source is shown as
// text (never parsed), and DOMPurify cleans the result anyway in case the Markdown itself is abused.
import DOMPurify from 'dompurify';
import { Marked } from 'marked';

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

const cache = new Map<string, string>();

/** Sanitized HTML for a Markdown string (memoized: the chat re-renders often, messages never change). */
export function renderMarkdown(markdown: string): string {
  const hit = cache.get(markdown);
  if (hit !== undefined) return hit;
  const html = marked.parse(markdown, { async: false });
  const clean = DOMPurify.sanitize(html, PURIFY);
  if (cache.size > 2000) cache.clear();
  cache.set(markdown, clean);
  return clean;
}
