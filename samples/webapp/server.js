// A signup form and its answer page, on node:http with no dependencies.
// Usage: node server.js [port]   (default 4173, or $PORT)
'use strict';
const http = require('node:http');
const { renderForm, renderWelcome, validate } = require('./pages');

const port = Number(process.argv[2] || process.env.PORT || 4173);

function readBody(request) {
  return new Promise((resolve, reject) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk) => {
      body += chunk;
      if (body.length > 10000) request.destroy(new Error('body too large'));
    });
    request.on('end', () => resolve(body));
    request.on('error', reject);
  });
}

const server = http.createServer(async (request, response) => {
  const url = new URL(request.url, 'http://localhost');
  const send = (status, html) => {
    response.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
    response.end(html);
  };
  if (request.method === 'GET' && url.pathname === '/') return send(200, renderForm());
  if (request.method === 'POST' && url.pathname === '/signup') {
    const fields = Object.fromEntries(new URLSearchParams(await readBody(request)));
    const error = validate(fields);
    return error ? send(400, renderForm(error, fields)) : send(200, renderWelcome(fields));
  }
  send(404, '<!doctype html><title>Not found</title><p>Not found</p>');
});

server.listen(port, '127.0.0.1', () => console.log(`webapp listening on http://127.0.0.1:${port}/`));
