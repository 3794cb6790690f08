// Original file: wharf.proto


/**
 * Credentials for one registry, for the pull of one assignment's image (TaskSpec.registry_auth).
 */
export interface RegistryAuth {
  /**
   * the registry host[:port] ("docker.io" for Docker Hub)
   */
  'serverAddress'?: (string);
  'username'?: (string);
  'password'?: (string);
}

/**
 * Credentials for one registry, for the pull of one assignment's image (TaskSpec.registry_auth).
 */
export interface RegistryAuth__Output {
  /**
   * the registry host[:port] ("docker.io" for Docker Hub)
   */
  'serverAddress': (string);
  'username': (string);
  'password': (string);
}
