import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { extractTar } from './kubernetes-tar.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'wharf-tar-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** `tar cf - -C src .` by the host's tar, as the sidecar runs it, in chunks of `chunk` bytes. */
async function tarOf(src: string, extraArgs: string[] = []): Promise<Buffer> {
  const child = spawn('tar', ['-c', '-f', '-', ...extraArgs, '-C', src, '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const chunks: Buffer[] = [];
  for await (const chunk of child.stdout) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function chunked(data: Buffer, size: number): Readable {
  const pieces: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) pieces.push(data.subarray(i, i + size));
  return Readable.from(pieces);
}

/** One ustar header + data for a hand-made entry. */
function entry(name: string, type: string, data = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0, 100, 'utf8');
  header.write('0000644\0', 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124);
  header.write('00000000000\0', 136);
  header.write('        ', 148);
  header.write(type, 156);
  header.write('ustar\0', 257);
  header.write('00', 263);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  const padding = Buffer.alloc((512 - (data.length % 512)) % 512);
  return Buffer.concat([header, data, padding]);
}

describe('extractTar', () => {
  it.each([1, 7, 512, 65536])('unpacks what tar packed, byte for byte, whatever the chunk size (%i)', async (chunkSize) => {
    const src = path.join(dir, 'src');
    await mkdir(path.join(src, 'nested/deeper'), { recursive: true });
    await mkdir(path.join(src, 'empty'));
    await writeFile(path.join(src, 'hello.txt'), 'hello\n');
    await writeFile(path.join(src, 'binary.bin'), Buffer.from([0, 1, 255]));
    const big = Buffer.alloc(300_001, 7);
    await writeFile(path.join(src, 'nested/deeper/big.bin'), big);
    const long = `${'n'.repeat(120)}.txt`; // longer than the 100 bytes of a plain ustar name
    await writeFile(path.join(src, 'nested', long), 'long name\n');
    const out = path.join(dir, 'out');
    const result = await extractTar(chunked(await tarOf(src), chunkSize), out);
    expect(result).toEqual({ files: 4, bytes: 6 + 3 + big.length + 10, skipped: [] });
    expect(await readFile(path.join(out, 'hello.txt'), 'utf8')).toBe('hello\n');
    expect(await readFile(path.join(out, 'binary.bin'))).toEqual(Buffer.from([0, 1, 255]));
    expect((await readFile(path.join(out, 'nested/deeper/big.bin'))).equals(big)).toBe(true);
    expect(await readFile(path.join(out, 'nested', long), 'utf8')).toBe('long name\n');
  });

  it('reads the pax format too', async () => {
    const src = path.join(dir, 'src');
    await mkdir(src);
    await writeFile(path.join(src, `${'p'.repeat(150)}.txt`), 'pax\n');
    const out = path.join(dir, 'out');
    await extractTar(chunked(await tarOf(src, ['--format=pax']), 100), out);
    expect(await readFile(path.join(out, `${'p'.repeat(150)}.txt`), 'utf8')).toBe('pax\n');
  });

  it('skips links and says so', async () => {
    const src = path.join(dir, 'src');
    await mkdir(src);
    await writeFile(path.join(src, 'real.txt'), 'x');
    await symlink('/etc/passwd', path.join(src, 'link'));
    const out = path.join(dir, 'out');
    const result = await extractTar(chunked(await tarOf(src), 4096), out);
    expect(result.files).toBe(1);
    expect(result.skipped).toEqual(['./link (symbolic link)']);
  });

  it('refuses entries that would land outside the folder', async () => {
    const archive = Buffer.concat([entry('../escape.txt', '0', Buffer.from('x')), Buffer.alloc(1024)]);
    await expect(extractTar(chunked(archive, 512), path.join(dir, 'out'))).rejects.toThrow('outside the output folder: ../escape.txt');
    const absolute = Buffer.concat([entry('/tmp/abs.txt', '0', Buffer.from('x')), Buffer.alloc(1024)]);
    await expect(extractTar(chunked(absolute, 512), path.join(dir, 'out'))).rejects.toThrow('outside the output folder');
  });

  it('refuses a stream that is not a tar archive, and one cut short', async () => {
    await expect(extractTar(chunked(Buffer.alloc(1024, 65), 100), path.join(dir, 'a'))).rejects.toThrow('not a tar archive');
    const cut = entry('file.txt', '0', Buffer.alloc(2000, 1)).subarray(0, 1200);
    await expect(extractTar(chunked(cut, 100), path.join(dir, 'b'))).rejects.toThrow('ended in the middle');
  });
});
