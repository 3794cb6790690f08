// Original file: wharf.proto


export interface RegistryAuth {
  /**
   * the registry host[:port] ("docker.io" for Docker Hub)
   */
  'serverAddress'?: (string);
  'username'?: (string);
  'password'?: (string);
}

export interface RegistryAuth__Output {
  /**
   * the registry host[:port] ("docker.io" for Docker Hub)
   */
  'serverAddress': (string);
  'username': (string);
  'password': (string);
}
