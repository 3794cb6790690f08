// The contract every ArtifactBackend must keep: one shared suite that each backend runs, so a
// second implementation cannot drift from the first. Run by
// disk-artifact-backend.test.ts (unit) and master/test/s3-artifact-backend.test.ts (against
// s3rver on loopback).
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { afterAll, describe, expect, it } from 'vitest';
import { WharfError } from '../errors.js';
import type { ArtifactBackend, ArtifactRef } from './artifact-backend.js';

export function refOf(bytes: Buffer | string): ArtifactRef & { bytes: Buffer } {
  const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes);
  return { sha256: createHash('sha256').update(buffer).digest('hex'), size: buffer.length, bytes: buffer };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error: unknown) {
    expect(error).toBeInstanceOf(WharfError);
    return (error as WharfError).code;
  }
  throw new Error('expected the call to fail');
}

/** @param open gives a fresh, initialised backend (its own directory or bucket) */
export function describeArtifactBackendConformance(name: string, open: () => Promise<ArtifactBackend>): void {
  describe(`ArtifactBackend conformance: ${name}`, () => {
    const scratch = mkdtempSync(path.join(tmpdir(), 'wharf-artifact-conformance-'));
    afterAll(async () => {
      await rm(scratch, { recursive: true, force: true });
    });

    it('stores bytes from a stream under their sha256 and gives them back', async () => {
      const backend = await open();
      const a = refOf(`weights ${'0123456789'.repeat(20_000)}`);
      expect(await backend.exists(a.sha256)).toBe(false);
      expect(await backend.stat(a.sha256)).toBeUndefined();
      expect(await backend.put(a, Readable.from([a.bytes.subarray(0, 1000), a.bytes.subarray(1000)]))).toEqual({ sha256: a.sha256, size: a.size });
      expect(await backend.exists(a.sha256)).toBe(true);
      expect(await backend.stat(a.sha256)).toEqual({ sha256: a.sha256, size: a.size });
      const got = await backend.get(a.sha256);
      expect(got.size).toBe(a.size);
      expect(await text(got.stream)).toBe(a.bytes.toString());
    });

    it('stores a file from disk, and storing it again changes nothing', async () => {
      const backend = await open();
      const a = refOf('a task output file\n');
      const file = path.join(scratch, `out-${Math.random().toString(36).slice(2)}.txt`);
      await writeFile(file, a.bytes);
      await backend.put(a, { path: file });
      await backend.put(a, { path: file });
      await backend.put(a, Readable.from([a.bytes]));
      expect(await backend.stat(a.sha256)).toEqual({ sha256: a.sha256, size: a.size });
      expect(await text((await backend.get(a.sha256)).stream)).toBe('a task output file\n');
    });

    it('stores an empty file', async () => {
      const backend = await open();
      const empty = refOf('');
      await backend.put(empty, Readable.from([]));
      expect(await backend.stat(empty.sha256)).toEqual({ sha256: empty.sha256, size: 0 });
    });

    it('refuses bytes whose sha256 or size differ from what was announced, keeping nothing', async () => {
      const backend = await open();
      const a = refOf('the bytes that were announced');
      expect(await codeOf(backend.put(a, Readable.from([Buffer.from('the bytes that were Announced')])))).toBe('data_corrupted');
      expect(await codeOf(backend.put(a, Readable.from([Buffer.from('short')])))).toBe('data_corrupted');
      expect(await codeOf(backend.put(a, Readable.from([Buffer.from(`${a.bytes.toString()} and more`)])))).toBe('data_corrupted');
      const file = path.join(scratch, `bad-${Math.random().toString(36).slice(2)}.txt`);
      await writeFile(file, 'not the announced bytes at all');
      expect(await codeOf(backend.put(a, { path: file }))).toBe('data_corrupted');
      expect(await backend.exists(a.sha256)).toBe(false);
    });

    it('answers not_found for an artifact it does not hold, and deletes', async () => {
      const backend = await open();
      const a = refOf('to be deleted');
      expect(await codeOf(backend.get(a.sha256))).toBe('not_found');
      await backend.put(a, Readable.from([a.bytes]));
      await backend.delete(a.sha256);
      await backend.delete(a.sha256);
      expect(await backend.exists(a.sha256)).toBe(false);
    });

    it('lists what it stores with sizes and when it was stored, and no longer what it deleted', async () => {
      const backend = await open();
      const before = Date.now() - 60_000; // object stores keep seconds; clocks may differ a little
      const a = refOf('listed a');
      const b = refOf('listed bb');
      await backend.put(a, Readable.from([a.bytes]));
      await backend.put(b, Readable.from([b.bytes]));
      const listed = async () => {
        const found = [];
        for await (const artifact of backend.list()) found.push(artifact);
        return found.sort((x, y) => x.size - y.size);
      };
      const all = await listed();
      expect(all.map(({ sha256, size }) => ({ sha256, size }))).toEqual([
        { sha256: a.sha256, size: a.size },
        { sha256: b.sha256, size: b.size },
      ]);
      for (const artifact of all) expect(artifact.storedAt).toBeGreaterThan(before);
      await backend.delete(a.sha256);
      expect((await listed()).map((x) => x.sha256)).toEqual([b.sha256]);
    });

    it('refuses a malformed digest before touching storage', async () => {
      const backend = await open();
      expect(await codeOf(backend.exists('../../etc/passwd'))).toBe('validation_failed');
      expect(await codeOf(backend.get('ABC'))).toBe('validation_failed');
      expect(await codeOf(backend.put({ sha256: 'x'.repeat(64), size: 1 }, Readable.from([Buffer.from('x')])))).toBe('validation_failed');
    });
  });
}
