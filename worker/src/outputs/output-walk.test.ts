import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FileChunk } from '@wharf/proto';
import { fileChunks } from './file-chunks.js';
import { walkOutputFiles } from './output-walk.js';

const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

describe('walkOutputFiles', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'wharf-walk-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('lists regular files recursively with relative POSIX paths and sizes', async () => {
    await mkdir(path.join(dir, 'reports', 'daily'), { recursive: true });
    await writeFile(path.join(dir, 'top.txt'), 'top');
    await writeFile(path.join(dir, 'reports', 'daily', 'mon.csv'), 'a,b\n1,2\n');
    await writeFile(path.join(dir, 'reports', 'empty'), '');
    const walk = await walkOutputFiles(dir);
    expect(walk.files.map((f) => [f.path, f.size])).toEqual([
      ['reports/daily/mon.csv', 8],
      ['reports/empty', 0],
      ['top.txt', 3],
    ]);
    expect(walk.files[2]?.absolutePath).toBe(path.join(dir, 'top.txt'));
    expect(walk.skipped).toEqual([]);
  });

  it('skips symlinks (to files and to folders) and special files, and says so', async () => {
    await writeFile(path.join(dir, 'real.txt'), 'real');
    await symlink('/etc/passwd', path.join(dir, 'escape'));
    await symlink('/etc', path.join(dir, 'etc-dir'));
    execFileSync('mkfifo', [path.join(dir, 'pipe')]);
    const walk = await walkOutputFiles(dir);
    expect(walk.files.map((f) => f.path)).toEqual(['real.txt']);
    expect(walk.skipped).toEqual([
      { path: 'escape', kind: 'symlink' },
      { path: 'etc-dir', kind: 'symlink' },
      { path: 'pipe', kind: 'special file' },
    ]);
  });

  it('finds nothing in a folder that does not exist', async () => {
    expect(await walkOutputFiles(path.join(dir, 'missing'))).toEqual({ files: [], skipped: [], tooLong: [] });
  });

  it('keeps a 255-byte name, and lists a path past 4096 bytes as too long with the reason', async () => {
    const name = 'n'.repeat(255);
    await writeFile(path.join(dir, name), 'kept');
    // 17 folders of 250 bytes: 4267 bytes below the output folder, made one step at a time
    const deep = path.join(dir, 'deep');
    await mkdir(deep);
    const segment = 'd'.repeat(250);
    execFileSync('sh', ['-c', `cd "${deep}" && for i in $(seq 1 17); do mkdir ${segment} && cd -P ${segment}; done && echo x > f`]);
    const walk = await walkOutputFiles(dir);
    expect(walk.files.map((f) => f.path)).toEqual([name]);
    expect(walk.tooLong).toHaveLength(1);
    expect(walk.tooLong[0]?.path.startsWith(`deep/${segment}/`)).toBe(true);
    expect(walk.tooLong[0]?.reason).toMatch(/passes Linux's limit of 4095 bytes|Wharf keeps output paths up to 4096 bytes/);
    // Node's rm cannot remove a tree this deep; rm(1) can
    execFileSync('rm', ['-rf', deep]);
  });
});

describe('fileChunks', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'wharf-chunks-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function chunksOf(name: string, content: Buffer, chunkBytes?: number): Promise<FileChunk[]> {
    await writeFile(path.join(dir, name), content);
    const [entry] = (await walkOutputFiles(dir)).files.filter((f) => f.path === name);
    if (!entry) throw new Error('file not found');
    const out: FileChunk[] = [];
    for await (const chunk of fileChunks('att-1', entry, chunkBytes)) out.push(chunk);
    return out;
  }

  it('sends a file in chunks with increasing offsets, then an eof chunk with size and sha256', async () => {
    const content = Buffer.from('0123456789abcdefghij');
    const chunks = await chunksOf('data.bin', content, 8);
    expect(chunks.map((c) => [c.offset, Buffer.from(c.data as Buffer).toString(), c.eof ?? false])).toEqual([
      [0, '01234567', false],
      [8, '89abcdef', false],
      [16, 'ghij', false],
      [20, '', true],
    ]);
    expect(chunks.at(-1)).toMatchObject({ attemptId: 'att-1', path: 'data.bin', size: 20, sha256: sha256(content) });
  });

  it('keeps chunks at 1 MiB by default', async () => {
    const content = Buffer.alloc(2.5 * 1024 * 1024, 7);
    const chunks = await chunksOf('big.bin', content);
    expect(chunks.slice(0, -1).map((c) => (c.data as Buffer).length)).toEqual([1048576, 1048576, 524288]);
    expect(chunks.at(-1)).toMatchObject({ eof: true, size: content.length, sha256: sha256(content) });
  });

  it('sends only an eof chunk for an empty file', async () => {
    const chunks = await chunksOf('empty', Buffer.alloc(0));
    expect(chunks).toHaveLength(1);
    expect(chunks[0]).toMatchObject({ eof: true, size: 0, offset: 0, sha256: sha256('') });
  });
});
