import { describe, expect, it } from 'vitest';
import { WharfError } from '../errors.js';
import { classifyCacheHit, computeDagRunMetrics, newestRunsFirst, parseMetricsLimit, type DagRunFacts, type InputCacheReport } from './dag-metrics.js';

const hit = (name: string, bytes: number): InputCacheReport => ({ fromTask: 'gen', name, bytes, cache: 'hit' });
const miss = (name: string, bytes: number): InputCacheReport => ({ fromTask: 'gen', name, bytes, cache: 'miss' });

const T0 = Date.UTC(2025, 0, 2, 3, 4, 5);

function run(overrides: Partial<DagRunFacts> = {}): DagRunFacts {
  return {
    dagId: 'dag_1',
    dagName: 'train-pipeline',
    status: 'succeeded',
    cacheEnabled: true,
    createdAt: T0,
    finishedAt: T0 + 4500,
    tasks: [
      { name: 'gen', state: 'succeeded', node: 'worker-b', nodeName: 'box-b', inputs: [] },
      { name: 'train', state: 'succeeded', node: 'worker-a', nodeName: 'box-a', inputs: [hit('data.txt', 1000), hit('labels.txt', 24)] },
      { name: 'eval', state: 'succeeded', node: 'worker-b', inputs: [miss('data.txt', 1000)] },
    ],
    ...overrides,
  };
}

describe('classifyCacheHit', () => {
  it('says Hit, Partial, Miss or N/A', () => {
    expect(classifyCacheHit(true, [hit('a', 1), hit('b', 1)])).toBe('Hit');
    expect(classifyCacheHit(true, [hit('a', 1), miss('b', 1)])).toBe('Partial');
    expect(classifyCacheHit(true, [miss('a', 1)])).toBe('Miss');
    expect(classifyCacheHit(true, [])).toBe('N/A');
    expect(classifyCacheHit(false, [hit('a', 1)])).toBe('N/A');
  });
});

describe('computeDagRunMetrics', () => {
  it('computes every field of a finished run', () => {
    expect(computeDagRunMetrics(run())).toEqual({
      dagId: 'dag_1',
      dagName: 'train-pipeline',
      startTime: '2025-01-02T03:04:05.000Z',
      endTime: '2025-01-02T03:04:09.500Z',
      durationMs: 4500,
      status: 'succeeded',
      cacheEnabled: true,
      cacheHit: 'Partial',
      taskCount: 3,
      taskSucceeded: 3,
      taskFailed: 0,
      taskUpstreamFailed: 0,
      cacheHitTasks: 1,
      cacheMissTasks: 1,
      bytesFromCache: 1024,
      bytesDownloaded: 1000,
      nodes: ['worker-a', 'worker-b'],
      nodeNames: { 'worker-a': 'box-a', 'worker-b': 'box-b' },
    });
  });

  it('counts a task with one missed input among hits as a miss task', () => {
    const metrics = computeDagRunMetrics(
      run({ tasks: [{ name: 'train', state: 'succeeded', node: 'w', inputs: [hit('a', 5), miss('b', 7)] }] }),
    );
    expect(metrics).toMatchObject({ cacheHitTasks: 0, cacheMissTasks: 1, bytesFromCache: 5, bytesDownloaded: 7, cacheHit: 'Partial' });
  });

  it('counts failed and upstream_failed tasks and leaves a running run without an end', () => {
    const metrics = computeDagRunMetrics(
      run({
        status: 'running',
        finishedAt: undefined,
        tasks: [
          { name: 'gen', state: 'failed', node: 'w1', inputs: [] },
          { name: 'train', state: 'upstream_failed', inputs: [] },
          { name: 'eval', state: 'upstream_failed', inputs: [] },
          { name: 'other', state: 'running', node: 'w2', inputs: [] },
        ],
      }),
    );
    expect(metrics).toMatchObject({
      endTime: null,
      durationMs: null,
      status: 'running',
      taskCount: 4,
      taskSucceeded: 0,
      taskFailed: 1,
      taskUpstreamFailed: 2,
      cacheHit: 'N/A',
      nodes: ['w1', 'w2'],
      // no names known (attempts stored before names were kept): none made up
      nodeNames: {},
    });
  });

  it('with the cache off, counts every input as downloaded and no task as a hit or a miss', () => {
    const metrics = computeDagRunMetrics(run({ cacheEnabled: false }));
    expect(metrics).toMatchObject({ cacheHit: 'N/A', cacheHitTasks: 0, cacheMissTasks: 0, bytesFromCache: 0, bytesDownloaded: 2024 });
  });
});

describe('newestRunsFirst and parseMetricsLimit', () => {
  it('orders runs newest first and keeps at most the limit', () => {
    const runs = [
      { dagId: 'd1', createdAt: 1 },
      { dagId: 'd3', createdAt: 3 },
      { dagId: 'd2', createdAt: 2 },
    ];
    expect(newestRunsFirst(runs, 2).map((r) => r.dagId)).toEqual(['d3', 'd2']);
  });

  it('reads the limit query parameter and refuses a bad one with 400', () => {
    expect(parseMetricsLimit(undefined)).toBe(20);
    expect(parseMetricsLimit('5')).toBe(5);
    for (const bad of ['0', '-1', '2.5', 'ten', '501', ['1', '2']]) {
      let error: unknown;
      try {
        parseMetricsLimit(bad);
      } catch (e: unknown) {
        error = e;
      }
      expect(error, String(bad)).toBeInstanceOf(WharfError);
      expect((error as WharfError).httpStatus).toBe(400);
    }
  });
});
