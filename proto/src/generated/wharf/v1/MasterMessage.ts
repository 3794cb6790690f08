// Original file: wharf.proto

import type { TaskSpec as _wharf_v1_TaskSpec, TaskSpec__Output as _wharf_v1_TaskSpec__Output } from '../../wharf/v1/TaskSpec.js';
import type { CancelAttempt as _wharf_v1_CancelAttempt, CancelAttempt__Output as _wharf_v1_CancelAttempt__Output } from '../../wharf/v1/CancelAttempt.js';
import type { ResultAck as _wharf_v1_ResultAck, ResultAck__Output as _wharf_v1_ResultAck__Output } from '../../wharf/v1/ResultAck.js';
import type { DrainOrder as _wharf_v1_DrainOrder, DrainOrder__Output as _wharf_v1_DrainOrder__Output } from '../../wharf/v1/DrainOrder.js';
import type { HeartbeatAck as _wharf_v1_HeartbeatAck, HeartbeatAck__Output as _wharf_v1_HeartbeatAck__Output } from '../../wharf/v1/HeartbeatAck.js';
import type { ReportNack as _wharf_v1_ReportNack, ReportNack__Output as _wharf_v1_ReportNack__Output } from '../../wharf/v1/ReportNack.js';

export interface MasterMessage {
  'assign'?: (_wharf_v1_TaskSpec | null);
  'cancel'?: (_wharf_v1_CancelAttempt | null);
  'resultAck'?: (_wharf_v1_ResultAck | null);
  'drain'?: (_wharf_v1_DrainOrder | null);
  'heartbeatAck'?: (_wharf_v1_HeartbeatAck | null);
  'reportNack'?: (_wharf_v1_ReportNack | null);
  'payload'?: "assign"|"cancel"|"resultAck"|"drain"|"heartbeatAck"|"reportNack";
}

export interface MasterMessage__Output {
  'assign'?: (_wharf_v1_TaskSpec__Output | null);
  'cancel'?: (_wharf_v1_CancelAttempt__Output | null);
  'resultAck'?: (_wharf_v1_ResultAck__Output | null);
  'drain'?: (_wharf_v1_DrainOrder__Output | null);
  'heartbeatAck'?: (_wharf_v1_HeartbeatAck__Output | null);
  'reportNack'?: (_wharf_v1_ReportNack__Output | null);
  'payload'?: "assign"|"cancel"|"resultAck"|"drain"|"heartbeatAck"|"reportNack";
}
