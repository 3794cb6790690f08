// Original file: wharf.proto

import type { EffectiveSettings as _wharf_v1_EffectiveSettings, EffectiveSettings__Output as _wharf_v1_EffectiveSettings__Output } from '../../wharf/v1/EffectiveSettings.js';
import type { Long } from '@grpc/proto-loader';

/**
 * Progress of an attempt before and while it runs (pulling the image, created, started).
 */
export interface AttemptEvent {
  'attemptId'?: (string);
  /**
   * "pulling" | "pulled" | "started" | "pull_progress"
   */
  'kind'?: (string);
  'message'?: (string);
  'atMs'?: (number | string | Long);
  /**
   * "started" only: what the runtime actually applied to the task (absent when the runtime
   * does not say, e.g. exec, or a task recovered after a worker restart)
   */
  'effective'?: (_wharf_v1_EffectiveSettings | null);
  '_effective'?: "effective";
}

/**
 * Progress of an attempt before and while it runs (pulling the image, created, started).
 */
export interface AttemptEvent__Output {
  'attemptId': (string);
  /**
   * "pulling" | "pulled" | "started" | "pull_progress"
   */
  'kind': (string);
  'message': (string);
  'atMs': (number);
  /**
   * "started" only: what the runtime actually applied to the task (absent when the runtime
   * does not say, e.g. exec, or a task recovered after a worker restart)
   */
  'effective'?: (_wharf_v1_EffectiveSettings__Output | null);
  '_effective'?: "effective";
}
