// Plan -> positioned nodes and edges, laid out left to right by dagre. Pure (no DOM) so the
// geometry is tested in Node; the SVG view only draws what this returns.
import { graphlib, layout, type EdgeLabel, type GraphLabel, type NodeLabel } from '@dagrejs/dagre';

/** The part of a plan task the layout needs. */
export interface DagInputTask {
  id: string;
  dependsOn: readonly string[];
}

export interface DagNode {
  id: string;
  /** Top-left corner (dagre reports centres; SVG rects want corners). */
  x: number;
  y: number;
  width: number;
  height: number;
  /** 0 for tasks with no dependencies, then one more per dependency level. */
  rank: number;
}

export interface DagEdge {
  /** The dependency. */
  from: string;
  /** The task that depends on it. */
  to: string;
  points: { x: number; y: number }[];
}

export interface DagLayout {
  nodes: DagNode[];
  edges: DagEdge[];
  width: number;
  height: number;
}

export interface DagLayoutOptions {
  nodeWidth?: number;
  nodeHeight?: number;
}

/** Plans up to this size get dagre's layout (fewer crossings), once idle; larger ones keep quickLayout's. */
export const DAGRE_MAX_TASKS = 40;

export const DAG_NODE_WIDTH = 210;
export const DAG_NODE_HEIGHT = 46;

/** Longest-path rank of every task; ids that are not in the plan are ignored (the planner rejects them anyway). */
function ranksOf(tasks: readonly DagInputTask[]): Map<string, number> {
  const byId = new Map(tasks.map((task) => [task.id, task]));
  const ranks = new Map<string, number>();
  const visiting = new Set<string>();
  const rankOf = (id: string): number => {
    const known = ranks.get(id);
    if (known !== undefined) return known;
    // A cycle cannot pass validation; if one slips through, break it here instead of recursing forever.
    if (visiting.has(id)) return 0;
    visiting.add(id);
    let rank = 0;
    for (const dep of byId.get(id)?.dependsOn ?? []) {
      if (byId.has(dep)) rank = Math.max(rank, rankOf(dep) + 1);
    }
    visiting.delete(id);
    ranks.set(id, rank);
    return rank;
  };
  for (const task of tasks) rankOf(task.id);
  return ranks;
}

export function layoutDag(tasks: readonly DagInputTask[], options: DagLayoutOptions = {}): DagLayout {
  const width = options.nodeWidth ?? DAG_NODE_WIDTH;
  const height = options.nodeHeight ?? DAG_NODE_HEIGHT;
  if (tasks.length === 0) return { nodes: [], edges: [], width: 0, height: 0 };

  const graph = new graphlib.Graph<GraphLabel, NodeLabel, EdgeLabel>();
  graph.setGraph({ rankdir: 'LR', nodesep: 16, ranksep: 44, marginx: 12, marginy: 12 });
  graph.setDefaultEdgeLabel(() => ({}));
  const ids = new Set(tasks.map((task) => task.id));
  for (const task of tasks) graph.setNode(task.id, { width, height });
  const edges: { from: string; to: string }[] = [];
  for (const task of tasks) {
    for (const dep of task.dependsOn) {
      if (!ids.has(dep) || dep === task.id) continue;
      graph.setEdge(dep, task.id);
      edges.push({ from: dep, to: task.id });
    }
  }
  layout(graph);

  const ranks = ranksOf(tasks);
  const nodes: DagNode[] = tasks.map((task) => {
    const label = graph.node(task.id);
    return {
      id: task.id,
      x: (label.x ?? 0) - width / 2,
      y: (label.y ?? 0) - height / 2,
      width,
      height,
      rank: ranks.get(task.id) ?? 0,
    };
  });
  const positioned: DagEdge[] = edges.map(({ from, to }) => ({
    from,
    to,
    points: (graph.edge(from, to)?.points ?? []).map((point) => ({ x: point.x, y: point.y })),
  }));
  const box = graph.graph();
  return { nodes, edges: positioned, width: box.width ?? 0, height: box.height ?? 0 };
}

/** SVG path through dagre's edge points: straight first and last segments, smooth in between. */
export function edgePath(points: readonly { x: number; y: number }[]): string {
  if (points.length === 0) return '';
  const [first, ...rest] = points;
  if (rest.length === 0) return `M${first.x},${first.y}`;
  let path = `M${first.x},${first.y}`;
  for (let i = 0; i < rest.length - 1; i++) {
    const control = rest[i];
    const next = rest[i + 1];
    const midX = (control.x + next.x) / 2;
    const midY = (control.y + next.y) / 2;
    path += ` Q${control.x},${control.y} ${midX},${midY}`;
  }
  const last = rest[rest.length - 1];
  path += ` L${last.x},${last.y}`;
  return path;
}

/**
 * A layout without dagre, linear in the plan's size: one column per dependency rank, tasks stacked in
 * plan order, straight edges. The first frame draws this; dagre's layout replaces it once the panel
 * is idle (a 200-task plan takes dagre longer than a frame).
 */
export function quickLayout(tasks: readonly DagInputTask[], options: DagLayoutOptions = {}): DagLayout {
  const width = options.nodeWidth ?? DAG_NODE_WIDTH;
  const height = options.nodeHeight ?? DAG_NODE_HEIGHT;
  if (tasks.length === 0) return { nodes: [], edges: [], width: 0, height: 0 };
  const margin = 12;
  const rankGap = 44;
  const nodeGap = 16;
  const ranks = ranksOf(tasks);
  const rows = new Map<number, number>();
  const nodes: DagNode[] = tasks.map((task) => {
    const rank = ranks.get(task.id) ?? 0;
    const row = rows.get(rank) ?? 0;
    rows.set(rank, row + 1);
    return { id: task.id, x: margin + rank * (width + rankGap), y: margin + row * (height + nodeGap), width, height, rank };
  });
  const byId = new Map(nodes.map((node) => [node.id, node]));
  const edges: DagEdge[] = [];
  for (const task of tasks) {
    const to = byId.get(task.id)!;
    for (const dep of task.dependsOn) {
      const from = byId.get(dep);
      if (!from || dep === task.id) continue;
      edges.push({ from: dep, to: task.id, points: [{ x: from.x + width, y: from.y + height / 2 }, { x: to.x, y: to.y + height / 2 }] });
    }
  }
  const columns = Math.max(...nodes.map((node) => node.rank)) + 1;
  const tallest = Math.max(...rows.values());
  return { nodes, edges, width: 2 * margin + columns * width + (columns - 1) * rankGap, height: 2 * margin + tallest * height + (tallest - 1) * nodeGap };
}

/** A column band of a plan's layout and the nodes in it (planDag.ts draws a large plan tile by tile). */
export interface DagTile {
  left: number;
  right: number;
  nodes: DagNode[];
}

/** A tile spans at least this much of the plan's width (layout units; a 1000 px pane shows ~1200). */
const TILE_MIN_WIDTH = 700;

/**
 * The plan cut into tiles where no node spans the cut (between columns), each at least
 * TILE_MIN_WIDTH wide but the last; a tile's bounds are the middles of the gaps, so no node touches
 * its edge. Together they cover the plan's width.
 */
export function tilesOf(layout: DagLayout): DagTile[] {
  const nodes = [...layout.nodes].sort((a, b) => a.x - b.x);
  const tiles: DagTile[] = [];
  let current: DagTile = { left: 0, right: layout.width, nodes: [] };
  let reach = -Infinity;
  for (const node of nodes) {
    const cut = (node.x + reach) / 2;
    if (current.nodes.length && node.x > reach && cut - current.left >= TILE_MIN_WIDTH) {
      current.right = cut;
      tiles.push(current);
      current = { left: cut, right: layout.width, nodes: [] };
    }
    current.nodes.push(node);
    reach = Math.max(reach, node.x + node.width);
  }
  if (current.nodes.length) tiles.push(current);
  return tiles;
}
