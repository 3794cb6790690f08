import { describe, expect, it } from 'vitest';
import { LogBuffer } from './log-buffer.ts';

describe('LogBuffer', () => {
  it('splits chunks into lines and keeps each line’s stream, after a separator for attempt 1', () => {
    const buffer = new LogBuffer();
    buffer.append('a1', 1, 'stdout', 'one\ntwo\n', '2030-01-01T00:00:00.000Z');
    buffer.append('a1', 1, 'stderr', 'oops\n');
    expect(buffer.lines.map((l) => [l.stream, l.text, l.n, l.separator ?? false])).toEqual([
      ['system', 'attempt 1', 0, true],
      ['stdout', 'one', 1, false],
      ['stdout', 'two', 2, false],
      ['stderr', 'oops', 3, false],
    ]);
    expect(buffer.lines[1]!.ts).toBe('2030-01-01T00:00:00.000Z');
  });

  it('joins a long line that arrives in pieces, per stream, and numbers it when its newline arrives (as the master does)', () => {
    const buffer = new LogBuffer();
    buffer.append('a1', 1, 'stdout', 'abc');
    buffer.append('a1', 1, 'stderr', 'err-1\n');
    buffer.append('a1', 1, 'stdout', 'def\r\nnext\n');
    expect(buffer.lines.slice(1).map((l) => [l.text, l.n])).toEqual([
      ['abcdef', 2],
      ['err-1', 1],
      ['next', 3],
    ]);
    expect(buffer.rowOf(1, 1)).toBe(2);
    expect(buffer.rowOf(1, 2)).toBe(1);
    expect(buffer.rowOf(1, 9)).toBeUndefined();
  });

  it('starts every attempt with a separator and starts fresh on reset', () => {
    const buffer = new LogBuffer();
    buffer.append('a1', 1, 'stdout', 'first\n');
    buffer.append('a2', 2, 'stdout', 'second\n');
    expect(buffer.lines.map((l) => `${l.stream}:${l.text}`)).toEqual(['system:attempt 1', 'stdout:first', 'system:attempt 2', 'stdout:second']);
    expect(buffer.attempts).toEqual([1, 2]);
    expect(buffer.rowOf(2, 1)).toBe(3);
    buffer.reset();
    expect(buffer.length).toBe(0);
    buffer.append('a2', 2, 'stdout', 'again\n');
    expect(buffer.lines.map((l) => l.text)).toEqual(['attempt 2', 'again']);
  });
});
