import { strict as assert } from 'node:assert';
import type { Snapshot } from '../../src/shared/protocol';
import { foldEvents, summarizeRun } from '../../src/shared/runState';
import { layoutDag, quickLayout, tilesOf, type DagLayout } from '../../webview/dagLayout';
import { Store } from '../../webview/store';
import { fiveTaskRun } from './fixtures/webviewRun';

function overlaps(layout: DagLayout): boolean {
  return layout.nodes.some((a, i) => layout.nodes.some((b, j) => i < j && a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height));
}

describe('webview first render', function () {
  this.timeout(30_000);

  it('draws the plan with a linear layout first: ranks left to right, no overlaps, edges between the right nodes', () => {
    const tasks = Array.from({ length: 200 }, (_, i) => ({ id: `t${i}`, dependsOn: i < 10 ? [] : i % 3 ? [`t${i - 10}`] : [`t${i - 10}`, `t${i - 7}`] }));
    const quick = quickLayout(tasks);
    const full = layoutDag(tasks);
    assert.equal(quick.nodes.length, 200);
    assert.ok(!overlaps(quick), 'no two nodes overlap');
    assert.deepEqual(quick.nodes.map((node) => node.rank), full.nodes.map((node) => node.rank), 'the same ranks as the dagre layout');
    for (const node of quick.nodes) {
      assert.ok(node.x >= 0 && node.y >= 0 && node.x + node.width <= quick.width && node.y + node.height <= quick.height, `${node.id} inside the box`);
    }
    const byId = new Map(quick.nodes.map((node) => [node.id, node]));
    assert.equal(quick.edges.length, full.edges.length);
    for (const edge of quick.edges) {
      const from = byId.get(edge.from)!;
      const to = byId.get(edge.to)!;
      assert.ok(from.rank < to.rank, `${edge.from} -> ${edge.to} goes right`);
      assert.deepEqual(edge.points, [{ x: from.x + from.width, y: from.y + from.height / 2 }, { x: to.x, y: to.y + to.height / 2 }]);
    }
    assert.deepEqual(quickLayout([]), { nodes: [], edges: [], width: 0, height: 0 });
  });

  it("cuts a large plan into column tiles that hold every node whole and cover the plan's width", () => {
    const tasks = Array.from({ length: 200 }, (_, i) => ({ id: `t${i}`, dependsOn: i < 10 ? [] : [`t${i - 10}`] }));
    const layout = quickLayout(tasks);
    const tiles = tilesOf(layout);
    assert.ok(tiles.length > 3, `${tiles.length} tiles`);
    assert.deepEqual(tiles.flatMap((tile) => tile.nodes.map((node) => node.id)).sort(), layout.nodes.map((node) => node.id).sort());
    assert.equal(tiles[0]!.left, 0);
    assert.equal(tiles.at(-1)!.right, layout.width);
    for (const [i, tile] of tiles.entries()) {
      if (i > 0) assert.equal(tile.left, tiles[i - 1]!.right, 'tiles meet');
      if (i < tiles.length - 1) assert.ok(tile.right - tile.left >= 700, `tile ${i} is ${tile.right - tile.left} wide`);
      for (const node of tile.nodes) assert.ok(node.x > tile.left && node.x + node.width < tile.right, `${node.id} is inside tile ${i}, off its edges`);
    }
    assert.deepEqual(tilesOf(quickLayout([])), []);
  });

  it('folds each live event as it arrives and tells the views once per frame', () => {
    const events = fiveTaskRun('run-1', 400);
    const frames: (() => void)[] = [];
    const store = new Store({ frame: (flush) => frames.push(flush) });
    const first = events.slice(0, 100);
    const snapshot: Snapshot = { runs: [summarizeRun(foldEvents(first)!)], activeRunId: 'run-1', activeLog: first, canStartGoals: true };
    store.loadSnapshot(snapshot);
    let notified = 0;
    store.subscribe(() => notified++);
    for (const event of events.slice(100, 350)) store.receiveEvent('run-1', event);
    assert.equal(store.state.run?.lastSeq, 350, 'folded at once: the state is always the fold of what arrived');
    assert.equal(store.state.events.length, 350);
    assert.equal(notified, 0, 'no render per event');
    assert.equal(frames.length, 1, 'one frame asked for the whole burst');
    frames.shift()!();
    assert.equal(notified, 1);
    for (const event of events.slice(350)) store.receiveEvent('run-1', event);
    assert.equal(frames.length, 1);
    frames.shift()!();
    assert.equal(notified, 2);
    assert.deepEqual(store.state.run, foldEvents(events));
  });
});
