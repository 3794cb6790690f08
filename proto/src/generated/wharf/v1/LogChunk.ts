// Original file: wharf.proto

import type { LogStream as _wharf_v1_LogStream, LogStream__Output as _wharf_v1_LogStream__Output } from '../../wharf/v1/LogStream.js';
import type { Long } from '@grpc/proto-loader';

/**
 * One batch of log bytes. Rules:
 * - One log stream carries one attempt (every chunk has the same attempt_id; another one ends
 * the stream with INVALID_ARGUMENT). An attempt may use one stream after another.
 * - `seq` counts the chunks of one attempt from 1, without gaps, and chunks are sent in seq
 * order. The master applies each seq once: a chunk it already applied is skipped, so a
 * worker may resend from seq 1 after a broken stream. A chunk that skips a seq is refused:
 * the stream ends with OUT_OF_RANGE, details "... expected seq N" and trailing metadata
 * `wharf-expected-seq: N`; everything before N was applied, so resend from N on a new stream.
 * - The count of chunks the worker sent goes into AttemptResult.log_chunks; the master compares
 * it with what it applied.
 */
export interface LogChunk {
  'attemptId'?: (string);
  'seq'?: (number | string | Long);
  'stream'?: (_wharf_v1_LogStream);
  'data'?: (Buffer | Uint8Array | string);
  'atMs'?: (number | string | Long);
}

/**
 * One batch of log bytes. Rules:
 * - One log stream carries one attempt (every chunk has the same attempt_id; another one ends
 * the stream with INVALID_ARGUMENT). An attempt may use one stream after another.
 * - `seq` counts the chunks of one attempt from 1, without gaps, and chunks are sent in seq
 * order. The master applies each seq once: a chunk it already applied is skipped, so a
 * worker may resend from seq 1 after a broken stream. A chunk that skips a seq is refused:
 * the stream ends with OUT_OF_RANGE, details "... expected seq N" and trailing metadata
 * `wharf-expected-seq: N`; everything before N was applied, so resend from N on a new stream.
 * - The count of chunks the worker sent goes into AttemptResult.log_chunks; the master compares
 * it with what it applied.
 */
export interface LogChunk__Output {
  'attemptId': (string);
  'seq': (number);
  'stream': (_wharf_v1_LogStream__Output);
  'data': (Buffer);
  'atMs': (number);
}
