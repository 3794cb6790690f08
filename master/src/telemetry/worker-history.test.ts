import { describe, expect, it } from 'vitest';
import { WorkerHistory, type TelemetrySample } from './worker-history.js';

const sample = (at: number, cpu = at / 1000, extra: Partial<TelemetrySample> = {}): TelemetrySample => ({
  at,
  cpuPercent: cpu,
  memoryPercent: 50,
  diskPercent: 10,
  runningTasks: 1,
  reserved: { cpu: 0.5, memory: 256 * 1024 * 1024, gpu: 0, disk: 0 },
  ...extra,
});

describe('WorkerHistory', () => {
  it('keeps 15 minutes of 5 s heartbeats, oldest first, and forgets what is older', () => {
    const history = new WorkerHistory(5000, 15 * 60_000);
    const start = 1_700_000_000_000;
    // 20 minutes of heartbeats
    for (let i = 0; i <= 240; i += 1) history.record(sample(start + i * 5000, i));
    const now = start + 240 * 5000;
    const samples = history.samples({ now });
    expect(samples[0]!.at).toBe(now - 15 * 60_000);
    expect(samples.at(-1)!.at).toBe(now);
    expect(samples).toHaveLength(181);
    expect(samples.every((s, i) => i === 0 || s.at - samples[i - 1]!.at === 5000)).toBe(true);
    expect(samples.at(-1)).toEqual(sample(now, 240));
  });

  it('answers only samples at or after `since`', () => {
    const history = new WorkerHistory(1000, 15 * 60_000);
    for (let i = 0; i < 10; i += 1) history.record(sample(i * 1000));
    expect(history.samples({ since: 7000, now: 9000 }).map((s) => s.at)).toEqual([7000, 8000, 9000]);
  });

  it('keeps the gpu figure only for samples that had one', () => {
    const history = new WorkerHistory(1000, 15 * 60_000);
    history.record(sample(1000));
    history.record(sample(2000, 1, { gpuPercent: 42 }));
    const [first, second] = history.samples({ now: 2000 });
    expect(first).not.toHaveProperty('gpuPercent');
    expect(second!.gpuPercent).toBe(42);
  });

  it('replaces a sample that comes sooner than half an interval, so the ring still covers its whole period', () => {
    const history = new WorkerHistory(1000, 15 * 60_000);
    for (let i = 0; i < 100_000; i += 1) history.record(sample(i * 100)); // ten times too fast
    const samples = history.samples({ now: 99_999 * 100 });
    expect(history.size).toBeLessThanOrEqual(history.capacity);
    expect(samples[0]!.at).toBeLessThanOrEqual(99_999 * 100 - 15 * 60_000 + 1000);
    expect(samples.at(-1)!.at).toBe(99_999 * 100);
  });
});
