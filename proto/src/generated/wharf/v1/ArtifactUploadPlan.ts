// Original file: wharf.proto

import type { ArtifactUploadTarget as _wharf_v1_ArtifactUploadTarget, ArtifactUploadTarget__Output as _wharf_v1_ArtifactUploadTarget__Output } from '../../wharf/v1/ArtifactUploadTarget.js';

export interface ArtifactUploadPlan {
  'targets'?: (_wharf_v1_ArtifactUploadTarget)[];
}

export interface ArtifactUploadPlan__Output {
  'targets': (_wharf_v1_ArtifactUploadTarget__Output)[];
}
