import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ResultOutbox, type StoredResult } from './result-outbox.js';

const logger = pino({ level: 'silent' });

function result(attemptId: string, finishedAtMs = 2000): StoredResult {
  return {
    attemptId,
    taskId: `task-of-${attemptId}`,
    outcome: 'succeeded',
    exitCode: 0,
    hasExitCode: true,
    startedAtMs: 1000,
    finishedAtMs,
    error: '',
    files: [{ path: 'out.txt', size: 3, sha256: 'abc' }],
    logChunks: 4,
    inputs: [],
    directUploads: null,
  };
}

describe('ResultOutbox', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'wharf-outbox-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes one JSON file per result and leaves no temporary file behind', async () => {
    const outbox = await ResultOutbox.open(dir, logger);
    await outbox.put(result('a1'));
    expect(await readdir(dir)).toEqual(['a1.json']);
    expect(JSON.parse(await readFile(path.join(dir, 'a1.json'), 'utf8'))).toEqual(result('a1'));
  });

  it('keeps results across a reopen (a worker restart)', async () => {
    const first = await ResultOutbox.open(dir, logger);
    await first.put(result('late', 3000));
    await first.put(result('early', 1500));
    const second = await ResultOutbox.open(dir, logger);
    expect(second.has('early')).toBe(true);
    expect(second.get('late')).toEqual(result('late', 3000));
    expect(second.list().map((r) => r.attemptId)).toEqual(['early', 'late']);
  });

  it('keeps the direct uploads a result reports across a reopen, and reads a result stored before they were kept as reporting none', async () => {
    const first = await ResultOutbox.open(dir, logger);
    const direct = { ...result('s3'), directUploads: { artifacts: [{ name: 'model.bin', sha256: 'f'.repeat(64), size: 7 }] } };
    await first.put(direct);
    const { directUploads: _none, ...older } = result('old');
    await writeFile(path.join(dir, 'old.json'), JSON.stringify(older));
    const second = await ResultOutbox.open(dir, logger);
    expect(second.get('s3')).toEqual(direct);
    expect(second.get('old')).toEqual(result('old'));
  });

  it('replaces a result atomically when it is written again', async () => {
    const outbox = await ResultOutbox.open(dir, logger);
    await outbox.put(result('a1'));
    await outbox.put({ ...result('a1'), outcome: 'failed' });
    const reopened = await ResultOutbox.open(dir, logger);
    expect(reopened.get('a1')?.outcome).toBe('failed');
    expect(await readdir(dir)).toEqual(['a1.json']);
  });

  it('deletes a result once it is acknowledged, also on disk', async () => {
    const outbox = await ResultOutbox.open(dir, logger);
    await outbox.put(result('a1'));
    await outbox.delete('a1');
    expect(outbox.has('a1')).toBe(false);
    expect(await readdir(dir)).toEqual([]);
    expect((await ResultOutbox.open(dir, logger)).list()).toEqual([]);
  });

  it('drops half-written temporary files and sets unreadable results aside when opened', async () => {
    await writeFile(path.join(dir, 'a1.json.1234.tmp'), '{"attemptId":');
    await writeFile(path.join(dir, 'broken.json'), 'not json');
    const outbox = await ResultOutbox.open(dir, logger);
    expect(outbox.list()).toEqual([]);
    expect((await readdir(dir)).sort()).toEqual(['broken.json.corrupt']);
  });

  it('refuses an attempt id that would escape its folder', async () => {
    const outbox = await ResultOutbox.open(dir, logger);
    await expect(outbox.put(result('../evil'))).rejects.toThrow('cannot name an outbox file');
  });
});
