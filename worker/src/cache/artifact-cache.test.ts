import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { chmod, readdir, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { ArtifactCache, ArtifactVerificationError, type ArtifactFetcher } from './artifact-cache.js';

const dirs: string[] = [];
function tempDataDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'wharf-cache-test-'));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

interface TestArtifact {
  sha256: string;
  size: number;
  bytes: Buffer;
}
function artifact(content: string): TestArtifact {
  const bytes = Buffer.from(content);
  return { sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length, bytes };
}

/** A fetcher that streams `bytes` (in two chunks) and counts its calls. */
function countingFetcher(bytes: Buffer, delayMs = 0): ArtifactFetcher & { calls: number } {
  const fetcher = Object.assign(
    async (sink: Writable) => {
      fetcher.calls += 1;
      if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
      const half = Math.floor(bytes.length / 2);
      await pipeline(Readable.from([bytes.subarray(0, half), bytes.subarray(half)]), sink);
    },
    { calls: 0 },
  );
  return fetcher;
}

/** Files under <dataDir>/cache/<sub>, recursively. */
async function filesUnder(dataDir: string, sub: string): Promise<string[]> {
  const entries = await readdir(path.join(dataDir, 'cache', sub), { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => e.name);
}

/** A clock the test moves by hand, so "least recently used" is exact. */
function manualClock(): { now: () => number; tick: () => void } {
  let t = 1_000_000;
  return { now: () => t, tick: () => (t += 1000) };
}

describe('ArtifactCache', () => {
  it('fetches on a miss, serves the next request from disk, and stages read-only copies', async () => {
    const dataDir = tempDataDir();
    const cache = await ArtifactCache.open({ dataDir });
    const a = artifact('seq 1 100000 output...\n');
    const fetch = countingFetcher(a.bytes);

    const first = await cache.stage({ artifact: a, dest: path.join(dataDir, 'attempts', 'at1', 'input', 'data.txt'), fetch, useCache: true });
    expect(first).toMatchObject({ hit: false, bytes: a.size, cached: true });
    const second = await cache.stage({ artifact: a, dest: path.join(dataDir, 'attempts', 'at2', 'input', 'sub', 'data.txt'), fetch, useCache: true });
    expect(second).toMatchObject({ hit: true, bytes: a.size, cached: true });
    expect(fetch.calls).toBe(1);

    for (const staged of [first, second]) {
      expect(await readFile(staged.path)).toEqual(a.bytes);
      expect((await stat(staged.path)).mode & 0o777).toBe(0o444);
    }
    expect(await filesUnder(dataDir, 'objects')).toEqual([a.sha256]);
    expect(cache.stats()).toMatchObject({ entries: 1, bytes: a.size, pinnedEntries: 1 });
    first.release();
    second.release();
    second.release(); // idempotent
    expect(cache.stats().pinnedEntries).toBe(0);
    await cache.close();
  });

  it('refuses bytes whose sha256 or size do not match, keeping nothing', async () => {
    const dataDir = tempDataDir();
    const cache = await ArtifactCache.open({ dataDir });
    const a = artifact('the real bytes');
    const damaged = Buffer.from('the real bytez');

    await expect(cache.ensure(a, countingFetcher(damaged))).rejects.toBeInstanceOf(ArtifactVerificationError);
    await expect(cache.ensure(a, countingFetcher(Buffer.from('the real bytes plus more')))).rejects.toThrow(/more than the expected 14 bytes/);
    await expect(cache.ensure(a, countingFetcher(Buffer.from('short')))).rejects.toThrow(/received 5 bytes/);
    await expect(cache.ensure(a, async () => { throw new Error('connection reset'); })).rejects.toThrow('connection reset');

    expect(cache.has(a.sha256)).toBe(false);
    expect(cache.stats()).toMatchObject({ entries: 0, bytes: 0, pinnedEntries: 0 });
    expect(await filesUnder(dataDir, 'objects')).toEqual([]);
    expect(await filesUnder(dataDir, 'tmp')).toEqual([]);

    // the next request with the right bytes fills it
    const lease = await cache.ensure(a, countingFetcher(a.bytes));
    expect(lease.hit).toBe(false);
    expect(await readFile(lease.path)).toEqual(a.bytes);
    lease.release();
    await cache.close();
  });

  it('runs one fetch for concurrent requests of the same artifact', async () => {
    const dataDir = tempDataDir();
    const cache = await ArtifactCache.open({ dataDir });
    const a = artifact('x'.repeat(100_000));
    const fetch = countingFetcher(a.bytes, 50);

    const leases = await Promise.all(Array.from({ length: 5 }, () => cache.ensure(a, fetch)));
    expect(fetch.calls).toBe(1);
    expect(leases.filter((l) => !l.hit)).toHaveLength(1);
    expect(new Set(leases.map((l) => l.path)).size).toBe(1);
    expect(cache.stats()).toMatchObject({ entries: 1, pinnedEntries: 1 });
    leases.forEach((l) => l.release());
    expect(cache.stats().pinnedEntries).toBe(0);
    await cache.close();
  });

  it('shares a failing fetch with every concurrent request, then fetches afresh', async () => {
    const dataDir = tempDataDir();
    const cache = await ArtifactCache.open({ dataDir });
    const a = artifact('payload');
    const bad = countingFetcher(Buffer.from('paylOad'), 30);
    const results = await Promise.allSettled([cache.ensure(a, bad), cache.ensure(a, bad), cache.ensure(a, bad)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(bad.calls).toBe(1);
    expect(cache.stats().pinnedEntries).toBe(0);
    const good = countingFetcher(a.bytes);
    (await cache.ensure(a, good)).release();
    expect(good.calls).toBe(1);
    await cache.close();
  });

  it('evicts the least recently used entries to stay under its size limit', async () => {
    const dataDir = tempDataDir();
    const clock = manualClock();
    const cache = await ArtifactCache.open({ dataDir, maxBytes: 30, now: clock.now });
    const [a, b, c, d] = ['aaaaaaaaaa', 'bbbbbbbbbb', 'cccccccccc', 'dddddddddd'].map(artifact) as [TestArtifact, TestArtifact, TestArtifact, TestArtifact];
    for (const x of [a, b, c]) {
      (await cache.ensure(x, countingFetcher(x.bytes))).release();
      clock.tick();
    }
    // a is used again, so b is now the least recently used
    const again = await cache.ensure(a, countingFetcher(a.bytes));
    expect(again.hit).toBe(true);
    again.release();
    clock.tick();

    (await cache.ensure(d, countingFetcher(d.bytes))).release();
    expect([a, b, c, d].map((x) => cache.has(x.sha256))).toEqual([true, false, true, true]);
    expect(cache.stats()).toMatchObject({ entries: 3, bytes: 30, evictions: 1 });
    expect((await filesUnder(dataDir, 'objects')).sort()).toEqual([a.sha256, c.sha256, d.sha256].sort());

    // the evicted one is fetched again when needed, evicting the next least recently used (c)
    clock.tick();
    const refetch = countingFetcher(b.bytes);
    const lease = await cache.ensure(b, refetch);
    expect(lease.hit).toBe(false);
    expect(refetch.calls).toBe(1);
    lease.release();
    expect([a, b, c, d].map((x) => cache.has(x.sha256))).toEqual([true, true, false, true]);
    expect(cache.digests()).toEqual([b.sha256, d.sha256, a.sha256]);
    await cache.close();
  });

  it('never evicts an entry in use, and evicts it once released if the cache is over its limit', async () => {
    const dataDir = tempDataDir();
    const clock = manualClock();
    const cache = await ArtifactCache.open({ dataDir, maxBytes: 20, now: clock.now });
    const [a, b, c] = ['aaaaaaaaaa', 'bbbbbbbbbb', 'cccccccccc'].map(artifact) as [TestArtifact, TestArtifact, TestArtifact];
    const held = await cache.ensure(a, countingFetcher(a.bytes)); // oldest, but pinned
    clock.tick();
    (await cache.ensure(b, countingFetcher(b.bytes))).release();
    clock.tick();
    (await cache.ensure(c, countingFetcher(c.bytes))).release();
    expect([a, b, c].map((x) => cache.has(x.sha256))).toEqual([true, false, true]);
    expect(await readFile(held.path)).toEqual(a.bytes);

    // more pinned than the limit: the cache goes over it while pinned, and comes back after
    const big = artifact('B'.repeat(25));
    const bigLease = await cache.ensure(big, countingFetcher(big.bytes));
    expect(cache.has(a.sha256)).toBe(true);
    expect(cache.stats().bytes).toBeGreaterThan(20);
    held.release();
    bigLease.release();
    // eviction after a release runs in the background: wait for it (up to 5 s)
    for (let i = 0; i < 100 && cache.stats().bytes > 20; i += 1) await new Promise((r) => setTimeout(r, 50));
    expect(cache.stats().bytes).toBeLessThanOrEqual(20);
    expect(cache.has(big.sha256)).toBe(false);
    await cache.close();
  });

  it('keeps its entries and their order across a restart', async () => {
    const dataDir = tempDataDir();
    const clock = manualClock();
    const first = await ArtifactCache.open({ dataDir, maxBytes: 30, now: clock.now });
    const [a, b, c, d] = ['aaaaaaaaaa', 'bbbbbbbbbb', 'cccccccccc', 'dddddddddd'].map(artifact) as [TestArtifact, TestArtifact, TestArtifact, TestArtifact];
    for (const x of [b, a, c]) {
      (await first.ensure(x, countingFetcher(x.bytes))).release();
      clock.tick();
    }
    await first.close();

    const second = await ArtifactCache.open({ dataDir, maxBytes: 30, now: clock.now });
    expect(second.stats()).toMatchObject({ entries: 3, bytes: 30 });
    const fetch = countingFetcher(a.bytes);
    const lease = await second.ensure(a, fetch);
    expect(lease.hit).toBe(true);
    expect(fetch.calls).toBe(0);
    lease.release();
    clock.tick();
    // b was the least recently used before the restart and is still the first to go
    (await second.ensure(d, countingFetcher(d.bytes))).release();
    expect([a, b, c, d].map((x) => second.has(x.sha256))).toEqual([true, false, true, true]);
    await second.close();
  });

  it('recovers after a crash: adopts files the index missed, drops temp files and changed objects', async () => {
    const dataDir = tempDataDir();
    const cache = await ArtifactCache.open({ dataDir });
    const a = artifact('alpha');
    const b = artifact('bravo');
    const la = await cache.ensure(a, countingFetcher(a.bytes));
    const lb = await cache.ensure(b, countingFetcher(b.bytes));
    la.release();
    lb.release();
    await cache.close();

    // a crash before the index was written, a half-written fill, and b changed behind our back
    await unlink(path.join(dataDir, 'cache', 'index.json'));
    await writeFile(path.join(dataDir, 'cache', 'tmp', 'half-written'), 'par');
    const reopened = await ArtifactCache.open({ dataDir });
    expect(reopened.stats().entries).toBe(2);
    expect(await filesUnder(dataDir, 'tmp')).toEqual([]);
    await reopened.close();

    await chmod(lb.path, 0o644);
    await writeFile(lb.path, 'BRAVO');
    const again = await ArtifactCache.open({ dataDir });
    expect(again.has(a.sha256)).toBe(true);
    expect(again.has(b.sha256)).toBe(false);
    await again.close();
  });

  it('fetches again an object changed through a hard-linked input', async () => {
    const dataDir = tempDataDir();
    const cache = await ArtifactCache.open({ dataDir });
    const a = artifact('original content');
    const fetch = countingFetcher(a.bytes);
    const staged = await cache.stage({ artifact: a, dest: path.join(dataDir, 'attempts', 'x', 'input', 'f'), fetch, useCache: true });
    staged.release();
    // a task that could write its input (root ignores 0444 unless the mount is read-only)
    await chmod(staged.path, 0o644);
    await writeFile(staged.path, 'tampered content');
    const next = await cache.stage({ artifact: a, dest: path.join(dataDir, 'attempts', 'y', 'input', 'f'), fetch, useCache: true });
    expect(next.hit).toBe(false);
    expect(fetch.calls).toBe(2);
    expect(await readFile(next.path, 'utf8')).toBe('original content');
    next.release();
    await cache.close();
  });

  it('with useCache false neither reads nor fills the cache, and still verifies', async () => {
    const dataDir = tempDataDir();
    const cache = await ArtifactCache.open({ dataDir });
    const a = artifact('uncached input');
    const fetch = countingFetcher(a.bytes);
    const dest = path.join(dataDir, 'attempts', 'n1', 'input', 'in.txt');

    const staged = await cache.stage({ artifact: a, dest, fetch, useCache: false });
    expect(staged).toMatchObject({ hit: false, cached: false, bytes: a.size, path: dest });
    expect(await readFile(dest)).toEqual(a.bytes);
    expect((await stat(dest)).mode & 0o777).toBe(0o444);
    expect(cache.stats().entries).toBe(0);
    expect(await filesUnder(dataDir, 'objects')).toEqual([]);

    // even when the cache holds the artifact, useCache false fetches it
    (await cache.ensure(a, countingFetcher(a.bytes))).release();
    const other = path.join(dataDir, 'attempts', 'n2', 'input', 'in.txt');
    expect(await cache.stage({ artifact: a, dest: other, fetch, useCache: false })).toMatchObject({ hit: false, cached: false });
    expect(fetch.calls).toBe(2);

    const wrongDest = path.join(dataDir, 'attempts', 'n3', 'input', 'in.txt');
    await expect(cache.stage({ artifact: a, dest: wrongDest, fetch: countingFetcher(Buffer.from('uncached inpuT')), useCache: false })).rejects.toBeInstanceOf(
      ArtifactVerificationError,
    );
    expect(await readdir(path.dirname(wrongDest))).toEqual([]);
    await cache.close();
  });

  it('refuses a malformed digest', async () => {
    const cache = await ArtifactCache.open({ dataDir: tempDataDir() });
    await expect(cache.ensure({ sha256: '../../etc/passwd', size: 1 }, countingFetcher(Buffer.from('x')))).rejects.toThrow(/64 lowercase hex/);
    await cache.close();
  });
});
