import { describe, expect, it } from 'vitest';
import { cell, colourWanted, createStyle, distinctPrefixLength, formatDuration, table } from './console-format.js';

describe('console output (REPL and CLI)', () => {
  it('aligns table columns by visible width, colour codes included', () => {
    const style = createStyle(true);
    const text = table(['ID', 'STATUS', 'WHY'], [['a', style.status('running'), 'x'], ['bbbb', style.status('failed'), 'y']], createStyle(false));
    const lines = text.replace(/\x1b\[[0-9;]*m/g, '').split('\n');
    expect(lines).toEqual(['ID    STATUS   WHY', 'a     running  x', 'bbbb  failed   y']);
    expect(text).toContain('\x1b[36mrunning\x1b[39m');
  });

  it('uses colour only on a terminal and never with NO_COLOR', () => {
    expect(colourWanted({ isTTY: true }, {})).toBe(true);
    expect(colourWanted({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(colourWanted({ isTTY: false }, {})).toBe(false);
    expect(colourWanted({ isTTY: true }, { NO_COLOR: '' })).toBe(true);
    expect(createStyle(false).status('failed')).toBe('failed');
  });

  it('shows control characters from task text instead of sending them to the terminal', () => {
    expect(cell('evil\x1b[2Jname\r\nnext')).toBe('evil^[[2Jname next');
    expect(cell('x'.repeat(10), 5)).toBe('xxxx…');
    expect(cell(undefined)).toBe('-');
  });

  it('shows id prefixes long enough to tell the listed ids apart', () => {
    expect(distinctPrefixLength(['abcdef0011', 'abcdef0022', '99'])).toBe(9);
    expect(distinctPrefixLength(['a1', 'b2'])).toBe(8);
  });

  it('formats durations for people', () => {
    expect([formatDuration(4_000), formatDuration(200_000), formatDuration(7_500_000), formatDuration(100 * 3_600_000)]).toEqual([
      '4s',
      '3m 20s',
      '2h 5m',
      '4d 4h',
    ]);
  });
});
