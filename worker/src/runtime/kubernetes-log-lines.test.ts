import { describe, expect, it } from 'vitest';
import { isLogCursorAfter, KubernetesLogLineParser, timestampNanos } from './kubernetes-log-lines.js';

describe('KubernetesLogLineParser', () => {
  it('splits timestamped lines across chunk boundaries and keeps each timestamp as the cursor', () => {
    const parser = new KubernetesLogLineParser();
    const first = parser.push(Buffer.from('2025-01-01T10:00:00.123456789Z hello\n2025-01-01T10:00:0'));
    const second = parser.push(Buffer.from('1Z wor'));
    const third = parser.push(Buffer.from('ld\n'));
    const last = parser.end();
    expect(first.map((e) => [e.data.toString(), e.cursor])).toEqual([['hello\n', '2025-01-01T10:00:00.123456789Z']]);
    expect(second).toEqual([]);
    expect(third.map((e) => [e.data.toString(), e.cursor, e.stream])).toEqual([['world\n', '2025-01-01T10:00:01Z', 'stdout']]);
    expect(last).toEqual([]);
  });

  it('passes on a last line without a newline, and a line without a timestamp unchanged', () => {
    const parser = new KubernetesLogLineParser();
    expect(parser.push(Buffer.from('no stamp here\n2025-01-01T10:00:00Z tail')).map((e) => [e.data.toString(), e.cursor])).toEqual([['no stamp here\n', undefined]]);
    expect(parser.end().map((e) => [e.data.toString(), e.cursor])).toEqual([['tail', '2025-01-01T10:00:00Z']]);
  });

  it('keeps bytes that are not UTF-8', () => {
    const parser = new KubernetesLogLineParser();
    const [entry] = parser.push(Buffer.concat([Buffer.from('2025-01-01T10:00:00Z '), Buffer.from([0xff, 0x00, 0x0a])]));
    expect(entry?.data).toEqual(Buffer.from([0xff, 0x00, 0x0a]));
  });
});

describe('cursors', () => {
  it('compares timestamps with different fraction lengths by their nanoseconds', () => {
    expect(timestampNanos('2025-01-01T10:00:00.5Z')).toBe(timestampNanos('2025-01-01T10:00:00.500000000Z'));
    expect(isLogCursorAfter('2025-01-01T10:00:00.5Z', '2025-01-01T10:00:00.499999999Z')).toBe(true);
    expect(isLogCursorAfter('2025-01-01T10:00:00.5Z', '2025-01-01T10:00:00.500000000Z')).toBe(false);
    expect(isLogCursorAfter('2025-01-01T10:00:01Z', '2025-01-01T10:00:00.999999999Z')).toBe(true);
    expect(timestampNanos('2025-01-01T12:00:00+02:00')).toBe(timestampNanos('2025-01-01T10:00:00Z'));
    expect(timestampNanos('yesterday')).toBeUndefined();
  });
});
