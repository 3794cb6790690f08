// Original file: wharf.proto


export interface DeclaredOutputs {
  /**
   * relative paths under /output
   */
  'names'?: (string)[];
}

export interface DeclaredOutputs__Output {
  /**
   * relative paths under /output
   */
  'names': (string)[];
}
