// Original file: wharf.proto

import type { Long } from '@grpc/proto-loader';

export interface TaskInput {
  /**
   * relative path under /input
   */
  'name'?: (string);
  'sha256'?: (string);
  'size'?: (number | string | Long);
  /**
   * presigned GET URL (S3); empty = FetchArtifact from the master
   */
  'url'?: (string);
}

export interface TaskInput__Output {
  /**
   * relative path under /input
   */
  'name': (string);
  'sha256': (string);
  'size': (number);
  /**
   * presigned GET URL (S3); empty = FetchArtifact from the master
   */
  'url': (string);
}
