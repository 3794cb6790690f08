// A user's credentials for one container registry, for pulling their private images. The
// password is kept only encrypted (registries/secret-box.ts: AES-256-GCM with a key generated
// once into the master's data dir); it goes to a worker only inside an assignment whose image
// lives on that registry, and it is never shown or logged. (Records: the ground floor.)

export interface RegistryCredentialRecord {
  id: string;
  userId: string;
  /** host[:port], lower-case; "docker.io" for Docker Hub. One record per user and registry. */
  registry: string;
  username: string;
  /** the password (or token), encrypted */
  secret: EncryptedSecret;
  createdAt: number;
}

/** AES-256-GCM output, each part base64url. */
export interface EncryptedSecret {
  iv: string;
  tag: string;
  data: string;
}
