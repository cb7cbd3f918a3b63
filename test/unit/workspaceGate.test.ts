import { strict as assert } from 'node:assert';
import { createWorkspaceGate } from '../../src/core/run/context';

/** A piece of work that records when it starts and ends when the test says so. */
function step(log: string[], name: string): { work: () => Promise<string>; finish: () => void; fail: (error: Error) => void } {
  let finish!: () => void;
  let fail!: (error: Error) => void;
  const done = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  return {
    work: async () => {
      log.push(`start ${name}`);
      await done;
      log.push(`end ${name}`);
      return name;
    },
    finish: () => finish(),
    fail: (error) => fail(error),
  };
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('the workspace gate (test runs, landings)', () => {
  it('runs shared work together, and exclusive work alone', async () => {
    const gate = createWorkspaceGate();
    const log: string[] = [];
    const [a, b, land, c] = ['a', 'b', 'land', 'c'].map((name) => step(log, name));
    const results = [gate.shared(a!.work), gate.shared(b!.work), gate.exclusive(land!.work), gate.shared(c!.work)];
    await settle();
    assert.deepEqual(log, ['start a', 'start b'], 'two test gates at once; the landing waits for both');
    a!.finish();
    await settle();
    assert.deepEqual(log.slice(2), ['end a'], 'the landing still waits for b');
    b!.finish();
    await settle();
    assert.deepEqual(log.slice(3), ['end b', 'start land'], 'c, asked after the landing, does not overtake it');
    land!.finish();
    await settle();
    assert.deepEqual(log.slice(5), ['end land', 'start c']);
    c!.finish();
    assert.deepEqual(await Promise.all(results), ['a', 'b', 'land', 'c']);
  });

  it('runs exclusive work in the order it was asked for, and a failure releases the gate', async () => {
    const gate = createWorkspaceGate();
    const log: string[] = [];
    const [x, y, z] = ['x', 'y', 'z'].map((name) => step(log, name));
    const first = gate.exclusive(x!.work);
    const second = gate.exclusive(y!.work);
    const third = gate.shared(z!.work);
    await settle();
    assert.deepEqual(log, ['start x']);
    x!.fail(new Error('broken'));
    await assert.rejects(first, /broken/);
    await settle();
    assert.deepEqual(log, ['start x', 'start y']);
    y!.finish();
    z!.finish();
    assert.equal(await second, 'y');
    assert.equal(await third, 'z');
    assert.deepEqual(log, ['start x', 'start y', 'end y', 'start z', 'end z']);
  });

  it('lets one whole-file landing go on beside test gates, but never two landings, nor beside exclusive work', async () => {
    const gate = createWorkspaceGate();
    const log: string[] = [];
    const [test1, land1, land2, test2, whole] = ['test1', 'land1', 'land2', 'test2', 'whole'].map((name) => step(log, name));
    const results = [gate.shared(test1!.work), gate.landing(land1!.work), gate.landing(land2!.work), gate.shared(test2!.work), gate.exclusive(whole!.work)];
    await settle();
    assert.deepEqual(log, ['start test1', 'start land1', 'start test2'], 'land2 waits for land1; test2 joins (it holds up nothing ahead of it)');
    land1!.finish();
    await settle();
    assert.deepEqual(log.slice(3), ['end land1', 'start land2']);
    test1!.finish();
    test2!.finish();
    await settle();
    assert.ok(!log.includes('start whole'), 'the exclusive work waits for the landing still running');
    land2!.finish();
    await settle();
    assert.equal(log.at(-1), 'start whole');
    whole!.finish();
    assert.deepEqual(await Promise.all(results), ['test1', 'land1', 'land2', 'test2', 'whole']);
  });

  it('a piece of work that throws before its first await still releases the gate', async () => {
    const gate = createWorkspaceGate();
    await assert.rejects(
      gate.exclusive(() => {
        throw new Error('at once');
      }),
      /at once/,
    );
    assert.equal(await gate.shared(async () => 'next'), 'next');
  });
});
