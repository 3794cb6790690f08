// Original file: wharf.proto

import type { Long } from '@grpc/proto-loader';

/**
 * One declared output of a DAG task: its name under /output and its bytes' digest.
 */
export interface ArtifactDigest {
  'name'?: (string);
  'sha256'?: (string);
  'size'?: (number | string | Long);
}

/**
 * One declared output of a DAG task: its name under /output and its bytes' digest.
 */
export interface ArtifactDigest__Output {
  'name': (string);
  'sha256': (string);
  'size': (number);
}
