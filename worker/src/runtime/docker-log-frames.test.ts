import { describe, expect, it } from 'vitest';
import { DockerLogFrameParser, dockerTimeToNanos, isCursorAfter } from './docker-log-frames.js';

function frame(type: number, payload: string): Buffer {
  const body = Buffer.from(payload, 'utf8');
  const header = Buffer.alloc(8);
  header.writeUInt8(type, 0);
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

describe('DockerLogFrameParser', () => {
  it('separates stdout and stderr frames in order, also when frames arrive in pieces', () => {
    const parser = new DockerLogFrameParser({ timestamps: false });
    const bytes = Buffer.concat([frame(1, 'out 1\n'), frame(2, 'err 1\n'), frame(1, 'out 2\n')]);
    const entries = [...parser.push(bytes.subarray(0, 5)), ...parser.push(bytes.subarray(5, 17)), ...parser.push(bytes.subarray(17))];
    expect(entries.map((e) => [e.stream, e.data.toString()])).toEqual([
      ['stdout', 'out 1\n'],
      ['stderr', 'err 1\n'],
      ['stdout', 'out 2\n'],
    ]);
    expect(parser.leftover).toBe(0);
  });

  it('strips the timestamp of each entry and keeps it as the cursor', () => {
    const parser = new DockerLogFrameParser({ timestamps: true });
    const [entry] = parser.push(frame(1, '2024-05-01T10:00:00.000000123Z hello world\n'));
    expect(entry?.data.toString()).toBe('hello world\n');
    expect(entry?.cursor).toBe(dockerTimeToNanos('2024-05-01T10:00:00.000000123Z'));
  });
});

describe('dockerTimeToNanos', () => {
  it('reads RFC 3339 times with nanoseconds and offsets', () => {
    expect(dockerTimeToNanos('1970-01-01T00:00:01.5Z')).toBe('1500000000');
    expect(dockerTimeToNanos('1970-01-01T01:00:01.000000001+01:00')).toBe('1000000001');
    expect(dockerTimeToNanos('not a time')).toBeUndefined();
  });

  it('orders cursors by time', () => {
    const a = dockerTimeToNanos('2024-05-01T10:00:00.999999999Z') ?? '';
    const b = dockerTimeToNanos('2024-05-01T10:00:01.000000000Z') ?? '';
    expect(isCursorAfter(b, a)).toBe(true);
    expect(isCursorAfter(a, b)).toBe(false);
    expect(isCursorAfter(a, a)).toBe(false);
  });
});
