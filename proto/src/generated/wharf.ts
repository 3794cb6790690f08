import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { ArtifactDigest as _wharf_v1_ArtifactDigest, ArtifactDigest__Output as _wharf_v1_ArtifactDigest__Output } from './wharf/v1/ArtifactDigest.js';
import type { ArtifactRequest as _wharf_v1_ArtifactRequest, ArtifactRequest__Output as _wharf_v1_ArtifactRequest__Output } from './wharf/v1/ArtifactRequest.js';
import type { ArtifactUploadPlan as _wharf_v1_ArtifactUploadPlan, ArtifactUploadPlan__Output as _wharf_v1_ArtifactUploadPlan__Output } from './wharf/v1/ArtifactUploadPlan.js';
import type { ArtifactUploadRequest as _wharf_v1_ArtifactUploadRequest, ArtifactUploadRequest__Output as _wharf_v1_ArtifactUploadRequest__Output } from './wharf/v1/ArtifactUploadRequest.js';
import type { ArtifactUploadTarget as _wharf_v1_ArtifactUploadTarget, ArtifactUploadTarget__Output as _wharf_v1_ArtifactUploadTarget__Output } from './wharf/v1/ArtifactUploadTarget.js';
import type { AttemptAccepted as _wharf_v1_AttemptAccepted, AttemptAccepted__Output as _wharf_v1_AttemptAccepted__Output } from './wharf/v1/AttemptAccepted.js';
import type { AttemptEvent as _wharf_v1_AttemptEvent, AttemptEvent__Output as _wharf_v1_AttemptEvent__Output } from './wharf/v1/AttemptEvent.js';
import type { AttemptResult as _wharf_v1_AttemptResult, AttemptResult__Output as _wharf_v1_AttemptResult__Output } from './wharf/v1/AttemptResult.js';
import type { CancelAttempt as _wharf_v1_CancelAttempt, CancelAttempt__Output as _wharf_v1_CancelAttempt__Output } from './wharf/v1/CancelAttempt.js';
import type { DeclaredOutputs as _wharf_v1_DeclaredOutputs, DeclaredOutputs__Output as _wharf_v1_DeclaredOutputs__Output } from './wharf/v1/DeclaredOutputs.js';
import type { DirectUploads as _wharf_v1_DirectUploads, DirectUploads__Output as _wharf_v1_DirectUploads__Output } from './wharf/v1/DirectUploads.js';
import type { DrainOrder as _wharf_v1_DrainOrder, DrainOrder__Output as _wharf_v1_DrainOrder__Output } from './wharf/v1/DrainOrder.js';
import type { EffectiveSettings as _wharf_v1_EffectiveSettings, EffectiveSettings__Output as _wharf_v1_EffectiveSettings__Output } from './wharf/v1/EffectiveSettings.js';
import type { Fencing as _wharf_v1_Fencing, Fencing__Output as _wharf_v1_Fencing__Output } from './wharf/v1/Fencing.js';
import type { FileChunk as _wharf_v1_FileChunk, FileChunk__Output as _wharf_v1_FileChunk__Output } from './wharf/v1/FileChunk.js';
import type { Heartbeat as _wharf_v1_Heartbeat, Heartbeat__Output as _wharf_v1_Heartbeat__Output } from './wharf/v1/Heartbeat.js';
import type { HeartbeatAck as _wharf_v1_HeartbeatAck, HeartbeatAck__Output as _wharf_v1_HeartbeatAck__Output } from './wharf/v1/HeartbeatAck.js';
import type { InputReport as _wharf_v1_InputReport, InputReport__Output as _wharf_v1_InputReport__Output } from './wharf/v1/InputReport.js';
import type { LogAck as _wharf_v1_LogAck, LogAck__Output as _wharf_v1_LogAck__Output } from './wharf/v1/LogAck.js';
import type { LogChunk as _wharf_v1_LogChunk, LogChunk__Output as _wharf_v1_LogChunk__Output } from './wharf/v1/LogChunk.js';
import type { MasterMessage as _wharf_v1_MasterMessage, MasterMessage__Output as _wharf_v1_MasterMessage__Output } from './wharf/v1/MasterMessage.js';
import type { OutputFile as _wharf_v1_OutputFile, OutputFile__Output as _wharf_v1_OutputFile__Output } from './wharf/v1/OutputFile.js';
import type { RegisterRequest as _wharf_v1_RegisterRequest, RegisterRequest__Output as _wharf_v1_RegisterRequest__Output } from './wharf/v1/RegisterRequest.js';
import type { RegisterResponse as _wharf_v1_RegisterResponse, RegisterResponse__Output as _wharf_v1_RegisterResponse__Output } from './wharf/v1/RegisterResponse.js';
import type { RegistryAuth as _wharf_v1_RegistryAuth, RegistryAuth__Output as _wharf_v1_RegistryAuth__Output } from './wharf/v1/RegistryAuth.js';
import type { ReportNack as _wharf_v1_ReportNack, ReportNack__Output as _wharf_v1_ReportNack__Output } from './wharf/v1/ReportNack.js';
import type { Resources as _wharf_v1_Resources, Resources__Output as _wharf_v1_Resources__Output } from './wharf/v1/Resources.js';
import type { ResultAck as _wharf_v1_ResultAck, ResultAck__Output as _wharf_v1_ResultAck__Output } from './wharf/v1/ResultAck.js';
import type { RunningAttempt as _wharf_v1_RunningAttempt, RunningAttempt__Output as _wharf_v1_RunningAttempt__Output } from './wharf/v1/RunningAttempt.js';
import type { TaskInput as _wharf_v1_TaskInput, TaskInput__Output as _wharf_v1_TaskInput__Output } from './wharf/v1/TaskInput.js';
import type { TaskSpec as _wharf_v1_TaskSpec, TaskSpec__Output as _wharf_v1_TaskSpec__Output } from './wharf/v1/TaskSpec.js';
import type { UploadAck as _wharf_v1_UploadAck, UploadAck__Output as _wharf_v1_UploadAck__Output } from './wharf/v1/UploadAck.js';
import type { Usage as _wharf_v1_Usage, Usage__Output as _wharf_v1_Usage__Output } from './wharf/v1/Usage.js';
import type { WorkerGatewayClient as _wharf_v1_WorkerGatewayClient, WorkerGatewayDefinition as _wharf_v1_WorkerGatewayDefinition } from './wharf/v1/WorkerGateway.js';
import type { WorkerMessage as _wharf_v1_WorkerMessage, WorkerMessage__Output as _wharf_v1_WorkerMessage__Output } from './wharf/v1/WorkerMessage.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  wharf: {
    v1: {
      ArtifactDigest: MessageTypeDefinition<_wharf_v1_ArtifactDigest, _wharf_v1_ArtifactDigest__Output>
      ArtifactRequest: MessageTypeDefinition<_wharf_v1_ArtifactRequest, _wharf_v1_ArtifactRequest__Output>
      ArtifactUploadPlan: MessageTypeDefinition<_wharf_v1_ArtifactUploadPlan, _wharf_v1_ArtifactUploadPlan__Output>
      ArtifactUploadRequest: MessageTypeDefinition<_wharf_v1_ArtifactUploadRequest, _wharf_v1_ArtifactUploadRequest__Output>
      ArtifactUploadTarget: MessageTypeDefinition<_wharf_v1_ArtifactUploadTarget, _wharf_v1_ArtifactUploadTarget__Output>
      AttemptAccepted: MessageTypeDefinition<_wharf_v1_AttemptAccepted, _wharf_v1_AttemptAccepted__Output>
      AttemptEvent: MessageTypeDefinition<_wharf_v1_AttemptEvent, _wharf_v1_AttemptEvent__Output>
      AttemptResult: MessageTypeDefinition<_wharf_v1_AttemptResult, _wharf_v1_AttemptResult__Output>
      CancelAttempt: MessageTypeDefinition<_wharf_v1_CancelAttempt, _wharf_v1_CancelAttempt__Output>
      DeclaredOutputs: MessageTypeDefinition<_wharf_v1_DeclaredOutputs, _wharf_v1_DeclaredOutputs__Output>
      DirectUploads: MessageTypeDefinition<_wharf_v1_DirectUploads, _wharf_v1_DirectUploads__Output>
      DrainOrder: MessageTypeDefinition<_wharf_v1_DrainOrder, _wharf_v1_DrainOrder__Output>
      EffectiveSettings: MessageTypeDefinition<_wharf_v1_EffectiveSettings, _wharf_v1_EffectiveSettings__Output>
      Fencing: MessageTypeDefinition<_wharf_v1_Fencing, _wharf_v1_Fencing__Output>
      FileChunk: MessageTypeDefinition<_wharf_v1_FileChunk, _wharf_v1_FileChunk__Output>
      Heartbeat: MessageTypeDefinition<_wharf_v1_Heartbeat, _wharf_v1_Heartbeat__Output>
      HeartbeatAck: MessageTypeDefinition<_wharf_v1_HeartbeatAck, _wharf_v1_HeartbeatAck__Output>
      InputReport: MessageTypeDefinition<_wharf_v1_InputReport, _wharf_v1_InputReport__Output>
      LogAck: MessageTypeDefinition<_wharf_v1_LogAck, _wharf_v1_LogAck__Output>
      LogChunk: MessageTypeDefinition<_wharf_v1_LogChunk, _wharf_v1_LogChunk__Output>
      LogStream: EnumTypeDefinition
      MasterMessage: MessageTypeDefinition<_wharf_v1_MasterMessage, _wharf_v1_MasterMessage__Output>
      OutputFile: MessageTypeDefinition<_wharf_v1_OutputFile, _wharf_v1_OutputFile__Output>
      RegisterRequest: MessageTypeDefinition<_wharf_v1_RegisterRequest, _wharf_v1_RegisterRequest__Output>
      RegisterResponse: MessageTypeDefinition<_wharf_v1_RegisterResponse, _wharf_v1_RegisterResponse__Output>
      RegistryAuth: MessageTypeDefinition<_wharf_v1_RegistryAuth, _wharf_v1_RegistryAuth__Output>
      ReportNack: MessageTypeDefinition<_wharf_v1_ReportNack, _wharf_v1_ReportNack__Output>
      Resources: MessageTypeDefinition<_wharf_v1_Resources, _wharf_v1_Resources__Output>
      ResultAck: MessageTypeDefinition<_wharf_v1_ResultAck, _wharf_v1_ResultAck__Output>
      RunningAttempt: MessageTypeDefinition<_wharf_v1_RunningAttempt, _wharf_v1_RunningAttempt__Output>
      TaskInput: MessageTypeDefinition<_wharf_v1_TaskInput, _wharf_v1_TaskInput__Output>
      TaskSpec: MessageTypeDefinition<_wharf_v1_TaskSpec, _wharf_v1_TaskSpec__Output>
      UploadAck: MessageTypeDefinition<_wharf_v1_UploadAck, _wharf_v1_UploadAck__Output>
      Usage: MessageTypeDefinition<_wharf_v1_Usage, _wharf_v1_Usage__Output>
      WorkerGateway: SubtypeConstructor<typeof grpc.Client, _wharf_v1_WorkerGatewayClient> & { service: _wharf_v1_WorkerGatewayDefinition }
      WorkerMessage: MessageTypeDefinition<_wharf_v1_WorkerMessage, _wharf_v1_WorkerMessage__Output>
    }
  }
}

