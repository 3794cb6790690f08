// Original file: wharf.proto

import type { Long } from '@grpc/proto-loader';

/**
 * One staged DAG input: served from the worker's cache (hit) or downloaded (miss).
 */
export interface InputReport {
  'name'?: (string);
  'sha256'?: (string);
  'cacheHit'?: (boolean);
  'bytes'?: (number | string | Long);
}

/**
 * One staged DAG input: served from the worker's cache (hit) or downloaded (miss).
 */
export interface InputReport__Output {
  'name': (string);
  'sha256': (string);
  'cacheHit': (boolean);
  'bytes': (number);
}
