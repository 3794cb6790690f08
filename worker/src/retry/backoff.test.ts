import { describe, expect, it } from 'vitest';
import { Backoff, computeBackoffMs } from './backoff.js';

const options = { baseMs: 250, maxMs: 10_000 };

describe('computeBackoffMs', () => {
  it('waits exactly the base delay before the first retry', () => {
    expect(computeBackoffMs(0, { ...options, random: () => 0.99 })).toBe(250);
  });

  it('stays between the base delay and the doubled ceiling', () => {
    for (let attempt = 0; attempt < 12; attempt += 1) {
      const ceiling = Math.min(10_000, 250 * 2 ** attempt);
      expect(computeBackoffMs(attempt, { ...options, random: () => 0 })).toBe(250);
      expect(computeBackoffMs(attempt, { ...options, random: () => 0.999_999 })).toBe(ceiling);
      for (let i = 0; i < 50; i += 1) {
        const delay = computeBackoffMs(attempt, options);
        expect(delay).toBeGreaterThanOrEqual(250);
        expect(delay).toBeLessThanOrEqual(ceiling);
      }
    }
  });

  it('spreads delays over the whole range (full jitter)', () => {
    const delays = Array.from({ length: 400 }, () => computeBackoffMs(5, options));
    expect(Math.min(...delays)).toBeLessThan(1500);
    expect(Math.max(...delays)).toBeGreaterThan(6500);
  });

  it('never exceeds the maximum however many failures there were', () => {
    expect(computeBackoffMs(1000, { ...options, random: () => 0.999_999 })).toBe(10_000);
  });
});

describe('Backoff', () => {
  it('grows with each failure and starts over after reset()', () => {
    const backoff = new Backoff({ ...options, random: () => 0.999_999 });
    expect([backoff.nextDelayMs(), backoff.nextDelayMs(), backoff.nextDelayMs()]).toEqual([250, 500, 1000]);
    expect(backoff.attempts).toBe(3);
    backoff.reset();
    expect(backoff.nextDelayMs()).toBe(250);
  });
});
