// One agent turn as the engine runs it: streamed, with the text pieces handed to a hook, oversized
// tool inputs and results kept out of the step record and out of the next step's request, and an
// answer cut at the output limit said as such.
import { strict as assert } from 'node:assert';
import type { LanguageModelV4, LanguageModelV4CallOptions } from '@ai-sdk/provider';
import { jsonSchema, tool, zodSchema, type ToolSet } from 'ai';
import { z } from 'zod';
import { AgentTurnError, MAX_KEPT_TOOL_CHARS, runAgentTurn, type AgentTurnRequest } from '../../src/core/agents/runAgent';
import { createModel } from '../../src/core/models/registry';
import { ScriptedModel, type TranscriptTurn } from '../../src/core/models/scripted';
import { startFakeOpenAI, type FakeServer } from '../support/fakeProviders';

const finishTool = tool({
  description: 'Report the result.',
  inputSchema: jsonSchema<{ summary: string }>({ type: 'object', properties: { summary: { type: 'string' } }, required: ['summary'] }),
  execute: async () => 'accepted',
});

/** A scripted model that records the prompt of every call it streams. */
function recording(turns: TranscriptTurn[]): { model: LanguageModelV4; prompts: string[] } {
  const scripted = new ScriptedModel('scripted', { version: 1, turns });
  const prompts: string[] = [];
  const model: LanguageModelV4 = {
    specificationVersion: 'v4',
    provider: 'scripted',
    modelId: 'scripted',
    supportedUrls: {},
    doGenerate: (options) => scripted.doGenerate(options),
    doStream: (options: LanguageModelV4CallOptions) => {
      prompts.push(JSON.stringify(options.prompt));
      return scripted.doStream(options);
    },
  };
  return { model, prompts };
}

function request(model: LanguageModelV4, tools: ToolSet, extra: Partial<AgentTurnRequest> = {}): AgentTurnRequest {
  return { role: 'implementer', taskId: 't1', stepId: 't1:implement@v1', model, system: 'You implement.', prompt: 'Do it.', tools, maxSteps: 5, loopThreshold: 3, signal: new AbortController().signal, emit: () => undefined, ...extra };
}

describe('agent turns', function () {
  this.timeout(30_000);
  const servers: FakeServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });
  async function compatible(server: FakeServer): Promise<LanguageModelV4> {
    servers.push(server);
    return (await createModel({ id: 'local', provider: 'openai-compatible', model: 'm', baseURL: server.url }, { workspaceRoot: process.cwd(), secret: async () => undefined })).model;
  }

  it('streams: the text reaches onTextDelta piece by piece as the server sends it', async () => {
    const server = await startFakeOpenAI({ kind: 'answer', text: 'Looking at calc.js first.', toolCalls: [{ name: 'finish', input: { summary: 'done' } }] });
    const deltas: string[] = [];
    const result = await runAgentTurn(request(await compatible(server), { finish: finishTool }, { onTextDelta: (delta) => deltas.push(delta) }));
    assert.deepEqual(result.output, { summary: 'done' });
    assert.equal(server.requests[0]!.body.stream, true);
    assert.ok(deltas.length >= 2, `the text came in pieces (${deltas.length})`);
    assert.equal(deltas.join(''), 'Looking at calc.js first.');
  });

  it('a view that throws on a text piece does not fail the turn', async () => {
    const { model } = recording([{ role: 'implementer', task: 't1', text: 'hi', toolCalls: [{ tool: 'finish', input: { summary: 'done' } }] }]);
    const result = await runAgentTurn(request(model, { finish: finishTool }, {
      onTextDelta: () => {
        throw new Error('the view is gone');
      },
    }));
    assert.deepEqual(result.output, { summary: 'done' });
  });

  it('an oversized tool input is neither re-sent with the next step nor kept whole in the result', async () => {
    const huge = 'y'.repeat(300_000);
    const { model, prompts } = recording([
      { role: 'implementer', task: 't1', toolCalls: [{ tool: 'store', input: { text: huge } }] },
      { role: 'implementer', task: 't1', toolCalls: [{ tool: 'finish', input: { summary: 'gave up on the big one' } }] },
    ]);
    const store = tool({
      description: 'Store text.',
      inputSchema: jsonSchema<{ text: string }>({ type: 'object', properties: { text: { type: 'string' } }, required: ['text'] }),
      execute: async ({ text }): Promise<string> => {
        throw new Error(`refused: ${text.length} characters is over the limit`);
      },
    });
    const result = await runAgentTurn(request(model, { store, finish: finishTool }));
    assert.equal(prompts.length, 2);
    assert.ok(prompts[1]!.length < 20_000, `the second call's prompt is ${prompts[1]!.length} characters`);
    assert.match(prompts[1]!, /The input of this store call \(300011 characters\) was too large to send again/);
    assert.match(prompts[1]!, /refused: 300000 characters is over the limit/, 'the refusal itself still reaches the model');
    const kept = result.toolCalls[0]!;
    assert.ok(JSON.stringify(kept).length < 5_000, 'the result keeps a head, not the input');
    assert.match(JSON.stringify(kept.input), /input of 300011 characters, too large to keep/);
  });

  it('an invalid oversized input, whose validation error quotes it whole, is cut in the next request and in the result', async () => {
    const huge = 'z'.repeat(300_000);
    const { model, prompts } = recording([
      { role: 'implementer', task: 't1', toolCalls: [{ tool: 'count', input: { n: huge } }] },
      { role: 'implementer', task: 't1', toolCalls: [{ tool: 'finish', input: { summary: 'done' } }] },
    ]);
    const count = tool({
      description: 'Count.',
      inputSchema: zodSchema(z.object({ n: z.number() })),
      execute: async () => 'counted',
    });
    const result = await runAgentTurn(request(model, { count, finish: finishTool }));
    assert.ok(prompts[1]!.length < MAX_KEPT_TOOL_CHARS + 20_000, `the second call's prompt is ${prompts[1]!.length} characters`);
    assert.ok(result.toolCalls[0]!.output.length < MAX_KEPT_TOOL_CHARS + 200);
    assert.equal(result.toolCalls[0]!.ok, false);
  });

  it('an answer cut off at the output limit says so and how to raise it', async () => {
    const server = await startFakeOpenAI({ kind: 'answer', text: 'I will now write the whole file: ...', cutAtLimit: true });
    await assert.rejects(runAgentTurn(request(await compatible(server), { finish: finishTool })), (error: unknown) => {
      assert.ok(error instanceof AgentTurnError);
      assert.match(error.message, /The implementer agent was cut off at its output limit before it called finish; raise "maxOutputTokens"/);
      return true;
    });
  });

  it('the same tool call repeated until the loop threshold still ends the turn as a loop', async () => {
    const read = { tool: 'read', input: { path: 'a.txt' } };
    const { model } = recording(Array.from({ length: 4 }, () => ({ role: 'implementer', task: 't1', toolCalls: [read] })));
    const readTool = tool({ description: 'Read.', inputSchema: jsonSchema<{ path: string }>({ type: 'object', properties: { path: { type: 'string' } } }), execute: async () => 'hello' });
    await assert.rejects(runAgentTurn(request(model, { read: readTool, finish: finishTool })), /called read\(\{"path":"a\.txt"\}\) 3 times with the same input/);
  });
});
