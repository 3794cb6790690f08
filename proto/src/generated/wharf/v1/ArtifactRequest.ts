// Original file: wharf.proto


export interface ArtifactRequest {
  'attemptId'?: (string);
  'sha256'?: (string);
}

export interface ArtifactRequest__Output {
  'attemptId': (string);
  'sha256': (string);
}
