import { describe, expect, it } from 'vitest';
import { formatBytes, formatDurationMs, parseBytes, parseCpu, parseDurationMs } from './units.js';

describe('parseBytes', () => {
  it('reads binary and decimal suffixes in any case', () => {
    expect(parseBytes('512Mi')).toBe(512 * 1024 * 1024);
    expect(parseBytes('2Gi')).toBe(2 * 1024 ** 3);
    expect(parseBytes('2gib')).toBe(2 * 1024 ** 3);
    expect(parseBytes('1.5G')).toBe(1_500_000_000);
    expect(parseBytes('10k')).toBe(10_000);
  });
  it('takes plain byte counts as numbers or strings', () => {
    expect(parseBytes(1048576)).toBe(1048576);
    expect(parseBytes('4096')).toBe(4096);
  });
  it('refuses what is not a quantity', () => {
    expect(parseBytes('lots')).toBeUndefined();
    expect(parseBytes('-1Gi')).toBeUndefined();
    expect(parseBytes('5Xi')).toBeUndefined();
    expect(parseBytes(1.5)).toBeUndefined();
    expect(parseBytes(-3)).toBeUndefined();
  });
});

describe('parseCpu', () => {
  it('reads cores and millicores', () => {
    expect(parseCpu(2)).toBe(2);
    expect(parseCpu('0.5')).toBe(0.5);
    expect(parseCpu('250m')).toBe(0.25);
  });
  it('refuses negative or malformed values', () => {
    expect(parseCpu(-1)).toBeUndefined();
    expect(parseCpu('two')).toBeUndefined();
    expect(parseCpu(Number.NaN)).toBeUndefined();
  });
});

describe('formatBytes', () => {
  it('prints binary units', () => {
    expect(formatBytes(2 * 1024 ** 3)).toBe('2Gi');
    expect(formatBytes(1536)).toBe('1.5Ki');
    expect(formatBytes(12)).toBe('12B');
  });
});

describe('durations', () => {
  it('parses what people write and prints it back the same way', () => {
    expect([parseDurationMs('250ms'), parseDurationMs('1.5s'), parseDurationMs('2m'), parseDurationMs('300'), parseDurationMs('soon')]).toEqual([
      250,
      1500,
      120_000,
      300,
      undefined,
    ]);
    for (const ms of [0, 250, 1500, 15_000, 90_000, 600_000]) expect(parseDurationMs(formatDurationMs(ms))).toBe(ms);
    expect([formatDurationMs(15_000), formatDurationMs(600_000), formatDurationMs(1500)]).toEqual(['15s', '10m', '1.5s']);
  });
});
