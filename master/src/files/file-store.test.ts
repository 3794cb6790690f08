import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { FileStore } from './file-store.js';

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

async function store(max = 1024 * 1024) {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-files-'));
  const files = new FileStore(dir, max);
  await files.init();
  return { dir, files };
}

describe('FileStore', () => {
  it('stores chunks, checks sha256, answers the records and promotes them into the task folder', async () => {
    const { dir, files } = await store();
    const data = Buffer.from('hello world\n'.repeat(100));
    const upload = files.beginUpload('att1');
    await upload.write({ path: 'out/a.txt', offset: 0, data: data.subarray(0, 500), eof: false, size: 0, sha256: '' });
    await upload.write({ path: 'out/a.txt', offset: 500, data: data.subarray(500), eof: true, size: data.length, sha256: sha(data) });
    const records = await files.stagedRecords('att1', { id: 'task1', userId: 'user1' }, upload.files());
    expect(records).toMatchObject([{ path: 'out/a.txt', size: data.length, sha256: sha(data), taskId: 'task1' }]);
    // records first: nothing moved until promote (after the result is stored)
    expect(existsSync(join(dir, 'files/user1/task1'))).toBe(false);
    await files.promote('att1', { id: 'task1', userId: 'user1' }, records);
    expect(readFileSync(join(dir, 'files/user1/task1/out/a.txt'))).toEqual(data);
    const download = await files.openForDownload({ userId: 'user1', taskId: 'task1', path: 'out/a.txt' });
    expect(await text(download.stream)).toBe(data.toString());
  });

  it('never shows a file whose sha256 does not match', async () => {
    const { dir, files } = await store();
    const upload = files.beginUpload('att2');
    await expect(
      upload.write({ path: 'x', offset: 0, data: Buffer.from('abc'), eof: true, size: 3, sha256: sha(Buffer.from('abd')) }),
    ).rejects.toThrow(/expected 3 bytes with sha256/);
    expect(readdirSync(join(dir, 'files/.staging/att2'))).toEqual([]);
  });

  it('refuses traversal paths and outputs over the cap', async () => {
    const { files } = await store(10);
    const upload = files.beginUpload('att3');
    await expect(upload.write({ path: '../x', offset: 0, data: Buffer.from('a'), eof: true, size: 1, sha256: '' })).rejects.toMatchObject({
      code: 'validation_failed',
    });
    await expect(
      upload.write({ path: 'big', offset: 0, data: Buffer.alloc(11), eof: true, size: 11, sha256: '' }),
    ).rejects.toMatchObject({ code: 'payload_too_large' });
    await upload.abort();
  });

  it('does not follow a link out of the task folder on download', async () => {
    const { dir, files } = await store();
    mkdirSync(join(dir, 'files/u/t'), { recursive: true });
    symlinkSync('/etc/passwd', join(dir, 'files/u/t/link'));
    await expect(files.openForDownload({ userId: 'u', taskId: 't', path: 'link' })).rejects.toMatchObject({ code: 'not_found' });
    await expect(files.openForDownload({ userId: 'u', taskId: 't', path: '../../../etc/passwd' })).rejects.toMatchObject({
      code: 'validation_failed',
    });
  });
});
