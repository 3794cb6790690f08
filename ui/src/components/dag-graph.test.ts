// The graph's geometry: every arrow is routed around the boxes. Checked on the boxes'
// rectangles and the arrows' segments, for hand-made graphs where a straight or curved arrow
// would cross a box, and for many random DAGs.
import { describe, expect, it } from 'vitest';
import type { DagTaskDetails } from '../api/types.ts';
import { BOX_WIDTH, layoutGraph, taskDuration, type GraphLayout } from './dag-graph.tsx';

const task = (name: string, dependsOn: string[] = [], inputs = 0): DagTaskDetails => ({
  name,
  status: 'pending',
  dependsOn,
  outputs: [],
  inputs: Array.from({ length: inputs }, (_, i) => ({ name: `in-${i}`, fromTask: dependsOn[0] ?? '', cache: null })),
  attempts: [],
});

/** Every segment of every arrow, and which boxes it crosses (touching a border at its own ends is fine). */
function crossings(layout: GraphLayout): string[] {
  const found: string[] = [];
  for (const edge of layout.edges) {
    for (let i = 1; i < edge.points.length; i += 1) {
      const a = edge.points[i - 1]!;
      const b = edge.points[i]!;
      expect(a.x === b.x || a.y === b.y, `${edge.from}->${edge.to} segment ${i} is not horizontal or vertical`).toBe(true);
      for (const box of layout.placed.values()) {
        const [left, right, top, bottom] = [box.x, box.x + BOX_WIDTH, box.y, box.y + box.height];
        // strictly inside the box's interior on both axes
        const overlapX = Math.min(a.x, b.x) < right && Math.max(a.x, b.x) > left;
        const overlapY = Math.min(a.y, b.y) < bottom && Math.max(a.y, b.y) > top;
        const insideX = a.x === b.x ? a.x > left && a.x < right : overlapX;
        const insideY = a.y === b.y ? a.y > top && a.y < bottom : overlapY;
        if (insideX && insideY) found.push(`${edge.from}->${edge.to} crosses ${box.task.name}`);
      }
    }
  }
  return found;
}

function checkEnds(layout: GraphLayout): void {
  for (const edge of layout.edges) {
    const from = layout.placed.get(edge.from)!;
    const to = layout.placed.get(edge.to)!;
    const first = edge.points[0]!;
    const last = edge.points[edge.points.length - 1]!;
    expect(first.x).toBe(from.x + BOX_WIDTH);
    expect(first.y).toBeGreaterThan(from.y);
    expect(first.y).toBeLessThan(from.y + from.height);
    expect(last.x).toBe(to.x);
    expect(last.y).toBeGreaterThan(to.y);
    expect(last.y).toBeLessThan(to.y + to.height);
    // and the drawing is big enough for every point
    for (const p of edge.points) expect(p.y).toBeLessThanOrEqual(layout.height);
  }
}

describe('the DAG graph layout', () => {
  it('routes an arrow that skips columns around the boxes of the columns in between', () => {
    // a → b → c → d and a → d: a straight a→d would run through b and c (all in the first row);
    // x and y fill the middle columns' rows below so the lane must be found between or under them
    const layout = layoutGraph([
      task('a'),
      task('b', ['a'], 3),
      task('x', ['a'], 1),
      task('c', ['b']),
      task('y', ['x'], 4),
      task('d', ['c', 'a']),
    ]);
    expect(crossings(layout)).toEqual([]);
    checkEnds(layout);
    const skip = layout.edges.find((e) => e.from === 'a' && e.to === 'd')!;
    expect(skip.points.length).toBe(6);
  });

  it('never crosses a box in random DAGs of up to 30 tasks', () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let round = 0; round < 60; round += 1) {
      const count = 2 + Math.floor(random() * 29);
      const tasks: DagTaskDetails[] = [];
      for (let i = 0; i < count; i += 1) {
        const deps = tasks.filter(() => random() < 0.2).map((t) => t.name);
        tasks.push(task(`t${i}`, deps, Math.floor(random() * 4)));
      }
      const layout = layoutGraph(tasks);
      expect(crossings(layout), `round ${round}`).toEqual([]);
      checkEnds(layout);
      expect(layout.edges.length).toBe(tasks.reduce((n, t) => n + t.dependsOn.length, 0));
    }
  });

  it('a task\'s duration runs from its first attempt\'s start to its last attempt\'s end, or to now while it runs', () => {
    const attempts = [
      { id: 'a1', number: 1, workerId: 'w', status: 'failed', startedAt: '2025-01-01T10:00:00.000Z', finishedAt: '2025-01-01T10:00:05.000Z' },
      { id: 'a2', number: 2, workerId: 'w', status: 'succeeded', startedAt: '2025-01-01T10:00:06.000Z', finishedAt: '2025-01-01T10:00:09.500Z' },
    ];
    expect(taskDuration({ status: 'succeeded', attempts })).toEqual({ ms: 9500, running: false });
    expect(taskDuration({ status: 'running', attempts: [{ id: 'a', number: 1, workerId: 'w', status: 'running', startedAt: 1000 }] }, 4000)).toEqual({ ms: 3000, running: true });
    expect(taskDuration({ status: 'pending', attempts: [] })).toBeUndefined();
  });
});
