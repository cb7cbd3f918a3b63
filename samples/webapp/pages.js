'use strict';

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

function page(title, body) {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:sans-serif;margin:2rem}label{display:block;margin:.5rem 0}.error{color:#b00}</style>
</head><body>${body}</body></html>`;
}

function renderForm(error, fields = {}) {
  return page(
    'Sign up',
    `<h1>Sign up</h1>
${error ? `<p id="error" class="error">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/signup">
  <label>Name <input id="name" name="name" value="${escapeHtml(fields.name || '')}"></label>
  <label>Email <input id="email" name="email" type="email" value="${escapeHtml(fields.email || '')}"></label>
  <button type="submit">Sign up</button>
</form>`,
  );
}

function renderWelcome(fields) {
  return page('Welcome', `<h1 id="welcome">Welcome, ${escapeHtml(fields.name)}!</h1><p>We will write to ${escapeHtml(fields.email)}.</p>`);
}

/** The reason the fields cannot be accepted, or undefined. */
function validate(fields) {
  if (!fields.email || !fields.email.includes('@')) return 'Please enter a valid email address.';
  return undefined;
}

module.exports = { escapeHtml, renderForm, renderWelcome, validate };
