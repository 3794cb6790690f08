import * as grpc from '@grpc/grpc-js';
import { WharfError, type WharfErrorCode } from '../errors.js';

const STATUS: Record<WharfErrorCode, grpc.status> = {
  validation_failed: grpc.status.INVALID_ARGUMENT,
  unauthenticated: grpc.status.UNAUTHENTICATED,
  forbidden: grpc.status.PERMISSION_DENIED,
  not_found: grpc.status.NOT_FOUND,
  conflict: grpc.status.FAILED_PRECONDITION,
  storage_quota_exceeded: grpc.status.PERMISSION_DENIED,
  gone: grpc.status.NOT_FOUND,
  payload_too_large: grpc.status.RESOURCE_EXHAUSTED,
  data_corrupted: grpc.status.DATA_LOSS,
  sequence_gap: grpc.status.OUT_OF_RANGE,
  rate_limited: grpc.status.RESOURCE_EXHAUSTED,
  unavailable: grpc.status.UNAVAILABLE,
  not_leader: grpc.status.UNAVAILABLE,
  storage_full: grpc.status.RESOURCE_EXHAUSTED,
  internal: grpc.status.INTERNAL,
};

/**
 * How long a worker waits at least before it sends again what the master could not store for a
 * temporary reason (its storage is full): the `retry_after_ms` of a ReportNack, and the
 * `wharf-retry-after-ms` trailer of a refused upload or log stream. The worker backs off
 * further on its own while the refusals go on.
 */
export const STORAGE_RETRY_AFTER_MS = 1000;

/**
 * The one mapping from WharfError to a gRPC status; never a stack trace on the wire. The
 * error's details travel as trailing metadata `wharf-<kebab-case key>` (e.g. `expectedSeq` →
 * `wharf-expected-seq`), so a client reads them without parsing the message. A `storage_full`
 * error is RESOURCE_EXHAUSTED with `wharf-retry-after-ms`: that trailer is what tells a worker
 * the refusal is temporary (the output cap, also RESOURCE_EXHAUSTED, carries none: it is final).
 */
export function toGrpcError(error: unknown): Partial<grpc.StatusObject> {
  const wharf = WharfError.from(error);
  const status: Partial<grpc.StatusObject> = { code: STATUS[wharf.code], details: wharf.message };
  const fields: Record<string, unknown> = wharf.code === 'storage_full' ? { retryAfterMs: STORAGE_RETRY_AFTER_MS, ...wharf.details } : { ...wharf.details };
  const details = Object.entries(fields).filter(
    (entry): entry is [string, string | number | boolean] => ['string', 'number', 'boolean'].includes(typeof entry[1]),
  );
  if (details.length > 0) {
    const metadata = new grpc.Metadata();
    for (const [key, value] of details) metadata.set(`wharf-${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, String(value));
    status.metadata = metadata;
  }
  return status;
}
