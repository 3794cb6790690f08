// S3 artifact backend: a DAG task's declared outputs go from this worker straight into the
// object store, not through the master. After the task succeeded and its files were uploaded
// (the master's UploadAck gives each file's verified sha256 and size), the worker asks the
// master for targets (PrepareArtifactUploads: a presigned PUT URL, or "already stored") and
// PUTs each missing output with uploadFileToUrl. The result then reports the uploads
// (AttemptResult.direct_uploads) and the master confirms each object before the task succeeds.
//
// While the master cannot be reached the call is retried for as long as it takes (like the
// output upload); other failures (the object store refusing a PUT, a broken connection to it)
// are retried a few times with fresh URLs, then the attempt's outcome becomes `error`.
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { ArtifactDigest__Output, ArtifactUploadPlan__Output, OutputFile__Output } from '@wharf/proto';
import { uploadFileToUrl, redact } from '../cache/presigned-transfer.js';
import { Backoff, sleep, type BackoffOptions } from '../retry/backoff.js';
import { describeGrpcError, grpcStatusOf, type GatewayConnection } from '../session/gateway-connection.js';

export type DirectUploadOutcome =
  | { kind: 'uploaded'; artifacts: ArtifactDigest__Output[] }
  /** The attempt is no longer this worker's: report the result as it is. */
  | { kind: 'not_ours'; message: string }
  | { kind: 'failed'; message: string };

export interface DirectUploadRequest {
  gateway: GatewayConnection;
  attemptId: string;
  /** the task's declared outputs (TaskSpec.direct_outputs) */
  names: readonly string[];
  /** the files the master acknowledged (UploadAck): sha256 and size of each */
  files: readonly OutputFile__Output[];
  outputDir: string;
  note: (text: string) => void;
  backoff: BackoffOptions;
  logger: Logger;
  signal?: AbortSignal | undefined;
  maxTries?: number;
  /** idle timeout of one PUT */
  putTimeoutMs?: number;
}

const TRANSIENT = new Set<grpc.status>([grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED, grpc.status.CANCELLED]);
const CALL_DEADLINE_MS = 30_000;

export async function uploadDeclaredOutputs(request: DirectUploadRequest): Promise<DirectUploadOutcome> {
  // a declared output the task did not write is not offered: the master fails the attempt for it
  const artifacts = request.names.flatMap((name) => {
    const file = request.files.find((f) => f.path === name);
    return file ? [{ name, sha256: file.sha256, size: file.size }] : [];
  });
  if (artifacts.length === 0) return { kind: 'uploaded', artifacts: [] };
  const maxTries = request.maxTries ?? 3;
  const backoff = new Backoff(request.backoff);
  let failures = 0;
  let lastError = '';
  while (failures < maxTries && !request.signal?.aborted) {
    try {
      const plan = await prepare(request, artifacts);
      for (const target of plan.targets) {
        if (target.alreadyStored) {
          request.note(`output ${target.name}: already in the object store (sha256 ${target.sha256})`);
          continue;
        }
        if (!artifacts.some((a) => a.name === target.name && a.sha256 === target.sha256)) {
          throw new Error(`the master answered a target for "${target.name}" (${target.sha256}) that was not asked for`);
        }
        const file = path.join(request.outputDir, ...target.name.split('/'));
        await uploadFileToUrl(target.putUrl, file, { timeoutMs: request.putTimeoutMs ?? 60_000 });
        request.note(`output ${target.name}: uploaded to ${redact(target.putUrl)}`);
      }
      return { kind: 'uploaded', artifacts };
    } catch (error: unknown) {
      const code = grpcStatusOf(error);
      const details = code !== undefined ? describeGrpcError(error) : error instanceof Error ? error.message : String(error);
      if (code === grpc.status.FAILED_PRECONDITION) return { kind: 'not_ours', message: details };
      if (code === grpc.status.PERMISSION_DENIED || code === grpc.status.INVALID_ARGUMENT) {
        return { kind: 'failed', message: `declared outputs refused by the master: ${details}` };
      }
      lastError = details;
      const transient = code !== undefined && TRANSIENT.has(code);
      if (!transient) failures += 1;
      request.logger.warn({ failures, maxTries, transient, reason: details }, 'direct output upload failed; retrying');
      if (failures < maxTries) await sleep(backoff.nextDelayMs(), request.signal);
    }
  }
  return { kind: 'failed', message: `declared outputs could not be uploaded to the object store after ${maxTries} tries: ${lastError || 'worker stopping'}` };
}

async function prepare(request: DirectUploadRequest, artifacts: ArtifactDigest__Output[]): Promise<ArtifactUploadPlan__Output> {
  const metadata = await request.gateway.callMetadata(request.signal);
  if (!metadata) throw new Error('worker stopping');
  return new Promise((resolve, reject) => {
    request.gateway.client.PrepareArtifactUploads(
      { attemptId: request.attemptId, artifacts },
      metadata,
      { deadline: Date.now() + CALL_DEADLINE_MS },
      (error, response) => {
        if (error || !response) reject(error ?? new Error('PrepareArtifactUploads answered nothing'));
        else resolve(response);
      },
    );
  });
}
