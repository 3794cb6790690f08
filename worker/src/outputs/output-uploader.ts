// Uploads what an attempt wrote to its output folder over UploadTaskFiles (one call per try):
// every regular file in ≤ 1 MiB chunks, then an eof chunk with size and sha256. Refusals the
// master means (bad path, the attempt's output cap, permission) are final and become the
// attempt's error (RESOURCE_EXHAUSTED: the master fails the attempt with the cap whatever the
// result says, so retrying cannot help); FAILED_PRECONDITION means the attempt
// is no longer this worker's. While the master cannot be reached (UNAVAILABLE, a deadline, a
// dropped call) the upload is retried with backoff for as long as it takes: a master restart
// must not fail a task that succeeded; so is a refusal the master marks temporary with
// `wharf-retry-after-ms` (RESOURCE_EXHAUSTED "master storage full": waiting at least that long,
// backing off further, until it has room — the cap refusal carries no such trailer and stays
// final). Anything else (DATA_LOSS, an unexpected error) is retried from the start a bounded
// number of times.
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { FileChunk, OutputFile__Output, UploadAck__Output } from '@wharf/proto';
import { Backoff, sleep, type BackoffOptions } from '../retry/backoff.js';
import { describeGrpcError, grpcStatusOf, retryAfterMsOf, writeMessage, type GatewayConnection } from '../session/gateway-connection.js';
import { fileChunks } from './file-chunks.js';
import { walkOutputFiles, type OutputFileEntry } from './output-walk.js';

export type UploadOutcome =
  | { kind: 'stored'; files: OutputFile__Output[] }
  /** The master refused the files for good: the attempt's outcome becomes `error`. */
  | { kind: 'refused'; message: string }
  /** The attempt is no longer this worker's: report the result as it is. */
  | { kind: 'not_ours'; message: string }
  /** Every try failed (or the worker is stopping). */
  | { kind: 'failed'; message: string };

export interface OutputUploaderOptions {
  gateway: GatewayConnection;
  backoff: BackoffOptions;
  logger: Logger;
  maxTries?: number;
}

const TRANSIENT = new Set<grpc.status>([grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED, grpc.status.CANCELLED]);

const REFUSED = new Set<grpc.status>([
  grpc.status.INVALID_ARGUMENT,
  grpc.status.RESOURCE_EXHAUSTED,
  grpc.status.PERMISSION_DENIED,
]);

export class OutputUploader {
  constructor(private readonly options: OutputUploaderOptions) {}

  async upload(
    attemptId: string,
    outputDir: string,
    note: (text: string) => void,
    signal?: AbortSignal,
  ): Promise<UploadOutcome> {
    const walk = await walkOutputFiles(outputDir);
    for (const skipped of walk.skipped) note(`output ${skipped.path} is a ${skipped.kind}; not uploaded`);
    const [first, ...more] = walk.tooLong;
    if (first) {
      // a clear reason on the attempt, not an internal error halfway through the upload
      const shown = first.path.length > 120 ? `${first.path.slice(0, 120)}…` : first.path;
      const others = more.length > 0 ? ` (and ${more.length} more)` : '';
      return { kind: 'refused', message: `output "${shown}" cannot be kept: ${first.reason}${others}` };
    }
    if (walk.files.length === 0) return { kind: 'stored', files: [] };

    const maxTries = this.options.maxTries ?? 5;
    const backoff = new Backoff(this.options.backoff);
    let lastError = '';
    let failures = 0;
    let waitedForRoom = false;
    while (failures < maxTries && !signal?.aborted) {
      try {
        const ack = await this.uploadOnce(attemptId, walk.files, signal);
        if (waitedForRoom) this.options.logger.info({ attemptId }, 'the master had room again: outputs uploaded');
        return { kind: 'stored', files: ack.files };
      } catch (error: unknown) {
        const code = grpcStatusOf(error);
        const details = describeGrpcError(error);
        if (code === grpc.status.FAILED_PRECONDITION) return { kind: 'not_ours', message: details };
        const retryAfterMs = retryAfterMsOf(error);
        if (retryAfterMs !== undefined) {
          // temporary (the master's storage is full): not a try used up; said once, then waited out
          if (!waitedForRoom) {
            this.options.logger.warn({ attemptId, reason: details }, 'the master cannot store outputs now; uploading them again once it can');
            note(`outputs wait for the master: ${details}`);
          }
          waitedForRoom = true;
          await sleep(Math.max(retryAfterMs, backoff.nextDelayMs()), signal);
          continue;
        }
        if (code !== undefined && REFUSED.has(code)) return { kind: 'refused', message: `output upload refused: ${details}` };
        lastError = details;
        const transient = code !== undefined && TRANSIENT.has(code);
        if (!transient) failures += 1;
        this.options.logger.warn({ failures, maxTries, transient, reason: details }, 'output upload failed; retrying');
        if (failures < maxTries) await sleep(backoff.nextDelayMs(), signal);
      }
    }
    return { kind: 'failed', message: `output upload failed after ${maxTries} tries: ${lastError || 'worker stopping'}` };
  }

  private async uploadOnce(attemptId: string, files: OutputFileEntry[], signal?: AbortSignal): Promise<UploadAck__Output> {
    const metadata = await this.options.gateway.callMetadata(signal);
    if (!metadata) throw new Error('worker stopping');
    let callError: unknown;
    let call!: grpc.ClientWritableStream<FileChunk>;
    const ack = new Promise<UploadAck__Output>((resolve, reject) => {
      call = this.options.gateway.client.UploadTaskFiles(metadata, (error, response) => {
        if (error || !response) {
          callError = error ?? new Error('upload ended without an ack');
          reject(callError);
        } else {
          resolve(response);
        }
      });
    });
    ack.catch(() => undefined);
    call.on('error', () => undefined); // reported through the callback
    const onAbort = (): void => call.cancel();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for (const file of files) {
        for await (const chunk of fileChunks(attemptId, file)) {
          if (callError !== undefined) throw callError;
          await writeMessage(call, chunk);
        }
      }
      call.end();
      return await ack;
    } catch (error: unknown) {
      call.cancel();
      throw callError ?? error;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }
}
