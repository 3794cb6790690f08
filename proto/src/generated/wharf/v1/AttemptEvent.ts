// Original file: wharf.proto

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
}
