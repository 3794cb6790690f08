// Original file: wharf.proto


export interface ArtifactUploadTarget {
  'name'?: (string);
  'sha256'?: (string);
  /**
   * presigned PUT URL; empty when already_stored
   */
  'putUrl'?: (string);
  /**
   * the bucket holds these bytes already: nothing to move
   */
  'alreadyStored'?: (boolean);
}

export interface ArtifactUploadTarget__Output {
  'name': (string);
  'sha256': (string);
  /**
   * presigned PUT URL; empty when already_stored
   */
  'putUrl': (string);
  /**
   * the bucket holds these bytes already: nothing to move
   */
  'alreadyStored': (boolean);
}
