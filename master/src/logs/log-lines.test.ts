import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_LINE_BYTES, parseCursor, rawBytes, scanLines } from './log-lines.js';
import { LogStore } from './log-store.js';

function store(): { logs: LogStore; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-log-lines-'));
  return { logs: new LogStore(dir, 1024 ** 3), dir };
}

const attempt = (logs: LogStore, id: string, number: number) => ({ id, number, path: logs.pathOf('t', id) });

describe('scanLines', () => {
  it('joins a line split across chunks, keeps stdout and stderr lines apart, numbers lines within their attempt', async () => {
    const { logs } = store();
    logs.append('t', 'a1', 1, 'stdout', Buffer.from('one\ntw'), 1_000);
    logs.append('t', 'a1', 2, 'stderr', Buffer.from('warn: x\n'), 2_000);
    logs.append('t', 'a1', 3, 'stdout', Buffer.from('o\nthree'), 3_000);
    logs.append('t', 'a2', 1, 'stdout', Buffer.from('again\n'), 4_000);
    const result = await scanLines({ attempts: [attempt(logs, 'a1', 1), attempt(logs, 'a2', 2)], limit: 100, budgetMs: 10_000 });
    expect(result.lines).toEqual([
      { n: 1, attempt: 1, stream: 'stdout', ts: new Date(1_000).toISOString(), text: 'one' },
      { n: 2, attempt: 1, stream: 'stderr', ts: new Date(2_000).toISOString(), text: 'warn: x' },
      // the line began in the first chunk: its time is that chunk's
      { n: 3, attempt: 1, stream: 'stdout', ts: new Date(1_000).toISOString(), text: 'two' },
      // the attempt's last line without a newline is a line too
      { n: 4, attempt: 1, stream: 'stdout', ts: new Date(3_000).toISOString(), text: 'three' },
      { n: 1, attempt: 2, stream: 'stdout', ts: new Date(4_000).toISOString(), text: 'again' },
    ]);
    expect(result.next).toBeNull();
  });

  it('keeps the numbers of the whole log when filtering, and pages from a cursor', async () => {
    const { logs } = store();
    logs.append('t', 'a', 1, 'stdout', Buffer.from(Array.from({ length: 10 }, (_, i) => `line ${i + 1}\n`).join('')));
    const a = attempt(logs, 'a', 1);
    const odd = await scanLines({ attempts: [a], limit: 2, budgetMs: 10_000, match: (text) => /[13579]$/.test(text) });
    expect(odd.lines.map((l) => l.n)).toEqual([1, 3]);
    expect(odd.next).toBe('1:3');
    const rest = await scanLines({ attempts: [a], limit: 10, budgetMs: 10_000, match: (text) => /[13579]$/.test(text), after: parseCursor(odd.next!) });
    expect(rest.lines.map((l) => l.n)).toEqual([5, 7, 9]);
    expect(rest.next).toBeNull();
    expect((await scanLines({ attempts: [a], limit: 10, budgetMs: 10_000, stream: 'stderr' })).lines).toEqual([]);
  });

  it('reads frames stored before timestamps (ts null) and cuts a line longer than the cap', async () => {
    const { logs } = store();
    const path = logs.pathOf('t', 'old');
    logs.append('t', 'old', 1, 'stdout', Buffer.from(''));
    // a frame of the first format: [stream][seq][length][bytes], no atMs
    const data = Buffer.from(`${'x'.repeat(MAX_LINE_BYTES + 10)}\nshort\n`);
    const header = Buffer.alloc(9);
    header.writeUInt8(0, 0);
    header.writeUInt32BE(2, 1);
    header.writeUInt32BE(data.length, 5);
    writeFileSync(path, Buffer.concat([header, data]));
    const result = await scanLines({ attempts: [{ id: 'old', number: 1, path }], limit: 10, budgetMs: 10_000 });
    expect(result.lines.map((l) => [l.text.length, l.cut ?? false, l.ts])).toEqual([
      [MAX_LINE_BYTES, true, null],
      [5, false, null],
    ]);
  });

  it('stops when its time budget runs out and says where to go on', async () => {
    const { logs } = store();
    logs.append('t', 'a', 1, 'stdout', Buffer.from(Array.from({ length: 5000 }, (_, i) => `${i}\n`).join('')));
    let clock = 0;
    const result = await scanLines({ attempts: [attempt(logs, 'a', 1)], limit: 10, budgetMs: 100, match: () => false, now: () => (clock += 60) });
    expect(result.budgetExhausted).toBe(true);
    expect(result.lines).toEqual([]);
    // the clock is read every 2048 lines: 60, 120 (60 ms in), 180 (120 ms in: past the budget)
    expect(result.next).toBe('1:4096');
    const rest = await scanLines({ attempts: [attempt(logs, 'a', 1)], limit: 10, budgetMs: 10_000, after: parseCursor(result.next!) });
    expect(rest.lines[0]!.n).toBe(4097);
  });

  it('answers a missing attempt file (an attempt that wrote nothing) with no lines', async () => {
    const { logs } = store();
    const result = await scanLines({ attempts: [attempt(logs, 'none', 1)], limit: 10, budgetMs: 10_000 });
    expect(result).toEqual({ lines: [], next: null, scanned: 0, budgetExhausted: false });
  });

  it('rawBytes gives back the stored bytes in order, a piece at a time', async () => {
    const { logs } = store();
    logs.append('t', 'a', 1, 'stdout', Buffer.from('out\n'));
    logs.append('t', 'a', 2, 'stderr', Buffer.from('err\n'));
    logs.appendSystem('t', 'a', 'note');
    const pieces: Buffer[] = [];
    for await (const piece of rawBytes(logs.pathOf('t', 'a'))) pieces.push(piece);
    expect(Buffer.concat(pieces).toString()).toBe('out\nerr\nnote\n');
  });

  // Figures for the report, not timed assertions: a search over a 20,000-line and a
  // 1,000,000-line log, with the heap the scan added (it reads 256 KiB at a time).
  it('measures a search over 20,000 and 1,000,000 lines', async () => {
    for (const count of [20_000, 1_000_000]) {
      const { logs } = store();
      const perChunk = 1000;
      for (let seq = 1; seq <= count / perChunk; seq += 1) {
        const first = (seq - 1) * perChunk;
        const text = Array.from({ length: perChunk }, (_, i) => `2026-11-28 line ${first + i + 1} of the task's output, some words to search through\n`).join('');
        logs.append('t', 'big', seq, seq % 7 === 0 ? 'stderr' : 'stdout', Buffer.from(text));
      }
      logs.close();
      const path = logs.pathOf('t', 'big');
      global.gc?.();
      const heapBefore = process.memoryUsage().heapUsed;
      let peak = heapBefore;
      const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 5);
      const started = performance.now();
      const result = await scanLines({ attempts: [{ id: 'big', number: 1, path }], limit: 1000, budgetMs: 60_000, match: (text) => text.includes(`line ${count} of`) });
      const ms = performance.now() - started;
      clearInterval(timer);
      peak = Math.max(peak, process.memoryUsage().heapUsed);
      expect(result.lines.map((l) => l.n)).toEqual([count]);
      expect(result.scanned).toBe(count);
      process.stdout.write(
        `log search: ${count} lines (${(statSync(path).size / 1024 ** 2).toFixed(1)} MiB stored): ${ms.toFixed(0)} ms, heap +${((peak - heapBefore) / 1024 ** 2).toFixed(1)} MiB at most\n`,
      );
    }
  }, 120_000);
});
