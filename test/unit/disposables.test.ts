import { strict as assert } from 'node:assert';
import { DisposableStore } from '../../src/host/disposables';

describe('DisposableStore (host/disposables.ts)', () => {
  const recorder = (): { log: string[]; item: (name: string, fail?: boolean) => { dispose(): void } } => {
    const log: string[] = [];
    return {
      log,
      item: (name, fail) => ({
        dispose: () => {
          log.push(name);
          if (fail) throw new Error(`${name} broke`);
        },
      }),
    };
  };

  it('disposes everything once, the last added first', () => {
    const { log, item } = recorder();
    const store = new DisposableStore();
    store.add(item('emitter'));
    store.add(item('view'), item('listener'));
    store.dispose();
    store.dispose();
    assert.deepEqual(log, ['listener', 'view', 'emitter']);
  });

  it('one that throws does not keep the rest alive; its error comes out after', () => {
    const { log, item } = recorder();
    const store = new DisposableStore();
    store.add(item('a'), item('b', true), item('c'));
    assert.throws(() => store.dispose(), /b broke/);
    assert.deepEqual(log, ['c', 'b', 'a']);
  });

  it('several failures come out as one AggregateError naming each', () => {
    const { log, item } = recorder();
    const store = new DisposableStore();
    store.add(item('a', true), item('b', true));
    assert.throws(
      () => store.dispose(),
      (error: unknown) => error instanceof AggregateError && error.errors.map((each: Error) => each.message).join(', ') === 'b broke, a broke',
    );
    assert.deepEqual(log, ['b', 'a']);
  });

  it('what is added after dispose() is disposed at once, not leaked', () => {
    const { log, item } = recorder();
    const store = new DisposableStore();
    store.dispose();
    store.add(item('late'));
    assert.deepEqual(log, ['late']);
  });
});
