// Attacks by the model's endpoint: connections cut mid-response, streams that stall or drip, a model
// that always writes at length against a token cap with parallel tasks, and a 50 MB tool argument.
// Every run goes through the real provider packages against the local wire-format servers.
import { strict as assert } from 'node:assert';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { resolveRunConfig } from '../../src/core/config';
import type { EngineEvent } from '../../src/shared/events';
import type { ModelSpec, RunConfig } from '../../src/shared/model';
import { startFakeOpenAI, type FakeReply, type FakeServer } from '../support/fakeProviders';
import { calculatorWorkspace, makeEngine, ofType } from '../unit/helpers';

const GOAL = 'Fix the failing calculator tests';
const KEY = 'sk-test-adversarial-models-000000000000';
const call = (name: string, input: Record<string, unknown>): FakeReply => ({ kind: 'answer', toolCalls: [{ name, input }] });
const task = (id: string, files: string[]) => ({ id, title: `Task ${id}`, description: 'Do it.', role: 'implementer', dependsOn: [], acceptance: ['it works'], files });
const PLAN = call('finish', { summary: 'Fix add().', tasks: [task('t1', ['src/calc.js'])] });
/** A plan whose scope lets the task create src/huge.js, so the tool refuses it for its size alone. */
const HUGE_PLAN = call('finish', { summary: 'Fix add().', tasks: [task('t1', ['src/calc.js', 'src/huge.js'])] });
const FIX = call('propose_edit', { path: 'src/calc.js', hunks: [{ search: 'return a - b;', replace: 'return a + b;' }] });
const FINISH = call('finish', { summary: 'add adds' });
const APPROVE = call('finish', { approved: true, summary: 'good', issues: [] });
/** The four model answers of a one-task run: plan, edit, finish, review. */
const RUN_REPLIES: FakeReply[] = [PLAN, FIX, FINISH, APPROVE];

function spec(id: string, server: FakeServer, extra: Partial<ModelSpec> = {}): ModelSpec {
  return { id, provider: 'openai-compatible', model: `${id}-model`, baseURL: server.url, apiKeyName: 'FAKE_KEY', ...extra } as ModelSpec;
}

function config(models: ModelSpec[], overrides: Partial<RunConfig> = {}): RunConfig {
  const chain = models.map((model) => model.id);
  return resolveRunConfig({ models, roles: { planner: chain, implementer: chain, reviewer: chain, fixer: chain }, autoApprove: true, ...overrides });
}

/** Every file under `dir` with its size. */
async function sizesUnder(dir: string): Promise<{ path: string; size: number }[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return Promise.all(entries.filter((entry) => entry.isFile()).map(async (entry) => {
    const path = join(entry.parentPath, entry.name);
    return { path, size: (await stat(path)).size };
  }));
}

function failures(events: EngineEvent[]): string {
  return ofType(events, 'llm.call').filter((e) => e.outcome !== 'ok').map((e) => `${e.model}: ${e.error}`).join('\n');
}

describe('attacks by the model endpoint', function () {
  this.timeout(120_000);
  const servers: FakeServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });
  async function server(...replies: FakeReply[]): Promise<FakeServer> {
    const started = await startFakeOpenAI(...replies);
    servers.push(started);
    return started;
  }
  const secret = async (name: string): Promise<string | undefined> => (name === 'FAKE_KEY' ? KEY : undefined);

  it('the connection is cut mid-response (after a 200, half the body): the next model of the chain answers and the run goes on', async () => {
    const cutter = await server();
    cutter.setFallbackReply({ kind: 'cut', when: 'mid-body' });
    const backup = await server(...RUN_REPLIES);
    const ws = await calculatorWorkspace();
    const { engine, events } = await makeEngine(ws, { secret });
    const final = await (await engine.startRun(GOAL, config([spec('cutter', cutter), spec('backup', backup)]))).finished;
    assert.equal(final.status, 'completed', `${final.statusReason}\n${failures(events)}`);
    const cut = ofType(events, 'llm.call').filter((e) => e.model === 'cutter');
    assert.ok(cut.length >= 1 && cut.every((e) => e.outcome === 'error' && /connection cut mid-response/.test(e.error ?? '')), failures(events));
    assert.ok(ofType(events, 'model.fallback').some((e) => e.from === 'cutter' && e.to === 'backup'));
    // Cuts count against the endpoint like any outage: its breaker opened, and it was skipped after.
    assert.ok(ofType(events, 'breaker.changed').some((e) => e.state === 'open' && e.key.includes(cutter.url)), 'the breaker counted the cuts');
    assert.ok(cutter.requests.length <= 3, `the cut endpoint was skipped once its breaker opened (${cutter.requests.length} requests)`);
  });

  it('a 200 whose body is a proxy\'s HTML page, asked for a stream: the next model of the chain answers', async () => {
    const proxy = await server();
    proxy.setFallbackReply({ kind: 'malformed', html: true });
    const backup = await server(...RUN_REPLIES);
    const ws = await calculatorWorkspace();
    const { engine, events } = await makeEngine(ws, { secret });
    const final = await (await engine.startRun(GOAL, config([spec('proxy', proxy), spec('backup', backup)]))).finished;
    assert.equal(final.status, 'completed', `${final.statusReason}\n${failures(events)}`);
    assert.ok(ofType(events, 'llm.call').filter((e) => e.model === 'proxy').every((e) => e.outcome === 'error'));
  });

  it('a stream that stalls after its headers: the first-token timeout falls over within about firstTokenMs, not after the total timeout', async () => {
    const staller = await server();
    staller.setFallbackReply({ kind: 'stall' });
    const backup = await server(...RUN_REPLIES);
    const ws = await calculatorWorkspace();
    const { engine, events } = await makeEngine(ws, { secret });
    const started = Date.now();
    const final = await (await engine.startRun(GOAL, config([spec('staller', staller), spec('backup', backup)], { timeouts: { firstTokenMs: 1000, totalMs: 10 * 60_000 } }))).finished;
    assert.equal(final.status, 'completed', `${final.statusReason}\n${failures(events)}`);
    const stalled = ofType(events, 'llm.call').filter((e) => e.model === 'staller');
    assert.ok(stalled.length >= 1);
    for (const attempt of stalled) {
      assert.match(attempt.error ?? '', /no output within 1000 ms \(first-token timeout\)/);
      assert.ok(attempt.latencyMs < 20_000, `gave up after ${attempt.latencyMs} ms`);
    }
    assert.ok(Date.now() - started < 90_000);
  });

  it('a stream that drips output slower than the total timeout allows: aborted at totalMs, and no other model is spliced into the answer', async () => {
    // The implementer's first answer drips for 60 s; everything else answers at once.
    const dripper = await server(PLAN, { kind: 'drip', pieces: 300, everyMs: 200 }, FIX, FINISH, APPROVE);
    const backup = await server();
    const ws = await calculatorWorkspace();
    const { engine, events } = await makeEngine(ws, { secret });
    const final = await (await engine.startRun(GOAL, config([spec('dripper', dripper), spec('backup', backup)], { timeouts: { firstTokenMs: 5000, totalMs: 2000 } }))).finished;
    assert.equal(final.status, 'completed', `${final.statusReason}\n${failures(events)}`);
    const dripped = ofType(events, 'llm.call').find((e) => e.outcome === 'error');
    assert.ok(dripped, 'the dripping call failed');
    assert.match(dripped.error ?? '', /longer than 2000 ms \(total timeout\)/);
    assert.ok(dripped.latencyMs < 20_000, `aborted after ${dripped.latencyMs} ms`);
    // Output had reached the agent: the step failed saying so, and the task's next attempt went on.
    const step = ofType(events, 'step.finished').find((e) => !e.ok);
    assert.match(step?.summary ?? '', /broke off its answer after output had started: the call took longer than 2000 ms \(total timeout\)/);
    assert.equal(backup.requests.length, 0, 'no other model was asked to continue a half-streamed answer');
  });

  it('three parallel tasks against a model that always writes at length: the spend stays within one call of the token cap', async () => {
    const cap = 50_000;
    const files = ['src/a.js', 'src/b.js', 'src/c.js'];
    const writer = await server(call('finish', { summary: 'Three parts.', tasks: files.map((file, index) => task(`t${index + 1}`, [file])) }));
    // 30,000 tokens of prose per answer unless the request limits its output; usage is honest.
    writer.setFallbackReply({ kind: 'long', outputTokens: 30_000 });
    const ws = await calculatorWorkspace();
    const { engine, events } = await makeEngine(ws, { secret });
    const final = await (await engine.startRun(GOAL, config([spec('writer', writer)], { concurrency: 3, maxFixAttempts: 20, budgets: { run: { tokens: cap }, onExceed: 'pause' } }))).finished;
    assert.equal(final.status, 'paused', final.statusReason);
    assert.equal(ofType(events, 'budget.exceeded').length, 1, 'the cap was reached');
    const calls = ofType(events, 'llm.call');
    const largest = Math.max(...calls.map((e) => e.inputTokens + e.outputTokens));
    const spent = final.usage.inputTokens + final.usage.outputTokens;
    assert.ok(spent <= cap + largest, `spent ${spent} tokens against a cap of ${cap} (largest call ${largest})`);
    assert.ok(writer.requests.every((request) => typeof request.body.max_tokens === 'number'), 'every call carried an output limit');
    assert.ok(calls.every((e) => e.outputTokens <= 4096), 'no call wrote past the limit it was sent');
    assert.ok(new Set(calls.filter((e) => e.role !== 'planner').map((e) => e.taskId)).size === 3, 'the three tasks ran');
  });

  it('a server that ignores the output limit and streams a 50 MB tool argument: cut off at the limit, nothing huge is stored, logged or re-sent', async () => {
    const huge = 'x'.repeat(50 * 1024 * 1024);
    const hostile = await server(HUGE_PLAN, call('propose_edit', { path: 'src/huge.js', content: huge }), FIX, FINISH, APPROVE);
    const ws = await calculatorWorkspace();
    const { engine, events, runsDir } = await makeEngine(ws, { secret });
    const final = await (await engine.startRun(GOAL, config([spec('hostile', hostile)]))).finished;
    assert.equal(final.status, 'completed', `${final.statusReason}\n${failures(events)}`);
    assert.match(failures(events), /more than its output limit of 4096 tokens can hold/);
    const after = hostile.requests.slice(2);
    assert.ok(after.length >= 1 && after.every((request) => request.size < 1_000_000), `requests after the huge answer: ${after.map((r) => r.size).join(', ')} characters`);
    const big = (await sizesUnder(runsDir)).filter((file) => file.size > 1_000_000);
    assert.deepEqual(big, [], 'no file of the run holds the argument');
  });

  it('a 50 MB tool argument within the model\'s output limit: refused by the tool, neither kept whole in the step record nor re-sent with the next step', async () => {
    const huge = 'x'.repeat(50 * 1024 * 1024);
    const hostile = await server(HUGE_PLAN, call('propose_edit', { path: 'src/huge.js', content: huge }), FIX, FINISH, APPROVE);
    const ws = await calculatorWorkspace();
    const { engine, events, runsDir } = await makeEngine(ws, { secret });
    // A spec that allows an enormous answer: the limit does not stop the argument, the tool does.
    const final = await (await engine.startRun(GOAL, config([spec('hostile', hostile, { maxOutputTokens: 20_000_000 })]))).finished;
    assert.equal(final.status, 'completed', `${final.statusReason}\n${failures(events)}`);
    const refused = ofType(events, 'tool.result').find((e) => e.tool === 'propose_edit' && !e.ok);
    assert.match(refused?.output ?? '', /over the 1000000-byte limit/);
    // The implementer's next step (same turn) carries the call and its refusal, but not the 50 MB.
    const next = hostile.requests[2]!;
    assert.ok(next.size < 200_000, `the next request was ${next.size} characters`);
    assert.match(JSON.stringify(next.body.messages), /was too large to send again/);
    const record = JSON.parse(await readFile(join(runsDir, final.id, 'steps', 't1.implement@v1.json'), 'utf8')) as { result: { toolCalls: { tool: string; input: { omitted?: string } }[] } };
    assert.match(record.result.toolCalls[0]!.input.omitted ?? '', /too large to keep/);
    const big = (await sizesUnder(runsDir)).filter((file) => file.size > 1_000_000);
    assert.deepEqual(big, [], 'no file of the run holds the argument');
  });
});
