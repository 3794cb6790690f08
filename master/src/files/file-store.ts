// Task outputs on the master's disk: <data>/files/<userId>/<taskId>/<path>.
//
// An upload belongs to one attempt. Each file is written to a temporary name under
// <data>/files/.partial/ while the master hashes it, checked against the size and sha256 of its
// final chunk, then renamed into <data>/files/.staging/<attemptId>/<path>, so a half-received
// file is never visible; the size and sha256 the master computed are kept in memory and in the
// attempt's manifest (received-manifest.ts), and they are what the task's files show, never the
// worker's claim. All upload streams of an attempt count against one cap (output-ledger.ts).
// When the attempt's result arrives, the files it lists are verified against what was received
// (verify-reported-files.ts) and their records, with the master's digests, come from the staging
// (stagedRecords; the attempt then takes no more bytes) and are stored with the result; only once
// that commit succeeded do the staged files replace the task's files in one rename (promote). A
// stale or duplicate attempt's staging, or one whose result was refused, is discarded. Paths are
// normalised and confined to the task's folder.
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { createReadStream, existsSync, type ReadStream } from 'node:fs';
import { lstat, mkdir, open, readdir, realpath, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { storageFull, WharfError } from '../errors.js';
import type { DiskFloor } from './disk-floor.js';
import type { OutputFileRecord } from '../records/output-file.js';
import { OutputLedger, outputCapFor, type OutputCap, type ReceivedFile } from './output-ledger.js';
import { normaliseOutputPath } from './output-paths.js';
import { loadReceived, recordReceivedFile, recordRefusal } from './received-manifest.js';
import type { ReceivedOutputs } from './verify-reported-files.js';

/** A file as a worker lists it in a result, and as the master received it. */
export type StoredFile = ReceivedFile;

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

/** One attempt's uploads: its staging folder, manifest and ledger, shared by all its upload streams. */
interface AttemptUploads {
  attemptId: string;
  stagingDir: string;
  manifest: string;
  ledger: OutputLedger;
  /** the attempt's result came in (stagedRecords), or it was promoted or discarded: later bytes are refused */
  closed: boolean;
}

/** One upload stream of an attempt: files arrive one after another in chunks. */
export class UploadSession {
  private current: OpenFile | undefined;
  private readonly stored: StoredFile[] = [];

  constructor(
    private readonly uploads: AttemptUploads,
    private readonly partialDir: string,
  ) {}

  async write(chunk: FileChunkInput): Promise<void> {
    const uploads = this.uploads;
    if (uploads.closed) throw closedError(uploads.attemptId);
    const path = normaliseOutputPath(chunk.path);
    if (this.current && this.current.path !== path) {
      throw new WharfError('validation_failed', `file ${this.current.path} ended without its final chunk`);
    }
    if (!this.current) {
      if (chunk.offset !== 0) throw new WharfError('validation_failed', `file ${path} must start at offset 0`);
      const finalPath = join(uploads.stagingDir, ...path.split('/'));
      // a short temporary name (the attempt id and 12 hex digits): an output name may use all of
      // Linux's 255 bytes, so the name plus a suffix would not fit
      const tempPath = join(this.partialDir, `${uploads.attemptId}-${randomBytes(6).toString('hex')}`);
      this.current = { path, tempPath, finalPath, handle: await open(tempPath, 'wx', 0o644), hash: createHash('sha256'), written: 0 };
    }
    const file = this.current;
    if (chunk.offset !== file.written) {
      throw new WharfError('validation_failed', `file ${path}: chunk at offset ${chunk.offset}, expected ${file.written}`);
    }
    if (chunk.data.length > 0) {
      const refusedBefore = uploads.ledger.refusal;
      try {
        uploads.ledger.reserve(path, chunk.data.length);
      } catch (error: unknown) {
        // the first refusal is kept with the attempt: its result fails with it, even after a restart
        if (refusedBefore === undefined && uploads.ledger.refusal !== undefined) await recordRefusal(uploads.manifest, uploads.ledger.refusal);
        throw error;
      }
      file.written += chunk.data.length;
      const { bytesWritten } = await file.handle.write(chunk.data);
      // a short write: the disk filled up (the hash would describe bytes the file does not hold)
      if (bytesWritten < chunk.data.length) throw storageFull(`file ${path} of attempt ${uploads.attemptId} was cut short on the master's disk`);
      file.hash.update(chunk.data);
    }
    if (chunk.eof) await this.finishFile(file, chunk);
  }

  private async finishFile(file: OpenFile, chunk: FileChunkInput): Promise<void> {
    const uploads = this.uploads;
    this.current = undefined;
    let identity;
    try {
      await file.handle.sync();
      identity = await file.handle.stat();
    } finally {
      await file.handle.close();
    }
    const sha256 = file.hash.digest('hex');
    const dropped = async (error: WharfError): Promise<never> => {
      await rm(file.tempPath, { force: true });
      uploads.ledger.release(file.written);
      throw error;
    };
    if (file.written !== chunk.size || sha256 !== chunk.sha256.toLowerCase()) {
      await dropped(
        new WharfError(
          'data_corrupted',
          `file ${file.path}: received ${file.written} bytes with sha256 ${sha256}, expected ${chunk.size} bytes with sha256 ${chunk.sha256}`,
        ),
      );
    }
    if (uploads.closed) await dropped(closedError(uploads.attemptId));
    try {
      await mkdir(dirname(file.finalPath), { recursive: true });
      await rename(file.tempPath, file.finalPath);
    } catch (error: unknown) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOTDIR' || code === 'EEXIST' || code === 'EISDIR') {
        await dropped(new WharfError('validation_failed', `path: "${file.path}" clashes with a file or folder this attempt already uploaded`));
      }
      await dropped(WharfError.from(error));
    }
    const received = { path: file.path, size: file.written, sha256 };
    uploads.ledger.fileReceived(received, file.written);
    await recordReceivedFile(uploads.manifest, received, { ino: identity.ino, mtimeMs: identity.mtimeMs });
    const existing = this.stored.findIndex((f) => f.path === file.path);
    if (existing >= 0) this.stored.splice(existing, 1);
    this.stored.push(received);
  }

  /** Files completely received in this session, with the size and sha256 the master computed. */
  files(): StoredFile[] {
    return [...this.stored];
  }

  /** Drops a half-received file (the stream broke or was refused). */
  async abort(): Promise<void> {
    const file = this.current;
    this.current = undefined;
    if (file) {
      this.uploads.ledger.release(file.written);
      await file.handle.close().catch(() => undefined);
      await rm(file.tempPath, { force: true });
    }
  }
}

function closedError(attemptId: string): WharfError {
  return new WharfError('conflict', `the result of attempt ${attemptId} is in; it takes no more outputs`);
}

export class FileStore {
  private readonly filesDir: string;
  private readonly stagingRoot: string;
  private readonly partialRoot: string;
  private readonly receivedRoot: string;
  /** attempts that may have a staging folder or manifest from an earlier run of the master (found at start) */
  private readonly fromEarlierRun = new Set<string>();
  /** attempts whose uploads began in this run, or that were loaded from an earlier run */
  private readonly attempts = new Map<string, Promise<AttemptUploads>>();

  constructor(
    dataDir: string,
    private readonly maxBytesPerTask: number,
    /** below its free space, new uploads are refused (WHARF_MIN_FREE_DISK) */
    private readonly floor?: Pick<DiskFloor, 'check'>,
  ) {
    this.filesDir = join(dataDir, 'files');
    this.stagingRoot = join(this.filesDir, '.staging');
    this.partialRoot = join(this.filesDir, '.partial');
    this.receivedRoot = join(this.filesDir, '.received');
  }

  async init(): Promise<void> {
    await mkdir(this.stagingRoot, { recursive: true });
    await mkdir(this.receivedRoot, { recursive: true });
    // half-received files of an earlier run: their streams are gone
    await rm(this.partialRoot, { recursive: true, force: true });
    await mkdir(this.partialRoot, { recursive: true });
    for (const name of await readdir(this.stagingRoot)) this.fromEarlierRun.add(name);
    for (const name of await readdir(this.receivedRoot)) if (name.endsWith('.jsonl')) this.fromEarlierRun.add(name.slice(0, -'.jsonl'.length));
  }

  /**
   * Starts receiving an upload stream of an attempt. `diskBytes`: the task's disk request (0 =
   * none); the attempt's cap is the smaller of it and the master's limit. Refused at once when
   * the attempt's outputs already passed the cap.
   */
  async beginUpload(attemptId: string, options: { diskBytes?: number } = {}): Promise<UploadSession> {
    await this.floor?.check(`the output upload of attempt ${attemptId}`);
    const cap = outputCapFor(this.maxBytesPerTask, options.diskBytes ?? 0);
    const uploads = await this.uploadsOf(attemptId, cap);
    uploads.ledger.setCap(cap);
    if (uploads.ledger.refusal !== undefined) throw new WharfError('payload_too_large', uploads.ledger.refusal);
    return new UploadSession(uploads, this.partialRoot);
  }

  /** What the master received for an attempt: files with the digests it computed, and a cap refusal. */
  async received(attemptId: string): Promise<ReceivedOutputs> {
    if (!this.mayHaveUploads(attemptId)) return { files: [] };
    const uploads = await this.uploadsOf(attemptId);
    return { files: uploads.ledger.files(), refusal: uploads.ledger.refusal };
  }

  /**
   * The task's file records an attempt's staged upload gives, to store with its result: `files`
   * are the ones the result keeps (verifyReportedFiles chose them), and each record carries the
   * size and sha256 the master computed while receiving it, whatever the caller passes; a file
   * this attempt never received is left out. Moves nothing (`promote` does, once the result is
   * stored); from now on the attempt takes no more bytes.
   */
  async stagedRecords(attemptId: string, task: { id: string; userId: string }, files: readonly Pick<ReceivedFile, 'path'>[]): Promise<OutputFileRecord[]> {
    if (!this.mayHaveUploads(attemptId)) return [];
    const uploads = await this.uploadsOf(attemptId);
    // the records are fixed here: a stream still open must not change the bytes behind them
    uploads.closed = true;
    const received = new Map(uploads.ledger.files().map((file) => [file.path, file]));
    const now = Date.now();
    const records: OutputFileRecord[] = [];
    for (const { path } of files) {
      const file = received.get(path);
      if (file) records.push({ path: file.path, size: file.size, sha256: file.sha256, taskId: task.id, userId: task.userId, attemptId, createdAt: now });
    }
    return records;
  }

  /**
   * Makes an attempt's staged files the task's files, replacing earlier ones; called once the
   * result that lists them (`records`, from stagedRecords) is stored. Staged files the records do
   * not list are dropped. If this throws, the stored records stand and the files stay in the
   * attempt's staging folder (the next master start moves them, tasks/systems/recovery-system.ts;
   * or an operator does).
   */
  async promote(attemptId: string, task: { id: string; userId: string }, records: readonly OutputFileRecord[]): Promise<void> {
    const target = this.taskDir(task.userId, task.id);
    const uploads = this.mayHaveUploads(attemptId) ? await this.uploadsOf(attemptId) : undefined;
    if (!uploads) {
      // nothing was uploaded for this attempt: only earlier attempts' files to drop, if any
      if (existsSync(target)) await rm(target, { recursive: true, force: true });
      return;
    }
    this.close(uploads);
    if (records.length > 0 && !existsSync(uploads.stagingDir)) {
      // moved already (by an earlier try, or by hand): the task's folder holds them
      await rm(uploads.manifest, { force: true });
      return;
    }
    const keep = new Set(records.map((file) => file.path));
    for (const file of uploads.ledger.files()) {
      if (!keep.has(file.path)) await rm(join(uploads.stagingDir, ...file.path.split('/')), { force: true });
    }
    // the manifest goes first: a master stopped after the move must not find a manifest whose
    // staging is gone (its start would take the attempt for one that received nothing)
    await rm(uploads.manifest, { force: true });
    await rm(target, { recursive: true, force: true });
    if (records.length > 0 && existsSync(uploads.stagingDir)) {
      await mkdir(dirname(target), { recursive: true });
      await rename(uploads.stagingDir, target);
    } else {
      await rm(uploads.stagingDir, { recursive: true, force: true });
    }
  }

  /**
   * The bytes of a task's stored output files (the garbage collector's measure); with `remove`,
   * deletes the task's folder. Answers the bytes there were.
   */
  async removeTaskFiles(task: { id: string; userId: string }, options: { remove: boolean }): Promise<number> {
    const dir = this.taskDir(task.userId, task.id);
    const bytes = await folderBytes(dir);
    if (options.remove && bytes >= 0) await rm(dir, { recursive: true, force: true });
    return Math.max(0, bytes);
  }

  /** Attempts that may have staged files or a manifest (uploads began, or found at start). */
  stagedAttempts(): string[] {
    return [...new Set([...this.attempts.keys(), ...this.fromEarlierRun])];
  }

  async discard(attemptId: string): Promise<void> {
    if (!this.mayHaveUploads(attemptId)) return;
    const pending = this.attempts.get(attemptId);
    const uploads = pending ? await pending.catch(() => undefined) : undefined;
    if (uploads) this.close(uploads);
    this.fromEarlierRun.delete(attemptId);
    await rm(this.stagingDir(attemptId), { recursive: true, force: true });
    await rm(this.manifestOf(attemptId), { force: true });
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

  private mayHaveUploads(attemptId: string): boolean {
    return this.attempts.has(attemptId) || this.fromEarlierRun.has(attemptId);
  }

  /** The attempt's uploads, loaded from disk once when an earlier run of the master received some. */
  private uploadsOf(attemptId: string, cap: OutputCap = outputCapFor(this.maxBytesPerTask, 0)): Promise<AttemptUploads> {
    let pending = this.attempts.get(attemptId);
    if (!pending) {
      const stagingDir = this.stagingDir(attemptId);
      const manifest = this.manifestOf(attemptId);
      const earlier = this.fromEarlierRun.has(attemptId);
      pending = (async () => {
        const restored = earlier ? await loadReceived(stagingDir, manifest) : {};
        return { attemptId, stagingDir, manifest, ledger: new OutputLedger(attemptId, cap, restored), closed: false };
      })();
      this.attempts.set(attemptId, pending);
      // a load that failed (an I/O error) is tried again by the next caller
      void pending.catch(() => {
        if (this.attempts.get(attemptId) === pending) this.attempts.delete(attemptId);
      });
    }
    return pending;
  }

  /** The attempt's files were promoted or discarded: it takes no more bytes, and is forgotten. */
  private close(uploads: AttemptUploads): void {
    uploads.closed = true;
    this.attempts.delete(uploads.attemptId);
    this.fromEarlierRun.delete(uploads.attemptId);
  }

  private taskDir(userId: string, taskId: string): string {
    return join(this.filesDir, safeSegment(userId), safeSegment(taskId));
  }

  private stagingDir(attemptId: string): string {
    return join(this.stagingRoot, safeSegment(attemptId));
  }

  private manifestOf(attemptId: string): string {
    return join(this.receivedRoot, `${safeSegment(attemptId)}.jsonl`);
  }
}

/** Ids come from us, but never trust one as a path segment. */
function safeSegment(id: string): string {
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(id)) throw new WharfError('validation_failed', `invalid id "${id.slice(0, 64)}"`);
  return id;
}

/** Bytes the regular files under `dir` hold alone (symlinks not followed); -1 when it does not exist. */
async function folderBytes(dir: string): Promise<number> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return -1;
  }
  let bytes = 0;
  for (const entry of entries) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) bytes += Math.max(0, await folderBytes(full));
    // a file that is also a DAG artifact (a hard link) frees nothing until its last link goes
    else if (entry.isFile()) bytes += await lstat(full).then((s) => (s.nlink > 1 ? 0 : s.size), () => 0);
  }
  return bytes;
}
