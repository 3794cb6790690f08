// The worker's artifact cache: DAG inputs kept by content (sha256) so that a file one task
// needs is fetched over the network once per worker and reused by later attempts, later
// runs and other DAGs that produce the same bytes.
//
// Layout under <dataDir>/cache:
//   objects/<2 hex>/<2 hex>/<sha256>   the files, read-only (0444), each renamed into place
//                                      only after its size and sha256 were verified and fsynced
//   tmp/                               fills in progress (emptied on open)
//   index.json                         size, last use and seal (mtime, set to a whole second
//                                      before the fill) of every object; written
//                                      to a temp file, fsynced and renamed, so it is whole or old
//
// Opening reconciles the index with a scan of objects/: an object the index does not know
// (a crash between rename and index write) is adopted; an index entry without its file is
// dropped; an object whose size or mtime differs from its index entry was changed after it
// was sealed and is deleted. The same size+mtime check runs on every hit, so a file changed
// through a hard link (an input folder mounted read-write by mistake) is never served again.
//
// Limits: the total size stays under maxBytes (default 10 GiB) by evicting the least recently
// used entries. An entry is pinned while a lease on it is held (from ensure() until
// release()), and pinned entries are never evicted; so the cache may exceed its limit while
// more than the limit is pinned, and comes back under it as leases are released.
//
// Single flight: concurrent ensure() calls for one sha256 share one lookup and one fetch.
// Only the call that started the fetch reports `hit: false`; the others were served from the
// cache and report `hit: true`.
import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { chmod, copyFile, link, mkdir, readdir, readFile, rename, rm, stat, unlink, utimes } from 'node:fs/promises';
import path from 'node:path';
import type { Writable } from 'node:stream';
import type { Logger } from 'pino';
import { writeFileAtomic } from '@wharf/proto';
import { VerifyingFileSink, type ExpectedArtifact } from './verifying-file-sink.js';

export { ArtifactVerificationError, type ExpectedArtifact } from './verifying-file-sink.js';

export const DEFAULT_CACHE_MAX_BYTES = 10 * 1024 ** 3;
const SHA256 = /^[a-f0-9]{64}$/;
const INDEX_VERSION = 1;

/**
 * Writes the artifact's bytes into `sink` (e.g. `pipeline(response.body, sink)` for a
 * presigned URL, or one write per gRPC chunk followed by `sink.end()`). The cache verifies
 * size and sha256; a fetch that resolves without ending the sink has it ended for it.
 */
export type ArtifactFetcher = (sink: Writable) => Promise<void>;

export interface CacheLease {
  sha256: string;
  /** the cached file (read-only); valid until release() */
  path: string;
  /** false only for the call whose fetch filled the cache */
  hit: boolean;
  bytes: number;
  /** unpins the entry; idempotent */
  release(): void;
}

export interface StagedInput {
  sha256: string;
  /** where the file now is (the destination given), read-only */
  path: string;
  /** served from the cache without moving bytes over the network */
  hit: boolean;
  bytes: number;
  /** whether the cache was used at all (false with useCache: false) */
  cached: boolean;
  /** releases the cache entry's pin; call when the attempt ends. Idempotent. */
  release(): void;
}

export interface ArtifactCacheOptions {
  /** the worker's data dir; the cache lives in <dataDir>/cache */
  dataDir: string;
  /** default 10 GiB */
  maxBytes?: number;
  logger?: Pick<Logger, 'warn' | 'info' | 'debug'>;
  /** clock for last-use times (tests) */
  now?: () => number;
}

export interface CacheStats {
  entries: number;
  bytes: number;
  maxBytes: number;
  pinnedEntries: number;
  /** entries removed to stay under maxBytes since open */
  evictions: number;
}

interface Entry {
  sha256: string;
  size: number;
  /** the object file's mtime when it was sealed; a different mtime means it was changed */
  mtimeMs: number;
  lastUsedMs: number;
  /** tie-breaker for equal lastUsedMs, in memory only */
  seq: number;
}

interface IndexFile {
  version: number;
  entries: Array<{ sha256: string; size: number; mtimeMs: number; lastUsedMs: number }>;
}

export class ArtifactCache {
  private readonly root: string;
  private readonly objectsDir: string;
  private readonly tmpDir: string;
  private readonly indexPath: string;
  private readonly maxBytes: number;
  private readonly now: () => number;
  private readonly logger: Pick<Logger, 'warn' | 'info' | 'debug'> | undefined;
  private readonly entries = new Map<string, Entry>();
  private readonly pins = new Map<string, number>();
  private readonly inflight = new Map<string, Promise<'hit' | 'filled'>>();
  private totalBytes = 0;
  private seq = 0;
  private evictions = 0;
  private indexDirty = false;
  private indexWrite: Promise<void> | undefined;

  private constructor(options: ArtifactCacheOptions) {
    this.root = path.join(options.dataDir, 'cache');
    this.objectsDir = path.join(this.root, 'objects');
    this.tmpDir = path.join(this.root, 'tmp');
    this.indexPath = path.join(this.root, 'index.json');
    this.maxBytes = options.maxBytes ?? DEFAULT_CACHE_MAX_BYTES;
    if (!Number.isSafeInteger(this.maxBytes) || this.maxBytes < 0) throw new Error(`cache size limit must be a whole number of bytes (got ${this.maxBytes})`);
    this.now = options.now ?? Date.now;
    this.logger = options.logger;
  }

  /** Opens (creating or recovering) the cache in <dataDir>/cache. */
  static async open(options: ArtifactCacheOptions): Promise<ArtifactCache> {
    const cache = new ArtifactCache(options);
    await cache.load();
    return cache;
  }

  /**
   * Makes the artifact available in the cache and pins it: a hit returns at once; a miss runs
   * `fetch` once (shared with concurrent callers for the same sha256), verifies the bytes and
   * keeps them. A verification or fetch failure rejects and keeps nothing.
   */
  async ensure(artifact: ExpectedArtifact, fetch: ArtifactFetcher): Promise<CacheLease> {
    assertArtifact(artifact);
    const { sha256 } = artifact;
    this.pin(sha256);
    try {
      let flight = this.inflight.get(sha256);
      const started = flight === undefined;
      if (!flight) {
        flight = this.lookupOrFill(artifact, fetch).finally(() => this.inflight.delete(sha256));
        this.inflight.set(sha256, flight);
      }
      const outcome = await flight;
      const entry = this.entries.get(sha256);
      if (!entry) throw new Error(`artifact ${sha256} vanished from the cache while pinned`);
      entry.lastUsedMs = Math.max(entry.lastUsedMs, this.now());
      entry.seq = ++this.seq;
      this.schedulePersist();
      let released = false;
      return {
        sha256,
        path: this.objectPath(sha256),
        hit: !started || outcome === 'hit',
        bytes: entry.size,
        release: () => {
          if (released) return;
          released = true;
          this.unpin(sha256);
        },
      };
    } catch (error: unknown) {
      this.unpin(sha256);
      throw error;
    }
  }

  /**
   * Puts an input file at `dest` (e.g. <attempt>/input/<name>), read-only.
   * useCache true: through the cache (ensure), then a hard link to the cached object, or a
   * copy when the destination is on another file system. useCache false: the cache is
   * neither read nor filled — the bytes are fetched straight to `dest` and verified.
   */
  async stage(request: { artifact: ExpectedArtifact; dest: string; fetch: ArtifactFetcher; useCache: boolean }): Promise<StagedInput> {
    const { artifact, dest, fetch } = request;
    assertArtifact(artifact);
    await mkdir(path.dirname(dest), { recursive: true });
    await rm(dest, { force: true });
    if (!request.useCache) {
      await fetchVerified(artifact, `${dest}.part-${randomBytes(6).toString('hex')}`, dest, fetch);
      return { sha256: artifact.sha256, path: dest, hit: false, bytes: artifact.size, cached: false, release: () => undefined };
    }
    const lease = await this.ensure(artifact, fetch);
    try {
      await placeReadOnly(lease.path, dest);
    } catch (error: unknown) {
      lease.release();
      throw error;
    }
    return { sha256: artifact.sha256, path: dest, hit: lease.hit, bytes: lease.bytes, cached: true, release: lease.release };
  }

  has(sha256: string): boolean {
    return this.entries.has(sha256);
  }

  /** The sha256 of every cached artifact, most recently used first (for placement hints). */
  digests(limit = Number.POSITIVE_INFINITY): string[] {
    return [...this.entries.values()]
      .sort((a, b) => b.lastUsedMs - a.lastUsedMs || b.seq - a.seq)
      .slice(0, limit)
      .map((e) => e.sha256);
  }

  stats(): CacheStats {
    return {
      entries: this.entries.size,
      bytes: this.totalBytes,
      maxBytes: this.maxBytes,
      pinnedEntries: [...this.pins.values()].filter((n) => n > 0).length,
      evictions: this.evictions,
    };
  }

  /** Writes the index now (waits for a write in progress). */
  async flush(): Promise<void> {
    this.indexDirty = true;
    await this.persist();
  }

  /** Waits for fills and index writes in progress, then writes the index a last time. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.inflight.values()]);
    await this.flush();
  }

  // ------------------------------------------------------------------ internals

  private objectPath(sha256: string): string {
    return path.join(this.objectsDir, sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  }

  private pin(sha256: string): void {
    this.pins.set(sha256, (this.pins.get(sha256) ?? 0) + 1);
  }

  private unpin(sha256: string): void {
    const count = (this.pins.get(sha256) ?? 0) - 1;
    if (count > 0) this.pins.set(sha256, count);
    else this.pins.delete(sha256);
    if (this.totalBytes > this.maxBytes) void this.evictTo(this.maxBytes).catch((error: unknown) => this.logger?.warn({ err: error }, 'cache eviction failed'));
  }

  private async lookupOrFill(artifact: ExpectedArtifact, fetch: ArtifactFetcher): Promise<'hit' | 'filled'> {
    const entry = this.entries.get(artifact.sha256);
    if (entry) {
      if (await this.stillSealed(entry)) return 'hit';
      this.logger?.warn({ sha256: entry.sha256 }, 'cached artifact was changed after it was stored; fetching it again');
      await this.remove(entry);
    }
    // make room first; an artifact larger than the whole cache evicts nothing for itself and
    // leaves again when its last lease is released
    if (artifact.size <= this.maxBytes) await this.evictTo(this.maxBytes - artifact.size);
    const tmp = path.join(this.tmpDir, `${artifact.sha256}-${randomBytes(6).toString('hex')}`);
    const final = this.objectPath(artifact.sha256);
    await mkdir(path.dirname(final), { recursive: true });
    await fetchVerified(artifact, tmp, final, fetch);
    // seal: an mtime one whole second before now, so any later write (which sets mtime to the
    // current time, whatever the file system's timestamp granularity) is told apart exactly
    const sealedAt = new Date(Math.floor(Date.now() / 1000) * 1000 - 1000);
    await utimes(final, new Date(), sealedAt);
    const stats = await stat(final);
    const added: Entry = { sha256: artifact.sha256, size: stats.size, mtimeMs: stats.mtimeMs, lastUsedMs: this.now(), seq: ++this.seq };
    this.entries.set(added.sha256, added);
    this.totalBytes += added.size;
    this.schedulePersist();
    await this.evictTo(this.maxBytes);
    return 'filled';
  }

  private async stillSealed(entry: Entry): Promise<boolean> {
    const stats = await stat(this.objectPath(entry.sha256)).catch(() => undefined);
    return stats !== undefined && stats.isFile() && stats.size === entry.size && stats.mtimeMs === entry.mtimeMs;
  }

  /** Evicts least recently used, unpinned entries until the total is at most `target`. */
  private async evictTo(target: number): Promise<void> {
    if (this.totalBytes <= target) return;
    const candidates = [...this.entries.values()]
      .filter((e) => !this.pins.has(e.sha256) && !this.inflight.has(e.sha256))
      .sort((a, b) => a.lastUsedMs - b.lastUsedMs || a.seq - b.seq);
    for (const entry of candidates) {
      if (this.totalBytes <= target) break;
      if (this.pins.has(entry.sha256) || this.entries.get(entry.sha256) !== entry) continue;
      this.logger?.debug({ sha256: entry.sha256, size: entry.size }, 'evicting cached artifact');
      this.evictions += 1;
      await this.remove(entry);
    }
  }

  private async remove(entry: Entry): Promise<void> {
    if (this.entries.get(entry.sha256) === entry) {
      this.entries.delete(entry.sha256);
      this.totalBytes -= entry.size;
    }
    this.schedulePersist();
    await unlink(this.objectPath(entry.sha256)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }

  private schedulePersist(): void {
    this.indexDirty = true;
    void this.persist().catch((error: unknown) => this.logger?.warn({ err: error }, 'could not write the cache index'));
  }

  /** One writer at a time; changes made during a write are written by a following one. */
  private async persist(): Promise<void> {
    while (this.indexWrite) await this.indexWrite.catch(() => undefined);
    if (!this.indexDirty) return;
    this.indexDirty = false;
    const body: IndexFile = {
      version: INDEX_VERSION,
      entries: [...this.entries.values()].map(({ sha256, size, mtimeMs, lastUsedMs }) => ({ sha256, size, mtimeMs, lastUsedMs })),
    };
    this.indexWrite = writeFileAtomic(this.indexPath, JSON.stringify(body));
    try {
      await this.indexWrite;
    } finally {
      this.indexWrite = undefined;
    }
  }

  private async load(): Promise<void> {
    await mkdir(this.objectsDir, { recursive: true });
    await rm(this.tmpDir, { recursive: true, force: true });
    await mkdir(this.tmpDir, { recursive: true });
    const known = new Map<string, IndexFile['entries'][number]>();
    try {
      const parsed = JSON.parse(await readFile(this.indexPath, 'utf8')) as Partial<IndexFile>;
      if (parsed.version === INDEX_VERSION && Array.isArray(parsed.entries)) {
        for (const e of parsed.entries) {
          if (typeof e?.sha256 === 'string' && SHA256.test(e.sha256) && Number.isFinite(e.size) && Number.isFinite(e.mtimeMs) && Number.isFinite(e.lastUsedMs)) {
            known.set(e.sha256, e);
          }
        }
      }
    } catch (error: unknown) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.logger?.warn({ err: error }, 'cache index unreadable; rebuilding it from the stored files');
      }
    }
    const found: Entry[] = [];
    for (const file of await walkObjects(this.objectsDir)) {
      const sha256 = path.basename(file);
      if (!SHA256.test(sha256) || file !== this.objectPath(sha256)) {
        await rm(file, { recursive: true, force: true });
        continue;
      }
      const stats = await stat(file);
      const indexed = known.get(sha256);
      if (indexed && (indexed.size !== stats.size || indexed.mtimeMs !== stats.mtimeMs)) {
        this.logger?.warn({ sha256 }, 'cached artifact changed since it was stored; removing it');
        await rm(file, { force: true });
        continue;
      }
      found.push({ sha256, size: stats.size, mtimeMs: stats.mtimeMs, lastUsedMs: indexed?.lastUsedMs ?? stats.mtimeMs, seq: 0 });
    }
    found.sort((a, b) => a.lastUsedMs - b.lastUsedMs);
    for (const entry of found) {
      entry.seq = ++this.seq;
      this.entries.set(entry.sha256, entry);
      this.totalBytes += entry.size;
    }
    await this.evictTo(this.maxBytes);
    await this.flush();
  }
}

function assertArtifact(artifact: ExpectedArtifact): void {
  if (!SHA256.test(artifact.sha256)) throw new Error(`artifact digest must be 64 lowercase hex characters (got ${JSON.stringify(artifact.sha256)})`);
  if (!Number.isSafeInteger(artifact.size) || artifact.size < 0) throw new Error(`artifact size must be a whole number of bytes (got ${artifact.size})`);
}

/** Fetches into `tmp`, verifies, makes it read-only and renames it to `final`; removes `tmp` on any failure. */
async function fetchVerified(artifact: ExpectedArtifact, tmp: string, final: string, fetch: ArtifactFetcher): Promise<void> {
  const sink = new VerifyingFileSink(tmp, artifact, 0o644);
  try {
    try {
      await fetch(sink);
    } catch (error: unknown) {
      sink.destroy();
      // the sink's own verification error says more than the fetcher's copy of it
      await sink.verified.catch(() => undefined);
      throw error;
    }
    if (!sink.writableEnded && !sink.destroyed) sink.end();
    await sink.verified;
    await chmod(tmp, 0o444);
    await rename(tmp, final);
  } catch (error: unknown) {
    await rm(tmp, { force: true });
    throw error;
  }
}

/** A hard link when possible (same file system), a copy otherwise; the result is read-only. */
export async function placeReadOnly(source: string, dest: string): Promise<void> {
  try {
    await link(source, dest);
    return;
  } catch (error: unknown) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'EMLINK' && code !== 'ENOTSUP') throw error;
  }
  const tmp = `${dest}.part-${randomBytes(6).toString('hex')}`;
  try {
    await copyFile(source, tmp, fsConstants.COPYFILE_FICLONE);
    await chmod(tmp, 0o444);
    await rename(tmp, dest);
  } catch (error: unknown) {
    await rm(tmp, { force: true });
    throw error;
  }
}

/** Every file below objects/ (at any depth, so strays are found too). */
async function walkObjects(dir: string): Promise<string[]> {
  const files: string[] = [];
  const stack = [dir];
  while (stack.length > 0) {
    const current = stack.pop()!;
    for (const dirent of await readdir(current, { withFileTypes: true })) {
      const full = path.join(current, dirent.name);
      if (dirent.isDirectory()) stack.push(full);
      else files.push(full);
    }
  }
  return files;
}
