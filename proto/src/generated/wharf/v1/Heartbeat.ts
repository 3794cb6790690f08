// Original file: wharf.proto

import type { Usage as _wharf_v1_Usage, Usage__Output as _wharf_v1_Usage__Output } from '../../wharf/v1/Usage.js';
import type { Long } from '@grpc/proto-loader';

export interface Heartbeat {
  /**
   * absent: the worker has not sampled yet (the master keeps the last sample)
   */
  'usage'?: (_wharf_v1_Usage | null);
  /**
   * the attempts it runs now (shown; not a report)
   */
  'runningAttempts'?: (string)[];
  /**
   * when the worker sent it (ms since the epoch, by its clock), echoed in HeartbeatAck; the
   * worker keeps it increasing so an ack names exactly one heartbeat
   */
  'sentAtMs'?: (number | string | Long);
  /**
   * sha256s in the worker's artifact cache, most recently used first (at most 1000), for
   * placement affinity
   */
  'cachedArtifacts'?: (string)[];
}

export interface Heartbeat__Output {
  /**
   * absent: the worker has not sampled yet (the master keeps the last sample)
   */
  'usage': (_wharf_v1_Usage__Output | null);
  /**
   * the attempts it runs now (shown; not a report)
   */
  'runningAttempts': (string)[];
  /**
   * when the worker sent it (ms since the epoch, by its clock), echoed in HeartbeatAck; the
   * worker keeps it increasing so an ack names exactly one heartbeat
   */
  'sentAtMs': (number);
  /**
   * sha256s in the worker's artifact cache, most recently used first (at most 1000), for
   * placement affinity
   */
  'cachedArtifacts': (string)[];
}
