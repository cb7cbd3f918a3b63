import { strict as assert } from 'node:assert';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { resolveRunConfig } from '../../src/core/config';
import { startFakeOpenAI, type FakeReply } from '../support/fakeProviders';
import { calculatorWorkspace, makeEngine, ofType } from './helpers';

/** One assistant answer: tool calls only, with the usage the assertions expect. */
function toolCallReply(calls: { name: string; args: Record<string, unknown> }[]): FakeReply {
  return { kind: 'answer', toolCalls: calls.map((call) => ({ name: call.name, input: call.args })), usage: { input: 120, output: 30, cached: 20 } };
}

/** A local OpenAI-compatible server scripted through one task fixing add(): plan, edit, finish, review. */
function fixAddServer(summary: string): ReturnType<typeof startFakeOpenAI> {
  const plan = {
    summary,
    tasks: [{ id: 't1', title: 'Fix add()', description: 'Return a + b.', role: 'implementer', dependsOn: [], acceptance: ['add tests pass'], files: ['src/calc.js'] }],
  };
  return startFakeOpenAI(
    toolCallReply([{ name: 'finish', args: plan }]),
    toolCallReply([{ name: 'propose_edit', args: { path: 'src/calc.js', hunks: [{ search: 'return a - b;', replace: 'return a + b;' }] } }]),
    toolCallReply([{ name: 'finish', args: { summary: 'add adds' } }]),
    toolCallReply([{ name: 'finish', args: { approved: true, summary: 'good', issues: [] } }]),
  );
}

describe('OpenAI-compatible provider path', function () {
  this.timeout(60_000);

  it('runs a goal through @ai-sdk/openai-compatible against a local server, sending the key and never logging it', async () => {
    const server = await fixAddServer('Fix add().');
    const { url, requests } = server;
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
      assert.ok(requests.every((request) => request.headers.authorization === `Bearer ${key}`));
      assert.ok(requests.every((request) => request.body.stream === true), 'agent turns stream');
      assert.ok(requests.every((request) => request.body.max_tokens === 4096), 'every call carries the output limit the budget assumes');
      assert.equal(requests[0]!.body.model, 'local-coder');
      const tools = requests[1]!.body.tools as { function: { name: string } }[];
      assert.deepEqual(tools.map((tool) => tool.function.name).sort(), ['delete_file', 'finish', 'list_files', 'propose_edit', 'read_file', 'rename_file', 'run_tests', 'search_text']);
      // The second implementer call carries the tool result of the first: the loop really went round.
      assert.ok(JSON.stringify(requests[2]!.body.messages).includes('Staged change to src/calc.js'));

      const calls = ofType(events, 'llm.call');
      assert.equal(calls.length, 4);
      assert.deepEqual(calls.map((call) => [call.provider, call.model, call.inputTokens, call.outputTokens, call.cachedInputTokens]), Array(4).fill(['openai-compatible', 'local', 120, 30, 20]));
      const log = await readFile(join(runsDir, handle.runId, 'events.jsonl'), 'utf8');
      assert.ok(!log.includes(key), 'the API key never reaches the event log');
    } finally {
      await server.close();
    }
  });

  it('sends a pasted image to a model that takes images as an image_url part with its base64 data', async () => {
    const server = await fixAddServer('Match the mock-up.');
    try {
      const ws = await calculatorWorkspace();
      const { engine } = await makeEngine(ws, { secret: async () => 'sk-test-images-0123456789' });
      const config = resolveRunConfig({
        models: [{ id: 'seeing', provider: 'openai-compatible', model: 'local-vision', baseURL: server.url, apiKeyName: 'LOCAL_KEY', images: true }],
        autoApprove: true,
      });
      // A 1×1 PNG, as the composer sends a pasted one: base64 without the data: prefix.
      const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
      const handle = await engine.startRun('Make it look like the mock-up', config, { images: [{ mediaType: 'image/png', data: png }] });
      const final = await handle.finished;
      assert.equal(final.status, 'completed', final.statusReason);
      const imageParts = (body: Record<string, unknown>): string[] =>
        (body.messages as { role: string; content: unknown }[])
          .filter((message) => message.role === 'user' && Array.isArray(message.content))
          .flatMap((message) => message.content as { type: string; image_url?: { url: string } }[])
          .filter((part) => part.type === 'image_url')
          .map((part) => part.image_url?.url ?? '');
      assert.deepEqual(imageParts(server.requests[0]!.body), [`data:image/png;base64,${png}`], 'the planner\'s prompt carries the image');
      assert.deepEqual(imageParts(server.requests[1]!.body), [`data:image/png;base64,${png}`], 'the implementer\'s prompt carries it too');
    } finally {
      await server.close();
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
    const server = await startFakeOpenAI();
    const { url } = server;
    await server.close();
    const ws = await calculatorWorkspace();
    const { engine, events } = await makeEngine(ws);
    const config = resolveRunConfig({ models: [{ id: 'dead', provider: 'openai-compatible', model: 'm', baseURL: url }] });
    const final = await (await engine.startRun('goal', config)).finished;
    assert.equal(final.status, 'failed');
    assert.match(final.statusReason!, /planner agent's model call failed/);
    assert.equal(ofType(events, 'llm.call')[0]!.outcome, 'error');
  });
});
