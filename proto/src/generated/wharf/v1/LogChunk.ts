// Original file: wharf.proto

import type { LogStream as _wharf_v1_LogStream, LogStream__Output as _wharf_v1_LogStream__Output } from '../../wharf/v1/LogStream.js';
import type { Long } from '@grpc/proto-loader';

/**
 * One batch of log bytes. `seq` counts the chunks of one attempt from 1; the master applies
 * a chunk only once, so a worker may resend after a broken stream.
 */
export interface LogChunk {
  'attemptId'?: (string);
  'seq'?: (number | string | Long);
  'stream'?: (_wharf_v1_LogStream);
  'data'?: (Buffer | Uint8Array | string);
  'atMs'?: (number | string | Long);
}

/**
 * One batch of log bytes. `seq` counts the chunks of one attempt from 1; the master applies
 * a chunk only once, so a worker may resend after a broken stream.
 */
export interface LogChunk__Output {
  'attemptId': (string);
  'seq': (number);
  'stream': (_wharf_v1_LogStream__Output);
  'data': (Buffer);
  'atMs': (number);
}
