import { describe, expect, it } from 'vitest';
import type { DagRunMetrics } from '../dags/dag-metrics.js';
import { cacheSummaryLine, compareCachedRuns, dagFileContentType, dagMetricsTable, formatMs, taskProgress } from './dag-views.js';
import { createStyle } from './format.js';

function run(overrides: Partial<DagRunMetrics>): DagRunMetrics {
  return {
    dagId: '00000000-0000-4000-8000-000000000000',
    dagName: 'train',
    startTime: '2026-01-01T00:00:00.000Z',
    endTime: '2026-01-01T00:00:04.000Z',
    durationMs: 4000,
    status: 'succeeded',
    cacheEnabled: true,
    cacheHit: 'Miss',
    taskCount: 2,
    taskSucceeded: 2,
    taskFailed: 0,
    taskUpstreamFailed: 0,
    cacheHitTasks: 0,
    cacheMissTasks: 1,
    bytesFromCache: 0,
    bytesDownloaded: 588895,
    nodes: ['w-1'],
    nodeNames: { 'w-1': 'one' },
    ...overrides,
  };
}

describe('the DAG views of the REPL', () => {
  it('averages ended runs served from cache (Hit, Partial) apart from the others (Miss, N/A), leaving running runs out', () => {
    const runs = [
      run({ dagId: 'a', cacheHit: 'Hit', durationMs: 2000 }),
      run({ dagId: 'b', cacheHit: 'Partial', durationMs: 3000 }),
      run({ dagId: 'c', cacheHit: 'Miss', durationMs: 5000 }),
      run({ dagId: 'd', cacheHit: 'N/A', durationMs: 3000 }),
      run({ dagId: 'e', cacheHit: 'Hit', durationMs: null, endTime: null, status: 'running' }),
    ];
    expect(compareCachedRuns(runs)).toEqual({ cached: { runs: 2, averageMs: 2500 }, uncached: { runs: 2, averageMs: 4000 } });
    expect(cacheSummaryLine(runs)).toBe(
      'cached (Hit/Partial): 2 runs, average 2.50s; uncached (Miss/N/A): 2 runs, average 4.00s; cached runs took 38% less time (1 still running, not counted)',
    );
  });

  it('says plainly when one side has no runs to compare', () => {
    expect(cacheSummaryLine([run({ cacheHit: 'Miss', durationMs: 900 })])).toBe('cached (Hit/Partial): 0 runs; uncached (Miss/N/A): 1 run, average 900ms');
  });

  it('prints every metrics field a reader compares, with exact byte counts', () => {
    const text = dagMetricsTable([run({ cacheHit: 'Hit', bytesFromCache: 588895, bytesDownloaded: 0, cacheHitTasks: 1, cacheMissTasks: 0 })], createStyle(false));
    const [header, row] = text.split('\n');
    expect(header).toMatch(/^ID\s+STATUS\s+STARTED\s+DURATION\s+CACHE\s+HIT TASKS\s+MISS TASKS\s+BYTES FROM CACHE\s+BYTES DOWNLOADED\s+TASKS OK\/ALL\s+NODES$/);
    expect(row).toMatch(/^00000000\s+succeeded\s+2026-01-01T00:00:00.000Z\s+4.00s\s+Hit\s+1\s+0\s+588895\s+0\s+2\/2\s+w-1$/);
  });

  it('formats durations, progress and the content type a file name implies', () => {
    expect([formatMs(850), formatMs(4210), formatMs(200_000)]).toEqual(['850ms', '4.21s', '3m 20s']);
    expect(taskProgress({ tasks: [{ name: 'a', state: 'succeeded' }, { name: 'b', state: 'running' }] })).toBe('1/2');
    expect(taskProgress({ tasks: [{ name: 'a', state: 'failed' }, { name: 'b', state: 'upstream_failed' }, { name: 'c', state: 'succeeded' }] })).toBe(
      '3/3 (2 did not succeed)',
    );
    expect([dagFileContentType('a.JSON'), dagFileContentType('b.yml'), dagFileContentType('c.yaml'), dagFileContentType('dag.txt')]).toEqual([
      'application/json',
      'application/yaml',
      'application/yaml',
      undefined,
    ]);
  });
});
