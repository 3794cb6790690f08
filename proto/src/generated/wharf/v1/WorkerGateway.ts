// Original file: wharf.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ArtifactRequest as _wharf_v1_ArtifactRequest, ArtifactRequest__Output as _wharf_v1_ArtifactRequest__Output } from '../../wharf/v1/ArtifactRequest.js';
import type { ArtifactUploadPlan as _wharf_v1_ArtifactUploadPlan, ArtifactUploadPlan__Output as _wharf_v1_ArtifactUploadPlan__Output } from '../../wharf/v1/ArtifactUploadPlan.js';
import type { ArtifactUploadRequest as _wharf_v1_ArtifactUploadRequest, ArtifactUploadRequest__Output as _wharf_v1_ArtifactUploadRequest__Output } from '../../wharf/v1/ArtifactUploadRequest.js';
import type { FileChunk as _wharf_v1_FileChunk, FileChunk__Output as _wharf_v1_FileChunk__Output } from '../../wharf/v1/FileChunk.js';
import type { LogAck as _wharf_v1_LogAck, LogAck__Output as _wharf_v1_LogAck__Output } from '../../wharf/v1/LogAck.js';
import type { LogChunk as _wharf_v1_LogChunk, LogChunk__Output as _wharf_v1_LogChunk__Output } from '../../wharf/v1/LogChunk.js';
import type { MasterMessage as _wharf_v1_MasterMessage, MasterMessage__Output as _wharf_v1_MasterMessage__Output } from '../../wharf/v1/MasterMessage.js';
import type { RegisterRequest as _wharf_v1_RegisterRequest, RegisterRequest__Output as _wharf_v1_RegisterRequest__Output } from '../../wharf/v1/RegisterRequest.js';
import type { RegisterResponse as _wharf_v1_RegisterResponse, RegisterResponse__Output as _wharf_v1_RegisterResponse__Output } from '../../wharf/v1/RegisterResponse.js';
import type { UploadAck as _wharf_v1_UploadAck, UploadAck__Output as _wharf_v1_UploadAck__Output } from '../../wharf/v1/UploadAck.js';
import type { WorkerMessage as _wharf_v1_WorkerMessage, WorkerMessage__Output as _wharf_v1_WorkerMessage__Output } from '../../wharf/v1/WorkerMessage.js';

export interface WorkerGatewayClient extends grpc.Client {
  Connect(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_wharf_v1_WorkerMessage, _wharf_v1_MasterMessage__Output>;
  Connect(options?: grpc.CallOptions): grpc.ClientDuplexStream<_wharf_v1_WorkerMessage, _wharf_v1_MasterMessage__Output>;
  connect(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_wharf_v1_WorkerMessage, _wharf_v1_MasterMessage__Output>;
  connect(options?: grpc.CallOptions): grpc.ClientDuplexStream<_wharf_v1_WorkerMessage, _wharf_v1_MasterMessage__Output>;
  
  /**
   * The bytes of one DAG artifact, for an attempt of this worker that takes it as an input
   * (disk artifact backend; with S3 the worker uses the presigned URL in TaskInput instead).
   * Chunks carry `data` with increasing offsets; the last has `eof`, `size` and `sha256`.
   */
  FetchArtifact(argument: _wharf_v1_ArtifactRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_wharf_v1_FileChunk__Output>;
  FetchArtifact(argument: _wharf_v1_ArtifactRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_wharf_v1_FileChunk__Output>;
  /**
   * The bytes of one DAG artifact, for an attempt of this worker that takes it as an input
   * (disk artifact backend; with S3 the worker uses the presigned URL in TaskInput instead).
   * Chunks carry `data` with increasing offsets; the last has `eof`, `size` and `sha256`.
   */
  fetchArtifact(argument: _wharf_v1_ArtifactRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_wharf_v1_FileChunk__Output>;
  fetchArtifact(argument: _wharf_v1_ArtifactRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_wharf_v1_FileChunk__Output>;
  
  /**
   * S3 artifact backend: where to PUT the declared outputs of an attempt of this worker, each
   * a presigned URL of the object store (or `already_stored`), so the bytes go straight from
   * the worker to the bucket. Only the task's declared outputs may be named.
   */
  PrepareArtifactUploads(argument: _wharf_v1_ArtifactUploadRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_wharf_v1_ArtifactUploadPlan__Output>): grpc.ClientUnaryCall;
  PrepareArtifactUploads(argument: _wharf_v1_ArtifactUploadRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_wharf_v1_ArtifactUploadPlan__Output>): grpc.ClientUnaryCall;
  PrepareArtifactUploads(argument: _wharf_v1_ArtifactUploadRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_wharf_v1_ArtifactUploadPlan__Output>): grpc.ClientUnaryCall;
  PrepareArtifactUploads(argument: _wharf_v1_ArtifactUploadRequest, callback: grpc.requestCallback<_wharf_v1_ArtifactUploadPlan__Output>): grpc.ClientUnaryCall;
  /**
   * S3 artifact backend: where to PUT the declared outputs of an attempt of this worker, each
   * a presigned URL of the object store (or `already_stored`), so the bytes go straight from
   * the worker to the bucket. Only the task's declared outputs may be named.
   */
  prepareArtifactUploads(argument: _wharf_v1_ArtifactUploadRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_wharf_v1_ArtifactUploadPlan__Output>): grpc.ClientUnaryCall;
  prepareArtifactUploads(argument: _wharf_v1_ArtifactUploadRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_wharf_v1_ArtifactUploadPlan__Output>): grpc.ClientUnaryCall;
  prepareArtifactUploads(argument: _wharf_v1_ArtifactUploadRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_wharf_v1_ArtifactUploadPlan__Output>): grpc.ClientUnaryCall;
  prepareArtifactUploads(argument: _wharf_v1_ArtifactUploadRequest, callback: grpc.requestCallback<_wharf_v1_ArtifactUploadPlan__Output>): grpc.ClientUnaryCall;
  
  Register(argument: _wharf_v1_RegisterRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_wharf_v1_RegisterResponse__Output>): grpc.ClientUnaryCall;
  Register(argument: _wharf_v1_RegisterRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_wharf_v1_RegisterResponse__Output>): grpc.ClientUnaryCall;
  Register(argument: _wharf_v1_RegisterRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_wharf_v1_RegisterResponse__Output>): grpc.ClientUnaryCall;
  Register(argument: _wharf_v1_RegisterRequest, callback: grpc.requestCallback<_wharf_v1_RegisterResponse__Output>): grpc.ClientUnaryCall;
  register(argument: _wharf_v1_RegisterRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_wharf_v1_RegisterResponse__Output>): grpc.ClientUnaryCall;
  register(argument: _wharf_v1_RegisterRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_wharf_v1_RegisterResponse__Output>): grpc.ClientUnaryCall;
  register(argument: _wharf_v1_RegisterRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_wharf_v1_RegisterResponse__Output>): grpc.ClientUnaryCall;
  register(argument: _wharf_v1_RegisterRequest, callback: grpc.requestCallback<_wharf_v1_RegisterResponse__Output>): grpc.ClientUnaryCall;
  
  StreamTaskLogs(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_wharf_v1_LogAck__Output>): grpc.ClientWritableStream<_wharf_v1_LogChunk>;
  StreamTaskLogs(metadata: grpc.Metadata, callback: grpc.requestCallback<_wharf_v1_LogAck__Output>): grpc.ClientWritableStream<_wharf_v1_LogChunk>;
  StreamTaskLogs(options: grpc.CallOptions, callback: grpc.requestCallback<_wharf_v1_LogAck__Output>): grpc.ClientWritableStream<_wharf_v1_LogChunk>;
  StreamTaskLogs(callback: grpc.requestCallback<_wharf_v1_LogAck__Output>): grpc.ClientWritableStream<_wharf_v1_LogChunk>;
  streamTaskLogs(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_wharf_v1_LogAck__Output>): grpc.ClientWritableStream<_wharf_v1_LogChunk>;
  streamTaskLogs(metadata: grpc.Metadata, callback: grpc.requestCallback<_wharf_v1_LogAck__Output>): grpc.ClientWritableStream<_wharf_v1_LogChunk>;
  streamTaskLogs(options: grpc.CallOptions, callback: grpc.requestCallback<_wharf_v1_LogAck__Output>): grpc.ClientWritableStream<_wharf_v1_LogChunk>;
  streamTaskLogs(callback: grpc.requestCallback<_wharf_v1_LogAck__Output>): grpc.ClientWritableStream<_wharf_v1_LogChunk>;
  
  UploadTaskFiles(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_wharf_v1_UploadAck__Output>): grpc.ClientWritableStream<_wharf_v1_FileChunk>;
  UploadTaskFiles(metadata: grpc.Metadata, callback: grpc.requestCallback<_wharf_v1_UploadAck__Output>): grpc.ClientWritableStream<_wharf_v1_FileChunk>;
  UploadTaskFiles(options: grpc.CallOptions, callback: grpc.requestCallback<_wharf_v1_UploadAck__Output>): grpc.ClientWritableStream<_wharf_v1_FileChunk>;
  UploadTaskFiles(callback: grpc.requestCallback<_wharf_v1_UploadAck__Output>): grpc.ClientWritableStream<_wharf_v1_FileChunk>;
  uploadTaskFiles(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_wharf_v1_UploadAck__Output>): grpc.ClientWritableStream<_wharf_v1_FileChunk>;
  uploadTaskFiles(metadata: grpc.Metadata, callback: grpc.requestCallback<_wharf_v1_UploadAck__Output>): grpc.ClientWritableStream<_wharf_v1_FileChunk>;
  uploadTaskFiles(options: grpc.CallOptions, callback: grpc.requestCallback<_wharf_v1_UploadAck__Output>): grpc.ClientWritableStream<_wharf_v1_FileChunk>;
  uploadTaskFiles(callback: grpc.requestCallback<_wharf_v1_UploadAck__Output>): grpc.ClientWritableStream<_wharf_v1_FileChunk>;
  
}

export interface WorkerGatewayHandlers extends grpc.UntypedServiceImplementation {
  Connect: grpc.handleBidiStreamingCall<_wharf_v1_WorkerMessage__Output, _wharf_v1_MasterMessage>;
  
  /**
   * The bytes of one DAG artifact, for an attempt of this worker that takes it as an input
   * (disk artifact backend; with S3 the worker uses the presigned URL in TaskInput instead).
   * Chunks carry `data` with increasing offsets; the last has `eof`, `size` and `sha256`.
   */
  FetchArtifact: grpc.handleServerStreamingCall<_wharf_v1_ArtifactRequest__Output, _wharf_v1_FileChunk>;
  
  /**
   * S3 artifact backend: where to PUT the declared outputs of an attempt of this worker, each
   * a presigned URL of the object store (or `already_stored`), so the bytes go straight from
   * the worker to the bucket. Only the task's declared outputs may be named.
   */
  PrepareArtifactUploads: grpc.handleUnaryCall<_wharf_v1_ArtifactUploadRequest__Output, _wharf_v1_ArtifactUploadPlan>;
  
  Register: grpc.handleUnaryCall<_wharf_v1_RegisterRequest__Output, _wharf_v1_RegisterResponse>;
  
  StreamTaskLogs: grpc.handleClientStreamingCall<_wharf_v1_LogChunk__Output, _wharf_v1_LogAck>;
  
  UploadTaskFiles: grpc.handleClientStreamingCall<_wharf_v1_FileChunk__Output, _wharf_v1_UploadAck>;
  
}

export interface WorkerGatewayDefinition extends grpc.ServiceDefinition {
  Connect: MethodDefinition<_wharf_v1_WorkerMessage, _wharf_v1_MasterMessage, _wharf_v1_WorkerMessage__Output, _wharf_v1_MasterMessage__Output>
  FetchArtifact: MethodDefinition<_wharf_v1_ArtifactRequest, _wharf_v1_FileChunk, _wharf_v1_ArtifactRequest__Output, _wharf_v1_FileChunk__Output>
  PrepareArtifactUploads: MethodDefinition<_wharf_v1_ArtifactUploadRequest, _wharf_v1_ArtifactUploadPlan, _wharf_v1_ArtifactUploadRequest__Output, _wharf_v1_ArtifactUploadPlan__Output>
  Register: MethodDefinition<_wharf_v1_RegisterRequest, _wharf_v1_RegisterResponse, _wharf_v1_RegisterRequest__Output, _wharf_v1_RegisterResponse__Output>
  StreamTaskLogs: MethodDefinition<_wharf_v1_LogChunk, _wharf_v1_LogAck, _wharf_v1_LogChunk__Output, _wharf_v1_LogAck__Output>
  UploadTaskFiles: MethodDefinition<_wharf_v1_FileChunk, _wharf_v1_UploadAck, _wharf_v1_FileChunk__Output, _wharf_v1_UploadAck__Output>
}
