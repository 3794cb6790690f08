// Original file: wharf.proto

import type { EffectiveSettings as _wharf_v1_EffectiveSettings, EffectiveSettings__Output as _wharf_v1_EffectiveSettings__Output } from '../../wharf/v1/EffectiveSettings.js';
import type { Long } from '@grpc/proto-loader';

/**
 * Progress of an attempt before and while it runs. "started" is the one that matters: the
 * attempt is running from at_ms on (the task shows `running`, its timeout counts from then; send
 * it again on every new stream while the attempt runs, the master takes it once). The others
 * are shown in the task's events: "pulling" / "pulled" (the image), "pull_progress" (message:
 * how far). An event the master could not store is answered with a ReportNack; events have no
 * positive ack. An event for an attempt that is no longer this worker's is ignored.
 */
export interface AttemptEvent {
  'attemptId'?: (string);
  /**
   * "pulling" | "pulled" | "started" | "pull_progress"
   */
  'kind'?: (string);
  'message'?: (string);
  /**
   * when it happened, ms since the epoch (0: when the master received it)
   */
  'atMs'?: (number | string | Long);
  /**
   * "started" only: what the runtime actually applied to the task, shown as the attempt's
   * `effective`. Absent when the runtime does not say (exec, sim) or for an attempt found again
   * after a worker restart; the master keeps a bounded copy and never acts on it.
   */
  'effective'?: (_wharf_v1_EffectiveSettings | null);
}

/**
 * Progress of an attempt before and while it runs. "started" is the one that matters: the
 * attempt is running from at_ms on (the task shows `running`, its timeout counts from then; send
 * it again on every new stream while the attempt runs, the master takes it once). The others
 * are shown in the task's events: "pulling" / "pulled" (the image), "pull_progress" (message:
 * how far). An event the master could not store is answered with a ReportNack; events have no
 * positive ack. An event for an attempt that is no longer this worker's is ignored.
 */
export interface AttemptEvent__Output {
  'attemptId': (string);
  /**
   * "pulling" | "pulled" | "started" | "pull_progress"
   */
  'kind': (string);
  'message': (string);
  /**
   * when it happened, ms since the epoch (0: when the master received it)
   */
  'atMs': (number);
  /**
   * "started" only: what the runtime actually applied to the task, shown as the attempt's
   * `effective`. Absent when the runtime does not say (exec, sim) or for an attempt found again
   * after a worker restart; the master keeps a bounded copy and never acts on it.
   */
  'effective': (_wharf_v1_EffectiveSettings__Output | null);
}
