import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LogBatcher, type LogFrame } from './log-batcher.js';

function collect(options: { maxBytes?: number; maxDelayMs?: number; firstSeq?: number } = {}) {
  const frames: LogFrame[] = [];
  const batcher = new LogBatcher({
    maxBytes: options.maxBytes ?? 1024,
    maxDelayMs: options.maxDelayMs ?? 50,
    onFrame: (frame) => frames.push(frame),
    ...(options.firstSeq === undefined ? {} : { firstSeq: options.firstSeq }),
  });
  return { batcher, frames };
}

const text = (frame: LogFrame | undefined): string => frame?.data.toString('utf8') ?? '<none>';

describe('LogBatcher', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('holds small writes until the batch delay has passed', () => {
    const { batcher, frames } = collect({ maxDelayMs: 50 });
    batcher.push('STDOUT', Buffer.from('a\n'));
    vi.advanceTimersByTime(30);
    batcher.push('STDOUT', Buffer.from('b\n'));
    expect(frames).toHaveLength(0);
    vi.advanceTimersByTime(20);
    expect(frames).toHaveLength(1);
    expect(text(frames[0])).toBe('a\nb\n');
    expect(frames[0]?.seq).toBe(1);
  });

  it('flushes as soon as a batch reaches the size limit', () => {
    const { batcher, frames } = collect({ maxBytes: 8 });
    batcher.push('STDOUT', Buffer.from('1234'));
    expect(frames).toHaveLength(0);
    batcher.push('STDOUT', Buffer.from('5678'));
    expect(frames.map(text)).toEqual(['12345678']);
  });

  it('splits one large write into frames of at most the size limit', () => {
    const { batcher, frames } = collect({ maxBytes: 4 });
    batcher.push('STDERR', Buffer.from('abcdefghij'));
    batcher.flush();
    expect(frames.map(text)).toEqual(['abcd', 'efgh', 'ij']);
    expect(frames.map((f) => f.seq)).toEqual([1, 2, 3]);
    expect(frames.every((f) => f.stream === 'STDERR')).toBe(true);
  });

  it('never puts more than 64 KiB in a frame, whatever it is configured with', () => {
    const { batcher, frames } = collect({ maxBytes: 10 * 1024 * 1024 });
    batcher.push('STDOUT', Buffer.alloc(200 * 1024, 0x61));
    batcher.flush();
    expect(frames.map((f) => f.data.length)).toEqual([65536, 65536, 65536, 8192]);
  });

  it('keeps the order of bytes across streams by closing a frame when the stream changes', () => {
    const { batcher, frames } = collect();
    batcher.push('STDOUT', Buffer.from('out 1\n'));
    batcher.push('STDERR', Buffer.from('err 1\n'));
    batcher.push('STDOUT', Buffer.from('out 2\n'));
    batcher.push('SYSTEM', Buffer.from('note\n'));
    batcher.flush();
    expect(frames.map((f) => [f.seq, f.stream, text(f)])).toEqual([
      [1, 'STDOUT', 'out 1\n'],
      [2, 'STDERR', 'err 1\n'],
      [3, 'STDOUT', 'out 2\n'],
      [4, 'SYSTEM', 'note\n'],
    ]);
  });

  it('numbers frames without gaps from the first seq, across size and time flushes', () => {
    const { batcher, frames } = collect({ maxBytes: 3, firstSeq: 7 });
    batcher.push('STDOUT', Buffer.from('abcd'));
    vi.advanceTimersByTime(100);
    batcher.push('STDOUT', Buffer.from('e'));
    batcher.close();
    expect(frames.map((f) => [f.seq, text(f)])).toEqual([
      [7, 'abc'],
      [8, 'd'],
      [9, 'e'],
    ]);
    expect(batcher.lastSeq).toBe(9);
  });

  it('loses no byte over many random writes', () => {
    const { batcher, frames } = collect({ maxBytes: 100 });
    const written: string[] = [];
    for (let i = 0; i < 500; i += 1) {
      const line = `line ${i} ${'x'.repeat(i % 37)}\n`;
      written.push(line);
      batcher.push(i % 3 === 0 ? 'STDERR' : 'STDOUT', Buffer.from(line));
      if (i % 50 === 0) vi.advanceTimersByTime(60);
    }
    batcher.close();
    expect(frames.map(text).join('')).toBe(written.join(''));
    expect(frames.map((f) => f.seq)).toEqual(frames.map((_, i) => i + 1));
    expect(frames.every((f) => f.data.length <= 100)).toBe(true);
  });

  it('carries the cursor of the last complete entry in each frame', () => {
    const { batcher, frames } = collect({ maxBytes: 4 });
    batcher.push('STDOUT', Buffer.from('ab'), '100');
    batcher.push('STDOUT', Buffer.from('cdef'), '200');
    batcher.flush();
    expect(frames.map((f) => [text(f), f.cursor])).toEqual([
      ['abcd', '100'],
      ['ef', '200'],
    ]);
  });

  it('refuses bytes after close()', () => {
    const { batcher } = collect();
    batcher.close();
    expect(() => batcher.push('STDOUT', Buffer.from('late'))).toThrow('closed');
  });
});

describe('LogBatcher.discard', () => {
  it('drops the open frame and its timer', () => {
    vi.useFakeTimers();
    try {
      const { batcher, frames } = collect({ maxDelayMs: 10 });
      batcher.push('STDOUT', Buffer.from('unsent'));
      batcher.discard();
      vi.advanceTimersByTime(100);
      expect(frames).toEqual([]);
      expect(() => batcher.push('STDOUT', Buffer.from('x'))).toThrow('closed');
    } finally {
      vi.useRealTimers();
    }
  });
});
