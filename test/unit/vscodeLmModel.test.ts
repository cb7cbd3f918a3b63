// The vscode.lm adapter in plain Node, against a stub of the vscode.lm classes (test/support/fakeVscodeLm.ts):
// prompt conversion, tools, streaming of text and tool calls, a whole ai SDK tool loop, usage, abort,
// and the LanguageModelError codes turned into errors that say what to do.
import { strict as assert } from 'node:assert';
import { APICallError, type LanguageModelV4CallOptions, type LanguageModelV4Prompt, type LanguageModelV4StreamPart, type LanguageModelV4ToolResultOutput } from '@ai-sdk/provider';
import { generateText, jsonSchema, stepCountIs, tool } from 'ai';
import { runAgentTurn } from '../../src/core/agents/runAgent';
import { ModelConfigError } from '../../src/core/models/providers';
import { CircuitBreakers } from '../../src/core/models/breakers';
import { RoutedModel, type CallRecord } from '../../src/core/models/router';
import { createHostModels, selectChatModel, type LmNamespace } from '../../src/host/models/hostModels';
import { explainLmError, LM_JUSTIFICATION, toChatMessages, toChatTools, VscodeLmChatModel } from '../../src/host/models/vscodeLmModel';
import { ChatMessage, FakeChat, LmError, stubApi, TextPart, ToolCallPart, ToolResultPart } from '../support/fakeVscodeLm';

const FINISH_TOOL = {
  type: 'function' as const,
  name: 'finish',
  description: 'Report the result.',
  inputSchema: { type: 'object' as const, properties: { summary: { type: 'string' as const } }, required: ['summary'] },
};
const READ_TOOL = { type: 'function' as const, name: 'read_file', description: 'Read a file.', inputSchema: { type: 'object' as const, properties: { path: { type: 'string' as const } } } };

function callOptions(prompt: LanguageModelV4Prompt, extra: Partial<LanguageModelV4CallOptions> = {}): LanguageModelV4CallOptions {
  return { prompt, ...extra };
}

const USER_ONLY: LanguageModelV4Prompt = [{ role: 'user', content: [{ type: 'text', text: 'say hi' }] }];

async function drain(stream: ReadableStream<LanguageModelV4StreamPart>): Promise<LanguageModelV4StreamPart[]> {
  const parts: LanguageModelV4StreamPart[] = [];
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return parts;
    parts.push(value);
  }
}

async function rejection(promise: PromiseLike<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  return assert.fail('expected a rejection');
}

describe('vscode.lm adapter (stub vscode)', () => {
  describe('prompt conversion', () => {
    it('puts system text first as a user message and keeps tool calls and results paired by id', () => {
      const prompt: LanguageModelV4Prompt = [
        { role: 'system', content: 'You are the implementer.' },
        { role: 'system', content: 'Use the tools.' },
        { role: 'user', content: [{ type: 'text', text: 'Fix add().' }] },
        {
          role: 'assistant',
          content: [
            { type: 'reasoning', text: 'thinking…' },
            { type: 'text', text: 'Reading the file.' },
            { type: 'tool-call', toolCallId: 'c1', toolName: 'read_file', input: { path: 'src/calc.js' } },
            { type: 'tool-call', toolCallId: 'c2', toolName: 'read_file', input: '{"path":"README.md"}' },
          ],
        },
        {
          role: 'tool',
          content: [
            { type: 'tool-result', toolCallId: 'c1', toolName: 'read_file', output: { type: 'text', value: 'return a - b;' } },
            { type: 'tool-result', toolCallId: 'c2', toolName: 'read_file', output: { type: 'error-text', value: 'no such file' } },
          ],
        },
      ];
      const messages = toChatMessages(stubApi, prompt) as unknown as ChatMessage[];
      assert.deepEqual(
        messages.map((message) => message.role),
        [1, 1, 2, 1],
        'system → user, user, assistant, tool results → user',
      );
      assert.deepEqual(messages[0]!.content, [new TextPart('You are the implementer.\n\nUse the tools.')]);
      assert.deepEqual(messages[1]!.content, [new TextPart('Fix add().')]);
      assert.deepEqual(messages[2]!.content, [
        new TextPart('Reading the file.'),
        new ToolCallPart('c1', 'read_file', { path: 'src/calc.js' }),
        new ToolCallPart('c2', 'read_file', { path: 'README.md' }),
      ], 'reasoning dropped; JSON-text input parsed to an object');
      assert.deepEqual(messages[3]!.content, [
        new ToolResultPart('c1', [new TextPart('return a - b;')]),
        new ToolResultPart('c2', [new TextPart('Error: no such file')]),
      ]);
    });

    it('turns every tool-result output kind into text the model can read', () => {
      const outputs: LanguageModelV4ToolResultOutput[] = [
        { type: 'json', value: { ok: true } },
        { type: 'execution-denied', reason: 'the user said no' },
        { type: 'error-json', value: { code: 1 } },
        { type: 'content', value: [{ type: 'text', text: 'a' }, { type: 'file', data: { type: 'data', data: 'AAAA' }, mediaType: 'image/png', filename: 'x.png' }] },
      ];
      const prompt: LanguageModelV4Prompt = [{ role: 'tool', content: outputs.map((output, index) => ({ type: 'tool-result' as const, toolCallId: `c${index}`, toolName: 't', output })) }];
      const [message] = toChatMessages(stubApi, prompt) as unknown as ChatMessage[];
      const texts = message!.content.map((part) => ((part as ToolResultPart).content[0] as TextPart).value);
      assert.deepEqual(texts, ['{"ok":true}', 'The tool call was not run: the user said no.', 'Error: {"code":1}', 'a\n[file x.png left out]']);
    });

    it('passes function tools with their JSON schemas and maps toolChoice to the tool mode', () => {
      const both = { tools: [FINISH_TOOL, READ_TOOL] };
      assert.deepEqual(toChatTools(stubApi, both), {
        tools: [
          { name: 'finish', description: 'Report the result.', inputSchema: FINISH_TOOL.inputSchema },
          { name: 'read_file', description: 'Read a file.', inputSchema: READ_TOOL.inputSchema },
        ],
        toolMode: 1,
      });
      assert.equal(toChatTools(stubApi, { ...both, toolChoice: { type: 'required' } }).toolMode, 2);
      assert.deepEqual(toChatTools(stubApi, { ...both, toolChoice: { type: 'none' } }), {});
      const forced = toChatTools(stubApi, { ...both, toolChoice: { type: 'tool', toolName: 'finish' } });
      assert.deepEqual([forced.tools?.map((t) => t.name), forced.toolMode], [['finish'], 2]);
      const warnings: unknown[] = [];
      toChatTools(stubApi, { tools: [{ type: 'provider', id: 'openai.web_search', name: 'web', args: {} }] }, warnings as never);
      assert.equal(warnings.length, 1, 'a provider tool is reported as unsupported');
    });
  });

  describe('requests and streaming', () => {
    it('sends messages, tools and a justification, and streams text then tool calls with estimated usage', async () => {
      const chat = new FakeChat({ parts: [new TextPart('Calling '), new TextPart('finish.'), new ToolCallPart('call-9', 'finish', { summary: 'done' })] });
      const model = new VscodeLmChatModel(stubApi, chat.asChat());
      const { stream } = await model.doStream(callOptions([{ role: 'system', content: 'Be brief.' }, ...USER_ONLY], { tools: [FINISH_TOOL] }));
      const parts = await drain(stream);
      assert.deepEqual(
        parts.map((part) => part.type),
        ['stream-start', 'response-metadata', 'text-start', 'text-delta', 'text-delta', 'text-end', 'tool-call', 'finish'],
      );
      const call = parts.find((part) => part.type === 'tool-call');
      assert.deepEqual(call, { type: 'tool-call', toolCallId: 'call-9', toolName: 'finish', input: '{"summary":"done"}' });
      const finish = parts.at(-1) as Extract<LanguageModelV4StreamPart, { type: 'finish' }>;
      assert.equal(finish.finishReason.unified, 'tool-calls');
      // FakeChat counts words: "Be brief." (2) + "say hi" (2) + the tools' JSON (3: its description has spaces);
      // output "Calling finish." + finish{"summary":"done"} (2).
      assert.equal(finish.usage.inputTokens.total, 7);
      assert.equal(finish.usage.outputTokens.total, 2);
      assert.deepEqual(finish.usage.raw, { estimated: true, source: 'countTokens' }, 'usage is marked as an estimate');
      const [request] = chat.requests;
      assert.equal(request!.options?.justification, LM_JUSTIFICATION);
      assert.deepEqual(request!.options?.tools?.map((t) => t.name), ['finish']);
      assert.equal(request!.messages.length, 2);
    });

    it('falls back to characters / 4 when the model cannot count tokens', async () => {
      const chat = new FakeChat({ parts: [new TextPart('12345678')] });
      chat.countFails = true;
      const result = await new VscodeLmChatModel(stubApi, chat.asChat()).doGenerate(callOptions(USER_ONLY));
      assert.deepEqual(result.content, [{ type: 'text', text: '12345678' }]);
      assert.equal(result.finishReason.unified, 'stop');
      assert.equal(result.usage.inputTokens.total, Math.ceil('say hi'.length / 4));
      assert.equal(result.usage.outputTokens.total, 2);
    });

    it('runs a whole ai SDK tool loop: the tool result goes back as a LanguageModelToolResultPart', async () => {
      const chat = new FakeChat(
        { parts: [new ToolCallPart('c-1', 'read_file', { path: 'a.txt' })] },
        { parts: [new TextPart('The file says hello.')] },
      );
      const result = await generateText({
        model: new VscodeLmChatModel(stubApi, chat.asChat()),
        system: 'You read files.',
        prompt: 'What does a.txt say?',
        tools: {
          read_file: tool({
            description: 'Read a file.',
            inputSchema: jsonSchema<{ path: string }>({ type: 'object', properties: { path: { type: 'string' } }, required: ['path'] }),
            execute: async ({ path }) => `contents of ${path}: hello`,
          }),
        },
        stopWhen: stepCountIs(3),
        maxRetries: 0,
      });
      assert.equal(result.text, 'The file says hello.');
      assert.equal(chat.requests.length, 2);
      const second = chat.requests[1]!.messages;
      assert.deepEqual(second.map((message) => message.role), [1, 1, 2, 1]);
      assert.deepEqual(second[2]!.content, [new ToolCallPart('c-1', 'read_file', { path: 'a.txt' })]);
      assert.deepEqual(second[3]!.content, [new ToolResultPart('c-1', [new TextPart('contents of a.txt: hello')])]);
      assert.ok(result.totalUsage.inputTokens! > 0, 'usage reaches the SDK');
    });
  });

  describe('abort', () => {
    it('cancels the request token when the caller aborts mid-stream, and ends with the abort reason', async () => {
      const chat = new FakeChat({ hang: true });
      const controller = new AbortController();
      const { stream } = await new VscodeLmChatModel(stubApi, chat.asChat()).doStream(callOptions(USER_ONLY, { abortSignal: controller.signal }));
      const reason = new Error('run cancelled');
      setTimeout(() => controller.abort(reason), 20);
      const parts = await drain(stream);
      assert.equal(chat.requests[0]!.token?.isCancellationRequested, true, 'the CancellationToken was cancelled');
      const last = parts.at(-1);
      assert.equal(last?.type, 'error');
      assert.equal((last as { error: unknown }).error, reason, 'the error is the caller abort reason, so the router never falls over on it');
    });

    it('cancels the request when the reader cancels the stream (breaking out of the loop)', async () => {
      const chat = new FakeChat({ parts: [new TextPart('a'), new TextPart('b'), new TextPart('c')], delayMs: 20 });
      const { stream } = await new VscodeLmChatModel(stubApi, chat.asChat()).doStream(callOptions(USER_ONLY));
      const reader = stream.getReader();
      let part = await reader.read();
      while (!part.done && part.value.type !== 'text-delta') part = await reader.read();
      await reader.cancel();
      assert.equal(chat.requests[0]!.token?.isCancellationRequested, true);
      await new Promise((resolve) => setTimeout(resolve, 60));
    });

    it('refuses to start when the signal is already aborted, and generate rejects with the reason', async () => {
      const chat = new FakeChat({ parts: [new TextPart('x')] });
      const controller = new AbortController();
      controller.abort(new Error('stop'));
      const error = await rejection(new VscodeLmChatModel(stubApi, chat.asChat()).doGenerate(callOptions(USER_ONLY, { abortSignal: controller.signal })));
      assert.equal((error as Error).message, 'stop');
      assert.equal(chat.requests.length, 0);
    });
  });

  describe('errors', () => {
    const chat = new FakeChat();

    it('explains NoPermissions: who has not allowed what, and how VS Code can ask', () => {
      const error = explainLmError(stubApi, LmError.NoPermissions('denied'), chat.asChat());
      assert.ok(APICallError.isInstance(error));
      assert.equal(error.statusCode, 403);
      assert.match(error.message, /has not allowed Software Maker to use "Fake Model" \(fake\/fake-family/);
      assert.match(error.message, /run a goal from a command/i);
    });

    it('maps NotFound to 404 and Blocked (quota) to a retryable 429', () => {
      const gone = explainLmError(stubApi, LmError.NotFound(), chat.asChat()) as APICallError;
      assert.equal(gone.statusCode, 404);
      assert.match(gone.message, /no longer has the chat model .*Configure Models/);
      const blocked = explainLmError(stubApi, LmError.Blocked('quota'), chat.asChat()) as APICallError;
      assert.equal(blocked.statusCode, 429);
      assert.equal(blocked.isRetryable, true);
      assert.match(blocked.message, /quota or rate limit/);
    });

    it('recognises a LanguageModelError that crossed the extension-host boundary by name and code', () => {
      const serialized = Object.assign(new Error('nope'), { name: 'LanguageModelError', code: 'NoPermissions' });
      assert.equal((explainLmError(stubApi, serialized, chat.asChat()) as APICallError).statusCode, 403);
    });

    it('rejects doStream when sendRequest is refused, and streams an error part when the answer breaks', async () => {
      const refused = new FakeChat({ reject: LmError.NoPermissions() });
      const error = await rejection(new VscodeLmChatModel(stubApi, refused.asChat()).doStream(callOptions(USER_ONLY)));
      assert.match((error as Error).message, /has not allowed Software Maker/);
      const broken = new FakeChat({ parts: [new TextPart('partial'), { error: LmError.Blocked() }] });
      const parts = await drain((await new VscodeLmChatModel(stubApi, broken.asChat()).doStream(callOptions(USER_ONLY))).stream);
      const last = parts.at(-1) as { type: string; error: APICallError };
      assert.equal(last.type, 'error');
      assert.equal(last.error.statusCode, 429);
    });

    it('lets the router fall over from a blocked chat model to the next model of the chain', async () => {
      const blocked = new FakeChat({ reject: LmError.Blocked('quota') });
      const backup = new FakeChat({ parts: [new TextPart('from the backup')] });
      const records: CallRecord[] = [];
      const routed = new RoutedModel({
        chain: [
          { id: 'copilot', provider: 'vscode-lm', model: new VscodeLmChatModel(stubApi, blocked.asChat()) },
          { id: 'other', provider: 'vscode-lm', model: new VscodeLmChatModel(stubApi, backup.asChat()) },
        ],
        breakers: new CircuitBreakers(),
        onCall: (record) => records.push(record),
      });
      const result = await generateText({ model: routed, prompt: 'hi', maxRetries: 0 });
      assert.equal(result.text, 'from the backup');
      assert.deepEqual(records.map((record) => [record.modelId, record.outcome]), [['copilot', 'error'], ['other', 'ok']]);
      assert.equal(records[0]!.usd, undefined, 'vscode-lm calls have no price: unknown cost, not $0');
    });
  });

  describe('in a streamed agent turn', () => {
    it('a chat model that never answers is abandoned at the first-token timeout, the next model answers, and its text streams to the turn', async () => {
      const hung = new FakeChat({ hang: true });
      const backup = new FakeChat({ parts: [new TextPart('Reading '), new TextPart('done.'), new ToolCallPart('c-1', 'finish', { summary: 'ok' })] });
      const records: CallRecord[] = [];
      const routed = new RoutedModel({
        chain: [
          { id: 'copilot', provider: 'vscode-lm', model: new VscodeLmChatModel(stubApi, hung.asChat()) },
          { id: 'other', provider: 'vscode-lm', model: new VscodeLmChatModel(stubApi, backup.asChat()) },
        ],
        breakers: new CircuitBreakers(),
        timeouts: { firstTokenMs: 300, totalMs: 10_000 },
        onCall: (record) => records.push(record),
      });
      const deltas: string[] = [];
      const started = Date.now();
      const result = await runAgentTurn({
        role: 'implementer',
        stepId: 't1:implement@v1',
        model: routed,
        system: 'You implement.',
        prompt: 'Do it.',
        tools: { finish: tool({ description: 'Report.', inputSchema: jsonSchema<{ summary: string }>({ type: 'object', properties: { summary: { type: 'string' } }, required: ['summary'] }), execute: async () => 'accepted' }) },
        maxSteps: 3,
        loopThreshold: 3,
        signal: new AbortController().signal,
        emit: () => undefined,
        onTextDelta: (delta) => deltas.push(delta),
      });
      assert.ok(Date.now() - started < 5000, 'fell over at the first-token timeout');
      assert.deepEqual(result.output, { summary: 'ok' });
      assert.deepEqual(deltas, ['Reading ', 'done.']);
      assert.deepEqual(records.map((record) => [record.modelId, record.outcome]), [['copilot', 'error'], ['other', 'ok']]);
      assert.match(records[0]!.error!, /first-token timeout/);
      assert.equal(hung.requests[0]!.token?.isCancellationRequested, true, 'the abandoned request was cancelled');
    });
  });

  describe('model selection (hostModels)', () => {
    const models = [new FakeChat().asChat()];
    const lm: LmNamespace = {
      selectChatModels: async (selector) =>
        models.filter((model) => (!selector?.vendor || selector.vendor === model.vendor) && (!selector?.family || selector.family === model.family) && (!selector?.id || selector.id === model.id)),
    };

    it('selects by vendor, family and id (the spec`s model)', async () => {
      const chosen = await selectChatModel(lm, { id: 'c', provider: 'vscode-lm', vendor: 'fake', model: 'fake-model-1' });
      assert.equal(chosen.id, 'fake-model-1');
      const adapter = await createHostModels(stubApi, lm)({ id: 'c', provider: 'vscode-lm', family: 'fake-family' });
      assert.equal(adapter.modelId, 'fake-model-1');
      assert.equal(adapter.provider, 'vscode-lm');
    });

    it('names the chat models VS Code has when none matches', async () => {
      const error = await rejection(selectChatModel(lm, { id: 'copilot', provider: 'vscode-lm', vendor: 'copilot', family: 'gpt-4o' }));
      assert.ok(error instanceof ModelConfigError);
      assert.match(error.message, /Model "copilot" asks VS Code for a chat model with vendor "copilot", family "gpt-4o", and none matches/);
      assert.match(error.message, /VS Code has: fake\/fake-family \(id "fake-model-1", Fake Model\)/);
      const empty = await rejection(selectChatModel({ selectChatModels: async () => [] }, { id: 'x', provider: 'vscode-lm' }));
      assert.match((empty as Error).message, /no chat models at all: install and sign in/);
    });
  });
});
