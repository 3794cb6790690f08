import { describe, expect, it } from 'vitest';
import { ReplaySkipper } from './log-follower.js';

describe('ReplaySkipper (a log stream replayed after a reconnect)', () => {
  it('delivers everything the first time', () => {
    const skipper = new ReplaySkipper();
    skipper.restart();
    expect(['a\n', 'bb\n'].map((d) => skipper.take(d))).toEqual(['a\n', 'bb\n']);
  });

  it('skips exactly what was delivered before, however the replay is cut into chunks', () => {
    const skipper = new ReplaySkipper();
    skipper.restart();
    const first = ['line 1\n', 'line 2\n', 'li'].map((d) => skipper.take(d)).join('');
    expect(first).toBe('line 1\nline 2\nli');
    skipper.restart(); // the socket dropped; the replay comes in other pieces
    const second = ['line 1\nline', ' 2\nline 3\n', 'line 4\n'].map((d) => skipper.take(d));
    expect(second).toEqual(['', 'ne 3\n', 'line 4\n']);
    expect(first + second.join('')).toBe('line 1\nline 2\nline 3\nline 4\n');
    skipper.restart();
    expect(skipper.take('line 1\nline 2\nline 3\nline 4\nline 5\n')).toBe('line 5\n');
  });
});
