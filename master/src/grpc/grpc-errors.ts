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
  rate_limited: grpc.status.RESOURCE_EXHAUSTED,
  unavailable: grpc.status.UNAVAILABLE,
  internal: grpc.status.INTERNAL,
};

/** The one mapping from WharfError to a gRPC status; never a stack trace on the wire. */
export function toGrpcError(error: unknown): Partial<grpc.StatusObject> {
  const wharf = WharfError.from(error);
  return { code: STATUS[wharf.code], details: wharf.message };
}
