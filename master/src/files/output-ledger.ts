// One attempt's output bytes counted against one cap, whatever number of upload streams carry
// them (issue 12 point 5). Every completely received file counts with its size; a file being
// received counts with the bytes received so far; a file received again under the same path
// replaces the earlier one, so only the difference counts. Past the cap the attempt's outputs
// are refused for good: the refusal is kept and fails the attempt's result.
import { formatBytes } from '@wharf/proto';
import { WharfError } from '../errors.js';

export interface ReceivedFile {
  path: string;
  size: number;
  /** hex sha256 the master computed while receiving the bytes */
  sha256: string;
}

/** The bytes an attempt may upload, and which setting makes it that small. */
export interface OutputCap {
  bytes: number;
  /** names the limit in messages: `WHARF_MAX_OUTPUT_BYTES` or the task's disk request */
  source: string;
}

/** The master's limit, or the task's disk request when it asks for less. */
export function outputCapFor(maxOutputBytesPerTask: number, diskRequestBytes: number): OutputCap {
  if (diskRequestBytes > 0 && diskRequestBytes < maxOutputBytesPerTask) {
    return { bytes: diskRequestBytes, source: "the task's disk request" };
  }
  return { bytes: maxOutputBytesPerTask, source: 'WHARF_MAX_OUTPUT_BYTES' };
}

export class OutputLedger {
  private readonly received = new Map<string, ReceivedFile>();
  private receivedBytes = 0;
  private inFlight = 0;
  private refusedWhy: string | undefined;

  constructor(
    readonly attemptId: string,
    private cap: OutputCap,
    restored: { files?: readonly ReceivedFile[]; refusal?: string | undefined } = {},
  ) {
    for (const file of restored.files ?? []) this.fileReceived(file, 0);
    this.refusedWhy = restored.refusal;
  }

  /** Uploads started later use this cap (the task's disk request is known when an upload begins). */
  setCap(cap: OutputCap): void {
    this.cap = cap;
  }

  /** Why the attempt's outputs were refused, once they passed the cap. */
  get refusal(): string | undefined {
    return this.refusedWhy;
  }

  /** Bytes counted against the cap now: files received plus files being received. */
  get countedBytes(): number {
    return this.receivedBytes + this.inFlight;
  }

  /** Files completely received, in the order they arrived. */
  files(): ReceivedFile[] {
    return [...this.received.values()];
  }

  /**
   * Counts `bytes` more of `path`, which is being received; throws `payload_too_large` when the
   * attempt would pass its cap (and from then on for every upload of this attempt).
   */
  reserve(path: string, bytes: number): void {
    if (this.refusedWhy !== undefined) throw new WharfError('payload_too_large', this.refusedWhy);
    // the file being received replaces one received earlier under its path: count it once
    const replaced = this.received.get(path)?.size ?? 0;
    if (this.countedBytes - replaced + bytes > this.cap.bytes) {
      this.refusedWhy =
        `outputs of attempt ${this.attemptId} exceed the cap of ${this.cap.bytes} bytes ` +
        `(${formatBytes(this.cap.bytes)}, ${this.cap.source})`;
      throw new WharfError('payload_too_large', this.refusedWhy);
    }
    this.inFlight += bytes;
  }

  /** A file being received was dropped (the stream broke): its bytes no longer count. */
  release(bytes: number): void {
    this.inFlight = Math.max(0, this.inFlight - bytes);
  }

  /** A file arrived whole (`inFlightBytes` of it were reserved): it replaces an earlier one under its path. */
  fileReceived(file: ReceivedFile, inFlightBytes: number): void {
    this.release(inFlightBytes);
    const earlier = this.received.get(file.path);
    if (earlier) {
      this.receivedBytes -= earlier.size;
      this.received.delete(file.path);
    }
    this.received.set(file.path, { path: file.path, size: file.size, sha256: file.sha256 });
    this.receivedBytes += file.size;
  }
}
