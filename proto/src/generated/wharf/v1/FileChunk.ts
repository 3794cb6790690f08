// Original file: wharf.proto

import type { Long } from '@grpc/proto-loader';

/**
 * A file upload: for each file, chunks with increasing offsets; the last chunk of a file
 * has `eof` set and carries its size and sha256, checked before the file becomes visible.
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
 * A file upload: for each file, chunks with increasing offsets; the last chunk of a file
 * has `eof` set and carries its size and sha256, checked before the file becomes visible.
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
