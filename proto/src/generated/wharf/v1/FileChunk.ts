// Original file: wharf.proto

import type { Long } from '@grpc/proto-loader';

/**
 * A file upload. Rules:
 * - One upload stream carries one attempt (every chunk has the same attempt_id, one of this
 * worker's active attempts; else FAILED_PRECONDITION).
 * - One file at a time: chunks of a file with contiguous offsets from 0 (each chunk's offset is
 * the sum of the data sent before it), the last with `eof` set and the file's size and sha256
 * (hex), checked before the file becomes visible (DATA_LOSS on a mismatch: upload it again);
 * then the next file. A path uploaded again for the same attempt replaces the earlier bytes.
 * - One cap per attempt across all its upload streams: WHARF_MAX_OUTPUT_BYTES, or the task's
 * disk request when that is smaller. Past it the stream fails with RESOURCE_EXHAUSTED naming
 * the cap and the attempt; every later upload of the attempt is refused the same way and its
 * result fails with that reason. Do not retry it.
 */
export interface FileChunk {
  'attemptId'?: (string);
  'path'?: (string);
  'offset'?: (number | string | Long);
  'data'?: (Buffer | Uint8Array | string);
  'eof'?: (boolean);
  'size'?: (number | string | Long);
  'sha256'?: (string);
}

/**
 * A file upload. Rules:
 * - One upload stream carries one attempt (every chunk has the same attempt_id, one of this
 * worker's active attempts; else FAILED_PRECONDITION).
 * - One file at a time: chunks of a file with contiguous offsets from 0 (each chunk's offset is
 * the sum of the data sent before it), the last with `eof` set and the file's size and sha256
 * (hex), checked before the file becomes visible (DATA_LOSS on a mismatch: upload it again);
 * then the next file. A path uploaded again for the same attempt replaces the earlier bytes.
 * - One cap per attempt across all its upload streams: WHARF_MAX_OUTPUT_BYTES, or the task's
 * disk request when that is smaller. Past it the stream fails with RESOURCE_EXHAUSTED naming
 * the cap and the attempt; every later upload of the attempt is refused the same way and its
 * result fails with that reason. Do not retry it.
 */
export interface FileChunk__Output {
  'attemptId': (string);
  'path': (string);
  'offset': (number);
  'data': (Buffer);
  'eof': (boolean);
  'size': (number);
  'sha256': (string);
}
