// Original file: wharf.proto

import type { Long } from '@grpc/proto-loader';

/**
 * One output file. In UploadAck: what the master received and hashed itself. In AttemptResult:
 * the worker's list of the attempt's files, which the master checks against what it received.
 */
export interface OutputFile {
  /**
   * relative to /output, normalised ("a/b.txt"); no "..", no leading "/"
   */
  'path'?: (string);
  'size'?: (number | string | Long);
  /**
   * hex
   */
  'sha256'?: (string);
}

/**
 * One output file. In UploadAck: what the master received and hashed itself. In AttemptResult:
 * the worker's list of the attempt's files, which the master checks against what it received.
 */
export interface OutputFile__Output {
  /**
   * relative to /output, normalised ("a/b.txt"); no "..", no leading "/"
   */
  'path': (string);
  'size': (number);
  /**
   * hex
   */
  'sha256': (string);
}
