import { describe, expect, it } from 'vitest';
import type { DagTaskState } from '../records/dag.js';
import { evaluateDag } from './dag-evaluation.js';
import { DagGraph } from './dag-graph.js';

// a ─┬─ b ─┬─ d ── e
//    └─ c ─┘
// f (independent)
const graph = DagGraph.of([
  { name: 'a', dependsOn: [] },
  { name: 'b', dependsOn: ['a'] },
  { name: 'c', dependsOn: ['a'] },
  { name: 'd', dependsOn: ['b', 'c'] },
  { name: 'e', dependsOn: ['d'] },
  { name: 'f', dependsOn: [] },
]);

const states = (entries: Record<string, DagTaskState>) => new Map(Object.entries(entries));

describe('evaluateDag', () => {
  it('queues the roots of a new run', () => {
    expect(evaluateDag(graph, new Map())).toEqual({ toQueue: ['a', 'f'], toMarkUpstreamFailed: [], toCancel: [], finished: false, status: 'running' });
  });

  it('queues a task only when every dependency succeeded', () => {
    const step = evaluateDag(graph, states({ a: 'succeeded', b: 'succeeded', c: 'running', f: 'succeeded' }));
    expect(step.toQueue).toEqual([]);
    const next = evaluateDag(graph, states({ a: 'succeeded', b: 'succeeded', c: 'succeeded', f: 'succeeded' }));
    expect(next.toQueue).toEqual(['d']);
  });

  it('does not queue again what is already queued or running (a restart evaluates the same way)', () => {
    const step = evaluateDag(graph, states({ a: 'succeeded', b: 'queued', c: 'running', f: 'running' }));
    expect(step.toQueue).toEqual([]);
    expect(step.finished).toBe(false);
  });

  it('marks every transitive dependent of a failed task upstream_failed and ends the run failed', () => {
    const step = evaluateDag(graph, states({ a: 'succeeded', b: 'failed', c: 'succeeded', f: 'succeeded' }));
    expect(step.toMarkUpstreamFailed).toEqual(['d', 'e']);
    expect(step.toQueue).toEqual([]);
    expect(step).toMatchObject({ finished: true, status: 'failed' });
  });

  it('keeps a failed run open while unrelated tasks still run', () => {
    const step = evaluateDag(graph, states({ a: 'failed', f: 'running' }));
    expect(step.toMarkUpstreamFailed).toEqual(['b', 'c', 'd', 'e']);
    expect(step).toMatchObject({ finished: false, status: 'running' });
  });

  it('treats a task cancelled on its own like a failure for its dependents', () => {
    const step = evaluateDag(graph, states({ a: 'succeeded', b: 'cancelled', c: 'succeeded', f: 'succeeded' }));
    expect(step.toMarkUpstreamFailed).toEqual(['d', 'e']);
    expect(step.status).toBe('failed');
  });

  it('ends succeeded only when every task succeeded', () => {
    const all = states({ a: 'succeeded', b: 'succeeded', c: 'succeeded', d: 'succeeded', e: 'succeeded', f: 'succeeded' });
    expect(evaluateDag(graph, all)).toEqual({ toQueue: [], toMarkUpstreamFailed: [], toCancel: [], finished: true, status: 'succeeded' });
  });

  it('cancels every task that is not terminal when the run is cancelled', () => {
    const step = evaluateDag(graph, states({ a: 'succeeded', b: 'running', c: 'queued', f: 'failed' }), true);
    expect(step.toCancel).toEqual(['b', 'c', 'd', 'e']);
    expect(step.toQueue).toEqual([]);
    expect(step).toMatchObject({ finished: true, status: 'cancelled' });
  });

  it('leaves a run whose tasks all succeeded succeeded even if a cancel arrives', () => {
    const all = states({ a: 'succeeded', b: 'succeeded', c: 'succeeded', d: 'succeeded', e: 'succeeded', f: 'succeeded' });
    expect(evaluateDag(graph, all, true)).toMatchObject({ toCancel: [], status: 'succeeded' });
  });
});
