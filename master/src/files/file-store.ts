// Task outputs on the master's disk: <data>/files/<userId>/<taskId>/<path>.
//
// An upload belongs to one attempt and lands in <data>/files/.staging/<attemptId>/ first: each
// file is written to a temporary name, checked against its size and sha256, then renamed into
// place, so a half-received file is never visible. When the attempt's result arrives, the file
// records come from its staging (stagedRecords) and are stored with the result; only once that
// commit succeeded do the staged files replace the task's files in one rename (promote). A stale
// or duplicate attempt's staging, or one whose result was refused, is discarded. Paths are
// normalised and confined to the task's folder.
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { createReadStream, existsSync, type ReadStream } from 'node:fs';
import { lstat, mkdir, open, readdir, realpath, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { WharfError } from '../errors.js';
import type { OutputFileRecord } from '../records/output-file.js';
import { normaliseOutputPath } from './output-paths.js';

export interface StoredFile {
  path: string;
  size: number;
  sha256: string;
}

export interface FileChunkInput {
  path: string;
  offset: number;
  data: Buffer;
  eof: boolean;
  size: number;
  sha256: string;
}

interface OpenFile {
  path: string;
  tempPath: string;
  finalPath: string;
  handle: FileHandle;
  hash: Hash;
  written: number;
}

/** One attempt's upload stream: files arrive one after another in chunks. */
export class UploadSession {
  private current: OpenFile | undefined;
  private readonly stored: StoredFile[] = [];
  private totalBytes: number;

  constructor(
    private readonly stagingDir: string,
    private readonly maxBytes: number,
  ) {
    this.totalBytes = 0;
  }

  async write(chunk: FileChunkInput): Promise<void> {
    const path = normaliseOutputPath(chunk.path);
    if (this.current && this.current.path !== path) {
      throw new WharfError('validation_failed', `file ${this.current.path} ended without its final chunk`);
    }
    if (!this.current) {
      if (chunk.offset !== 0) throw new WharfError('validation_failed', `file ${path} must start at offset 0`);
      const finalPath = join(this.stagingDir, ...path.split('/'));
      await mkdir(dirname(finalPath), { recursive: true });
      // a short temporary name beside it: a name of up to 255 bytes plus a suffix would not fit
      const tempPath = join(dirname(finalPath), `.wharf-part-${randomBytes(6).toString('hex')}`);
      this.current = { path, tempPath, finalPath, handle: await open(tempPath, 'wx', 0o644), hash: createHash('sha256'), written: 0 };
    }
    const file = this.current;
    if (chunk.offset !== file.written) {
      throw new WharfError('validation_failed', `file ${path}: chunk at offset ${chunk.offset}, expected ${file.written}`);
    }
    if (chunk.data.length > 0) {
      this.totalBytes += chunk.data.length;
      if (this.totalBytes > this.maxBytes) {
        throw new WharfError('payload_too_large', `task outputs exceed the limit of ${this.maxBytes} bytes`);
      }
      await file.handle.write(chunk.data);
      file.hash.update(chunk.data);
      file.written += chunk.data.length;
    }
    if (chunk.eof) {
      this.current = undefined;
      await file.handle.sync();
      await file.handle.close();
      const sha256 = file.hash.digest('hex');
      if (file.written !== chunk.size || sha256 !== chunk.sha256.toLowerCase()) {
        await rm(file.tempPath, { force: true });
        throw new WharfError(
          'data_corrupted',
          `file ${path}: received ${file.written} bytes with sha256 ${sha256}, expected ${chunk.size} bytes with sha256 ${chunk.sha256}`,
        );
      }
      await rename(file.tempPath, file.finalPath);
      const existing = this.stored.findIndex((f) => f.path === path);
      if (existing >= 0) this.stored.splice(existing, 1);
      this.stored.push({ path, size: file.written, sha256 });
    }
  }

  /** Files completely received in this session. */
  files(): StoredFile[] {
    return [...this.stored];
  }

  /** Drops a half-received file (the stream broke or was refused). */
  async abort(): Promise<void> {
    const file = this.current;
    this.current = undefined;
    if (file) {
      await file.handle.close().catch(() => undefined);
      await rm(file.tempPath, { force: true });
    }
  }
}

export class FileStore {
  private readonly filesDir: string;
  private readonly stagingRoot: string;
  /** attempts that may have a staging folder (uploads began, or found at start): the others cost no disk work */
  private readonly staged = new Set<string>();

  constructor(dataDir: string, private readonly maxBytesPerTask: number) {
    this.filesDir = join(dataDir, 'files');
    this.stagingRoot = join(this.filesDir, '.staging');
  }

  async init(): Promise<void> {
    await mkdir(this.stagingRoot, { recursive: true });
    for (const name of await readdir(this.stagingRoot)) this.staged.add(name);
  }

  /** Starts receiving an attempt's outputs (a retried upload starts over and overwrites). */
  beginUpload(attemptId: string): UploadSession {
    this.staged.add(attemptId);
    return new UploadSession(this.stagingDir(attemptId), this.maxBytesPerTask);
  }

  /**
   * The task's file records an attempt's staged upload gives, to store with its result: the
   * files the worker lists that really arrived (one listed and never uploaded is dropped).
   * Moves nothing; `promote` does, once the result is stored.
   */
  async stagedRecords(attemptId: string, task: { id: string; userId: string }, files: readonly StoredFile[]): Promise<OutputFileRecord[]> {
    if (!this.staged.has(attemptId)) return [];
    const staging = this.stagingDir(attemptId);
    const received: StoredFile[] = [];
    for (const file of files) {
      const path = normaliseOutputPath(file.path);
      const stats = await lstat(join(staging, ...path.split('/'))).catch(() => undefined);
      if (stats?.isFile() && stats.size === file.size) received.push({ ...file, path });
    }
    const now = Date.now();
    return received.map((file) => ({ ...file, taskId: task.id, userId: task.userId, attemptId, createdAt: now }));
  }

  /**
   * Makes an attempt's staged files the task's files, replacing earlier ones; called once the
   * result that lists them (`records`, from stagedRecords) is stored. If this throws, the stored
   * records stand and the files stay in the attempt's staging folder (the next master start
   * moves them, tasks/systems/recovery-system.ts; or an operator does).
   */
  async promote(attemptId: string, task: { id: string; userId: string }, records: readonly OutputFileRecord[]): Promise<void> {
    const staging = this.stagingDir(attemptId);
    const target = this.taskDir(task.userId, task.id);
    if (!this.staged.has(attemptId)) {
      // nothing was uploaded for this attempt: only earlier attempts' files to drop, if any
      if (existsSync(target)) await rm(target, { recursive: true, force: true });
      return;
    }
    this.staged.delete(attemptId);
    await rm(target, { recursive: true, force: true });
    if (records.length > 0 && existsSync(staging)) {
      await mkdir(dirname(target), { recursive: true });
      await rename(staging, target);
    } else {
      await rm(staging, { recursive: true, force: true });
    }
  }

  /** Attempts that may have staged files (uploads began, or found at start). */
  stagedAttempts(): string[] {
    return [...this.staged];
  }

  async discard(attemptId: string): Promise<void> {
    if (!this.staged.delete(attemptId)) return;
    await rm(this.stagingDir(attemptId), { recursive: true, force: true });
  }

  /** Opens a stored file for download, confined to its task's folder (no links out). */
  async openForDownload(file: { userId: string; taskId: string; path: string }): Promise<{ stream: ReadStream; size: number }> {
    const base = this.taskDir(file.userId, file.taskId);
    const full = join(base, ...normaliseOutputPath(file.path).split('/'));
    let stats;
    try {
      stats = await lstat(full);
    } catch {
      throw new WharfError('not_found', `file ${file.path} not found`);
    }
    if (!stats.isFile()) throw new WharfError('not_found', `file ${file.path} not found`);
    const real = await realpath(full);
    const realBase = await realpath(base);
    if (!real.startsWith(realBase + sep)) throw new WharfError('not_found', `file ${file.path} not found`);
    return { stream: createReadStream(real), size: stats.size };
  }

  private taskDir(userId: string, taskId: string): string {
    return join(this.filesDir, safeSegment(userId), safeSegment(taskId));
  }

  private stagingDir(attemptId: string): string {
    return join(this.stagingRoot, safeSegment(attemptId));
  }
}

/** Ids come from us, but never trust one as a path segment. */
function safeSegment(id: string): string {
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(id)) throw new WharfError('validation_failed', `invalid id "${id.slice(0, 64)}"`);
  return id;
}
