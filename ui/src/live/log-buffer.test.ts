import { describe, expect, it } from 'vitest';
import { LogBuffer } from './log-buffer.ts';

describe('LogBuffer', () => {
  it('splits chunks into lines and keeps each line’s stream', () => {
    const buffer = new LogBuffer();
    buffer.append('a1', 1, 'stdout', 'one\ntwo\n');
    buffer.append('a1', 1, 'stderr', 'oops\n');
    expect(buffer.lines.map((l) => [l.stream, l.text])).toEqual([
      ['stdout', 'one'],
      ['stdout', 'two'],
      ['stderr', 'oops'],
    ]);
  });

  it('joins a long line that arrives in pieces, per stream', () => {
    const buffer = new LogBuffer();
    buffer.append('a1', 1, 'stdout', 'abc');
    buffer.append('a1', 1, 'stderr', 'err-1\n');
    buffer.append('a1', 1, 'stdout', 'def\r\nnext\n');
    expect(buffer.lines.map((l) => l.text)).toEqual(['abcdef', 'err-1', 'next']);
  });

  it('marks where a new attempt starts and starts fresh on reset', () => {
    const buffer = new LogBuffer();
    buffer.append('a1', 1, 'stdout', 'first\n');
    buffer.append('a2', 2, 'stdout', 'second\n');
    expect(buffer.lines.map((l) => `${l.stream}:${l.text}`)).toEqual(['stdout:first', 'system:--- attempt 2 ---', 'stdout:second']);
    buffer.reset();
    expect(buffer.length).toBe(0);
    buffer.append('a2', 2, 'stdout', 'again\n');
    expect(buffer.lines.map((l) => l.text)).toEqual(['--- attempt 2 ---', 'again']);
  });
});
