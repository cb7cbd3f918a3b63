import { strict as assert } from 'node:assert';
import { parseRequest, REQUEST_PARAM_SCHEMAS, type ParsedRequest } from '../../src/shared/protocolSchemas';

function rejected(result: ParsedRequest): { id?: number; error: string } {
  assert.equal(result.ok, false, 'expected a rejection');
  if (result.ok) throw new Error('unreachable');
  return result;
}

describe('protocol parseRequest', () => {
  it('accepts a valid request of every method', () => {
    const valid = {
      'app/ready': {},
      'goal/start': { goal: 'Add a login page' },
      'run/open': { runId: 'r1' },
      'run/log': { runId: 'r1', beforeSeq: 1001 },
      'run/cancel': { runId: 'r1' },
      'plan/approve': { runId: 'r1' },
      'task/openDiff': { runId: 'r1', taskId: 't1' },
      'task/triage': { runId: 'r1', taskId: 't1', action: { kind: 'retry', model: 'strong' } },
      'step/replay': { runId: 'r1', stepId: 't1:implement@v1', model: 'strong' },
      'run/setBudgets': { runId: 'r1', budgets: { run: { usd: 2 }, onExceed: 'pause' }, resume: true },
      'run/message': { runId: 'r1', text: 'use tabs', taskId: 't1', files: ['src/a.ts'], images: [{ mediaType: 'image/png', data: 'iVBORw0KGgo=' }] },
      'workspace/files': { query: 'src/' },
      'run/openFileDiff': { runId: 'r1', path: 'src/a.ts' },
      'run/openReport': { runId: 'r1' },
      'run/pin': { runId: 'r1' },
      'notice/act': { id: 'setup', action: 'Configure Models' },
      'run/screenshots': { runId: 'r1', artifacts: ['artifacts/webtest/t1/a1-f1-welcome.png'] },
    };
    assert.deepEqual(Object.keys(valid).sort(), Object.keys(REQUEST_PARAM_SCHEMAS).sort(), 'every method is covered');
    let id = 0;
    for (const [method, params] of Object.entries(valid)) {
      const result = parseRequest({ kind: 'request', id: ++id, method, params });
      assert.deepEqual(result, { ok: true, message: { kind: 'request', id, method, params } }, method);
    }
  });

  it('rejects malformed envelopes without an id to answer', () => {
    for (const raw of [null, 'app/ready', 42, {}, { kind: 'response', id: 1, method: 'app/ready', params: {} }, { kind: 'request', id: -1, method: 'app/ready' }, { kind: 'request', id: 1.5, method: 'app/ready' }, { kind: 'request', id: '1', method: 'app/ready' }, { kind: 'request', id: 1, method: 7 }]) {
      const result = rejected(parseRequest(raw));
      assert.equal(result.id, undefined, JSON.stringify(raw));
      assert.match(result.error, /^Malformed message from the webview: /, JSON.stringify(raw));
    }
  });

  it('rejects unknown methods, keeping the id for the error reply', () => {
    const result = rejected(parseRequest({ kind: 'request', id: 3, method: 'fs/delete', params: {} }));
    assert.deepEqual(result, { ok: false, id: 3, error: 'Unknown request "fs/delete".' });
  });

  it('rejects prototype keys as unknown methods instead of throwing', () => {
    for (const method of ['toString', 'constructor', '__proto__', 'hasOwnProperty']) {
      assert.equal(rejected(parseRequest({ kind: 'request', id: 4, method, params: {} })).error, `Unknown request "${method}".`);
    }
  });

  it('serves only web tester screenshots: no other file of the run, no path steps out', () => {
    for (const artifact of ['events.jsonl', 'artifacts/webtest/t1/../../events.jsonl', 'artifacts/webtest/../x.png', 'artifacts/webtest/t1/a.png.txt', '/etc/passwd', 'artifacts/webtest/t1/sub/a.png', 'artifacts/webtest/t1/a b.png']) {
      assert.match(rejected(parseRequest({ kind: 'request', id: 9, method: 'run/screenshots', params: { runId: 'r1', artifacts: [artifact] } })).error, /Not a web tester screenshot/, artifact);
    }
  });

  it('treats missing params as empty params', () => {
    const result = parseRequest({ kind: 'request', id: 8, method: 'app/ready' });
    assert.ok(result.ok);
  });

  it('rejects bad params with the method and the reason', () => {
    const empty = rejected(parseRequest({ kind: 'request', id: 5, method: 'goal/start', params: { goal: '   ' } }));
    assert.equal(empty.id, 5);
    assert.equal(empty.error, 'Invalid params for goal/start: The goal is empty.');

    const extra = rejected(parseRequest({ kind: 'request', id: 6, method: 'run/open', params: { runId: 'r', evil: true } }));
    assert.match(extra.error, /^Invalid params for run\/open: .*evil/);

    const missing = rejected(parseRequest({ kind: 'request', id: 7, method: 'task/openDiff', params: { runId: 'r' } }));
    assert.match(missing.error, /^Invalid params for task\/openDiff: /);

    const wrongType = rejected(parseRequest({ kind: 'request', id: 8, method: 'run/cancel', params: { runId: 12 } }));
    assert.match(wrongType.error, /^Invalid params for run\/cancel: /);

    const tooLong = rejected(parseRequest({ kind: 'request', id: 9, method: 'goal/start', params: { goal: 'x'.repeat(20_001) } }));
    assert.match(tooLong.error, /^Invalid params for goal\/start: /);

    for (const beforeSeq of [0, 1.5, '10', -3]) {
      const badSeq = rejected(parseRequest({ kind: 'request', id: 11, method: 'run/log', params: { runId: 'r', beforeSeq } }));
      assert.match(badSeq.error, /^Invalid params for run\/log: /, String(beforeSeq));
    }

    const readyWithParams = rejected(parseRequest({ kind: 'request', id: 10, method: 'app/ready', params: { x: 1 } }));
    assert.match(readyWithParams.error, /^Invalid params for app\/ready: /);
  });
});
