import { strict as assert } from 'node:assert';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { resolveRunConfig } from '../../src/core/config';
import { calculatorWorkspace, makeEngine, ofType } from './helpers';

/** One assistant message in the chat-completions wire format: tool calls only. */
function toolCallReply(calls: { name: string; args: unknown }[]): unknown {
  return {
    id: `chatcmpl-${Math.random().toString(36).slice(2)}`,
    object: 'chat.completion',
    created: 1_700_000_000,
    model: 'local-coder',
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: null,
          tool_calls: calls.map((call, index) => ({ id: `call_${index}_${Math.random().toString(36).slice(2, 8)}`, type: 'function', function: { name: call.name, arguments: JSON.stringify(call.args) } })),
        },
        finish_reason: 'tool_calls',
      },
    ],
    usage: { prompt_tokens: 120, completion_tokens: 30, total_tokens: 150, prompt_tokens_details: { cached_tokens: 20 } },
  };
}

interface Recorded {
  path: string;
  authorization?: string;
  body: { model: string; messages: { role: string; content: unknown }[]; tools?: { function: { name: string } }[] };
}

async function body(request: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of request) text += String(chunk);
  return text;
}

/** A local server that answers chat completions from a queue, in order. */
async function fakeOpenAI(replies: unknown[]): Promise<{ server: Server; url: string; requests: Recorded[] }> {
  const requests: Recorded[] = [];
  const server = createServer((request, response) => {
    void body(request).then((text) => {
      requests.push({ path: request.url ?? '', authorization: request.headers.authorization, body: JSON.parse(text) as Recorded['body'] });
      const reply = replies.shift();
      if (!reply) {
        response.writeHead(500, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ error: { message: 'no scripted reply left' } }));
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(reply));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, requests };
}

describe('OpenAI-compatible provider path', function () {
  this.timeout(60_000);

  it('runs a goal through @ai-sdk/openai-compatible against a local server, sending the key and never logging it', async () => {
    const plan = {
      summary: 'Fix add().',
      tasks: [{ id: 't1', title: 'Fix add()', description: 'Return a + b.', role: 'implementer', dependsOn: [], acceptance: ['add tests pass'], files: ['src/calc.js'] }],
    };
    const { server, url, requests } = await fakeOpenAI([
      toolCallReply([{ name: 'finish', args: plan }]),
      toolCallReply([{ name: 'propose_edit', args: { path: 'src/calc.js', hunks: [{ search: 'return a - b;', replace: 'return a + b;' }] } }]),
      toolCallReply([{ name: 'finish', args: { summary: 'add adds' } }]),
      toolCallReply([{ name: 'finish', args: { approved: true, summary: 'good', issues: [] } }]),
    ]);
    try {
      const ws = await calculatorWorkspace();
      const key = 'sk-test-abcdefghijklmnopqrstuvwxyz012345';
      const { engine, events, runsDir } = await makeEngine(ws, { secret: async (name) => (name === 'LOCAL_KEY' ? key : undefined) });
      const config = resolveRunConfig({
        models: [{ id: 'local', provider: 'openai-compatible', model: 'local-coder', baseURL: url, apiKeyName: 'LOCAL_KEY' }],
        autoApprove: true,
      });
      const handle = await engine.startRun('Fix the failing calculator tests', config);
      const final = await handle.finished;
      assert.equal(final.status, 'completed', final.statusReason);
      assert.match(await readFile(join(ws, 'src/calc.js'), 'utf8'), /return a \+ b;/);

      assert.equal(requests.length, 4);
      assert.ok(requests.every((request) => request.path === '/v1/chat/completions'));
      assert.ok(requests.every((request) => request.authorization === `Bearer ${key}`));
      assert.equal(requests[0]!.body.model, 'local-coder');
      assert.deepEqual(requests[1]!.body.tools!.map((tool) => tool.function.name).sort(), ['delete_file', 'finish', 'list_files', 'propose_edit', 'read_file', 'rename_file', 'run_tests', 'search_text']);
      // The second implementer call carries the tool result of the first: the loop really went round.
      assert.ok(JSON.stringify(requests[2]!.body.messages).includes('Staged change to src/calc.js'));

      const calls = ofType(events, 'llm.call');
      assert.equal(calls.length, 4);
      assert.deepEqual(calls.map((call) => [call.provider, call.model, call.inputTokens, call.outputTokens, call.cachedInputTokens]), Array(4).fill(['openai-compatible', 'local', 120, 30, 20]));
      const log = await readFile(join(runsDir, handle.runId, 'events.jsonl'), 'utf8');
      assert.ok(!log.includes(key), 'the API key never reaches the event log');
    } finally {
      server.close();
    }
  });

  it('refuses to start when the key the model needs is not set', async () => {
    const ws = await calculatorWorkspace();
    const { engine } = await makeEngine(ws);
    const config = resolveRunConfig({ models: [{ id: 'hosted', provider: 'openai-compatible', model: 'm', baseURL: 'http://127.0.0.1:9/v1', apiKeyName: 'MISSING_KEY' }] });
    await assert.rejects(engine.startRun('goal', config), /needs the API key "MISSING_KEY", which is not set/);
    assert.deepEqual(await engine.listRuns(), []);
  });

  it('fails the task with the provider error when the endpoint is down, without hanging', async () => {
    const { server, url } = await fakeOpenAI([]);
    server.close();
    const ws = await calculatorWorkspace();
    const { engine, events } = await makeEngine(ws);
    const config = resolveRunConfig({ models: [{ id: 'dead', provider: 'openai-compatible', model: 'm', baseURL: url }] });
    const final = await (await engine.startRun('goal', config)).finished;
    assert.equal(final.status, 'failed');
    assert.match(final.statusReason!, /planner agent's model call failed/);
    assert.equal(ofType(events, 'llm.call')[0]!.outcome, 'error');
  });
});
