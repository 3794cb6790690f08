// Original file: wharf.proto

import type { Long } from '@grpc/proto-loader';

/**
 * How a worker fences itself. It stops every running attempt (SIGTERM, stop_grace_ms,
 * SIGKILL) once no heartbeat it sent in the last stop_after_ms has been acknowledged, keeps
 * each result in its outbox with outcome "stopped", and accepts no assignment until a
 * heartbeat is acknowledged again. The master re-queues a lost worker's attempts no earlier
 * than stop_after_ms + stop_grace_ms (plus a margin) after the last message it received from it.
 */
export interface Fencing {
  /**
   * 0 = the master's heartbeat TTL (RegisterResponse.heartbeat_ttl_ms). At least two heartbeat
   * intervals.
   */
  'stopAfterMs'?: (number | string | Long);
  /**
   * the grace between SIGTERM and SIGKILL when the worker stops an attempt so
   */
  'stopGraceMs'?: (number | string | Long);
}

/**
 * How a worker fences itself. It stops every running attempt (SIGTERM, stop_grace_ms,
 * SIGKILL) once no heartbeat it sent in the last stop_after_ms has been acknowledged, keeps
 * each result in its outbox with outcome "stopped", and accepts no assignment until a
 * heartbeat is acknowledged again. The master re-queues a lost worker's attempts no earlier
 * than stop_after_ms + stop_grace_ms (plus a margin) after the last message it received from it.
 */
export interface Fencing__Output {
  /**
   * 0 = the master's heartbeat TTL (RegisterResponse.heartbeat_ttl_ms). At least two heartbeat
   * intervals.
   */
  'stopAfterMs': (number);
  /**
   * the grace between SIGTERM and SIGKILL when the worker stops an attempt so
   */
  'stopGraceMs': (number);
}
