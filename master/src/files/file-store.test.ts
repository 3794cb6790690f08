import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { FileStore, type UploadSession } from './file-store.js';

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
    const upload = await files.beginUpload('att1');
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
    const upload = await files.beginUpload('att2');
    await expect(
      upload.write({ path: 'x', offset: 0, data: Buffer.from('abc'), eof: true, size: 3, sha256: sha(Buffer.from('abd')) }),
    ).rejects.toThrow(/expected 3 bytes with sha256/);
    expect(await files.received('att2')).toEqual({ files: [], refusal: undefined });
    expect(readdirSync(join(dir, 'files/.partial'))).toEqual([]);
  });

  it('refuses traversal paths and outputs over the cap', async () => {
    const { files } = await store(10);
    const upload = await files.beginUpload('att3');
    await expect(upload.write({ path: '../x', offset: 0, data: Buffer.from('a'), eof: true, size: 1, sha256: '' })).rejects.toMatchObject({
      code: 'validation_failed',
    });
    await expect(
      upload.write({ path: 'big', offset: 0, data: Buffer.alloc(11), eof: true, size: 11, sha256: '' }),
    ).rejects.toMatchObject({ code: 'payload_too_large' });
    await upload.abort();
  });

  it('keeps an output whose name uses all 255 bytes Linux allows, and one 3,000 bytes deep (the half-received file has a short name of its own)', async () => {
    const { dir, files } = await store();
    const longName = `${'n'.repeat(251)}.txt`;
    const deepPath = `${`${'d'.repeat(249)}/`.repeat(12)}${'f'.repeat(10)}`;
    expect(Buffer.byteLength(longName)).toBe(255);
    expect(Buffer.byteLength(deepPath)).toBe(3010);
    const data = Buffer.from('long names\n');
    const upload = await files.beginUpload('att-long');
    await upload.write({ path: longName, offset: 0, data, eof: false, size: 0, sha256: '' });
    // while the file arrives, its temporary name is the attempt's id and a few hex digits, in .partial/
    const [partial] = readdirSync(join(dir, 'files/.partial'));
    expect(partial).toMatch(/^att-long-[0-9a-f]{12}$/);
    await upload.write({ path: longName, offset: data.length, data: Buffer.alloc(0), eof: true, size: data.length, sha256: sha(data) });
    await uploadFile(upload, deepPath, data);
    const records = await files.stagedRecords('att-long', { id: 'task-long', userId: 'u' }, upload.files());
    expect(records.map((r) => r.path)).toEqual([longName, deepPath]);
    await files.promote('att-long', { id: 'task-long', userId: 'u' }, records);
    for (const path of [longName, deepPath]) {
      const download = await files.openForDownload({ userId: 'u', taskId: 'task-long', path });
      expect(await text(download.stream)).toBe('long names\n');
    }
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

const MiB = 1024 * 1024;

/** Uploads one whole file on a session, in chunks of at most 1 MiB, as a worker does. */
async function uploadFile(session: UploadSession, path: string, data: Buffer): Promise<void> {
  for (let offset = 0; offset < data.length; offset += MiB) {
    const piece = data.subarray(offset, Math.min(offset + MiB, data.length));
    const last = offset + piece.length >= data.length;
    await session.write({ path, offset, data: piece, eof: last, size: last ? data.length : 0, sha256: last ? sha(data) : '' });
  }
}

describe('FileStore: what the master received, per attempt', () => {
  it('counts every upload stream of an attempt against one cap: three 6 MiB streams do not pass 8 MiB', async () => {
    const { files } = await store(8 * MiB);
    const first = await files.beginUpload('att-cap');
    await uploadFile(first, 'one.bin', Buffer.alloc(6 * MiB, 1));
    const second = await files.beginUpload('att-cap');
    const refused = uploadFile(second, 'two.bin', Buffer.alloc(6 * MiB, 2));
    await expect(refused).rejects.toMatchObject({ code: 'payload_too_large' });
    await expect(refused).rejects.toThrow(/outputs of attempt att-cap exceed the cap of 8388608 bytes \(8Mi, WHARF_MAX_OUTPUT_BYTES\)/);
    await second.abort();
    // refused for good: a third stream is turned away at once, and the result sees the refusal
    await expect(files.beginUpload('att-cap')).rejects.toMatchObject({ code: 'payload_too_large' });
    const received = await files.received('att-cap');
    expect(received.files.map((f) => f.path)).toEqual(['one.bin']);
    expect(received.refusal).toMatch(/exceed the cap of 8388608 bytes/);
  });

  it('counts a file uploaded again under the same path once (the difference, not both)', async () => {
    const { files } = await store(8 * MiB);
    for (let i = 0; i < 3; i += 1) {
      const session = await files.beginUpload('att-again');
      await uploadFile(session, 'same.bin', Buffer.alloc(6 * MiB, i));
    }
    const received = await files.received('att-again');
    expect(received.refusal).toBeUndefined();
    expect(received.files).toEqual([{ path: 'same.bin', size: 6 * MiB, sha256: sha(Buffer.alloc(6 * MiB, 2)) }]);
  });

  it("caps an attempt at the task's disk request when it asks for less than the master's limit", async () => {
    const { files } = await store(64 * MiB);
    const session = await files.beginUpload('att-disk', { diskBytes: 10 * MiB });
    await expect(uploadFile(session, 'big.bin', Buffer.alloc(20 * MiB))).rejects.toThrow(
      /outputs of attempt att-disk exceed the cap of 10485760 bytes \(10Mi, the task's disk request\)/,
    );
    await session.abort();
  });

  it('gives a broken stream its bytes back', async () => {
    const { files } = await store(8 * MiB);
    const broken = await files.beginUpload('att-broken');
    await broken.write({ path: 'x.bin', offset: 0, data: Buffer.alloc(6 * MiB), eof: false, size: 0, sha256: '' });
    await broken.abort();
    const again = await files.beginUpload('att-broken');
    await uploadFile(again, 'x.bin', Buffer.alloc(7 * MiB));
    expect((await files.received('att-broken')).files).toHaveLength(1);
  });

  it('keeps the digests it computed and the refusal across a master restart', async () => {
    const { dir, files } = await store(4 * MiB);
    const session = await files.beginUpload('att-restart');
    await uploadFile(session, 'a/kept.txt', Buffer.from('kept'));
    await uploadFile(session, 'b.bin', Buffer.alloc(3 * MiB, 7));
    const restarted = new FileStore(dir, 4 * MiB);
    await restarted.init();
    expect(await restarted.received('att-restart')).toEqual({
      files: expect.arrayContaining([
        { path: 'a/kept.txt', size: 4, sha256: sha(Buffer.from('kept')) },
        { path: 'b.bin', size: 3 * MiB, sha256: sha(Buffer.alloc(3 * MiB, 7)) },
      ]),
      refusal: undefined,
    });
    // what is staged still counts against the cap after the restart
    const more = await restarted.beginUpload('att-restart');
    await expect(uploadFile(more, 'c.bin', Buffer.alloc(2 * MiB))).rejects.toMatchObject({ code: 'payload_too_large' });
    await more.abort();
    const again = new FileStore(dir, 4 * MiB);
    await again.init();
    expect((await again.received('att-restart')).refusal).toMatch(/exceed the cap of 4194304 bytes/);
  });

  it('hashes the staged bytes again when they are not what its manifest says (or it has no line for them)', async () => {
    const { dir, files } = await store();
    const session = await files.beginUpload('att-tamper');
    await uploadFile(session, 'changed.txt', Buffer.from('original'));
    await uploadFile(session, 'unlisted.txt', Buffer.from('no line'));
    writeFileSync(join(dir, 'files/.staging/att-tamper/changed.txt'), 'replaced behind its back');
    const manifest = join(dir, 'files/.received/att-tamper.jsonl');
    writeFileSync(manifest, readFileSync(manifest, 'utf8').split('\n').filter((line) => !line.includes('unlisted.txt')).join('\n') + '\n{"torn');
    const restarted = new FileStore(dir, MiB);
    await restarted.init();
    const received = await restarted.received('att-tamper');
    expect(received.files).toEqual(
      expect.arrayContaining([
        { path: 'changed.txt', size: 24, sha256: sha(Buffer.from('replaced behind its back')) },
        { path: 'unlisted.txt', size: 7, sha256: sha(Buffer.from('no line')) },
      ]),
    );
  });

  it('gives records with the digests it computed, whatever the caller passes, and none for a file it never received', async () => {
    const { files } = await store();
    const session = await files.beginUpload('att-claims');
    await uploadFile(session, 'real.txt', Buffer.from('real'));
    const records = await files.stagedRecords('att-claims', { id: 'task-claims', userId: 'u' }, [
      { path: 'real.txt', size: 99, sha256: 'f'.repeat(64) },
      { path: 'never-sent.txt', size: 1, sha256: 'e'.repeat(64) },
    ] as { path: string; size: number; sha256: string }[]);
    expect(records).toMatchObject([{ path: 'real.txt', size: 4, sha256: sha(Buffer.from('real')), attemptId: 'att-claims' }]);
  });

  it('promotes only the files it is given and drops the rest of the staging', async () => {
    const { dir, files } = await store();
    const session = await files.beginUpload('att-pick');
    await uploadFile(session, 'listed.txt', Buffer.from('listed'));
    await uploadFile(session, 'extra.txt', Buffer.from('extra'));
    const late = await files.beginUpload('att-pick');
    const listed = (await files.received('att-pick')).files.filter((f) => f.path === 'listed.txt');
    const records = await files.stagedRecords('att-pick', { id: 'task-pick', userId: 'u' }, listed);
    expect(records).toMatchObject([{ path: 'listed.txt', size: 6, sha256: sha(Buffer.from('listed')), attemptId: 'att-pick' }]);
    // the records are taken: a stream still open takes nothing more
    await expect(uploadFile(late, 'late.txt', Buffer.from('late'))).rejects.toMatchObject({ code: 'conflict' });
    expect(readdirSync(join(dir, 'files/.partial'))).toEqual([]);
    await files.promote('att-pick', { id: 'task-pick', userId: 'u' }, records);
    expect(readdirSync(join(dir, 'files/u/task-pick'))).toEqual(['listed.txt']);
    expect(existsSync(join(dir, 'files/.received/att-pick.jsonl'))).toBe(false);
    expect(files.stagedAttempts()).not.toContain('att-pick');
  });

  it('after a restart, moves the staged files of a stored result into place with the digests of its manifest', async () => {
    const { dir, files } = await store();
    const session = await files.beginUpload('att-later');
    await uploadFile(session, 'out.txt', Buffer.from('made before the restart'));
    const records = await files.stagedRecords('att-later', { id: 'task-later', userId: 'u' }, (await files.received('att-later')).files);
    const restarted = new FileStore(dir, MiB);
    await restarted.init();
    expect(restarted.stagedAttempts()).toEqual(['att-later']);
    await restarted.promote('att-later', { id: 'task-later', userId: 'u' }, records);
    expect(readFileSync(join(dir, 'files/u/task-later/out.txt'), 'utf8')).toBe('made before the restart');
    expect(restarted.stagedAttempts()).toEqual([]);
    const again = new FileStore(dir, MiB);
    await again.init();
    expect(again.stagedAttempts()).toEqual([]);
  });
});
