// The on-disk outbox of attempt results: <dir>/<attemptId>.json, one file per result, written
// atomically (temporary file, fsync, rename, fsync of the folder). A result stays until the
// master acknowledges it, so it survives a dropped connection, a master restart and a worker
// restart; the session resends every stored result on each (re)connect.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { AttemptResult__Output } from '@wharf/proto';

export type StoredResult = AttemptResult__Output;

const StoredResultSchema = z.object({
  attemptId: z.string().min(1),
  taskId: z.string(),
  outcome: z.string(),
  exitCode: z.number(),
  hasExitCode: z.boolean(),
  startedAtMs: z.number(),
  finishedAtMs: z.number(),
  error: z.string(),
  files: z.array(z.object({ path: z.string(), size: z.number(), sha256: z.string() })),
  logChunks: z.number(),
  // DAG input reports (absent in results stored before DAGs existed)
  inputs: z.array(z.object({ name: z.string(), sha256: z.string(), cacheHit: z.boolean(), bytes: z.number() })).default([]),
  // S3: the declared outputs this worker put into the bucket; null = none reported (and in
  // results stored before they were kept)
  directUploads: z
    .object({ artifacts: z.array(z.object({ name: z.string(), sha256: z.string(), size: z.number() })) })
    .nullable()
    .default(null),
});

const SAFE_ID = /^[A-Za-z0-9._-]{1,200}$/;

export class ResultOutbox {
  private readonly results = new Map<string, StoredResult>();

  private constructor(
    private readonly dir: string,
    private readonly logger: Logger,
  ) {}

  /** Opens (creating if needed) the outbox folder and loads what it holds. */
  static async open(dir: string, logger: Logger): Promise<ResultOutbox> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const outbox = new ResultOutbox(dir, logger);
    await outbox.load();
    return outbox;
  }

  private async load(): Promise<void> {
    for (const entry of await readdir(this.dir)) {
      const file = path.join(this.dir, entry);
      if (entry.endsWith('.tmp')) {
        await rm(file, { force: true }); // a write that never reached its rename
        continue;
      }
      if (!entry.endsWith('.json')) continue;
      try {
        const parsed = StoredResultSchema.parse(JSON.parse(await readFile(file, 'utf8')));
        this.results.set(parsed.attemptId, parsed);
      } catch (error: unknown) {
        this.logger.error({ err: error, file }, 'unreadable result in the outbox; moving it aside');
        await rename(file, `${file}.corrupt`).catch(() => undefined);
      }
    }
  }

  has(attemptId: string): boolean {
    return this.results.has(attemptId);
  }

  get(attemptId: string): StoredResult | undefined {
    return this.results.get(attemptId);
  }

  /** Every stored result, oldest first by finish time. */
  list(): StoredResult[] {
    return [...this.results.values()].sort((a, b) => a.finishedAtMs - b.finishedAtMs);
  }

  /** Stores (or replaces) a result; resolves once it is durable on disk. */
  async put(result: StoredResult): Promise<void> {
    const file = this.fileOf(result.attemptId);
    const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    const handle = await open(tmp, 'w', 0o600);
    try {
      await handle.writeFile(JSON.stringify(result));
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await rename(tmp, file);
    } catch (error: unknown) {
      await rm(tmp, { force: true });
      throw error;
    }
    await this.syncDir();
    this.results.set(result.attemptId, result);
  }

  /** Forgets a result (acknowledged by the master, or dropped). */
  async delete(attemptId: string): Promise<void> {
    this.results.delete(attemptId);
    await rm(this.fileOf(attemptId), { force: true });
  }

  private fileOf(attemptId: string): string {
    if (!SAFE_ID.test(attemptId) || attemptId === '.' || attemptId === '..') {
      throw new Error(`attempt id ${JSON.stringify(attemptId)} cannot name an outbox file`);
    }
    return path.join(this.dir, `${attemptId}.json`);
  }

  private async syncDir(): Promise<void> {
    const dir = await open(this.dir, 'r');
    try {
      await dir.sync();
    } catch {
      // some filesystems refuse fsync on a directory; the rename is still atomic
    } finally {
      await dir.close();
    }
  }
}
