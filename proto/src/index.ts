// Loads wharf.proto at run time with @grpc/proto-loader and exposes it with the types that
// proto-loader-gen-types generated into ./generated (regenerate with `npm run gen -w @wharf/proto`).
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType } from './generated/wharf.js';

export type { ProtoGrpcType } from './generated/wharf.js';
export type { WorkerGatewayClient, WorkerGatewayHandlers } from './generated/wharf/v1/WorkerGateway.js';
export type { RegisterRequest, RegisterRequest__Output } from './generated/wharf/v1/RegisterRequest.js';
export type { RegisterResponse, RegisterResponse__Output } from './generated/wharf/v1/RegisterResponse.js';
export type { WorkerMessage, WorkerMessage__Output } from './generated/wharf/v1/WorkerMessage.js';
export type { MasterMessage, MasterMessage__Output } from './generated/wharf/v1/MasterMessage.js';
export type { Heartbeat, Heartbeat__Output } from './generated/wharf/v1/Heartbeat.js';
export type { AttemptResult, AttemptResult__Output } from './generated/wharf/v1/AttemptResult.js';
export type { AttemptEvent, AttemptEvent__Output } from './generated/wharf/v1/AttemptEvent.js';
export type { TaskSpec, TaskSpec__Output } from './generated/wharf/v1/TaskSpec.js';
export type { LogChunk, LogChunk__Output } from './generated/wharf/v1/LogChunk.js';
export type { LogAck, LogAck__Output } from './generated/wharf/v1/LogAck.js';
export type { FileChunk, FileChunk__Output } from './generated/wharf/v1/FileChunk.js';
export type { UploadAck, UploadAck__Output } from './generated/wharf/v1/UploadAck.js';
export type { OutputFile, OutputFile__Output } from './generated/wharf/v1/OutputFile.js';
export type { Resources, Resources__Output } from './generated/wharf/v1/Resources.js';
export type { Usage, Usage__Output } from './generated/wharf/v1/Usage.js';
export type { CancelAttempt__Output } from './generated/wharf/v1/CancelAttempt.js';
export type { Fencing, Fencing__Output } from './generated/wharf/v1/Fencing.js';
export type { HeartbeatAck, HeartbeatAck__Output } from './generated/wharf/v1/HeartbeatAck.js';
export type { ReportNack, ReportNack__Output } from './generated/wharf/v1/ReportNack.js';
export type { ArtifactRequest, ArtifactRequest__Output } from './generated/wharf/v1/ArtifactRequest.js';
export type { InputReport, InputReport__Output } from './generated/wharf/v1/InputReport.js';
export type { TaskInput, TaskInput__Output } from './generated/wharf/v1/TaskInput.js';
export type { ArtifactDigest, ArtifactDigest__Output } from './generated/wharf/v1/ArtifactDigest.js';
export type { ArtifactUploadRequest, ArtifactUploadRequest__Output } from './generated/wharf/v1/ArtifactUploadRequest.js';
export type { ArtifactUploadPlan, ArtifactUploadPlan__Output } from './generated/wharf/v1/ArtifactUploadPlan.js';
export type { EffectiveSettings, EffectiveSettings__Output } from './generated/wharf/v1/EffectiveSettings.js';
export type { RegistryAuth, RegistryAuth__Output } from './generated/wharf/v1/RegistryAuth.js';

export { parseBytes, parseCpu, formatBytes, parseDurationMs, formatDurationMs } from './units.js';
export { CA_HASH_PATTERN, caCertificateHash } from './ca-hash.js';
export { writeFileAtomic } from './atomic-write.js';

/** Absolute path of wharf.proto (one level above src/ and dist/). */
export const PROTO_PATH = fileURLToPath(new URL('../wharf.proto', import.meta.url));

/** Options matching the flags the types were generated with (see package.json "gen"). */
export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

/** Generous message limits: log frames are at most 64 KiB, file chunks 1 MiB. */
export const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.max_receive_message_length': 8 * 1024 * 1024,
  'grpc.max_send_message_length': 8 * 1024 * 1024,
  'grpc.keepalive_time_ms': 10_000,
  'grpc.keepalive_timeout_ms': 5_000,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.http2.max_pings_without_data': 0,
};

/**
 * wharf.proto as protobufjs JSON, set only inside a one-file bundle (worker/scripts/bundle.mjs
 * defines it at bundle time), so the bundle needs no wharf.proto beside it. Elsewhere the
 * identifier is never defined and the file is read from disk.
 */
declare const __WHARF_EMBEDDED_PROTO__: Parameters<typeof protoLoader.fromJSON>[0] | undefined;

export function loadWharfProto(): ProtoGrpcType {
  const definition =
    typeof __WHARF_EMBEDDED_PROTO__ === 'object'
      ? protoLoader.fromJSON(__WHARF_EMBEDDED_PROTO__, LOADER_OPTIONS)
      : protoLoader.loadSync(PROTO_PATH, LOADER_OPTIONS);
  return grpc.loadPackageDefinition(definition) as unknown as ProtoGrpcType;
}
