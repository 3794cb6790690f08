// Original file: wharf.proto

import type { Long } from '@grpc/proto-loader';

/**
 * The answer to every heartbeat the master accepted: proof of contact for the worker's
 * fencing (see Fencing). Not sent for a heartbeat of a worker the master considers lost.
 */
export interface HeartbeatAck {
  /**
   * the acknowledged heartbeat's sent_at_ms, unchanged
   */
  'sentAtMs'?: (number | string | Long);
}

/**
 * The answer to every heartbeat the master accepted: proof of contact for the worker's
 * fencing (see Fencing). Not sent for a heartbeat of a worker the master considers lost.
 */
export interface HeartbeatAck__Output {
  /**
   * the acknowledged heartbeat's sent_at_ms, unchanged
   */
  'sentAtMs': (number);
}
