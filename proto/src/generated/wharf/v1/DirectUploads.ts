// Original file: wharf.proto

import type { ArtifactDigest as _wharf_v1_ArtifactDigest, ArtifactDigest__Output as _wharf_v1_ArtifactDigest__Output } from '../../wharf/v1/ArtifactDigest.js';

export interface DirectUploads {
  'artifacts'?: (_wharf_v1_ArtifactDigest)[];
}

export interface DirectUploads__Output {
  'artifacts': (_wharf_v1_ArtifactDigest__Output)[];
}
