// Original file: wharf.proto

import type { ArtifactDigest as _wharf_v1_ArtifactDigest, ArtifactDigest__Output as _wharf_v1_ArtifactDigest__Output } from '../../wharf/v1/ArtifactDigest.js';

export interface ArtifactUploadRequest {
  'attemptId'?: (string);
  'artifacts'?: (_wharf_v1_ArtifactDigest)[];
}

export interface ArtifactUploadRequest__Output {
  'attemptId': (string);
  'artifacts': (_wharf_v1_ArtifactDigest__Output)[];
}
