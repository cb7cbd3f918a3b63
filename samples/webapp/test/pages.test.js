'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { escapeHtml, renderWelcome, validate } = require('../pages');

test('escapes HTML', () => {
  assert.strictEqual(escapeHtml('<b>"x"</b>'), '&lt;b&gt;&quot;x&quot;&lt;/b&gt;');
});

test('welcomes by name', () => {
  assert.match(renderWelcome({ name: 'Ada', email: 'ada@example.com' }), /Welcome, Ada!/);
});

test('refuses an email without @', () => {
  assert.ok(validate({ name: 'Ada', email: 'nope' }));
});
