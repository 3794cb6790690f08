// A Writable that writes bytes to a new file while hashing them, and only finishes
// successfully when exactly the expected number of bytes with the expected sha256 arrived.
// More bytes than expected fail at once (a bad source cannot fill the disk); the file is
// fsynced before `finish`, so a verified file survives a crash once it is renamed into place.
// The caller owns the file: on failure it removes it.
import { createHash, type Hash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';

export interface ExpectedArtifact {
  sha256: string;
  size: number;
}

/** The bytes that arrived are not the artifact that was asked for; nothing is kept. */
export class ArtifactVerificationError extends Error {
  override readonly name = 'ArtifactVerificationError';
  constructor(
    message: string,
    readonly expected: ExpectedArtifact,
    readonly received: { sha256?: string; size: number },
  ) {
    super(message);
  }
}

export class VerifyingFileSink extends Writable {
  private handle: FileHandle | undefined;
  private readonly hash: Hash = createHash('sha256');
  private written = 0;
  /** Settles when the file is complete and verified (resolves) or the sink failed (rejects). */
  readonly verified: Promise<void>;
  private settle!: (error?: Error) => void;

  constructor(
    private readonly filePath: string,
    private readonly expected: ExpectedArtifact,
    private readonly mode = 0o644,
  ) {
    super({ highWaterMark: 1024 * 1024 });
    this.verified = new Promise<void>((resolve, reject) => {
      this.settle = (error?: Error) => (error ? reject(error) : resolve());
    });
    // a rejection nobody awaits yet must not crash the process; callers await `verified`
    this.verified.catch(() => undefined);
    this.once('error', (error: Error) => this.settle(error));
    this.once('close', () => this.settle(new Error('the artifact stream closed before it was complete')));
  }

  get bytesWritten(): number {
    return this.written;
  }

  override _construct(callback: (error?: Error | null) => void): void {
    open(this.filePath, 'wx', this.mode).then(
      (handle) => {
        this.handle = handle;
        callback();
      },
      (error: unknown) => callback(error as Error),
    );
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.written + chunk.length > this.expected.size) {
      callback(
        new ArtifactVerificationError(
          `artifact ${this.expected.sha256}: received more than the expected ${this.expected.size} bytes`,
          this.expected,
          { size: this.written + chunk.length },
        ),
      );
      return;
    }
    this.handle!.write(chunk).then(
      () => {
        this.hash.update(chunk);
        this.written += chunk.length;
        callback();
      },
      (error: unknown) => callback(error as Error),
    );
  }

  override _final(callback: (error?: Error | null) => void): void {
    const handle = this.handle!;
    this.handle = undefined;
    (async () => {
      await handle.sync();
      await handle.close();
      const sha256 = this.hash.digest('hex');
      if (this.written !== this.expected.size || sha256 !== this.expected.sha256) {
        throw new ArtifactVerificationError(
          `artifact ${this.expected.sha256}: received ${this.written} bytes with sha256 ${sha256}, expected ${this.expected.size} bytes`,
          this.expected,
          { sha256, size: this.written },
        );
      }
    })().then(
      () => {
        this.settle();
        callback();
      },
      (error: unknown) => callback(error as Error),
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const handle = this.handle;
    this.handle = undefined;
    if (!handle) {
      callback(error);
      return;
    }
    handle.close().then(
      () => callback(error),
      () => callback(error),
    );
  }
}
