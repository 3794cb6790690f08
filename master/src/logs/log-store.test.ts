import { existsSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WharfError } from '../errors.js';
import { LogStore, type LogEntry } from './log-store.js';

const text = (entries: LogEntry[]) => Buffer.concat(entries.map((e) => e.data)).toString();

describe('LogStore', () => {
  it('keeps stdout and stderr apart and in order, and applies a resent chunk once', () => {
    const logs = new LogStore(mkdtempSync(join(tmpdir(), 'wharf-logs-')), 1024);
    logs.append('t', 'a', 1, 'stdout', Buffer.from('one\n'));
    logs.append('t', 'a', 2, 'stderr', Buffer.from('two\n'));
    expect(logs.append('t', 'a', 1, 'stdout', Buffer.from('one\n'))).toBe(2);
    logs.append('t', 'a', 3, 'stdout', Buffer.from('three\n'));
    const entries = logs.read('t', ['a']);
    expect(entries.map((e) => e.stream)).toEqual(['stdout', 'stderr', 'stdout']);
    expect(text(entries)).toBe('one\ntwo\nthree\n');
  });

  it('survives a restart with its last seq', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wharf-logs-'));
    const first = new LogStore(dir, 1024);
    first.append('t', 'a', 1, 'stdout', Buffer.from('x\n'));
    first.append('t', 'a', 2, 'stdout', Buffer.from('y\n'));
    first.close();
    const second = new LogStore(dir, 1024);
    expect(second.lastSeq('t', 'a')).toBe(2);
    second.append('t', 'a', 2, 'stdout', Buffer.from('y\n'));
    second.append('t', 'a', 3, 'stdout', Buffer.from('z\n'));
    expect(text(second.read('t', ['a']))).toBe('x\ny\nz\n');
  });

  it('does not count a chunk the disk had no room for: the same seq sent again is written, not skipped as applied', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wharf-logs-'));
    const logs = new LogStore(dir, 1024);
    expect(logs.lastSeq('t', 'a')).toBe(0); // the attempt's log is open, its file not yet created
    // every write to /dev/full fails with ENOSPC, like a full disk
    symlinkSync('/dev/full', join(dir, 'logs', 't', 'a.log'));
    const refused = (() => {
      try {
        logs.append('t', 'a', 1, 'stdout', Buffer.from('one\n'));
      } catch (error: unknown) {
        return WharfError.from(error);
      }
      return undefined;
    })();
    expect(refused).toMatchObject({ code: 'storage_full', message: expect.stringMatching(/^master storage full/) });
    expect(logs.chunksReceived('t', 'a')).toBe(0);
    expect(() => logs.append('t', 'a', 1, 'stdout', Buffer.from('one\n'))).toThrow();
  });

  it('drops a torn last frame (a crash or a full disk mid-write) when it opens the log, so frames appended later are read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wharf-logs-'));
    const first = new LogStore(dir, 1024);
    first.append('t', 'a', 1, 'stdout', Buffer.from('one\n'));
    first.close();
    const file = join(dir, 'logs', 't', 'a.log');
    expect(existsSync(file)).toBe(true);
    // half a frame: a header that promises 100 bytes, and 3 of them
    const torn = Buffer.alloc(9 + 3);
    torn.writeUInt8(0, 0);
    torn.writeUInt32BE(2, 1);
    torn.writeUInt32BE(100, 5);
    writeFileSync(file, torn, { flag: 'a' });
    const second = new LogStore(dir, 1024);
    expect(second.append('t', 'a', 2, 'stdout', Buffer.from('two\n'))).toBe(2);
    expect(text(second.read('t', ['a']))).toBe('one\ntwo\n');
  });

  it('truncates past the cap with one visible marker', () => {
    const logs = new LogStore(mkdtempSync(join(tmpdir(), 'wharf-logs-')), 10);
    logs.append('t', 'a', 1, 'stdout', Buffer.from('12345678'));
    logs.append('t', 'a', 2, 'stdout', Buffer.from('abcdef'));
    logs.append('t', 'a', 3, 'stdout', Buffer.from('LOST-TAIL'));
    const out = text(logs.read('t', ['a']));
    expect(out.startsWith('12345678ab')).toBe(true);
    expect(out).toContain('[wharf] log truncated');
    expect(out).not.toContain('LOST-TAIL');
    expect(out.match(/log truncated/g)).toHaveLength(1);
  });

  it('tells subscribers about every applied chunk', () => {
    const logs = new LogStore(mkdtempSync(join(tmpdir(), 'wharf-logs-')), 1024);
    const seen: string[] = [];
    const stop = logs.subscribe('t', (e) => seen.push(e.data.toString()));
    logs.append('t', 'a', 1, 'stdout', Buffer.from('a'));
    logs.append('t', 'a', 1, 'stdout', Buffer.from('a'));
    stop();
    logs.append('t', 'a', 2, 'stdout', Buffer.from('b'));
    expect(seen).toEqual(['a']);
  });

  it('refuses a chunk that skips a seq, naming the seq to resend from, and stores nothing out of order', () => {
    const logs = new LogStore(mkdtempSync(join(tmpdir(), 'wharf-logs-')), 1024);
    logs.append('t', 'a', 1, 'stdout', Buffer.from('1\n'));
    logs.append('t', 'a', 2, 'stdout', Buffer.from('2\n'));
    let refused: unknown;
    try {
      logs.append('t', 'a', 4, 'stdout', Buffer.from('4\n'));
    } catch (error: unknown) {
      refused = error;
    }
    expect(refused).toMatchObject({ code: 'sequence_gap', details: { expectedSeq: 3 }, message: expect.stringContaining('expected seq 3') });
    expect(logs.chunksReceived('t', 'a')).toBe(2);
    // the worker resends from 3: all four, in order, once
    logs.append('t', 'a', 3, 'stdout', Buffer.from('3\n'));
    logs.append('t', 'a', 4, 'stdout', Buffer.from('4\n'));
    expect(text(logs.read('t', ['a']))).toBe('1\n2\n3\n4\n');
    expect(logs.chunksReceived('t', 'a')).toBe(4);
  });

  it('refuses a seq that is not a whole number from 1', () => {
    const logs = new LogStore(mkdtempSync(join(tmpdir(), 'wharf-logs-')), 1024);
    for (const seq of [0, -1, 1.5, 2 ** 40]) {
      expect(() => logs.append('t', 'a', seq, 'stdout', Buffer.from('x'))).toThrow(/seq: must be a whole number from 1/);
    }
  });

  it('counts the chunks dropped past the cap as received, also after a restart', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wharf-logs-'));
    const first = new LogStore(dir, 4);
    for (let seq = 1; seq <= 5; seq += 1) first.append('t', 'a', seq, 'stdout', Buffer.from('abc'));
    expect(first.chunksReceived('t', 'a')).toBe(5);
    first.close();
    const second = new LogStore(dir, 4);
    expect(second.chunksReceived('t', 'a')).toBe(5);
    const out = text(second.read('t', ['a']));
    expect(out.startsWith('abca')).toBe(true);
    expect(out.match(/log truncated/g)).toHaveLength(1);
  });
});
