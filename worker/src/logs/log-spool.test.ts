import { appendFile, mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LogSpool } from './log-spool.js';

describe('LogSpool', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'wharf-spool-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('gives back the frames it was given, also after it is reopened', async () => {
    const file = path.join(dir, 'logs.spool');
    const spool = await LogSpool.open(file);
    await spool.append({ seq: 1, stream: 'STDOUT', data: Buffer.from('hello\n'), atMs: 1000, cursor: '42' });
    await spool.append({ seq: 2, stream: 'SYSTEM', data: Buffer.from('note\n'), atMs: 2000 });
    await spool.close();

    const reopened = await LogSpool.open(file);
    expect(reopened.lastSeq).toBe(2);
    expect(reopened.lastCursor).toBe('42');
    expect(await reopened.read(1)).toEqual({ seq: 1, stream: 'STDOUT', data: Buffer.from('hello\n'), atMs: 1000, cursor: '42' });
    expect(await reopened.read(2)).toEqual({ seq: 2, stream: 'SYSTEM', data: Buffer.from('note\n'), atMs: 2000 });
    await reopened.append({ seq: 3, stream: 'STDERR', data: Buffer.from('more'), atMs: 3000 });
    expect((await reopened.read(3)).data.toString()).toBe('more');
    await reopened.close();
  });

  it('cuts off a torn last record when reopened', async () => {
    const file = path.join(dir, 'logs.spool');
    const spool = await LogSpool.open(file);
    await spool.append({ seq: 1, stream: 'STDOUT', data: Buffer.from('complete'), atMs: 1 });
    await spool.close();
    const { size } = await stat(file);
    await appendFile(file, Buffer.from([0x57, 0, 0, 0, 0, 2, 1, 2, 3]));

    const reopened = await LogSpool.open(file);
    expect(reopened.lastSeq).toBe(1);
    expect((await stat(file)).size).toBe(size);
    await reopened.append({ seq: 2, stream: 'STDOUT', data: Buffer.from('next'), atMs: 2 });
    expect((await reopened.read(2)).data.toString()).toBe('next');
    await reopened.close();
  });

  it('refuses a frame out of order', async () => {
    const spool = await LogSpool.open(path.join(dir, 'logs.spool'));
    await expect(spool.append({ seq: 2, stream: 'STDOUT', data: Buffer.from('x'), atMs: 1 })).rejects.toThrow('expected seq 1');
    await spool.close();
  });
});
