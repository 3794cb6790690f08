import { describe, expect, it } from 'vitest';
import { expires, expiresAny, expiryRule } from './retention.js';

const DAY = 86_400_000;
const now = 100 * DAY;

describe('retention rules', () => {
  it('expires what finished before the age bound, and keeps what finished since', () => {
    const rule = expiryRule(now, 30 * DAY, undefined, 1000);
    expect(expires(rule, now - 31 * DAY, 0)).toBe(true);
    expect(expires(rule, now - 30 * DAY, 0)).toBe(false);
    expect(expires(rule, now - DAY, 999)).toBe(false);
  });

  it('expires the oldest records beyond the count bound, whatever their age', () => {
    const rule = expiryRule(now, undefined, 3, 5);
    expect([0, 1, 2, 3, 4].map((position) => expires(rule, now, position))).toEqual([true, true, false, false, false]);
  });

  it('takes either bound: old records go, and so do records beyond the count', () => {
    const rule = expiryRule(now, 30 * DAY, 2, 4);
    // the two oldest are over the count, the third is old, the fourth is young and within the count
    expect(expires(rule, now - 10 * DAY, 0)).toBe(true);
    expect(expires(rule, now - 10 * DAY, 1)).toBe(true);
    expect(expires(rule, now - 40 * DAY, 2)).toBe(true);
    expect(expires(rule, now - 10 * DAY, 3)).toBe(false);
  });

  it('keeps everything when neither bound is set, or when the count is not reached', () => {
    expect(expiresAny(expiryRule(now, undefined, undefined, 10_000))).toBe(false);
    expect(expiresAny(expiryRule(now, undefined, 100, 99))).toBe(false);
    expect(expiresAny(expiryRule(now, undefined, 100, 101))).toBe(true);
    expect(expires(expiryRule(now, undefined, 100, 100), 0, 0)).toBe(false);
  });
});
