import { strict as assert } from 'node:assert';
import { appendFile, readFile, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { EVENTS_FILE, EventLog, EventLogError, liveLockHolder, LOCK_FILE, readLog, RunLock, RunLockedError } from '../../src/core/log/eventLog';
import { redactText } from '../../src/core/log/redact';
import { DEFAULT_RUN_CONFIG } from '../../src/core/config';
import { systemClock } from '../../src/core/ports';
import { foldEvents } from '../../src/shared/runState';
import { tempDir } from './helpers';

describe('event log', () => {
  it('numbers events from 1 and reads back what it wrote', async () => {
    const dir = await tempDir();
    const log = EventLog.openForAppend(dir, 'run1', { events: [], validBytes: 0 }, systemClock);
    const first = log.append({ type: 'run.created', goal: 'g', workspace: dir, config: DEFAULT_RUN_CONFIG });
    const second = log.append({ type: 'run.status', status: 'planning' });
    await log.close();
    assert.equal(first.seq, 1);
    assert.equal(second.seq, 2);
    assert.equal(second.runId, 'run1');
    const loaded = await readLog(dir);
    assert.deepEqual(loaded.events, [first, second]);
    assert.equal(loaded.tornLine, undefined);
    assert.equal(foldEvents(loaded.events)!.status, 'planning');
  });

  it('drops a torn last line with a report, and appends after it on a fresh line', async () => {
    const dir = await tempDir();
    const log = EventLog.openForAppend(dir, 'r', { events: [], validBytes: 0 }, systemClock);
    log.append({ type: 'run.created', goal: 'g', workspace: dir, config: DEFAULT_RUN_CONFIG });
    await log.close();
    await appendFile(join(dir, EVENTS_FILE), '{"type":"run.status","seq":2,"at":"20');
    const loaded = await readLog(dir);
    assert.equal(loaded.events.length, 1);
    assert.deepEqual(loaded.tornLine, { lineNumber: 2, bytes: 37 });
    const again = EventLog.openForAppend(dir, 'r', loaded, systemClock);
    const next = again.append({ type: 'run.status', status: 'planning' });
    await again.close();
    assert.equal(next.seq, 2);
    const reloaded = await readLog(dir);
    assert.equal(reloaded.events.length, 2, 'the torn fragment stays dropped and the new event is readable');
    assert.equal(reloaded.events[1]!.type, 'run.status');
    assert.equal(reloaded.tornLine, undefined);
    assert.equal(await readFile(join(dir, `${EVENTS_FILE}.torn`), 'utf8'), '{"type":"run.status","seq":2,"at":"20', 'the fragment is kept, not lost');
  });

  it('refuses a log whose corruption is not at the end', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, EVENTS_FILE), '{"seq":1}\nnot json\n{"seq":3}\n');
    await assert.rejects(readLog(dir), EventLogError);
  });

  it('redacts anything shaped like an API key before it is written', async () => {
    const dir = await tempDir();
    const log = EventLog.openForAppend(dir, 'r', { events: [], validBytes: 0 }, systemClock);
    log.append({ type: 'run.created', goal: 'g', workspace: dir, config: DEFAULT_RUN_CONFIG });
    log.append({ type: 'log', level: 'error', message: 'auth failed for sk-proj-abcdefghijklmnopqrstuvwx and Bearer abcdefghijklmnopqrstuvwxyz0123' });
    await log.close();
    const raw = await readFile(join(dir, EVENTS_FILE), 'utf8');
    assert.ok(!raw.includes('sk-proj-abcdefghijklmnopqrstuvwx'));
    assert.ok(!raw.includes('abcdefghijklmnopqrstuvwxyz0123'));
    assert.equal(redactText('key sk-ant-api03-AAAAAAAAAAAAAAAAAAAAAAAA end'), 'key [redacted] end');
  });
});

describe('run lock', () => {
  it('lets one holder in and names it to the second', async () => {
    const dir = await tempDir();
    const lock = await RunLock.acquire(dir);
    // The same process asking again is a second writer too.
    await assert.rejects(RunLock.acquire(dir), RunLockedError);
    await lock.release();
    const again = await RunLock.acquire(dir);
    await again.release();
  });

  it('takes over a lock whose process has died', async () => {
    const dir = await tempDir();
    const child = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
    const deadPid = Number(child.stdout.trim());
    const { hostname } = await import('node:os');
    await writeFile(join(dir, LOCK_FILE), JSON.stringify({ pid: deadPid, host: hostname(), since: 'earlier' }));
    const lock = await RunLock.acquire(dir);
    await lock.release();
  });

  it('does not take over a lock held by a live process', async () => {
    const dir = await tempDir();
    const { hostname } = await import('node:os');
    await writeFile(join(dir, LOCK_FILE), JSON.stringify({ pid: process.ppid, host: hostname(), since: 'now' }));
    await assert.rejects(RunLock.acquire(dir), /being driven by another process/);
  });

  it('takes over a lock whose pid now belongs to an unrelated process (the start time differs)', async () => {
    const dir = await tempDir();
    // The parent process is alive, but it is not the process that wrote this lock.
    await writeFile(join(dir, LOCK_FILE), JSON.stringify({ pid: process.ppid, host: hostname(), since: new Date().toISOString(), startTime: '1', token: 'old' }));
    assert.equal(await liveLockHolder(dir), undefined, 'a reused pid is not a live holder');
    const lock = await RunLock.acquire(dir);
    assert.equal(JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8')).pid, process.pid);
    await lock.release();
  });

  it('records pid, host, start time and a token, and a live holder with its start time stays', async () => {
    const dir = await tempDir();
    const lock = await RunLock.acquire(dir);
    const record = JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8')) as Record<string, unknown>;
    assert.equal(record.pid, process.pid);
    assert.equal(record.host, hostname());
    assert.match(String(record.token), /^[0-9a-f]{24}$/);
    if (process.platform === 'linux') assert.match(String(record.startTime), /^\d+$/);
    assert.match((await liveLockHolder(dir)) ?? '', new RegExp(`pid ${process.pid} on `));
    await lock.release();
    assert.equal(await liveLockHolder(dir), undefined);
  });

  it('reports a lock from another host with its host, age and the file to delete, without waiting', async () => {
    const dir = await tempDir();
    const since = new Date(Date.now() - 3 * 3600_000).toISOString();
    await writeFile(join(dir, LOCK_FILE), JSON.stringify({ pid: 4242, host: 'build-box-7', since }));
    const started = Date.now();
    const error = await RunLock.acquire(dir).then(
      () => assert.fail('a lock from another host must not be taken over'),
      (caught: unknown) => caught as RunLockedError,
    );
    assert.ok(Date.now() - started < 2000, 'refused at once');
    assert.ok(error instanceof RunLockedError);
    assert.match(error.message, /build-box-7/);
    assert.match(error.message, /3 h ago/);
    assert.ok(error.message.includes(`delete ${join(dir, LOCK_FILE)}`), error.message);
    assert.match((await liveLockHolder(dir)) ?? '', /build-box-7/);
  });

  it('says how to clear a lock held by a live process', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, LOCK_FILE), JSON.stringify({ pid: process.ppid, host: hostname(), since: new Date().toISOString() }));
    await assert.rejects(RunLock.acquire(dir), (error: Error) => error.message.includes(`delete ${join(dir, LOCK_FILE)}`));
  });

  it('takes over a torn lock left by a crash, but not one being written right now', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, LOCK_FILE), '{"pid":');
    assert.match((await liveLockHolder(dir)) ?? '', /taking the lock/);
    const old = new Date(Date.now() - 60_000);
    await utimes(join(dir, LOCK_FILE), old, old);
    assert.equal(await liveLockHolder(dir), undefined);
    const lock = await RunLock.acquire(dir);
    await lock.release();
  });

  it('a release never deletes a lock another process took over meanwhile', async () => {
    const dir = await tempDir();
    const lock = await RunLock.acquire(dir);
    const other = JSON.stringify({ pid: process.ppid, host: hostname(), since: new Date().toISOString(), token: 'theirs' });
    await writeFile(join(dir, LOCK_FILE), other);
    await lock.release();
    assert.equal(await readFile(join(dir, LOCK_FILE), 'utf8'), other);
  });
});
