// Original file: wharf.proto

import type { Heartbeat as _wharf_v1_Heartbeat, Heartbeat__Output as _wharf_v1_Heartbeat__Output } from '../../wharf/v1/Heartbeat.js';
import type { AttemptAccepted as _wharf_v1_AttemptAccepted, AttemptAccepted__Output as _wharf_v1_AttemptAccepted__Output } from '../../wharf/v1/AttemptAccepted.js';
import type { AttemptEvent as _wharf_v1_AttemptEvent, AttemptEvent__Output as _wharf_v1_AttemptEvent__Output } from '../../wharf/v1/AttemptEvent.js';
import type { AttemptResult as _wharf_v1_AttemptResult, AttemptResult__Output as _wharf_v1_AttemptResult__Output } from '../../wharf/v1/AttemptResult.js';

export interface WorkerMessage {
  'heartbeat'?: (_wharf_v1_Heartbeat | null);
  'accepted'?: (_wharf_v1_AttemptAccepted | null);
  'event'?: (_wharf_v1_AttemptEvent | null);
  'result'?: (_wharf_v1_AttemptResult | null);
  'payload'?: "heartbeat"|"accepted"|"event"|"result";
}

export interface WorkerMessage__Output {
  'heartbeat'?: (_wharf_v1_Heartbeat__Output | null);
  'accepted'?: (_wharf_v1_AttemptAccepted__Output | null);
  'event'?: (_wharf_v1_AttemptEvent__Output | null);
  'result'?: (_wharf_v1_AttemptResult__Output | null);
  'payload'?: "heartbeat"|"accepted"|"event"|"result";
}
