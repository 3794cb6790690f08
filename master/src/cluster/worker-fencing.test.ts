import { describe, expect, it } from 'vitest';
import { WharfError } from '../errors.js';
import { fencingBoundMs, resolveFencing, type DeclaredFencing } from './worker-fencing.js';

const limits = { heartbeatTtlMs: 15_000, heartbeatIntervalMs: 5000, maxStopAfterMs: 600_000 };

function refusal(declared: DeclaredFencing | undefined): string {
  try {
    resolveFencing(declared, limits);
  } catch (error: unknown) {
    if (error instanceof WharfError && error.code === 'validation_failed') return error.message;
    throw error;
  }
  throw new Error('accepted');
}

describe('the fencing bound a worker declares at Register', () => {
  it.each([
    { declared: { stopAfterMs: 0, stopGraceMs: 10_000 }, applied: { stopAfterMs: 15_000, stopGraceMs: 10_000 }, bound: 25_000 },
    { declared: { stopAfterMs: 10_000, stopGraceMs: 0 }, applied: { stopAfterMs: 10_000, stopGraceMs: 0 }, bound: 10_000 },
    { declared: { stopAfterMs: 590_000, stopGraceMs: 10_000 }, applied: { stopAfterMs: 590_000, stopGraceMs: 10_000 }, bound: 600_000 },
  ])('applies $declared.stopAfterMs ms (0 = the heartbeat TTL) + $declared.stopGraceMs ms grace', ({ declared, applied, bound }) => {
    const fencing = resolveFencing(declared, limits);
    expect(fencing).toEqual(applied);
    expect(fencingBoundMs(fencing)).toBe(bound);
  });

  it.each([
    { why: 'none declared (an older worker)', declared: undefined, message: /^fencing: this master only admits workers that stop their tasks/ },
    { why: 'a negative stop-after', declared: { stopAfterMs: -1, stopGraceMs: 0 }, message: /^fencing.stopAfterMs: must be 0/ },
    { why: 'a negative grace', declared: { stopAfterMs: 0, stopGraceMs: -5 }, message: /^fencing.stopGraceMs: must be 0/ },
    { why: 'shorter than two heartbeats', declared: { stopAfterMs: 9999, stopGraceMs: 0 }, message: /^fencing.stopAfterMs: 9.999s is shorter than two heartbeat intervals \(10s\)/ },
    {
      why: 'longer than the master holds tasks',
      declared: { stopAfterMs: 595_000, stopGraceMs: 10_000 },
      message: /^fencing: stop-after 595s \+ stop grace 10s exceeds this master's --max-stop-after \(10m\)/,
    },
  ])('refuses $why, naming the field', ({ declared, message }) => {
    expect(refusal(declared)).toMatch(message);
  });
});
