import * as grpc from '@grpc/grpc-js';
import { WharfError, type WharfErrorCode } from '../errors.js';

const STATUS: Record<WharfErrorCode, grpc.status> = {
  validation_failed: grpc.status.INVALID_ARGUMENT,
  unauthenticated: grpc.status.UNAUTHENTICATED,
  forbidden: grpc.status.PERMISSION_DENIED,
  not_found: grpc.status.NOT_FOUND,
  conflict: grpc.status.FAILED_PRECONDITION,
  payload_too_large: grpc.status.RESOURCE_EXHAUSTED,
  data_corrupted: grpc.status.DATA_LOSS,
  sequence_gap: grpc.status.OUT_OF_RANGE,
  rate_limited: grpc.status.RESOURCE_EXHAUSTED,
  unavailable: grpc.status.UNAVAILABLE,
  internal: grpc.status.INTERNAL,
};

/**
 * The one mapping from WharfError to a gRPC status; never a stack trace on the wire. The
 * error's details travel as trailing metadata `wharf-<kebab-case key>` (e.g. `expectedSeq` →
 * `wharf-expected-seq`), so a client reads them without parsing the message.
 */
export function toGrpcError(error: unknown): Partial<grpc.StatusObject> {
  const wharf = WharfError.from(error);
  const status: Partial<grpc.StatusObject> = { code: STATUS[wharf.code], details: wharf.message };
  const details = Object.entries(wharf.details ?? {}).filter(
    (entry): entry is [string, string | number | boolean] => ['string', 'number', 'boolean'].includes(typeof entry[1]),
  );
  if (details.length > 0) {
    const metadata = new grpc.Metadata();
    for (const [key, value] of details) metadata.set(`wharf-${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, String(value));
    status.metadata = metadata;
  }
  return status;
}
